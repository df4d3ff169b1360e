//! Reads through other tables at the gateway: `$expand`, navigation paths and lambdas in
//! `$filter` need Read on every table they reach; hidden columns are hidden at every depth.

use crate::app::{reason, spawn_app};
use policy::Level;

#[tokio::test]
async fn reads_through_denied_tables_are_refused() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full)], false).await;
    let id = app.first_id(&key, "accounts", "accountid").await;
    for path in [
        "accounts?$expand=primarycontactid($select=fullname)".to_owned(),
        "accounts?$expand=primarycontactid/$ref".to_owned(),
        "accounts?$expand=contact_customer_accounts($select=fullname)".to_owned(),
        format!("accounts({id})?$expand=opportunity_customer_accounts"),
        "accounts?$filter=primarycontactid/fullname eq 'x'".to_owned(),
        "accounts?$filter=contact_customer_accounts/any(c:c/jobtitle eq 'x')".to_owned(),
        "accounts?$filter=contact_customer_accounts/any()".to_owned(),
        "accounts?$expand=parentaccountid($expand=primarycontactid($select=fullname))".to_owned(),
        "accounts?$orderby=primarycontactid/fullname".to_owned(),
        "accounts?$orderby=parentaccountid/primarycontactid/fullname desc,name".to_owned(),
        // Ordering by a lookup sorts by the related row's name: a read of contact.
        "accounts?$orderby=_primarycontactid_value".to_owned(),
        "accounts?$expand=parentaccountid&$orderby=@o&@o=primarycontactid/fullname".to_owned(),
    ] {
        let before = app.upstream_requests();
        let resp = app.send(&key, "GET", &path, None).await;
        assert_eq!(resp.status(), 403, "{path}");
        assert_eq!(reason(&resp).as_deref(), Some("table_off"), "{path}");
        assert_eq!(app.upstream_requests(), before, "{path}");
    }
}

#[tokio::test]
async fn reads_through_readable_tables_are_forwarded() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full), ("contact", Level::Read)], false).await;
    for path in [
        "accounts?$select=name&$expand=primarycontactid($select=fullname)",
        "accounts?$filter=contact_customer_accounts/any(c:c/jobtitle ne null)",
        "accounts?$select=name&$orderby=primarycontactid/fullname desc,name",
        "accounts?$select=name&$orderby=_primarycontactid_value",
    ] {
        let before = app.upstream_requests();
        let resp = app.send(&key, "GET", path, None).await;
        assert_ne!(resp.status(), 403, "{path}");
        assert_eq!(app.upstream_requests(), before + 1, "{path} not forwarded");
    }
}

/// Navigation and property segments in the resource path (spec §2.5), through the gateway.
#[tokio::test]
async fn path_navigation_and_properties() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full), ("contact", Level::Read)], false).await;
    let off = app.agent("Accounts Only", &[("account", Level::Read)], false).await;
    // An account with contacts pointing at it.
    let accounts: serde_json::Value = app
        .send(&key, "GET", "accounts?$select=name&$expand=contact_customer_accounts($select=fullname)&$top=25", None)
        .await
        .json()
        .await
        .unwrap();
    let row = accounts["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| !r["contact_customer_accounts"].as_array().unwrap().is_empty())
        .expect("a seeded account with contacts");
    let id = row["accountid"].as_str().unwrap();
    let contacts = row["contact_customer_accounts"].as_array().unwrap().len();

    let name: serde_json::Value =
        app.send(&key, "GET", &format!("accounts({id})/name"), None).await.json().await.unwrap();
    assert_eq!(name["value"], row["name"]);
    let raw = app.send(&key, "GET", &format!("accounts({id})/name/$value"), None).await.text().await.unwrap();
    assert_eq!(raw, row["name"].as_str().unwrap());
    let related: serde_json::Value = app
        .send(&key, "GET", &format!("accounts({id})/contact_customer_accounts?$select=fullname"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(related["value"].as_array().unwrap().len(), contacts, "{related}");
    let count = app
        .send(&key, "GET", &format!("accounts({id})/contact_customer_accounts/$count"), None)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(count.trim_start_matches('\u{feff}'), contacts.to_string());
    let refs: serde_json::Value = app
        .send(&key, "GET", &format!("accounts({id})/contact_customer_accounts/$ref"), None)
        .await
        .json()
        .await
        .unwrap();
    let first = refs["value"][0]["@odata.id"].as_str().unwrap();
    assert!(first.starts_with(&app.api("contacts(")), "{first}");
    // One related row by its key in the path.
    let contact = first.rsplit_once('(').unwrap().1.trim_end_matches(')').to_owned();
    let member = app
        .send(&key, "GET", &format!("accounts({id})/contact_customer_accounts({contact})?$select=fullname"), None)
        .await;
    assert_eq!(member.status(), 200);
    let member: serde_json::Value = member.json().await.unwrap();
    assert_eq!(member["contactid"], contact.as_str());
    assert!(member["@odata.context"].as_str().unwrap().starts_with(&app.api("$metadata#contacts(")), "{member}");
    // Reading through the path needs Read on the related table.
    for path in [
        format!("accounts({id})/contact_customer_accounts"),
        format!("accounts({id})/primarycontactid"),
        format!("accounts({id})/contact_customer_accounts({contact})"),
    ] {
        let before = app.upstream_requests();
        let resp = app.send(&off, "GET", &path, None).await;
        assert_eq!(resp.status(), 403, "{path}");
        assert_eq!(reason(&resp).as_deref(), Some("table_off"));
        assert_eq!(app.upstream_requests(), before);
    }
}

/// Binds through the gateway (design §4 "Relationships"): the bound row's table needs Read, the
/// table holding the lookup Full use; an allowed bind is forwarded and lands upstream.
#[tokio::test]
async fn binds_are_authorized_by_the_tables_they_touch() {
    let app = spawn_app().await;
    let full = app.agent("Sales Ops Agent", &[("account", Level::Full), ("contact", Level::Read)], false).await;
    let accounts_only = app.agent("Accounts Only", &[("account", Level::Full)], false).await;
    let contact = app.first_id(&full, "contacts", "contactid").await;
    let body = format!(r#"{{"name":"Bound Co","primarycontactid@odata.bind":"/contacts({contact})"}}"#);
    // Without Read on contacts the bind is refused and nothing is forwarded.
    let before = app.upstream_requests();
    let resp = app.send(&accounts_only, "POST", "accounts", Some(&body)).await;
    assert_eq!((resp.status().as_u16(), reason(&resp).as_deref()), (403, Some("table_off")));
    assert_eq!(app.upstream_requests(), before);
    // With it, the row is created with its lookup set; the absolute form naming the gateway
    // itself is accepted too.
    let absolute = format!(
        r#"{{"name":"Bound Co 2","primarycontactid@odata.bind":"{}"}}"#,
        app.api(&format!("contacts({contact})"))
    );
    for body in [body, absolute] {
        let resp = app.send(&full, "POST", "accounts", Some(&body)).await;
        assert_eq!(resp.status(), 204, "{body}");
        let entity = resp.headers()["odata-entityid"].to_str().unwrap().to_owned();
        let id = entity.rsplit_once('(').unwrap().1.trim_end_matches(')').to_owned();
        let row: serde_json::Value = app
            .send(&full, "GET", &format!("accounts({id})?$select=_primarycontactid_value"), None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(row["_primarycontactid_value"], contact.as_str());
    }
}
