//! TLS on both listeners (`listen.tls_cert_file` / `tls_key_file`) with a test CA generated
//! here: agents and the admin listener answer over https with links in https, a client that
//! does not trust the CA is turned away at the handshake, plain HTTP gets no answer, and
//! Microsoft's Python client runs over https exactly as shipped (no http workaround).

use crate::harness::{cli, scenario_with_env, start_with_env};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use std::path::Path;

/// Writes `ca.pem`, `cert.pem` (for 127.0.0.1 and localhost, signed by the CA) and `key.pem`.
fn test_ca(dir: &Path) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Stanchion test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let cert = params.signed_by(&key, &issuer).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
}

fn client(ca: Option<&Path>) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut b = reqwest::Client::builder().no_proxy();
    if let Some(ca) = ca {
        b = b.add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap());
    }
    b.build().unwrap()
}

#[tokio::test]
async fn both_listeners_serve_tls_and_the_python_client_runs_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    test_ca(&certs);
    let data = dir.path().join("data");
    let (cert, key, ca) = (certs.join("cert.pem"), certs.join("key.pem"), certs.join("ca.pem"));
    let env = [
        ("STANCHION_LISTEN_TLS_CERT_FILE", cert.to_str().unwrap()),
        ("STANCHION_LISTEN_TLS_KEY_FILE", key.to_str().unwrap()),
    ];
    let run = start_with_env(&data, &["demo", "--json"], true, &env);
    assert!(run.agents_url.starts_with("https://127.0.0.1:"), "{}", run.agents_url);
    assert!(run.admin_url.starts_with("https://127.0.0.1:"), "{}", run.admin_url);
    let facts = run.json.clone().unwrap();
    let sales = facts["agents"][0]["key"].as_str().unwrap();

    let trusted = client(Some(&ca));
    let url = format!("{}/api/data/v9.2/accounts?$select=name&$top=1", run.agents_url);
    let resp = trusted.get(&url).bearer_auth(sales).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    let context = body["@odata.context"].as_str().unwrap();
    assert!(context.starts_with(&format!("{}/api/data/v9.2/$metadata", run.agents_url)), "{context}");
    let ready = trusted.get(format!("{}/readyz", run.admin_url)).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    // Not trusting the test CA: refused at the handshake, nothing answered.
    assert!(client(None).get(&url).bearer_auth(sales).send().await.unwrap_err().is_connect());
    // Plain HTTP to the TLS port: no HTTP answer.
    let plain = run.agents_url.replacen("https://", "http://", 1);
    assert!(client(None).get(format!("{plain}/api/data/v9.2/accounts")).send().await.is_err());

    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e/.venv/bin/python");
    assert!(python.exists(), "create e2e/.venv with the pinned client (.ci/run does)");
    let out = scenario_with_env(
        python.to_str().unwrap(),
        "python_scenario.py",
        &run.agents_url,
        sales,
        "full_nodelete",
        &[("REQUESTS_CA_BUNDLE", ca.to_str().unwrap())],
    );
    assert!(out.contains(", 0 failed"), "{out}");
    let (_, tail) = cli(&data, &["audit", "tail", "-n", "3", "--json"]);
    assert!(tail.contains("DataverseSvcPythonClient"), "the Python client's calls are in the audit log: {tail}");
    assert_eq!(cli(&data, &["audit", "verify"]).0, 0);
}
