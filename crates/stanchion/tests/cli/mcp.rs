//! The official MCP Python SDK (PyPI `mcp` 2.3.0) against `stanchion demo`: over Streamable
//! HTTP (`/mcp`) and over stdio (`stanchion mcp` launched by the SDK), with the 2026-07-28
//! protocol (the SDK's default) and the initialize handshake. `.ci/run` installs the SDK into
//! `e2e/.venv` from the pinned `e2e/requirements.txt`.

use crate::harness::{bin, cli, scenario_with_env, start};

#[tokio::test]
async fn official_python_sdk_over_http_and_stdio() {
    let python = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../e2e/.venv/bin/python");
    assert!(python.exists(), "create e2e/.venv with the pinned SDK (.ci/run does)");
    let python = python.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let run = start(data, &["demo", "--json"], true);
    let facts = run.json.clone().unwrap();
    let sales = facts["agents"][0]["key"].as_str().unwrap().to_owned();
    let support = facts["agents"][1]["key"].as_str().unwrap().to_owned();
    assert_eq!(cli(data, &["policy", "hide-column", "Sales Ops Agent", "account", "telephone1"]).0, 0);
    let (code, out) = cli(data, &["agent", "create", "Pipeline Reader", "--json"]);
    assert_eq!(code, 0, "{out}");
    let pipeline = serde_json::from_str::<serde_json::Value>(&out).unwrap()["key"].as_str().unwrap().to_owned();
    assert_eq!(cli(data, &["policy", "set", "Pipeline Reader", "opportunity", "read"]).0, 0);

    let url = format!("{}/mcp", run.agents_url);
    let stanchion = bin().get_program().to_str().unwrap().to_owned();
    let http = |key: &str, expect: &str, mode: &str| {
        let env = [("MCP_URL", url.as_str()), ("MCP_KEY", key), ("MCP_EXPECT", expect), ("MCP_MODE", mode)];
        scenario_with_env(python, "mcp_scenario.py", &run.agents_url, key, expect, &env)
    };
    let stdio = |key: &str, expect: &str, mode: &str| {
        let env = [
            ("MCP_STDIO", stanchion.as_str()),
            ("MCP_GATEWAY", run.agents_url.as_str()),
            ("MCP_KEY", key),
            ("MCP_EXPECT", expect),
            ("MCP_MODE", mode),
        ];
        scenario_with_env(python, "mcp_scenario.py", &run.agents_url, key, expect, &env)
    };
    http(&sales, "sales", "auto");
    stdio(&sales, "sales", "legacy");
    http(&support, "support", "legacy");
    stdio(&support, "support", "auto");
    // An admin's change shows in the agent's next tools/list.
    assert_eq!(cli(data, &["policy", "delete-records", "Support Agent", "on"]).0, 0);
    http(&support, "support_delete", "auto");
    http(&pipeline, "pipeline", "auto");
    stdio(&pipeline, "pipeline", "legacy");

    // The calls are in the audit log as MCP calls naming their tools, and the chain verifies.
    let (_, log) = cli(data, &["audit", "tail", "--lines", "2000"]);
    for line in [
        "Sales Ops Agent tried to call the MCP tool delete_record — denied: deleting records is off for this agent.",
        "Support Agent tried to create a new account (name) through MCP (create_record) — denied: it can only read accounts.",
        "Support Agent tried to call the MCP tool drop_table — denied: there is no MCP tool named drop_table.",
    ] {
        assert!(log.contains(line), "missing {line:?} in\n{log}");
    }
    for tool in ["read_query", "fetch_records", "search", "associate_records", "describe_table"] {
        assert!(log.contains(&format!("through MCP ({tool}) — allowed.")), "no allowed {tool} in\n{log}");
    }
    assert_eq!(cli(data, &["audit", "verify"]).0, 0);
}
