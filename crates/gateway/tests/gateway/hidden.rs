//! Hidden columns (design §4): refused when named in any form, dropped silently from responses
//! with and without `$select`, and never forwarded.

use crate::app::{reason, spawn_app};
use policy::Level;
use store::Actor;

async fn hide(app: &crate::app::App, agent: &str, table: &str, set: &str, column: &str) {
    app.store.set_column_hidden(&Actor::Cli("cli:t@h".into()), agent, table, set, column, true).await.unwrap();
}

#[tokio::test]
async fn hidden_columns_are_refused_when_named_and_dropped_otherwise() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full)], false).await;
    hide(&app, "Sales Ops Agent", "account", "accounts", "revenue").await;
    hide(&app, "Sales Ops Agent", "account", "accounts", "accountnumber").await;
    hide(&app, "Sales Ops Agent", "account", "accounts", "primarycontactid").await;
    let id = app.first_id(&key, "accounts", "accountid").await;
    let named: Vec<(&str, String, Option<&str>)> = vec![
        ("GET", "accounts?$select=name,revenue".into(), None),
        ("GET", "accounts?$select=revenue_base".into(), None),
        ("GET", "accounts?$filter=revenue gt 0".into(), None),
        ("GET", "accounts?$orderby=revenue desc".into(), None),
        ("GET", "accounts?$select=_primarycontactid_value".into(), None),
        ("GET", "accounts/$count?$filter=_primarycontactid_value ne null".into(), None),
        ("GET", format!("accounts({id})?$select=revenue"), None),
        ("GET", "accounts(accountnumber='A-1')".into(), None),
        ("PATCH", "accounts(accountnumber='A-1')".into(), Some(r#"{"name":"x"}"#)),
        ("POST", "accounts".into(), Some(r#"{"name":"x","revenue":5}"#)),
        ("PATCH", format!("accounts({id})"), Some(r#"{"revenue":5}"#)),
    ];
    for (method, path, body) in named {
        let before = app.upstream_requests();
        let resp = app.send_with(&key, method, &path, body, &[("If-Match", "*")]).await;
        assert_eq!(resp.status(), 403, "{method} {path}");
        assert_eq!(reason(&resp).as_deref(), Some("hidden_column"), "{method} {path}");
        let body: serde_json::Value = resp.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("is hidden for this agent"), "{message}");
        assert_eq!(app.upstream_requests(), before, "{method} {path} forwarded");
    }
    // Without $select every column comes back, except the hidden ones in every form.
    let rows: serde_json::Value = app.send(&key, "GET", "accounts?$top=5", None).await.json().await.unwrap();
    let rows = rows["value"].as_array().unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        let o = row.as_object().unwrap();
        assert!(o.contains_key("name"), "{row}");
        for gone in ["revenue", "revenue_base", "accountnumber", "_primarycontactid_value"] {
            assert!(!o.keys().any(|k| k == gone || k.starts_with(&format!("{gone}@"))), "{gone} leaked: {row}");
        }
    }
    let row: serde_json::Value = app.send(&key, "GET", &format!("accounts({id})"), None).await.json().await.unwrap();
    assert!(row.get("revenue").is_none() && row.get("name").is_some(), "{row}");
    // return=representation is a read too: the created row comes back without hidden columns.
    let resp = app
        .send_with(&key, "POST", "accounts", Some(r#"{"name":"Shown Co"}"#), &[("Prefer", "return=representation")])
        .await;
    assert_eq!(resp.status(), 201);
    let created: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(created["name"], "Shown Co");
    assert!(created.get("revenue").is_none() && created.get("revenue_base").is_none(), "{created}");
    // Another agent without hidden columns still sees them.
    let other = app.agent("Other Agent", &[("account", Level::Read)], false).await;
    let row: serde_json::Value = app.send(&other, "GET", &format!("accounts({id})"), None).await.json().await.unwrap();
    assert!(row.get("revenue").is_some(), "{row}");
}
