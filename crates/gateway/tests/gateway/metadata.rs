//! `$metadata` through the gateway (design §4): the upstream's CSDL document filtered
//! structurally to what the agent may see, and still a document our own reader reads.

use crate::app::{request_id, spawn_app};
use policy::Level;
use store::Actor;

#[tokio::test]
async fn metadata_shows_only_readable_tables_and_visible_columns() {
    let app = spawn_app().await;
    let key = app.agent("Catalog Agent", &[("account", Level::Read), ("contact", Level::Full)], false).await;
    for column in ["revenue", "primarycontactid"] {
        app.store
            .set_column_hidden(&Actor::Cli("cli:t@h".into()), "Catalog Agent", "account", "accounts", column, true)
            .await
            .unwrap();
    }
    let resp = app.send_with(&key, "GET", "$metadata", None, &[("Accept", "application/xml")]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/xml");
    let rid = request_id(&resp);
    let text = resp.text().await.unwrap();
    let schema = dataverse::csdl::read(&text).expect("the filtered document reads back");
    let tables: Vec<&str> = schema.tables().iter().map(|t| t.logical_name.as_str()).collect();
    assert_eq!(tables, ["account", "contact"]);
    let account = schema.table("account").unwrap();
    for gone in ["revenue", "revenue_base", "primarycontactid"] {
        assert!(account.column(gone).is_none(), "{gone} visible");
    }
    assert!(account.column("name").is_some());
    assert!(!text.contains("account_primary_contact"), "the navigation through the hidden lookup is gone");
    assert!(text.contains(r#"NavigationProperty Name="contact_customer_accounts""#));
    assert!(!text.contains("systemuser"), "no trace of a table the agent cannot read");
    let records = app.records(&rid).await;
    assert!(records.last().unwrap().sentence().contains("read the metadata document"));

    // An agent with no tables sees an empty model that still reads.
    let none = app.agent("Nothing Agent", &[], false).await;
    let text = app.send(&none, "GET", "$metadata", None).await.text().await.unwrap();
    assert!(dataverse::csdl::read(&text).unwrap().tables().is_empty());
    assert!(text.contains(r#"FunctionImport Name="WhoAmI""#));
}
