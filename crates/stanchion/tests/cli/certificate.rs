//! Certificate sign-in with the real binaries: `stanchion emulator --client-cert` as the org,
//! `stanchion serve` with `upstream.certificate_file` in front of it. With the registered
//! certificate agents' requests go through; with another one the gateway is not ready and
//! agents get a Dataverse-shaped error naming the sign-in failure, with nothing forwarded.

use crate::harness::{cli, http, start};
use std::path::{Path, PathBuf};

fn certs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../gateway/tests/fixtures/certs")
}

/// A config file pointing `serve` at the emulator with this certificate file.
fn config(dir: &Path, emulator_url: &str, certificate: &Path) -> PathBuf {
    let file = dir.join("stanchion.toml");
    std::fs::write(
        &file,
        format!(
            "[upstream]\norg_url = \"{emulator_url}\"\nauthority = \"{emulator_url}\"\ntenant_id = \"contoso\"\nclient_id = \"stanchion-local\"\ncertificate_file = \"{}\"\nmax_retry_wait = \"0s\"\n",
            certificate.display()
        ),
    )
    .unwrap();
    file
}

#[tokio::test]
async fn serve_signs_in_with_the_registered_certificate_and_not_with_another() {
    let dir = tempfile::tempdir().unwrap();
    let app_crt = certs().join("app.crt");
    let org = start(
        &dir.path().join("org"),
        &["emulator", "--listen", "127.0.0.1:0", "--seed", "3", "--client-cert", app_crt.to_str().unwrap()],
        false,
    );
    for (name, pem, ready) in [("good", "app.pem", true), ("bad", "other.pem", false)] {
        let data = dir.path().join(name);
        std::fs::create_dir_all(&data).unwrap();
        let cfg = config(&data, &org.emulator_url, &certs().join(pem));
        let cfg = cfg.to_str().unwrap();
        let (code, created) = cli(&data, &["--config", cfg, "agent", "create", "Reader", "--json"]);
        assert_eq!(code, 0, "{created}");
        let key = serde_json::from_str::<serde_json::Value>(&created).unwrap()["key"].as_str().unwrap().to_owned();
        assert_eq!(cli(&data, &["--config", cfg, "policy", "set", "Reader", "account", "read"]).0, 0);
        let gw = start(&data, &["--config", cfg, "serve"], false);
        let readyz = http().get(format!("{}/readyz", gw.admin_url)).send().await.unwrap();
        let status = readyz.status().as_u16();
        let body: serde_json::Value = readyz.json().await.unwrap();
        let resp = http()
            .get(format!("{}/api/data/v9.2/accounts?$select=name&$top=2", gw.agents_url))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        let answer = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        if ready {
            assert_eq!((status, body["checks"]["upstream_token"].as_str()), (200, Some("ok")), "{body}");
            assert_eq!(answer, 200, "{text}");
            assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap()["value"].as_array().unwrap().len(), 2);
        } else {
            assert_eq!((status, body["checks"]["upstream_token"].as_str()), (503, Some("credentials refused")));
            assert_eq!(answer, 502, "{text}");
            assert!(text.contains("could not sign in to Dynamics 365"), "{text}");
            let stderr = std::fs::read_to_string(&gw.stderr_path).unwrap();
            assert!(!stderr.contains("PRIVATE KEY"), "the key never reaches the log");
        }
    }
}
