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

/// `EntityDefinitions`, `Attributes`, `RelationshipDefinitions`: lists filtered silently, keyed
/// reads of what the agent cannot see refused before forwarding (by name) or after (by id).
#[tokio::test]
async fn definitions_are_filtered_to_what_the_agent_may_see() {
    use serde_json::Value;
    let app = spawn_app().await;
    let key = app.agent("Definitions Agent", &[("account", Level::Read), ("contact", Level::Read)], false).await;
    app.store
        .set_column_hidden(
            &Actor::Cli("cli:t@h".into()),
            "Definitions Agent",
            "account",
            "accounts",
            "primarycontactid",
            true,
        )
        .await
        .unwrap();
    let get = |path: &'static str| {
        let app = &app;
        let key = key.clone();
        async move {
            let resp = app.send(&key, "GET", path, None).await;
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap();
            (status, body)
        }
    };
    let names = |body: &Value, field: &str| -> Vec<String> {
        body["value"].as_array().unwrap().iter().map(|v| v[field].as_str().unwrap_or_default().to_owned()).collect()
    };

    let (status, body) = get("EntityDefinitions?$select=LogicalName").await;
    assert_eq!(status, 200);
    assert_eq!(names(&body, "LogicalName"), ["account", "contact"]);

    let (_, body) = get("EntityDefinitions(LogicalName='account')?$select=LogicalName&$expand=Attributes($select=LogicalName,Targets),ManyToOneRelationships($select=SchemaName,ReferencingAttribute,RelationshipType,ReferencedEntity,ReferencingEntity)").await;
    let attributes: Vec<&str> =
        body["Attributes"].as_array().unwrap().iter().map(|a| a["LogicalName"].as_str().unwrap()).collect();
    assert!(attributes.contains(&"name") && !attributes.contains(&"primarycontactid"), "{attributes:?}");
    let owner = body["Attributes"].as_array().unwrap().iter().find(|a| a["LogicalName"] == "ownerid").unwrap();
    assert_eq!(owner["Targets"], serde_json::json!([]), "systemuser and team are not readable");
    let rels: Vec<&str> =
        body["ManyToOneRelationships"].as_array().unwrap().iter().map(|r| r["SchemaName"].as_str().unwrap()).collect();
    assert!(!rels.contains(&"account_primary_contact"), "through the hidden lookup: {rels:?}");
    assert!(rels.iter().all(|r| !r.contains("systemuser")), "{rels:?}");

    let (_, body) = get("RelationshipDefinitions/Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata?$select=SchemaName,RelationshipType,ReferencedEntity,ReferencingEntity,ReferencingAttribute").await;
    let rels = names(&body, "SchemaName");
    assert!(rels.contains(&"contact_customer_accounts".to_owned()), "{rels:?}");
    assert!(
        !rels.contains(&"account_primary_contact".to_owned()) && !rels.iter().any(|r| r.starts_with("lead")),
        "{rels:?}"
    );

    // Keyed by name: refused before forwarding.
    for path in [
        "EntityDefinitions(LogicalName='lead')",
        "EntityDefinitions(LogicalName='account')/Attributes(LogicalName='primarycontactid')",
    ] {
        let before = app.upstream_requests();
        let resp = app.send(&key, "GET", path, None).await;
        assert_eq!(resp.status(), 403, "{path}");
        assert_eq!(app.upstream_requests(), before, "{path}");
    }
    // Keyed by id: refused after the answer names an unreadable table.
    let lead_id = {
        let full = app.agent("Everything Agent", &[("lead", Level::Read)], false).await;
        let resp = app.send(&full, "GET", "EntityDefinitions?$select=LogicalName", None).await;
        let body: Value = resp.json().await.unwrap();
        body["value"][0]["MetadataId"].as_str().unwrap().to_owned()
    };
    let resp = app.send(&key, "GET", &format!("EntityDefinitions({lead_id})"), None).await;
    assert_eq!(resp.status(), 403);
    let rid = request_id(&resp);
    let records = app.records(&rid).await;
    assert!(records.last().unwrap().sentence().contains("denied"), "{}", records.last().unwrap().sentence());
    // Global option sets: none shown.
    let (status, body) = get("GlobalOptionSetDefinitions").await;
    assert_eq!((status, body["value"].as_array().unwrap().len()), (200, 0));
}
