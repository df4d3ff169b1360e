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

/// Hidden columns of related tables are hidden through `$expand` at any depth, in navigation
/// filters, lambdas and query functions.
#[tokio::test]
async fn hidden_columns_of_related_tables() {
    let app = spawn_app().await;
    let key = app
        .agent(
            "Sales Ops Agent",
            &[("account", Level::Full), ("contact", Level::Read), ("systemuser", Level::Read)],
            false,
        )
        .await;
    hide(&app, "Sales Ops Agent", "contact", "contacts", "emailaddress1").await;
    hide(&app, "Sales Ops Agent", "systemuser", "systemusers", "internalemailaddress").await;
    hide(&app, "Sales Ops Agent", "account", "accounts", "createdon").await;
    for path in [
        "accounts?$expand=primarycontactid($select=emailaddress1)",
        "accounts?$expand=contact_customer_accounts($filter=emailaddress1 ne null)",
        "accounts?$expand=primarycontactid($expand=createdby($select=internalemailaddress))",
        "accounts?$filter=primarycontactid/emailaddress1 eq 'x'",
        "accounts?$filter=contact_customer_accounts/any(c:c/emailaddress1 eq 'x')",
        "accounts?$filter=Microsoft.Dynamics.CRM.Today(PropertyName='createdon')",
        "accounts?$filter=@p eq 'x'&@p=primarycontactid/emailaddress1",
        "contacts(emailaddress1='someone@example.com')",
        "accounts?$orderby=primarycontactid/emailaddress1 desc",
        "accounts?$expand=contact_customer_accounts($orderby=createdby/internalemailaddress)",
    ] {
        let before = app.upstream_requests();
        let resp = app.send(&key, "GET", path, None).await;
        assert_eq!((resp.status().as_u16(), reason(&resp).as_deref()), (403, Some("hidden_column")), "{path}");
        assert_eq!(app.upstream_requests(), before, "{path}");
    }
}

/// Metadata answers leave out hidden columns and tables the agent cannot read (design §4).
#[tokio::test]
async fn metadata_reads_are_filtered() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Read)], false).await;
    hide(&app, "Sales Ops Agent", "account", "accounts", "industrycode").await;
    let path = "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)";
    let body: serde_json::Value = app.send(&key, "GET", path, None).await.json().await.unwrap();
    let names: Vec<&str> =
        body["value"].as_array().unwrap().iter().map(|a| a["LogicalName"].as_str().unwrap()).collect();
    assert!(names.contains(&"accountcategorycode"), "{names:?}");
    assert!(!names.contains(&"industrycode"), "hidden column listed: {names:?}");
    let ok = app
        .send(
            &key,
            "GET",
            "EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute&$filter=LogicalName eq 'account'",
            None,
        )
        .await;
    let body: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(body["value"][0]["EntitySetName"], "accounts");
    let denied = app
        .send(&key, "GET", "EntityDefinitions?$select=LogicalName,EntitySetName&$filter=LogicalName eq 'lead'", None)
        .await;
    assert_eq!(denied.status(), 403);
    assert_eq!(reason(&denied).as_deref(), Some("table_off"));
    // A table this schema does not know: answered, filtered to nothing.
    let unknown =
        app.send(&key, "GET", "EntityDefinitions?$select=LogicalName&$filter=LogicalName eq 'new_project'", None).await;
    assert_eq!(unknown.status(), 200);
    let body: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(body["value"].as_array().unwrap().len(), 0);
}

