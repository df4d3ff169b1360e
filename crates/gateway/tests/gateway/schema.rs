//! A real org's schema (issue: "a real org's schema"): the gateway learns the upstream's tables
//! from its `$metadata`, `EntityDefinitions` and relationships, custom tables included; caches
//! them on disk; and a request naming something unknown triggers one refresh, then is refused.

use crate::app::{reason, spawn_learning, spawn_learning_from_cache};
use dataverse::Schema;
use dataverse::metadata::{Column, ColumnType, Ownership, Relationship, RequiredLevel, Table};
use policy::Level;

/// The standard tables plus `new_project` (a custom table with a lookup to account), as a real
/// org declares its own.
fn with_custom_table() -> Schema {
    let standard = Schema::standard();
    let col = |name: &str, kind: ColumnType| Column {
        logical_name: name.into(),
        kind,
        required: RequiredLevel::None,
        valid_for_create: true,
        valid_for_update: true,
    };
    let mut columns = vec![
        col("new_projectid", ColumnType::Uniqueidentifier),
        col("new_name", ColumnType::String { max_length: 200 }),
        col("new_budget", ColumnType::Decimal),
        col("new_accountid", ColumnType::Lookup { targets: vec!["account".into()] }),
    ];
    let account = standard.table("account").unwrap();
    for system in ["createdon", "modifiedon", "createdby", "modifiedby", "versionnumber"] {
        columns.push(account.column(system).unwrap().clone());
    }
    let project = Table {
        logical_name: "new_project".into(),
        set_name: "new_projects".into(),
        schema_name: "new_Project".into(),
        display_name: "Project".into(),
        display_collection_name: "Projects".into(),
        primary_id: "new_projectid".into(),
        primary_name: "new_name".into(),
        object_type_code: 10_001,
        ownership: Ownership::OrganizationOwned,
        columns,
        keys: Vec::new(),
        index: Default::default(),
    };
    let mut tables = standard.tables().to_vec();
    tables.push(project);
    let mut relationships = standard.relationships().to_vec();
    relationships.push(Relationship {
        schema_name: "new_account_new_project".into(),
        referencing_table: "new_project".into(),
        referencing_column: "new_accountid".into(),
        referenced_table: "account".into(),
        referencing_nav: "new_accountid".into(),
    });
    Schema::with_many_to_many(tables, relationships, standard.many_to_many().to_vec()).unwrap()
}

#[tokio::test]
async fn a_custom_table_is_learned_cached_and_governed_like_any_other() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("schema-cache.json");
    let app = spawn_learning(Some(with_custom_table()), cache.clone()).await;
    let key = app.agent("Project Agent", &[("new_project", Level::Full), ("account", Level::Read)], false).await;
    let account = app.first_id(&key, "accounts", "accountid").await;
    // Learned on the first request: a create with a bind to account, then a query through it.
    let body =
        format!(r#"{{"new_name":"Apollo","new_budget":1250.5,"new_accountid@odata.bind":"/accounts({account})"}}"#);
    let resp = app.send(&key, "POST", "new_projects", Some(&body)).await;
    assert_eq!(resp.status(), 204, "{}", resp.text().await.unwrap());
    let resp = app
        .send(
            &key,
            "GET",
            "new_projects?$select=new_name&$filter=new_accountid/name ne null&$expand=new_accountid($select=name)",
            None,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let rows: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(rows["value"][0]["new_name"], "Apollo");
    assert!(rows["value"][0]["new_accountid"]["name"].is_string(), "{rows}");
    // The schema is cached on disk, with what CSDL alone cannot say.
    let cached = gateway::schema_source::CachedSchema::load(&cache).unwrap().expect("a cache file");
    let learned = cached.schema().unwrap();
    let project = learned.table("new_project").unwrap();
    assert_eq!((project.primary_name.as_str(), project.display_name.as_str()), ("new_name", "Project"));
    assert_eq!(
        learned.table("account").unwrap().keys[0].columns,
        ["accountnumber"],
        "alternate keys come from EntityDefinitions"
    );
    assert!(learned.many_to_many().iter().any(|m| m.schema_name == "accountleads_association"));
    assert!(learned.table("accountleads").is_none(), "intersect tables are not tables");
    // Governed like any other table: Off for another agent.
    let other = app.agent("Account Agent", &[("account", Level::Read)], false).await;
    let resp = app.send(&other, "GET", "new_projects", None).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(reason(&resp).as_deref(), Some("table_off"));
}

#[tokio::test]
async fn an_unknown_name_triggers_one_refresh_then_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("schema-cache.json");
    // A cache learned from an org with only the standard tables.
    {
        let standard = spawn_learning(None, cache.clone()).await;
        let key = standard.agent("A", &[("account", Level::Read)], false).await;
        assert_eq!(standard.send(&key, "GET", "accounts?$top=1", None).await.status(), 200);
    }
    let stale = gateway::schema_source::CachedSchema::load(&cache).unwrap().unwrap();
    let app = spawn_learning_from_cache(Some(with_custom_table()), dir.path().join("org.json"), stale).await;
    assert!(app.gateway.schema().now().unwrap().table("new_project").is_none(), "started from the stale cache");
    let key = app.agent("Project Agent", &[("new_project", Level::Read)], false).await;
    let before = app.upstream_requests();
    let resp = app.send(&key, "GET", "new_projects?$select=new_name", None).await;
    assert_eq!(resp.status(), 200, "the unknown set made the gateway learn the org's tables again");
    assert_eq!(app.upstream_requests() - before, 4, "$metadata, EntityDefinitions, relationships, then the query");

    // Within the minute, another unknown name refreshes nothing and is refused.
    let before = app.upstream_requests();
    let resp = app.send(&key, "GET", "new_projects?$select=new_nosuch", None).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(app.upstream_requests(), before, "no second refresh within the minute");

    // On a gateway that learned at start: a column nobody has causes one refresh, then the
    // refusal; the next one none.
    let fresh = spawn_learning(Some(with_custom_table()), dir.path().join("fresh.json")).await;
    let key = fresh.agent("Project Agent", &[("new_project", Level::Read)], false).await;
    assert_eq!(fresh.send(&key, "GET", "new_projects?$top=1", None).await.status(), 200);
    for reads in [3, 0] {
        let before = fresh.upstream_requests();
        let resp = fresh.send(&key, "GET", "new_projects?$select=new_nosuch", None).await;
        assert_eq!(resp.status(), 400);
        let body = resp.text().await.unwrap();
        assert!(body.contains("new_nosuch"), "{body}");
        assert_eq!(fresh.upstream_requests() - before, reads);
    }
}
