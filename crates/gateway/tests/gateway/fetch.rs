//! FetchXML through the gateway (design §4): link-entities and their conditions are reads of
//! those tables; hidden columns are refused wherever named and dropped from `alias.column`.

use crate::app::{reason, request_id, spawn_app};
use policy::Level;
use serde_json::Value;
use store::Actor;

fn url(xml: &str) -> String {
    let encoded: String = xml
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    format!("accounts?fetchXml={encoded}")
}

#[tokio::test]
async fn fetchxml_is_checked_and_filtered_like_odata() {
    let app = spawn_app().await;
    let key = app.agent("Fetch Agent", &[("account", Level::Read), ("contact", Level::Read)], false).await;
    let actor = Actor::Cli("cli:t@h".into());
    app.store.set_column_hidden(&actor, "Fetch Agent", "account", "accounts", "revenue", true).await.unwrap();
    app.store.set_column_hidden(&actor, "Fetch Agent", "contact", "contacts", "emailaddress1", true).await.unwrap();

    // Allowed: all-attributes on both sides, hidden columns dropped in both forms.
    let xml = "<fetch count='5'><entity name='account'><all-attributes/><link-entity name='contact' from='parentcustomerid' to='accountid' alias='c'><all-attributes/></link-entity></entity></fetch>";
    let resp = app.send(&key, "GET", &url(xml), None).await;
    assert_eq!(resp.status(), 200);
    let rid = request_id(&resp);
    let body: Value = resp.json().await.unwrap();
    let rows = body["value"].as_array().unwrap();
    assert!(!rows.is_empty(), "{body}");
    for row in rows {
        let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
        assert!(keys.iter().any(|k| k.starts_with("c.")), "{row}");
        for gone in ["revenue", "revenue_base", "c.emailaddress1"] {
            assert!(!keys.iter().any(|k| *k == gone || k.starts_with(&format!("{gone}@"))), "{gone} leaked: {row}");
        }
    }
    let sentence = app.records(&rid).await.last().unwrap().sentence();
    assert!(sentence.contains("with FetchXML"), "{sentence}");

    // Aggregates: the aliases come back, nothing else.
    let xml = "<fetch aggregate='true'><entity name='account'><attribute name='statecode' groupby='true' alias='state'/><attribute name='accountid' aggregate='count' alias='n'/></entity></fetch>";
    let resp = app.send(&key, "GET", &url(xml), None).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    for row in body["value"].as_array().unwrap() {
        let mut keys: Vec<&String> = row.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["n", "state"], "{row}");
    }

    // Refused before forwarding.
    let lead_key = app.agent("Account Only", &[("account", Level::Read)], false).await;
    for (key, xml, want) in [
        (&key, "<fetch><entity name='account'><attribute name='revenue'/></entity></fetch>", "hidden_column"),
        (
            &key,
            "<fetch aggregate='true'><entity name='account'><attribute name='revenue' aggregate='sum' alias='t'/></entity></fetch>",
            "hidden_column",
        ),
        (
            &key,
            "<fetch><entity name='account'><attribute name='name'/><filter><condition attribute='revenue' operator='gt' value='1'/></filter></entity></fetch>",
            "hidden_column",
        ),
        (
            &key,
            "<fetch><entity name='account'><attribute name='name'/><link-entity name='contact' from='contactid' to='primarycontactid' link-type='exists'><filter><condition attribute='emailaddress1' operator='not-null'/></filter></link-entity></entity></fetch>",
            "hidden_column",
        ),
        (
            &lead_key,
            "<fetch><entity name='account'><attribute name='name'/><link-entity name='contact' from='contactid' to='primarycontactid' link-type='exists'/></entity></fetch>",
            "table_off",
        ),
    ] {
        let before = app.upstream_requests();
        let resp = app.send(key, "GET", &url(xml), None).await;
        assert_eq!(resp.status(), 403, "{xml}");
        assert_eq!(reason(&resp).as_deref(), Some(want), "{xml}");
        assert_eq!(app.upstream_requests(), before, "{xml} was forwarded");
    }
}
