//! Microsoft's PyPI `PowerPlatform-Dataverse-Client` 1.1.0 runs one scenario file against the
//! emulator directly and through the gateway (Full use without delete; Read only). `.ci/run`
//! installs the client into `e2e/.venv` from the pinned `e2e/requirements.txt`.

use crate::harness::{cli, http, start};
use std::path::PathBuf;

fn scenario(base: &str, token: &str, expect: &str) -> String {
    let e2e = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../e2e");
    let python = e2e.join(".venv/bin/python");
    assert!(python.exists(), "create e2e/.venv with the pinned client (.ci/run does)");
    let out = std::process::Command::new(python)
        .arg("python_scenario.py")
        .current_dir(&e2e)
        .env("DV_BASE", base)
        .env("DV_TOKEN", token)
        .env("DV_EXPECT", expect)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{expect} against {base}:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(", 0 failed"), "{stdout}");
    stdout
}

#[tokio::test]
async fn microsofts_python_client_against_emulator_and_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let run = start(data, &["demo", "--json"], true);
    let facts = run.json.clone().unwrap();
    let sales = facts["agents"][0]["key"].as_str().unwrap();
    let support = facts["agents"][1]["key"].as_str().unwrap();
    let creds: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("emulator/emulator-client.json")).unwrap()).unwrap();
    let token: serde_json::Value = http()
        .post(format!("{}/tenant/oauth2/v2.0/token", run.emulator_url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope={}%2F.default",
            creds["client_id"].as_str().unwrap(),
            creds["client_secret"].as_str().unwrap(),
            run.emulator_url.replace(':', "%3A").replace('/', "%2F")
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    scenario(&run.emulator_url, token["access_token"].as_str().unwrap(), "full");
    scenario(&run.agents_url, sales, "full_nodelete");
    let out = scenario(&run.agents_url, support, "read");
    assert!(out.contains("0x80040220"), "{out}");
    assert_eq!(cli(data, &["audit", "verify"]).0, 0);
}
