//! `stanchion audit prune --before DATE`: records older than the date leave every chain, a
//! signed truncation record takes their place so `audit verify` still passes, the search
//! index forgets them, and the prune is itself an admin record. Removing records any other way
//! is still damage.

use crate::harness::{cli, http, start};
use std::path::Path;

/// Starts the demo, sends `n` queries with its first agent's key, and stops it.
async fn demo_traffic(data: &Path, n: usize) {
    let run = start(data, &["demo", "--json"], true);
    let key = run.json.as_ref().unwrap()["agents"][0]["key"].as_str().unwrap().to_owned();
    for _ in 0..n {
        let url = format!("{}/api/data/v9.2/accounts?$select=name&$top=1", run.agents_url);
        assert_eq!(http().get(url).bearer_auth(&key).send().await.unwrap().status(), 200);
    }
}

fn exported(data: &Path) -> Vec<serde_json::Value> {
    let (code, out) = cli(data, &["audit", "export", "--format", "jsonl"]);
    assert_eq!(code, 0);
    out.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test]
async fn pruned_records_are_gone_and_the_log_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert_eq!(cli(data, &["agent", "create", "Early Agent"]).0, 0);
    demo_traffic(data, 3).await;
    let cutoff = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    assert_eq!(cli(data, &["agent", "create", "Late Agent"]).0, 0);
    demo_traffic(data, 2).await;

    let before: Vec<_> = exported(data);
    let old = before.iter().filter(|r| r["time"].as_str().unwrap() < cutoff.as_str()).count();
    assert!(old >= 6, "admin records and three queries' attempts and outcomes: {old}");
    assert!(before.len() > old);

    // Without --yes nothing happens.
    assert_eq!(cli(data, &["audit", "prune", "--before", &cutoff]).0, 2);
    assert_eq!(exported(data).len(), before.len());
    let (code, future) = cli(data, &["audit", "prune", "--before", "2999-01-01", "--yes"]);
    assert_ne!(code, 0, "{future}");

    let (code, out) = cli(data, &["audit", "prune", "--before", &cutoff, "--yes", "--json"]);
    assert_eq!(code, 0, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["pruned"].as_u64().unwrap() as usize, old);

    let after = exported(data);
    assert!(after.iter().all(|r| r["time"].as_str().unwrap() >= cutoff.as_str()));
    assert_eq!(after.len(), before.len() - old + 1, "the rest, and the prune's own admin record");
    let (_, tail) = cli(data, &["audit", "tail", "-n", "1"]);
    assert!(tail.contains(&format!("pruned {old} audit records from before {cutoff}")), "{tail}");
    // The search index forgot the pruned records (one JSON line per match).
    let (_, found) = cli(data, &["audit", "search", "--text", "Early Agent", "--json"]);
    assert!(found.trim().is_empty(), "{found}");
    let (_, found) = cli(data, &["audit", "search", "--text", "Late Agent", "--json"]);
    assert_eq!(found.lines().count(), 1, "{found}");

    let (code, out) = cli(data, &["audit", "verify", "--json"]);
    assert_eq!(code, 0, "{out}");
    let verified: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(verified["intact"], true);
    assert!(verified["chains"].as_array().unwrap().iter().any(|c| c["first_seq"].as_u64().unwrap() > 1));

    // Removing one more record without the audit key (the admin chain spans the cutoff): the
    // chain no longer starts where its signed truncation says.
    let url = format!("sqlite://{}", data.join("stanchion.sqlite").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let words: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_text WHERE audit_text MATCH 'early'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(words, 0, "the text index holds no words of pruned records");
    let (chain, first): (String, i64) =
        sqlx::query_as("SELECT chain_id, min(seq) FROM audit_records WHERE chain_id = 'admin' GROUP BY chain_id")
            .fetch_one(&pool)
            .await
            .unwrap();
    sqlx::query("DROP TRIGGER audit_records_append_only_delete").execute(&pool).await.unwrap();
    sqlx::query("DELETE FROM audit_records WHERE chain_id = ? AND seq = ?")
        .bind(&chain)
        .bind(first)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (code, out) = cli(data, &["audit", "verify", "--json"]);
    assert_eq!(code, 4, "{out}");
    let damaged: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(damaged["first_bad"]["chain_id"], chain.as_str());
    assert_eq!(damaged["first_bad"]["seq"], first);
}
