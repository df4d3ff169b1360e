//! An agent's life through the CLI while the gateway runs: show, key labels and expiry, last
//! use, rename, disable and enable, key rotation with an overlap, delete — each applied from
//! the next request on and each an admin record in a verifiable audit log.

use crate::harness::{cli, http, start};
use serde_json::Value;

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

async fn status(url: &str, key: &str) -> (u16, Option<String>) {
    let resp = http().get(url).bearer_auth(key).send().await.unwrap();
    let reason = resp.headers().get("x-stanchion-reason").map(|v| v.to_str().unwrap().to_owned());
    (resp.status().as_u16(), reason)
}

#[tokio::test]
async fn agent_lifecycle_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (code, out) = cli(data, &["agent", "create", "Field Agent", "--json"]);
    assert_eq!(code, 0, "{out}");
    let first = json(&out)["key"].as_str().unwrap().to_owned();
    assert_eq!(cli(data, &["policy", "set", "Field Agent", "account", "read"]).0, 0);

    // A labelled key with an expiry; an expiry in the past is refused.
    let (code, out) =
        cli(data, &["agent", "key", "add", "Field Agent", "--label", "ci", "--expires", "2099-01-01", "--json"]);
    assert_eq!(code, 0, "{out}");
    let labelled = json(&out)["key"].as_str().unwrap().to_owned();
    assert_eq!(cli(data, &["agent", "key", "add", "Field Agent", "--expires", "2001-01-01"]).0, 1);
    assert_eq!(cli(data, &["agent", "key", "add", "Field Agent", "--expires", "soon"]).0, 1);
    let (_, out) = cli(data, &["agent", "key", "list", "Field Agent", "--json"]);
    let keys = json(&out);
    let ci = keys.as_array().unwrap().iter().find(|k| k["label"] == "ci").unwrap();
    assert_eq!(ci["expires_at"], "2099-01-01T00:00:00.000Z");
    assert!(ci["last_used_at"].is_null());

    let run = start(data, &["demo", "--json"], true);
    let url = format!("{}/api/data/v9.2/accounts?$select=name&$top=1", run.agents_url);
    assert_eq!(status(&url, &labelled).await.0, 200);
    let (_, out) = cli(data, &["agent", "show", "Field Agent", "--json"]);
    let shown = json(&out);
    assert_eq!((shown["name"].as_str(), shown["disabled"].as_bool()), (Some("Field Agent"), Some(false)));
    assert_eq!(shown["tables"], serde_json::json!({"account": "read"}));
    assert_eq!(shown["keys"].as_array().unwrap().len(), 2);
    let used = shown["keys"].as_array().unwrap().iter().find(|k| k["label"] == "ci").unwrap();
    assert!(used["last_used_at"].is_string(), "last use shown: {shown}");

    // Rename (unique names), disable, enable: each applies to the next request.
    assert_eq!(cli(data, &["agent", "create", "Other Agent"]).0, 0);
    assert_eq!(cli(data, &["agent", "rename", "Field Agent", "other agent"]).0, 1, "names are unique");
    let (code, out) = cli(data, &["agent", "rename", "Field Agent", "Survey Agent"]);
    assert_eq!((code, out.trim()), (0, "Renamed Field Agent to Survey Agent."));
    assert_eq!(cli(data, &["agent", "disable", "Survey Agent"]).0, 0);
    assert_eq!(status(&url, &first).await, (401, Some("agent_disabled".into())));
    assert_eq!(cli(data, &["agent", "enable", "survey agent"]).0, 0);
    assert_eq!(status(&url, &first).await.0, 200);

    // Rotation: with an overlap the old keys keep working; with none they stop at once.
    let (code, out) = cli(data, &["agent", "rotate-key", "Survey Agent", "--overlap", "24h", "--json"]);
    assert_eq!(code, 0, "{out}");
    let rotated = json(&out);
    let second = rotated["key"].as_str().unwrap().to_owned();
    assert_eq!(rotated["old_key_ids"].as_array().unwrap().len(), 2, "{rotated}");
    assert_eq!(status(&url, &first).await.0, 200, "still inside the overlap");
    assert_eq!(cli(data, &["agent", "rotate-key", "Survey Agent", "--overlap", "forever"]).0, 1);
    let (code, out) = cli(data, &["agent", "rotate-key", "Survey Agent", "--overlap", "0s", "--json"]);
    assert_eq!(code, 0, "{out}");
    let third = json(&out)["key"].as_str().unwrap().to_owned();
    assert_eq!(status(&url, &first).await, (401, Some("key_expired".into())));
    assert_eq!(status(&url, &second).await, (401, Some("key_expired".into())));
    assert_eq!(status(&url, &third).await.0, 200);

    // Delete needs --yes (exit 2 without it, nothing changed); then the key is unknown.
    assert_eq!(cli(data, &["agent", "delete", "Survey Agent"]).0, 2);
    assert_eq!(status(&url, &third).await.0, 200);
    let (code, out) = cli(data, &["agent", "delete", "Survey Agent", "--yes"]);
    assert_eq!((code, out.trim()), (0, "Deleted Survey Agent with its keys and policy."));
    assert_eq!(cli(data, &["agent", "show", "Survey Agent"]).0, 1);
    assert_eq!(status(&url, &third).await, (401, Some("unknown_key".into())));
    drop(run);

    let (_, out) = cli(data, &["audit", "tail", "--lines", "200"]);
    for said in [
        "added key",
        "renamed agent Field Agent to Survey Agent",
        "disabled agent Survey Agent",
        "enabled agent Survey Agent again",
        "rotated Survey Agent's keys",
        "deleted agent Survey Agent with its keys and policy",
        "the agent is disabled",
    ] {
        assert!(out.contains(said), "missing '{said}' in:\n{out}");
    }
    assert_eq!(cli(data, &["audit", "verify"]).0, 0);
}
