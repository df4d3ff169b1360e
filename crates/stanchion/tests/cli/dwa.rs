//! The npm `dynamics-web-api` 2.5.0 client runs one scenario file against three targets: the
//! emulator directly, the gateway with a Full-use key, the gateway with a Read-only key. Only the
//! base URL and token differ. `.ci/run` installs the client from the committed lock file.

use crate::harness::{cli, http, start};
use std::path::PathBuf;

fn e2e_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../e2e")
}

fn scenario(base: &str, token: &str, expect: &str) -> String {
    let dir = e2e_dir();
    assert!(dir.join("node_modules/dynamics-web-api").exists(), "run `npm ci` in e2e/ (.ci/run does)");
    let out = std::process::Command::new("node")
        .arg("dwa-scenario.mjs")
        .current_dir(&dir)
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
async fn dynamics_web_api_against_emulator_and_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (_, full) = cli(data, &["agent", "create", "Full Agent", "--json"]);
    let full = serde_json::from_str::<serde_json::Value>(&full).unwrap()["key"].as_str().unwrap().to_owned();
    let (_, read) = cli(data, &["agent", "create", "Read Agent", "--json"]);
    let read = serde_json::from_str::<serde_json::Value>(&read).unwrap()["key"].as_str().unwrap().to_owned();
    assert_eq!(cli(data, &["policy", "set", "Full Agent", "account", "full"]).0, 0);
    assert_eq!(cli(data, &["policy", "set", "Full Agent", "contact", "read"]).0, 0);
    assert_eq!(cli(data, &["policy", "delete-records", "Full Agent", "on"]).0, 0);
    assert_eq!(cli(data, &["policy", "set", "Read Agent", "account", "read"]).0, 0);
    // The embedded emulator is seeded by `demo`; `serve` starts it empty, so seed via demo data dir.
    let run = start(data, &["demo", "--json"], true);

    // 1. The emulator directly, with a token from its own token endpoint.
    let client_file = data.join("emulator/emulator-client.json");
    let creds: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(client_file).unwrap()).unwrap();
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
    let emu_token = token["access_token"].as_str().unwrap();
    scenario(&format!("{}/", run.emulator_url), emu_token, "full");
    // 2. The gateway with a Full-use key; 3. with a Read-only key.
    scenario(&format!("{}/", run.agents_url), &full, "full");
    let out = scenario(&format!("{}/", run.agents_url), &read, "read");
    assert!(out.contains("403"), "{out}");
    let (code, _) = cli(data, &["audit", "verify"]);
    assert_eq!(code, 0);
}
