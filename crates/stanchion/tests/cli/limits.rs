//! `stanchion policy limits`: an agent's own request limits, shown and set from the CLI,
//! recorded in the audit log and enforced by the running gateway.

use crate::harness::{cli, http, start};

#[tokio::test]
async fn an_agents_own_limits_are_set_recorded_and_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (_, created) = cli(data, &["agent", "create", "Throttled Agent", "--json"]);
    let key = serde_json::from_str::<serde_json::Value>(&created).unwrap()["key"].as_str().unwrap().to_owned();
    assert_eq!(cli(data, &["policy", "set", "Throttled Agent", "account", "read"]).0, 0);

    // Defaults first (design §7: 600 per minute, 8 at once), then the agent's own rate.
    let (code, shown) = cli(data, &["policy", "limits", "Throttled Agent", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(
        v["limits"],
        serde_json::json!({"per_minute": 600, "concurrency": 8,
        "own": {"per_minute": null, "concurrency": null}})
    );
    let (code, out) = cli(data, &["policy", "limits", "Throttled Agent", "--per-minute", "2"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), "Throttled Agent: 2 requests per minute (own), 8 at once (default)");
    assert_ne!(cli(data, &["policy", "limits", "Throttled Agent", "--concurrency", "many"]).0, 0);
    let (_, shown) = cli(data, &["policy", "show", "Throttled Agent", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(v["limits"]["per_minute"], 2);

    // The running gateway applies it: the third request in the minute is refused.
    let run = start(data, &["demo", "--json"], true);
    let url = format!("{}/api/data/v9.2/accounts?$select=name&$top=1", run.agents_url);
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..3 {
        let resp = http().get(&url).bearer_auth(&key).send().await.unwrap();
        statuses.push(resp.status().as_u16());
        if resp.status() == 429 {
            retry_after = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
        }
    }
    assert_eq!(statuses, [200, 200, 429]);
    let seconds: u64 = retry_after.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&seconds), "{seconds}");
    drop(run);

    // Back to the default; both changes are admin records in the verified chain.
    assert_eq!(cli(data, &["policy", "limits", "Throttled Agent", "--per-minute", "default"]).0, 0);
    let (_, out) = cli(data, &["audit", "tail", "--lines", "50"]);
    assert!(
        out.contains("changed Throttled Agent's limits from the default rate and the default concurrency to 2 requests per minute and the default concurrency"),
        "{out}"
    );
    assert!(out.contains("rate_limited") || out.contains("exceeded its limit of 2 requests per minute"), "{out}");
    assert_eq!(cli(data, &["audit", "verify"]).0, 0);
}
