//! The catalog on the command line: `stanchion endpoints`, `policy allow-action|deny-action`,
//! and actions in policy files, each change an admin record.

use crate::harness::cli;

#[test]
fn endpoints_and_action_grants() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (code, json) = cli(data, &["endpoints", "--json"]);
    assert_eq!(code, 0);
    let entries: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let find = |name: &str| entries.iter().find(|e| e["name"] == name).unwrap_or_else(|| panic!("{name}")).clone();
    assert_eq!(find("WinOpportunity")["kind"], "action");
    assert_eq!(find("WinOpportunity")["supported"], true);
    assert_eq!(find("RetrieveTotalRecordCount")["kind"], "data");
    assert!(entries.iter().filter(|e| e["kind"] == "action").all(|e| e["supported"] == true));
    assert_eq!(find("query")["kind"], "request");
    let (code, text) = cli(data, &["endpoints"]);
    assert_eq!(code, 0);
    assert!(text.contains("Actions (need `policy allow-action` and the levels listed)"), "{text}");

    assert_eq!(cli(data, &["agent", "create", "Closer"]).0, 0);
    let (code, out) = cli(data, &["policy", "allow-action", "Closer", "Microsoft.Dynamics.CRM.WinOpportunity"]);
    assert_eq!((code, out.trim()), (0, "Closer may now run WinOpportunity"));
    let (code, out) = cli(data, &["policy", "allow-action", "Closer", "GrantAccess"]);
    assert_eq!((code, out.trim()), (0, "Closer may now run GrantAccess"));
    assert_eq!(cli(data, &["policy", "allow-action", "Closer", "WhoAmI"]).0, 1, "a data function is not granted");
    assert_eq!(cli(data, &["policy", "allow-action", "Closer", "DropDatabase"]).0, 1);
    let (_, shown) = cli(data, &["policy", "show", "Closer", "--json"]);
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["actions"], serde_json::json!(["GrantAccess", "WinOpportunity"]));
    let (code, out) = cli(data, &["policy", "deny-action", "Closer", "GrantAccess"]);
    assert_eq!((code, out.trim()), (0, "Closer may no longer run GrantAccess"));

    // Exported and applied as code.
    let (_, exported) = cli(data, &["policy", "export", "Closer"]);
    assert!(exported.contains("actions = [\"WinOpportunity\"]"), "{exported}");
    let file = data.join("p.toml");
    std::fs::write(&file, "[agents.Closer]\nactions = [\"LoseOpportunity\", \"CloseIncident\"]\n").unwrap();
    let (code, out) = cli(data, &["policy", "apply", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let (_, shown) = cli(data, &["policy", "show", "Closer", "--json"]);
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["actions"], serde_json::json!(["CloseIncident", "LoseOpportunity"]));

    // A custom API of the org: declared, then grantable; listed with what it touches.
    let (code, out) =
        cli(data, &["catalog", "declare", "new_Escalate", "--table", "incident:full", "--table", "contact:read"]);
    assert_eq!((code, out.trim()), (0, "new_Escalate: reads contact; uses incident fully"));
    assert_eq!(cli(data, &["catalog", "declare", "new_Bad", "--table", "incident:admin"]).0, 1);
    assert_eq!(
        cli(data, &["catalog", "declare", "WinOpportunity", "--table", "opportunity:full"]).0,
        1,
        "catalog entries need none"
    );
    let (_, listed) = cli(data, &["catalog", "list", "--json"]);
    let listed: Vec<serde_json::Value> = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["name"], "new_Escalate");
    assert_eq!(listed[0]["declared"], "reads contact; uses incident fully");
    let (code, out) = cli(data, &["policy", "allow-action", "Closer", "new_Escalate"]);
    assert_eq!((code, out.trim()), (0, "Closer may now run new_Escalate"));
    let (code, out) = cli(data, &["catalog", "undeclare", "new_Escalate"]);
    assert_eq!(code, 0, "{out}");

    let (_, log) = cli(data, &["audit", "tail", "-n", "20"]);
    for line in [
        "allowed Closer to run WinOpportunity.",
        "stopped Closer from running GrantAccess.",
        "stopped Closer from running WinOpportunity.",
        "allowed Closer to run CloseIncident.",
        "declared the custom API new_Escalate: reads contact; uses incident fully.",
        "withdrew the declaration of the custom API new_Escalate.",
    ] {
        assert!(log.contains(line), "missing {line:?} in\n{log}");
    }
}
