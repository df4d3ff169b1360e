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
    ] {
        let before = app.upstream_requests();
        let resp = app.send(&key, "GET", path, None).await;
        assert_ne!(resp.status(), 403, "{path}");
        assert_eq!(app.upstream_requests(), before + 1, "{path} not forwarded");
    }
}
