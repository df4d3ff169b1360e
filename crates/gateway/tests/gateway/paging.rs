//! Paging through the gateway: `Prefer: odata.maxpagesize`, `@odata.nextLink` rewritten to the
//! gateway, `$skiptoken` forwarded byte for byte, every page authorized and audited.

use crate::app::{request_id, spawn_app};
use policy::Level;
use std::collections::HashSet;

#[tokio::test]
async fn pages_follow_next_links_through_the_gateway() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Read)], false).await;
    let mut url = app.api("accounts?$select=name&$orderby=name&$count=true");
    let mut seen = HashSet::new();
    let mut pages = 0;
    loop {
        let resp = app.send_with(&key, "GET", &url, None, &[("Prefer", "odata.maxpagesize=7")]).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["preference-applied"], "odata.maxpagesize=7");
        let rid = request_id(&resp);
        let body: serde_json::Value = resp.json().await.unwrap();
        let rows = body["value"].as_array().unwrap();
        assert!(rows.len() <= 7);
        assert!(body["@odata.count"].as_u64().unwrap() >= 25);
        for r in rows {
            assert!(seen.insert(r["accountid"].as_str().unwrap().to_owned()), "duplicate row across pages");
        }
        pages += 1;
        let records = app.records(&rid).await;
        assert_eq!(records[1].rows, Some(rows.len() as u64));
        match body.get("@odata.nextLink").and_then(|l| l.as_str()) {
            Some(next) => {
                assert!(next.starts_with(&app.api("accounts?")), "next link not rewritten: {next}");
                assert!(next.contains("$skiptoken="), "{next}");
                url = next.to_owned();
            }
            None => break,
        }
        assert!(pages < 50, "paging does not end");
    }
    assert!(pages >= 4, "{pages} pages");
    assert!(seen.len() >= 25);
}

#[tokio::test]
async fn a_skiptoken_cannot_widen_what_is_authorized() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Read)], false).await;
    let resp = app.send_with(&key, "GET", "accounts?$select=name", None, &[("Prefer", "odata.maxpagesize=3")]).await;
    let body: serde_json::Value = resp.json().await.unwrap();
    let next = body["@odata.nextLink"].as_str().unwrap();
    // The same token against another table is still a read of that table, decided by policy.
    let token = next.split("$skiptoken=").nth(1).unwrap();
    let before = app.upstream_requests();
    let resp = app.send(&key, "GET", &format!("leads?$select=fullname&$skiptoken={token}"), None).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(app.upstream_requests(), before);
}