/// Expanded rows lose hidden columns at every depth, with and without nested `$select`.
#[tokio::test]
async fn hidden_columns_are_dropped_from_expanded_rows() {
    let app = spawn_app().await;
    let key = app
        .agent(
            "Sales Ops Agent",
            &[("account", Level::Read), ("contact", Level::Read), ("systemuser", Level::Read)],
            false,
        )
        .await;
    hide(&app, "Sales Ops Agent", "contact", "contacts", "telephone1").await;
    hide(&app, "Sales Ops Agent", "systemuser", "systemusers", "domainname").await;
    hide(&app, "Sales Ops Agent", "account", "accounts", "revenue").await;
    let resp = app
        .send(&key, "GET", "contacts?$top=5&$expand=parentcustomerid_account($expand=createdby),createdby", None)
        .await;
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    let rows = body["value"].as_array().unwrap();
    assert!(!rows.is_empty());
    let mut expanded_accounts = 0;
    for row in rows {
        assert!(row.get("telephone1").is_none(), "{row}");
        assert!(row["createdby"].get("domainname").is_none(), "{row}");
        assert!(row["createdby"].get("fullname").is_some(), "{row}");
        if let Some(account) = row["parentcustomerid_account"].as_object() {
            expanded_accounts += 1;
            assert!(!account.contains_key("revenue") && !account.contains_key("revenue_base"), "{row}");
            assert!(account.contains_key("name"), "{row}");
            let creator = account["createdby"].as_object().unwrap();
            assert!(!creator.contains_key("domainname"), "{row}");
        }
    }
    assert!(expanded_accounts > 0, "no contact with a parent account in the sample");
}

/// Binds name columns too: the lookup written and the alternate key of the row referenced.
#[tokio::test]
async fn hidden_columns_in_binds_are_refused() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full), ("contact", Level::Read)], false).await;
    hide(&app, "Sales Ops Agent", "contact", "contacts", "emailaddress1").await;
    hide(&app, "Sales Ops Agent", "account", "accounts", "parentaccountid").await;
    for body in [
        r#"{"name":"a","primarycontactid@odata.bind":"/contacts(emailaddress1='a@b.c')"}"#,
        r#"{"name":"a","parentaccountid@odata.bind":"/accounts(00000000-0000-0000-0000-000000000001)"}"#,
    ] {
        let before = app.upstream_requests();
        let resp = app.send(&key, "POST", "accounts", Some(body)).await;
        assert_eq!((resp.status().as_u16(), reason(&resp).as_deref()), (403, Some("hidden_column")), "{body}");
        assert_eq!(app.upstream_requests(), before, "{body}");
    }
}

/// A write's returned row with `$expand` is a read of the expanded tables: refused without Read
/// on them, and hidden columns are dropped from the expanded rows.
#[tokio::test]
async fn representation_with_expand_is_a_read() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full), ("contact", Level::Full)], false).await;
    let accounts_only = app.agent("Accounts Only", &[("account", Level::Full)], false).await;
    hide(&app, "Sales Ops Agent", "contact", "contacts", "jobtitle").await;
    let rep = [("Prefer", "return=representation")];
    let body = r#"{"name":"Rep Co","primarycontactid":{"lastname":"Rep","jobtitle":"CEO"}}"#;
    let resp = app
        .send_with(
            &accounts_only,
            "POST",
            "accounts?$select=name&$expand=primarycontactid($select=lastname)",
            Some(r#"{"name":"x"}"#),
            &rep,
        )
        .await;
    assert_eq!((resp.status().as_u16(), reason(&resp).as_deref()), (403, Some("table_off")));
    // Naming the hidden column is refused; the deep-inserted contact sets it, so the body is refused too.
    let resp = app.send_with(&key, "POST", "accounts?$expand=primarycontactid", Some(body), &rep).await;
    assert_eq!((resp.status().as_u16(), reason(&resp).as_deref()), (403, Some("hidden_column")));
    let body = r#"{"name":"Rep Co","primarycontactid":{"lastname":"Rep"}}"#;
    let resp = app.send_with(&key, "POST", "accounts?$select=name&$expand=primarycontactid", Some(body), &rep).await;
    assert_eq!(resp.status(), 201);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["primarycontactid"]["lastname"], "Rep");
    assert!(v["primarycontactid"].get("jobtitle").is_none(), "hidden column dropped from the expanded row: {v}");
}
