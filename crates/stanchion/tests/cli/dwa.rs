//! The npm `dynamics-web-api` 2.5.0 client runs one scenario file against three targets: the
//! emulator directly, the gateway with a Full-use key, the gateway with a Read-only key. Only the
//! base URL and token differ. `.ci/run` installs the client from the committed lock file.

use crate::harness::{cli, emulator_token, scenario, start};

#[tokio::test]
async fn dynamics_web_api_against_emulator_and_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (_, full) = cli(data, &["agent", "create", "Full Agent", "--json"]);
    let full = serde_json::from_str::<serde_json::Value>(&full).unwrap()["key"].as_str().unwrap().to_owned();
    let (_, read) = cli(data, &["agent", "create", "Read Agent", "--json"]);
    let read = serde_json::from_str::<serde_json::Value>(&read).unwrap()["key"].as_str().unwrap().to_owned();
    assert_eq!(cli(data, &["policy", "set", "Full Agent", "account", "full"]).0, 0);
    assert_eq!(cli(data, &["policy", "set", "Full Agent", "contact", "full"]).0, 0);
    assert_eq!(cli(data, &["policy", "set", "Full Agent", "lead", "full"]).0, 0);
    assert_eq!(cli(data, &["policy", "set", "Full Agent", "opportunity", "full"]).0, 0);
    assert_eq!(cli(data, &["policy", "set", "Full Agent", "systemuser", "read"]).0, 0);
    assert_eq!(cli(data, &["policy", "allow-action", "Full Agent", "WinOpportunity"]).0, 0);
    assert_eq!(cli(data, &["policy", "allow-action", "Full Agent", "Merge"]).0, 0);
    assert_eq!(cli(data, &["policy", "delete-records", "Full Agent", "on"]).0, 0);
    assert_eq!(cli(data, &["policy", "set", "Read Agent", "account", "read"]).0, 0);
    // The embedded emulator is seeded by `demo`; `serve` starts it empty, so seed via demo data dir.
    let run = start(data, &["demo", "--json"], true);

    // 1. The emulator directly, with a token from its own token endpoint.
    assert!(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e/node_modules/dynamics-web-api").exists(),
        "run `npm ci` in e2e/ (.ci/run does)"
    );
    let emu_token = emulator_token(data, &run.emulator_url).await;
    scenario("node", "dwa-scenario.mjs", &format!("{}/", run.emulator_url), &emu_token, "full");
    // 2. The gateway with a Full-use key; 3. with a Read-only key.
    scenario("node", "dwa-scenario.mjs", &format!("{}/", run.agents_url), &full, "full");
    let out = scenario("node", "dwa-scenario.mjs", &format!("{}/", run.agents_url), &read, "read");
    assert!(out.contains("403"), "{out}");
    let (code, _) = cli(data, &["audit", "verify"]);
    assert_eq!(code, 0);
}
