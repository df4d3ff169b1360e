//! N:N relationships at the gateway (design §4): pairing rows needs Full use on both tables,
//! following the relationship needs Read on the related table, and hidden columns of the
//! related table are dropped from N:N expansions too.

use crate::app::{reason, request_id, spawn_app};
use policy::Level;
use serde_json::{Value, json};
use store::Actor;

#[tokio::test]
async fn pairing_needs_full_use_on_both_tables() {
    let app = spawn_app().await;
    let full = app.agent("Full Agent", &[("account", Level::Full), ("lead", Level::Full)], false).await;
    let half = app.agent("Accounts Agent", &[("account", Level::Full), ("lead", Level::Read)], false).await;
    let blind = app.agent("Blind Agent", &[("account", Level::Full)], false).await;
    let account = app.first_id(&full, "accounts", "accountid").await;
    let lead = app.first_id(&full, "leads", "leadid").await;
    let body = json!({"@odata.id": format!("leads({lead})")}).to_string();
    let path = format!("accounts({account})/accountleads_association/$ref");

    // Full use on account but only Read on lead: refused, nothing forwarded.
    let before = app.upstream_requests();
    let resp = app.send(&half, "POST", &path, Some(&body)).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(reason(&resp).as_deref(), Some("table_read_only"));
    assert_eq!(app.upstream_requests(), before);

    // Full use on both: paired, audited naming the relationship's tables.
    let resp = app.send(&full, "POST", &path, Some(&body)).await;
    assert_eq!(resp.status(), 204, "{}", resp.text().await.unwrap());
    let resp = app.send(&full, "GET", &path, None).await;
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["value"].as_array().unwrap().len(), 1, "{v}");
    assert!(v["value"][0]["@odata.id"].as_str().unwrap().starts_with(&app.api("leads(")), "{v}");

    // Reading through the relationship: Read on lead is enough; no level on lead is refused.
    let expand = format!("accounts({account})?$select=name&$expand=accountleads_association($select=fullname)");
    let resp = app.send(&half, "GET", &expand, None).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["accountleads_association"].as_array().unwrap().len(), 1, "{v}");
    for read in [
        expand.clone(),
        format!("accounts({account})/accountleads_association"),
        format!("accounts({account})/accountleads_association/$ref"),
        format!("accounts({account})/accountleads_association({lead})"),
        "accounts?$filter=accountleads_association/any(l:l/lastname ne null)".to_owned(),
    ] {
        let before = app.upstream_requests();
        let resp = app.send(&blind, "GET", &read, None).await;
        assert_eq!(resp.status(), 403, "{read}");
        assert_eq!(reason(&resp).as_deref(), Some("table_off"), "{read}");
        assert_eq!(app.upstream_requests(), before, "{read}");
    }

    // Disassociating is a write of both tables too (not a delete: no Delete records needed).
    let unpair = format!("accounts({account})/accountleads_association({lead})/$ref");
    let resp = app.send(&half, "DELETE", &unpair, None).await;
    assert_eq!(resp.status(), 403);
    let resp = app.send(&full, "DELETE", &unpair, None).await;
    assert_eq!(resp.status(), 204);
    let records = app.records(&request_id(&resp)).await;
    let sentence = records.last().unwrap().sentence();
    assert!(sentence.starts_with("Full Agent "), "{sentence}");
    assert!(sentence.contains("account") && sentence.contains("lead"), "{sentence}");
}

#[tokio::test]
async fn binds_and_deep_inserts_through_n_to_n_need_full_use_on_both() {
    let app = spawn_app().await;
    let full = app.agent("Full Agent", &[("account", Level::Full), ("lead", Level::Full)], false).await;
    let half = app.agent("Accounts Agent", &[("account", Level::Full), ("lead", Level::Read)], false).await;
    let lead = app.first_id(&full, "leads", "leadid").await;
    let bind = json!({"name": "Bound", "accountleads_association@odata.bind": [format!("/leads({lead})")]}).to_string();
    let deep =
        json!({"name": "Deep", "accountleads_association": [{"lastname": "Nested", "subject": "x"}]}).to_string();
    for body in [&bind, &deep] {
        let before = app.upstream_requests();
        let resp = app.send(&half, "POST", "accounts", Some(body)).await;
        assert_eq!(resp.status(), 403, "{body}");
        assert_eq!(app.upstream_requests(), before, "{body}");
        let resp = app.send(&full, "POST", "accounts", Some(body)).await;
        assert_eq!(resp.status(), 204, "{body}");
    }
}

#[tokio::test]
async fn hidden_columns_are_dropped_from_n_to_n_expansions() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full), ("lead", Level::Full)], false).await;
    app.store
        .set_column_hidden(&Actor::Cli("cli:t@h".into()), "Sales Ops Agent", "lead", "leads", "emailaddress1", true)
        .await
        .unwrap();
    let lead = app.first_id(&key, "leads", "leadid").await;
    let account = app.first_id(&key, "accounts", "accountid").await;
    let body = json!({"@odata.id": format!("leads({lead})")}).to_string();
    let resp = app.send(&key, "POST", &format!("accounts({account})/accountleads_association/$ref"), Some(&body)).await;
    assert_eq!(resp.status(), 204);
    let resp = app.send(&key, "GET", &format!("accounts({account})?$expand=accountleads_association"), None).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    let related = &v["accountleads_association"][0];
    assert!(related.get("leadid").is_some(), "{v}");
    assert!(related.get("emailaddress1").is_none(), "hidden column leaked: {v}");
    // Naming it is refused.
    let named = format!("accounts({account})?$expand=accountleads_association($select=emailaddress1)");
    let resp = app.send(&key, "GET", &named, None).await;
    assert_eq!(reason(&resp).as_deref(), Some("hidden_column"));
}
