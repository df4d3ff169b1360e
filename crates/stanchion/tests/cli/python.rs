//! Microsoft's PyPI `PowerPlatform-Dataverse-Client` 1.1.0 runs one scenario file against the
//! emulator directly and through the gateway (Full use without delete; Read only). `.ci/run`
//! installs the client into `e2e/.venv` from the pinned `e2e/requirements.txt`.

use crate::harness::{cli, emulator_token, scenario, start};

#[tokio::test]
async fn microsofts_python_client_against_emulator_and_gateway() {
    let python = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../e2e/.venv/bin/python");
    assert!(python.exists(), "create e2e/.venv with the pinned client (.ci/run does)");
    let python = python.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let run = start(data, &["demo", "--json"], true);
    let facts = run.json.clone().unwrap();
    let sales = facts["agents"][0]["key"].as_str().unwrap();
    let support = facts["agents"][1]["key"].as_str().unwrap();
    let token = emulator_token(data, &run.emulator_url).await;
    scenario(python, "python_scenario.py", &run.emulator_url, &token, "full");
    scenario(python, "python_scenario.py", &run.agents_url, sales, "full_nodelete");
    let out = scenario(python, "python_scenario.py", &run.agents_url, support, "read");
    assert!(out.contains("0x80040220"), "{out}");
    assert_eq!(cli(data, &["audit", "verify"]).0, 0);
}
