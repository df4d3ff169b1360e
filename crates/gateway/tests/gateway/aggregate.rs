//! `$apply` through the gateway (design §4): every grouped or aggregated column is a read of
//! its table and refused when hidden, keys through navigation read the related table, group
//! rows carry only what was asked for, and the audit sentence says what was aggregated.

use crate::app::{reason, request_id, spawn_app};
use policy::Level;
use serde_json::Value;
use store::Actor;

const ANNOTATIONS: (&str, &str) = ("Prefer", "odata.include-annotations=\"*\"");

#[tokio::test]
async fn aggregations_are_reads_of_every_table_and_column_they_name() {
    let app = spawn_app().await;
    let key = app.agent("Reporting Agent", &[("account", Level::Read)], false).await;
    app.store
        .set_column_hidden(&Actor::Cli("cli:t@h".into()), "Reporting Agent", "account", "accounts", "creditlimit", true)
        .await
        .unwrap();

    // Allowed: the groups come back, and the audit sentence says what was aggregated.
    let resp = app
        .send(
            &key,
            "GET",
            "accounts?$apply=groupby((statuscode),aggregate($count as n,revenue with sum as total))",
            None,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let rid = request_id(&resp);
    let body: Value = resp.json().await.unwrap();
    let groups = body["value"].as_array().unwrap();
    assert!(!groups.is_empty(), "{body}");
    let counted: i64 = groups.iter().map(|g| g["n"].as_i64().unwrap()).sum();
    assert!(counted > 0);
    for g in groups {
        let names: Vec<&String> = g.as_object().unwrap().keys().collect();
        assert!(names.iter().all(|k| ["statuscode", "n", "total"].contains(&k.as_str())), "{g}");
    }
    let records = app.records(&rid).await;
    let sentence = records.last().unwrap().sentence();
    assert!(
        sentence.starts_with(&format!(
            "Reporting Agent aggregated accounts (statuscode, revenue) into {} group",
            groups.len()
        )),
        "{sentence}"
    );

    // Refused before anything is forwarded: a hidden column grouped or aggregated, a key or a
    // filter reaching a table the agent cannot read.
    for (path, want) in [
        ("accounts?$apply=aggregate(creditlimit with max as m)", "hidden_column"),
        ("accounts?$apply=groupby((creditlimit))", "hidden_column"),
        ("accounts?$apply=filter(creditlimit gt 0)/aggregate($count as n)", "hidden_column"),
        ("accounts?$apply=groupby((primarycontactid/fullname))", "table_off"),
        ("accounts?$apply=filter(primarycontactid/fullname eq 'x')/aggregate($count as n)", "table_off"),
        ("leads?$apply=aggregate($count as n)", "table_off"),
    ] {
        let before = app.upstream_requests();
        let resp = app.send(&key, "GET", path, None).await;
        assert_eq!(resp.status(), 403, "{path}");
        assert_eq!(reason(&resp).as_deref(), Some(want), "{path}");
        assert_eq!(app.upstream_requests(), before, "{path} was forwarded");
    }

    // Grouping by a lookup's id needs no read of the related table, but the related row's name
    // (its formatted value) is dropped unless the agent can read that table.
    let contacts_only = app.agent("Contact Counter", &[("contact", Level::Read)], false).await;
    let both = app.agent("Contact Reporter", &[("account", Level::Read), ("contact", Level::Read)], false).await;
    let path = "contacts?$apply=groupby((_parentcustomerid_value),aggregate($count as n))";
    for (key, named) in [(&contacts_only, false), (&both, true)] {
        let resp = app.send_with(key, "GET", path, None, &[ANNOTATIONS]).await;
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        let group = body["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g.get("_parentcustomerid_value").is_some())
            .unwrap_or_else(|| panic!("{body}"));
        let name = group.get("_parentcustomerid_value@OData.Community.Display.V1.FormattedValue");
        assert_eq!(name.is_some(), named, "{group}");
    }

    // With Read on accounts a key through the navigation property is allowed too.
    let resp = app
        .send(&both, "GET", "contacts?$apply=groupby((parentcustomerid_account/name),aggregate($count as n))", None)
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(body["value"].as_array().unwrap().iter().any(|g| g["account_name"].is_string()), "{body}");
    let resp = app.send(&contacts_only, "GET", "contacts?$apply=groupby((parentcustomerid_account/name))", None).await;
    assert_eq!(resp.status(), 403);
}

/// `sql=` is classified like its OData twin: hidden columns and unreadable tables refused.
#[tokio::test]
async fn sql_is_checked_like_odata() {
    let app = spawn_app().await;
    let key = app.agent("SQL Agent", &[("account", Level::Read)], false).await;
    app.store
        .set_column_hidden(&Actor::Cli("cli:t@h".into()), "SQL Agent", "account", "accounts", "revenue", true)
        .await
        .unwrap();
    let resp = app
        .send(&key, "GET", "accounts?sql=SELECT%20name%20FROM%20account%20WHERE%20name%20LIKE%20%27%25a%25%27", None)
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(!body["value"].as_array().unwrap().is_empty(), "{body}");
    for path in [
        "accounts?sql=SELECT%20name%20FROM%20account%20WHERE%20revenue%20%3E%200",
        "accounts?sql=SELECT%20SUM(revenue)%20AS%20t%20FROM%20account",
    ] {
        let before = app.upstream_requests();
        let resp = app.send(&key, "GET", path, None).await;
        assert_eq!(resp.status(), 403, "{path}");
        assert_eq!(reason(&resp).as_deref(), Some("hidden_column"), "{path}");
        assert_eq!(app.upstream_requests(), before);
    }
    let resp = app.send(&key, "GET", "contacts?sql=SELECT%20fullname%20FROM%20contact", None).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(reason(&resp).as_deref(), Some("table_off"));
    let resp = app.send(&key, "GET", "accounts?sql=DELETE%20FROM%20account", None).await;
    assert_eq!(resp.status(), 400);
    // A JOIN reads the joined table: refused without Read on contacts.
    let join = "accounts?sql=SELECT%20a.name%2C%20c.fullname%20FROM%20account%20a%20JOIN%20contact%20c%20ON%20a.primarycontactid%20%3D%20c.contactid";
    let before = app.upstream_requests();
    let resp = app.send(&key, "GET", join, None).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(reason(&resp).as_deref(), Some("table_off"));
    assert_eq!(app.upstream_requests(), before);
}
