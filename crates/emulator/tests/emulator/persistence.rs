//! Data directory persistence and deterministic seeds (design §7 "Emulator defaults").

use crate::common::{Emu, config, spawn_with};
use emulator::Storage;
use serde_json::json;

async fn count(e: &Emu, set: &str) -> u64 {
    e.get(&format!("{set}/$count")).await.text().await.unwrap().parse().unwrap()
}

#[tokio::test]
async fn data_client_and_tokens_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(Storage::Dir(dir.path().to_owned()));
    c.org_url = Some("http://persist.test/".into());
    let first = spawn_with(c.clone()).await;
    assert_eq!(first.emu.org_url, "http://persist.test");
    assert!(first.emu.default_client_created);
    let id = first.create("accounts", json!({"name": "Durable"})).await;
    let client = first.emu.clients[0].clone();
    let token = first.token.clone();
    let who = first.get_json("WhoAmI").await;
    first.emu.shutdown().await;

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("emulator-client.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let mut second = spawn_with(c).await;
    assert!(!second.emu.default_client_created);
    assert_eq!(second.emu.clients[0], client);
    second.token = token;
    let row = second.get_json(&format!("accounts({id})?$select=name")).await;
    assert_eq!(row["name"], "Durable");
    assert_eq!(second.get_json("WhoAmI").await, who);
    let next = second.create("accounts", json!({"name": "Later"})).await;
    let later = second.get_json(&format!("accounts({next})?$select=name")).await;
    let version = |v: &serde_json::Value| -> u64 {
        v["@odata.etag"].as_str().unwrap().trim_start_matches("W/\"").trim_end_matches('"').parse().unwrap()
    };
    assert!(version(&later) > version(&row), "the version counter survives the restart");
    assert_eq!(count(&second, "accounts").await, 2);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_sample_data() {
    let mut c = config(Storage::InMemory);
    c.seed = Some(7);
    let a = spawn_with(c.clone()).await;
    let b = spawn_with(c).await;
    let first = "accounts?$select=name,revenue,accountnumber&$orderby=accountnumber&$top=1";
    let (ra, rb) = (a.get_json(first).await, b.get_json(first).await);
    assert_eq!(ra["value"][0]["accountid"], rb["value"][0]["accountid"]);
    assert_eq!(ra["value"][0]["name"], rb["value"][0]["name"]);
    assert_eq!(ra["value"][0]["revenue"], rb["value"][0]["revenue"]);
    assert_eq!(ra["value"][0]["accountnumber"], "ACC-10001");

    for (set, n) in [("accounts", 25), ("contacts", 40), ("leads", 15), ("opportunities", 12), ("incidents", 10)] {
        assert_eq!(count(&a, set).await, n, "{set}");
    }
    let linked = a.get_json("contacts?$select=fullname&$filter=_parentcustomerid_value%20ne%20null&$count=true").await;
    assert!(linked["@odata.count"].as_u64().unwrap() > 10, "{linked}");
    let opp = a.get_json("opportunities?$select=name,_customerid_value&$top=1").await;
    assert!(opp["value"][0]["_customerid_value"].is_string());

    let mut other = config(Storage::InMemory);
    other.seed = Some(8);
    let c8 = spawn_with(other).await;
    assert_ne!(c8.get_json(first).await["value"][0]["accountid"], ra["value"][0]["accountid"]);
}

#[tokio::test]
async fn seeding_only_fills_an_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(Storage::Dir(dir.path().to_owned()));
    c.seed = Some(7);
    let first = spawn_with(c.clone()).await;
    assert_eq!(count(&first, "accounts").await, 25);
    first.emu.shutdown().await;
    let second = spawn_with(c).await;
    assert_eq!(count(&second, "accounts").await, 25);
}
