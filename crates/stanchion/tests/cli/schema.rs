//! `stanchion schema refresh` with the real binaries: the org's tables learned from
//! `stanchion emulator` and written to the cache `serve` and the admin commands read.

use crate::harness::{cli, start};
use std::path::Path;

#[test]
fn schema_refresh_learns_the_org_and_writes_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let certs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../gateway/tests/fixtures/certs");
    let crt = certs.join("app.crt");
    let org = start(
        &dir.path().join("org"),
        &["emulator", "--listen", "127.0.0.1:0", "--seed", "3", "--client-cert", crt.to_str().unwrap()],
        false,
    );
    let data = dir.path().join("gw");
    std::fs::create_dir_all(&data).unwrap();
    let cfg = data.join("stanchion.toml");
    std::fs::write(
        &cfg,
        format!(
            "[upstream]\norg_url = \"{0}\"\nauthority = \"{0}\"\ntenant_id = \"contoso\"\nclient_id = \"stanchion-local\"\ncertificate_file = \"{1}\"\n",
            org.emulator_url,
            certs.join("app.pem").display()
        ),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let (code, out) = cli(&data, &["--config", cfg, "schema", "refresh", "--json"]);
    assert_eq!(code, 0, "{out}");
    let facts: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(facts["org_url"], org.emulator_url.as_str());
    assert_eq!(facts["tables"], dataverse::Schema::standard().tables().len());
    assert_eq!(facts["not_standard"], serde_json::json!([]));
    assert!(data.join("schema-cache.json").exists());
    // The admin commands check table names against it.
    assert_eq!(cli(&data, &["--config", cfg, "agent", "create", "Reader"]).0, 0);
    assert_eq!(cli(&data, &["--config", cfg, "policy", "set", "Reader", "account", "read"]).0, 0);
    assert_ne!(cli(&data, &["--config", cfg, "policy", "set", "Reader", "new_nosuch", "read"]).0, 0);
    // The embedded emulator's tables are fixed: nothing to refresh.
    let (code, _) = cli(&dir.path().join("embedded"), &["schema", "refresh"]);
    assert_eq!(code, 1);
}
