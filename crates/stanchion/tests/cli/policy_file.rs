//! Policy as code: `policy export`, `policy apply FILE [--dry-run]` and `policy copy FROM TO`.
//! A dry run prints exactly what would change and changes nothing; a bad file changes nothing;
//! every applied change is an admin record in a verifiable audit log.

use crate::harness::cli;

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn export_apply_dry_run_and_copy() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    for name in ["Sales Ops Agent", "Support Agent", "Empty Agent"] {
        assert_eq!(cli(data, &["agent", "create", name]).0, 0);
    }
    assert_eq!(cli(data, &["policy", "set", "Sales Ops Agent", "accounts", "full"]).0, 0);
    assert_eq!(cli(data, &["policy", "set", "Sales Ops Agent", "contact", "read"]).0, 0);
    assert_eq!(cli(data, &["policy", "hide-column", "Sales Ops Agent", "account", "revenue"]).0, 0);
    assert_eq!(cli(data, &["policy", "limits", "Sales Ops Agent", "--per-minute", "120"]).0, 0);

    // Export is the file format of design §7 and reads back.
    let (code, exported) = cli(data, &["policy", "export", "Sales Ops Agent"]);
    assert_eq!(code, 0);
    let parsed: toml::Value = toml::from_str(&exported).unwrap();
    let sales = &parsed["agents"]["Sales Ops Agent"];
    assert_eq!(sales["tables"]["account"].as_str(), Some("full"));
    assert_eq!(sales["tables"]["contact"].as_str(), Some("read"));
    assert_eq!(sales["hidden_columns"]["account"][0].as_str(), Some("revenue"));
    assert_eq!(sales["limits"]["per_minute"].as_integer(), Some(120));
    assert_eq!(sales["delete_records"].as_bool(), Some(false));

    // A file for Support Agent: a dry run lists the changes and changes nothing.
    let file = write(
        data,
        "policy.toml",
        r#"
[agents."Support Agent"]
delete_records = true
limits = { concurrency = 2 }
[agents."Support Agent".tables]
incidents = "full"
contact = "read"
[agents."Support Agent".hidden_columns]
contact = ["emailaddress1"]
"#,
    );
    let before = cli(data, &["policy", "export"]).1;
    let (code, out) = cli(data, &["policy", "apply", &file, "--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out,
        "Support Agent (dry run: nothing changed):\n  contacts: Off → Read\n  incidents: Off → Full use\n  \
         delete records: on\n  hide column emailaddress1 of contacts\n  limits: default per minute, 2 at once\n"
    );
    assert_eq!(cli(data, &["policy", "export"]).1, before, "a dry run changes nothing");
    let (code, out) = cli(data, &["policy", "apply", &file, "--json"]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["agents"][0]["changes"].as_array().unwrap().len(), 5, "{v}");
    let (_, out) = cli(data, &["policy", "apply", &file]);
    assert_eq!(out, "Support Agent:\n  no changes\n", "applying twice changes nothing");

    // Removing a table from the file turns it off; the listed-only rule leaves others alone.
    let smaller = write(data, "smaller.toml", "[agents.\"Support Agent\".tables]\nincident = \"full\"\n");
    let (_, out) = cli(data, &["policy", "apply", &smaller]);
    assert!(out.contains("contacts: Read → Off"), "{out}");
    assert!(out.contains("delete records: off"), "{out}");
    assert!(out.contains("show column emailaddress1 of contacts"), "{out}");
    let (_, sales_now) = cli(data, &["policy", "export", "Sales Ops Agent"]);
    assert_eq!(sales_now, exported, "agents not in the file are untouched");

    // Bad files change nothing and exit 1: unknown agent, table, column, level, key, actions.
    let before = cli(data, &["policy", "export"]).1;
    for (i, bad) in [
        "[agents.\"Ghost\".tables]\naccount = \"read\"\n",
        "[agents.\"Support Agent\".tables]\nwidgets = \"read\"\n",
        "[agents.\"Support Agent\".tables]\naccount = \"admin\"\n",
        "[agents.\"Support Agent\".hidden_columns]\naccount = [\"nosuchcolumn\"]\n",
        "[agents.\"Support Agent\"]\nfavourite = 1\n",
        "[agents.\"Support Agent\"]\nactions = [\"DropDatabase\"]\n",
        "[agents.\"Support Agent\".tables]\naccount = \"full\"\n[agents.\"Sales Ops Agent\".tables]\nwidgets = \"read\"\n",
    ]
    .iter()
    .enumerate()
    {
        let f = write(data, &format!("bad{i}.toml"), bad);
        let (code, out) = cli(data, &["policy", "apply", &f]);
        assert_eq!(code, 1, "{bad}: {out}");
    }
    assert_eq!(cli(data, &["policy", "export"]).1, before, "a bad file changes nothing");

    // Copy gives Empty Agent exactly Sales Ops Agent's policy.
    let (code, out) = cli(data, &["policy", "copy", "Sales Ops Agent", "Empty Agent", "--dry-run"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("Empty Agent (dry run: nothing changed):"), "{out}");
    assert_eq!(cli(data, &["policy", "copy", "Sales Ops Agent", "Empty Agent"]).0, 0);
    let copied = cli(data, &["policy", "export", "Empty Agent"]).1;
    assert_eq!(copied.replace("Empty Agent", "Sales Ops Agent"), exported);

    let (_, tail) = cli(data, &["audit", "tail", "--lines", "100"]);
    assert!(tail.contains("set Support Agent's access to incidents"), "{tail}");
    assert_eq!(cli(data, &["audit", "verify"]).0, 0);
}
