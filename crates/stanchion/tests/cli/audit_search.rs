//! `stanchion audit search` and `audit export` over records the running gateway wrote: every
//! filter narrows to what it names, and an export continues exactly where the last one ended.

use crate::harness::{cli, http, start};

fn sentences(out: &str) -> Vec<String> {
    out.lines().map(|l| l.split_once("  ").map_or(l, |(_, s)| s).to_owned()).collect()
}

#[tokio::test]
async fn search_and_incremental_export() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let (_, out) = cli(data, &["agent", "create", "Search Agent", "--json"]);
    let key = serde_json::from_str::<serde_json::Value>(&out).unwrap()["key"].as_str().unwrap().to_owned();
    assert_eq!(cli(data, &["policy", "set", "Search Agent", "account", "full"]).0, 0);
    let run = start(data, &["demo", "--json"], true);
    let api = format!("{}/api/data/v9.2", run.agents_url);

    // An allowed create (a record id), an allowed query, a denied read of contacts.
    let resp = http()
        .post(format!("{api}/accounts"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(r#"{"name":"Searchable Ltd","telephone1":"555-0101"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let entity = resp.headers()["odata-entityid"].to_str().unwrap().to_owned();
    let id = entity.rsplit_once('(').unwrap().1.trim_end_matches(')').to_owned();
    assert_eq!(
        http().get(format!("{api}/accounts?$select=name&$top=2")).bearer_auth(&key).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        http().get(format!("{api}/contacts?$select=fullname")).bearer_auth(&key).send().await.unwrap().status(),
        403
    );
    drop(run);

    let search = |args: &[&str]| {
        let mut all = vec!["audit", "search", "--agent", "Search Agent"];
        all.extend_from_slice(args);
        let (code, out) = cli(data, &all);
        assert_eq!(code, 0, "{args:?}: {out}");
        sentences(&out)
    };
    let denied = search(&["--decision", "denied"]);
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert!(denied[0].contains("contacts") || denied[0].contains("contact"), "{denied:?}");
    let by_table = search(&["--table", "contacts"]);
    assert_eq!(by_table, denied);
    let by_id = search(&["--record-id", &id]);
    assert!(!by_id.is_empty() && by_id.iter().all(|s| s.contains("account")), "{by_id:?}");
    let by_text = search(&["--text", "telephone1"]);
    assert!(!by_text.is_empty(), "the changed column is a word of the record");
    assert!(search(&["--text", "nosuchword"]).is_empty());
    assert!(search(&["--since", "2999-01-01"]).is_empty());
    assert_eq!(search(&["--until", "2000-01-01"]), Vec::<String>::new());
    let all = search(&[]);
    assert!(all.len() >= 5, "attempts, outcomes and the refusal: {all:?}");
    assert_eq!(search(&["--limit", "2"]), all[all.len() - 2..].to_vec(), "the newest, oldest first");
    assert_eq!(cli(data, &["audit", "search", "--decision", "maybe"]).0, 1);
    assert_eq!(cli(data, &["audit", "search", "--record-id", "not-a-guid"]).0, 1);

    // Export in two steps with the cursor gives every record once, in order.
    let everything = std::process::Command::new(env!("CARGO_BIN_EXE_stanchion"))
        .args(["audit", "export", "--data-dir"])
        .arg(data)
        .output()
        .unwrap();
    let lines: Vec<serde_json::Value> =
        String::from_utf8(everything.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.len() > 6);
    let first = std::process::Command::new(env!("CARGO_BIN_EXE_stanchion"))
        .args(["audit", "export", "--limit", "3", "--data-dir"])
        .arg(data)
        .output()
        .unwrap();
    let note = String::from_utf8(first.stderr).unwrap();
    let cursor = note.split("--after ").nth(1).unwrap().trim().to_owned();
    assert_eq!(cursor, format!("{}:{}", lines[2]["chain_id"].as_str().unwrap(), lines[2]["seq"]));
    let (code, rest) = cli(data, &["audit", "export", "--after", &cursor]);
    assert_eq!(code, 0);
    let rest: Vec<serde_json::Value> = rest.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rest, lines[3..].to_vec());
    assert_eq!(cli(data, &["audit", "export", "--after", "nochain:99"]).0, 1, "an unknown cursor is an error");

    let (code, csv) = cli(data, &["audit", "export", "--format", "csv"]);
    assert_eq!(code, 0);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(reader.headers().unwrap().get(13), Some("sentence"));
    assert_eq!(reader.records().count(), lines.len());
}
