//! SIGKILL right after a response: after a restart `audit verify` passes and every response the
//! client received has its committed outcome record. Also: values never reach store or logs.

use crate::harness::{cli, http, start};

#[tokio::test]
async fn sigkill_after_responses_loses_no_acknowledged_record() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (code, out) = cli(data, &["agent", "create", "Crash Agent", "--json"]);
    assert_eq!(code, 0, "{out}");
    let key = serde_json::from_str::<serde_json::Value>(&out).unwrap()["key"].as_str().unwrap().to_owned();
    assert_eq!(cli(data, &["policy", "set", "Crash Agent", "accounts", "full"]).0, 0);

    let secret = "Quokka-Literal-5521";
    let mut request_ids = Vec::new();
    for round in 0..2 {
        let mut run = start(data, &["serve"], false);
        let client = http();
        let base = format!("{}/api/data/v9.2", run.agents_url);
        for i in 0..15 {
            let resp = if i % 3 == 0 {
                client
                    .post(format!("{base}/accounts"))
                    .bearer_auth(&key)
                    .header("Content-Type", "application/json")
                    .body(format!(r#"{{"name":"{secret} {round} {i}","revenue":31337.25}}"#))
                    .send()
                    .await
                    .unwrap()
            } else {
                client
                    .get(format!("{base}/accounts?$filter=name eq '{secret}'&$top=5"))
                    .bearer_auth(&key)
                    .send()
                    .await
                    .unwrap()
            };
            assert!(resp.status().is_success(), "{}", resp.status());
            request_ids.push(resp.headers()["x-stanchion-request-id"].to_str().unwrap().to_owned());
        }
        // SIGKILL right after the last response: no shutdown checkpoint, no graceful anything.
        run.child.kill().unwrap();
        run.child.wait().unwrap();
        let logs = std::fs::read_to_string(&run.stderr_path).unwrap();
        assert!(!logs.contains(secret), "a literal reached the logs");
        assert!(!logs.contains("31337"), "a number reached the logs");
        assert!(!logs.contains(&key[17..]), "the key reached the logs");
    }
    let (code, out) = cli(data, &["audit", "verify", "--json"]);
    assert_eq!(code, 0, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["intact"], true);
    let (_, tail) = cli(data, &["audit", "tail", "-n", "10000", "--json"]);
    let records: Vec<serde_json::Value> = tail.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for rid in &request_ids {
        let outcome = records.iter().any(|r| r["request_id"] == rid.as_str() && r["record_type"] == "outcome");
        assert!(outcome, "response {rid} has no committed outcome record");
    }
    for entry in walk(data) {
        if entry.extension().is_some_and(|e| e == "log") || entry.to_string_lossy().contains("emulator") {
            continue;
        }
        let bytes = std::fs::read(&entry).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(secret), "{} holds the literal", entry.display());
    }
    // Tampering is detected: a forged line in the checkpoint file breaks verification.
    let cp = data.join("audit-checkpoints.log");
    let mut text = std::fs::read_to_string(&cp).unwrap();
    let first = text.lines().next().unwrap().to_owned();
    text.push_str(&first.replacen("\"seq\":1", "\"seq\":99999", 1));
    text.push('\n');
    std::fs::write(&cp, text).unwrap();
    assert_eq!(cli(data, &["audit", "verify"]).0, 4);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

#[tokio::test]
async fn demo_prints_keys_and_a_working_call() {
    let dir = tempfile::tempdir().unwrap();
    let run = start(dir.path(), &["demo", "--json"], true);
    let facts = run.json.clone().unwrap();
    assert_eq!(facts["agents_url"], run.agents_url.as_str());
    assert_eq!(facts["emulator_url"], run.emulator_url.as_str());
    let agents = facts["agents"].as_array().unwrap();
    assert_eq!(agents[0]["name"], "Sales Ops Agent");
    assert_eq!(agents[1]["name"], "Support Agent");
    assert!(facts["curl"].as_str().unwrap().contains(agents[0]["key"].as_str().unwrap()));
    let client = http();
    let sales = agents[0]["key"].as_str().unwrap();
    let support = agents[1]["key"].as_str().unwrap();
    let base = format!("{}/api/data/v9.2", run.agents_url);
    let r = client.get(format!("{base}/accounts?$select=name,revenue&$top=3")).bearer_auth(sales).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["value"].as_array().unwrap().len(), 3);
    let r = client.get(format!("{base}/incidents?$top=1")).bearer_auth(sales).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = client.get(format!("{base}/incidents?$top=1")).bearer_auth(support).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body = dir.path().join("body.json");
    std::fs::write(&body, r#"{"telephone1":"555-0199"}"#).unwrap();
    let body = body.to_str().unwrap();
    let url = "/api/data/v9.2/contacts(00000000-0000-0000-0000-000000000001)";
    let (code, out) = cli(
        dir.path(),
        &["policy", "explain", "Support Agent", "PATCH", url, "--body", body, "--header", "If-Match: *", "--json"],
    );
    assert_eq!(code, 3, "{out}");
    let e: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(e["reason_code"], "table_read_only");
    // The admin listener: metrics derived from the same records, and the probes.
    assert_eq!(facts["admin_url"], run.admin_url.as_str());
    let metrics = client.get(format!("{}/metrics", run.admin_url)).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(r#"stanchion_requests_total{agent="Sales Ops Agent",decision="denied",reason="table_off"} 1"#),
        "{metrics}"
    );
    assert_eq!(client.get(format!("{}/readyz", run.admin_url)).send().await.unwrap().status(), 200);
    let (_, tail) = cli(dir.path(), &["audit", "tail", "-n", "5"]);
    assert!(tail.contains("Sales Ops Agent read 3 accounts (name, revenue) — allowed."), "{tail}");
    assert!(
        tail.contains("Sales Ops Agent tried to read incidents — denied: it has no access to incidents."),
        "{tail}"
    );
}

/// A clean stop (SIGTERM) records the folded count of an unauthenticated flood whose window is
/// still open, then checkpoints: nothing the gateway refused goes unaccounted.
#[tokio::test]
async fn a_clean_stop_records_open_flood_windows() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = start(dir.path(), &["demo", "--json"], true);
    let url = format!("{}/api/data/v9.2/accounts?$top=1", run.agents_url);
    for _ in 0..4 {
        let resp = http().get(&url).bearer_auth("not-a-key").send().await.unwrap();
        assert_eq!(resp.status(), 401);
    }
    let pid = run.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert!(run.child.wait().unwrap().success(), "a clean stop exits 0");
    let (_, tail) = cli(dir.path(), &["audit", "tail", "-n", "10"]);
    assert!(tail.contains("An unknown caller (127.0.0.1) sent a request — denied"), "{tail}");
    assert!(tail.contains("An unknown caller (127.0.0.1) sent 3 more requests — denied"), "{tail}");
    assert_eq!(cli(dir.path(), &["audit", "verify"]).0, 0);
}
