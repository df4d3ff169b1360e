//! Catalog actions at the gateway (design §4): an action needs the grant of its name and the
//! levels it lists; a data function only the levels. Nothing is forwarded on a refusal.

use crate::app::{reason, spawn_app};
use policy::Level;
use store::Actor;

fn win(id: &str) -> String {
    format!(
        r#"{{"Status":3,"OpportunityClose":{{"subject":"Won","opportunityid@odata.bind":"/opportunities({id})"}}}}"#
    )
}

#[tokio::test]
async fn an_action_needs_its_grant_and_its_levels() {
    let app = spawn_app().await;
    let admin = app.agent("Admin", &[("opportunity", Level::Full), ("account", Level::Full)], false).await;
    let closer = app.agent("Closer", &[("opportunity", Level::Full)], false).await;
    let reader = app.agent("Reader", &[("opportunity", Level::Read)], false).await;
    let id = app.first_id(&admin, "opportunities", "opportunityid").await;
    let actor = Actor::Cli("cli:test@localhost".into());

    // Full use without the grant: refused, nothing forwarded.
    let before = app.upstream_requests();
    let resp = app.send(&closer, "POST", "WinOpportunity", Some(&win(&id))).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(reason(&resp).as_deref(), Some("action_not_granted"));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "Stanchion denied this request for Closer: the action WinOpportunity is not granted to this agent."
    );
    // The grant without Full use: refused for the level.
    app.store.set_action_allowed(&actor, "Reader", "WinOpportunity", true).await.unwrap();
    let resp = app.send(&reader, "POST", "WinOpportunity", Some(&win(&id))).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(reason(&resp).as_deref(), Some("table_read_only"));
    assert_eq!(app.upstream_requests(), before, "no refusal reached the org");

    // Both: forwarded and executed.
    app.store.set_action_allowed(&actor, "Closer", "WinOpportunity", true).await.unwrap();
    let resp = app.send(&closer, "POST", "WinOpportunity", Some(&win(&id))).await;
    assert_eq!(resp.status(), 204, "{:?}", resp.text().await);
    let row: serde_json::Value =
        app.send(&closer, "GET", &format!("opportunities({id})?$select=statecode"), None).await.json().await.unwrap();
    assert_eq!(row["statecode"], 1);
    // The grant is withdrawn on the next request.
    assert!(app.store.set_action_allowed(&actor, "Closer", "WinOpportunity", false).await.unwrap());
    let resp = app.send(&closer, "POST", "LoseOpportunity", Some(&win(&id))).await;
    assert_eq!(reason(&resp).as_deref(), Some("action_not_granted"));

    // A data function needs only the levels: counts of tables it can read.
    let resp = app.send(&reader, "GET", "RetrieveTotalRecordCount(EntityNames=['opportunity'])", None).await;
    assert_eq!(resp.status(), 200);
    let resp = app.send(&reader, "GET", "RetrieveTotalRecordCount(EntityNames=['opportunity','account'])", None).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(reason(&resp).as_deref(), Some("table_off"));
}

#[tokio::test]
async fn bulk_delete_needs_the_grant_full_use_and_delete_records() {
    let app = spawn_app().await;
    let admin = app.agent("Admin", &[("account", Level::Full)], true).await;
    let cleaner = app.agent("Cleaner", &[("account", Level::Full)], false).await;
    let actor = Actor::Cli("cli:test@localhost".into());
    let created = app.send(&admin, "POST", "accounts", Some(r#"{"name":"Doomed"}"#)).await;
    let entity = created.headers()["odata-entityid"].to_str().unwrap().to_owned();
    let id = entity.rsplit_once('(').unwrap().1.trim_end_matches(')').to_owned();
    let body = format!(
        r#"{{"JobName":"clean","QuerySet":[{{"EntityName":"account","Criteria":{{"FilterOperator":"And","Conditions":[{{"AttributeName":"accountid","Operator":"Equal","Values":[{{"Value":"{id}","Type":"System.Guid"}}]}}]}}}}]}}"#
    );
    let refused = app.send(&cleaner, "POST", "BulkDelete", Some(&body)).await;
    assert_eq!(reason(&refused).as_deref(), Some("delete_off"));
    app.store.set_delete_records(&actor, "Cleaner", true).await.unwrap();
    let refused = app.send(&cleaner, "POST", "BulkDelete", Some(&body)).await;
    assert_eq!(reason(&refused).as_deref(), Some("action_not_granted"));
    app.store.set_action_allowed(&actor, "Cleaner", "BulkDelete", true).await.unwrap();
    let done = app.send(&cleaner, "POST", "BulkDelete", Some(&body)).await;
    assert_eq!(done.status(), 200);
    let job: serde_json::Value = done.json().await.unwrap();
    assert!(job["JobId"].as_str().is_some());
    assert_eq!(app.send(&admin, "GET", &format!("accounts({id})"), None).await.status(), 404);
}

#[tokio::test]
async fn qualify_lead_needs_full_use_of_every_table_it_creates() {
    let app = spawn_app().await;
    let admin = app.agent("Admin", &[("lead", Level::Full)], false).await;
    let seller =
        app.agent("Seller", &[("lead", Level::Full), ("contact", Level::Full), ("account", Level::Read)], false).await;
    let actor = Actor::Cli("cli:test@localhost".into());
    app.store.set_action_allowed(&actor, "Seller", "QualifyLead", true).await.unwrap();
    let created = app.send(&admin, "POST", "leads", Some(r#"{"lastname":"Lead","companyname":"Lead Co"}"#)).await;
    let entity = created.headers()["odata-entityid"].to_str().unwrap().to_owned();
    let id = entity.rsplit_once('(').unwrap().1.trim_end_matches(')').to_owned();
    let path = format!("leads({id})/Microsoft.Dynamics.CRM.QualifyLead");
    let with_account = r#"{"CreateAccount":true,"CreateContact":true,"CreateOpportunity":false,"Status":3}"#;
    let refused = app.send(&seller, "POST", &path, Some(with_account)).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(reason(&refused).as_deref(), Some("table_read_only"), "accounts are only readable");
    let contact_only = r#"{"CreateAccount":false,"CreateContact":true,"CreateOpportunity":false,"Status":3}"#;
    let done = app.send(&seller, "POST", &path, Some(contact_only)).await;
    assert_eq!(done.status(), 200, "{:?}", done.text().await);
}

#[tokio::test]
async fn merge_needs_the_grant_and_delete_records() {
    let app = spawn_app().await;
    let admin = app.agent("Admin", &[("account", Level::Full)], false).await;
    let merger = app.agent("Merger", &[("account", Level::Full)], false).await;
    let actor = Actor::Cli("cli:test@localhost".into());
    let mut ids = Vec::new();
    for name in ["Keep", "Retire"] {
        let created = app.send(&admin, "POST", "accounts", Some(&format!(r#"{{"name":"{name}"}}"#))).await;
        let entity = created.headers()["odata-entityid"].to_str().unwrap().to_owned();
        ids.push(entity.rsplit_once('(').unwrap().1.trim_end_matches(')').to_owned());
    }
    let body = format!(
        r#"{{"Target":{{"@odata.type":"Microsoft.Dynamics.CRM.account","accountid":"{}"}},"Subordinate":{{"@odata.type":"Microsoft.Dynamics.CRM.account","accountid":"{}"}},"PerformParentingChecks":false}}"#,
        ids[0], ids[1]
    );
    app.store.set_action_allowed(&actor, "Merger", "Merge", true).await.unwrap();
    let refused = app.send(&merger, "POST", "Merge", Some(&body)).await;
    assert_eq!(reason(&refused).as_deref(), Some("delete_off"), "the subordinate is retired");
    app.store.set_delete_records(&actor, "Merger", true).await.unwrap();
    let done = app.send(&merger, "POST", "Merge", Some(&body)).await;
    assert_eq!(done.status(), 204, "{:?}", done.text().await);
}

#[tokio::test]
async fn change_tracking_through_the_gateway_reads_the_table_and_hides_what_is_hidden() {
    let app = spawn_app().await;
    let admin = app.agent("Admin", &[("contact", Level::Full)], false).await;
    let syncer = app.agent("Syncer", &[("contact", Level::Read)], false).await;
    let outsider = app.agent("Outsider", &[("account", Level::Read)], false).await;
    let actor = Actor::Cli("cli:test@localhost".into());
    let set = dataverse::Schema::standard().table("contact").unwrap().set_name.clone();
    app.store.set_column_hidden(&actor, "Syncer", "contact", &set, "emailaddress1", true).await.unwrap();
    let track = [("Prefer", "odata.track-changes")];
    let refused = app.send_with(&outsider, "GET", "contacts", None, &track).await;
    assert_eq!(reason(&refused).as_deref(), Some("table_off"));
    let first = app.send_with(&syncer, "GET", "contacts", None, &track).await;
    assert_eq!(first.status(), 200);
    let first: serde_json::Value = first.json().await.unwrap();
    assert!(!first.to_string().contains("emailaddress1"), "hidden columns are dropped from synced rows");
    let link = first["@odata.deltaLink"].as_str().unwrap().to_owned();
    assert!(link.starts_with(&app.url), "the delta link points at the gateway: {link}");

    let id = app
        .send(&admin, "POST", "contacts", Some(r#"{"lastname":"Synced","emailaddress1":"s@x.example"}"#))
        .await
        .headers()["odata-entityid"]
        .to_str()
        .unwrap()
        .rsplit_once('(')
        .unwrap()
        .1
        .trim_end_matches(')')
        .to_owned();
    let delta = app.send(&syncer, "GET", &link, None).await;
    let request_id = crate::app::request_id(&delta);
    let delta: serde_json::Value = delta.json().await.unwrap();
    assert_eq!(delta["value"][0]["contactid"], serde_json::json!(id));
    assert!(delta["value"][0].get("emailaddress1").is_none());
    let sentence = app.records(&request_id).await.last().unwrap().sentence();
    assert_eq!(sentence, "Syncer synced 1 change of contacts since the last sync — allowed.");
}

#[tokio::test]
async fn sharing_needs_the_grant_and_full_use_and_the_privilege_functions_read_users() {
    let app = spawn_app().await;
    let admin = app.agent("Admin", &[("account", Level::Full), ("systemuser", Level::Read)], false).await;
    let sharer = app.agent("Sharer", &[("account", Level::Read)], false).await;
    let actor = Actor::Cli("cli:test@localhost".into());
    let account = app.first_id(&admin, "accounts", "accountid").await;
    let me: serde_json::Value = app.send(&admin, "GET", "WhoAmI", None).await.json().await.unwrap();
    let me = me["UserId"].as_str().unwrap().to_owned();
    let body = format!(
        r#"{{"Target":{{"@odata.type":"Microsoft.Dynamics.CRM.account","accountid":"{account}"}},"PrincipalAccess":{{"Principal":{{"@odata.type":"Microsoft.Dynamics.CRM.systemuser","systemuserid":"{me}"}},"AccessMask":"ReadAccess"}}}}"#
    );
    app.store.set_action_allowed(&actor, "Sharer", "GrantAccess", true).await.unwrap();
    let refused = app.send(&sharer, "POST", "GrantAccess", Some(&body)).await;
    assert_eq!(reason(&refused).as_deref(), Some("table_read_only"), "sharing needs Full use");
    app.store.set_table_level(&actor, "Sharer", "account", "accounts", Level::Full).await.unwrap();
    assert_eq!(app.send(&sharer, "POST", "GrantAccess", Some(&body)).await.status(), 204);

    let privileges = format!("systemusers({me})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges");
    assert_eq!(reason(&app.send(&sharer, "GET", &privileges, None).await).as_deref(), Some("table_off"));
    assert_eq!(app.send(&admin, "GET", &privileges, None).await.status(), 200);
    let access = format!(
        "systemusers({me})/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@tid)?@tid={{'@odata.id':'accounts({account})'}}"
    );
    let answer: serde_json::Value = app.send(&admin, "GET", &access, None).await.json().await.unwrap();
    assert!(answer["AccessRights"].as_str().unwrap().contains("ReadAccess"), "{answer}");
}

#[tokio::test]
async fn a_custom_api_is_unclassified_until_declared_then_granted_like_any_action() {
    use dataverse::metadata::CustomOperation;
    let dir = tempfile::tempdir().unwrap();
    let ops = vec![
        CustomOperation { name: "new_Escalate".into(), function: false, bound: Some("incident".into()) },
        CustomOperation { name: "new_Ping".into(), function: false, bound: None },
    ];
    let org = dataverse::Schema::standard().with_operations(ops);
    let app = crate::app::spawn_learning(Some(org), dir.path().join("schema-cache.json")).await;
    let admin = app.agent("Admin", &[("account", Level::Full), ("incident", Level::Full)], false).await;
    let escalator = app.agent("Escalator", &[("incident", Level::Full), ("contact", Level::Read)], false).await;
    let actor = Actor::Cli("cli:test@localhost".into());
    let account = app.first_id(&admin, "accounts", "accountid").await;
    let created = app
        .send(
            &admin,
            "POST",
            "incidents",
            Some(&format!(r#"{{"title":"Broken","customerid_account@odata.bind":"/accounts({account})"}}"#)),
        )
        .await;
    let entity = created.headers()["odata-entityid"].to_str().unwrap().to_owned();
    let case = entity.rsplit_once('(').unwrap().1.trim_end_matches(')').to_owned();
    let path = format!("incidents({case})/Microsoft.Dynamics.CRM.new_Escalate");
    let body = r#"{"Reason":"customer waiting"}"#;

    let before = app.upstream_requests();
    let undeclared = app.send(&escalator, "POST", &path, Some(body)).await;
    assert_eq!(reason(&undeclared).as_deref(), Some("unclassified"));
    let message: serde_json::Value = undeclared.json().await.unwrap();
    assert!(
        message["error"]["message"].as_str().unwrap().contains("stanchion catalog declare new_Escalate"),
        "{message}"
    );

    let declaration = dataverse::request::Declaration {
        tables: vec![("incident".into(), true), ("contact".into(), true)],
        destructive: false,
    };
    app.store.declare_custom_api(&actor, "new_Escalate", &declaration).await.unwrap();
    let ungranted = app.send(&escalator, "POST", &path, Some(body)).await;
    assert_eq!(reason(&ungranted).as_deref(), Some("table_read_only"), "contacts are declared fully used");
    let declaration = dataverse::request::Declaration { tables: vec![("incident".into(), true)], destructive: false };
    app.store.declare_custom_api(&actor, "new_Escalate", &declaration).await.unwrap();
    let ungranted = app.send(&escalator, "POST", &path, Some(body)).await;
    assert_eq!(reason(&ungranted).as_deref(), Some("action_not_granted"));
    assert_eq!(app.upstream_requests(), before, "nothing reached the org");

    let csdl = app.send(&escalator, "GET", "$metadata", None).await.text().await.unwrap();
    assert!(!csdl.contains("new_Escalate"), "an action not granted is left out of $metadata");
    app.store.set_action_allowed(&actor, "Escalator", "new_Escalate", true).await.unwrap();
    let csdl = app.send(&escalator, "GET", "$metadata", None).await.text().await.unwrap();
    assert!(csdl.contains(r#"Name="new_Escalate""#), "a granted action is listed: {csdl}");
    assert!(!csdl.contains("new_Ping"), "only granted ones");
    let done = app.send(&escalator, "POST", &path, Some(body)).await;
    let request_id = crate::app::request_id(&done);
    assert_eq!(done.status(), 200);
    let answer: serde_json::Value = done.json().await.unwrap();
    assert_eq!(answer["Received"], serde_json::json!(["Reason"]));
    let sentence = app.records(&request_id).await.last().unwrap().sentence();
    assert!(sentence.starts_with("Escalator ran new_Escalate on incident "), "{sentence}");
    // An unbound custom API works the same way.
    let reads = dataverse::request::Declaration { tables: vec![("incident".into(), false)], destructive: false };
    app.store.declare_custom_api(&actor, "new_Ping", &reads).await.unwrap();
    app.store.set_action_allowed(&actor, "Escalator", "new_Ping", true).await.unwrap();
    let ping = app.send(&escalator, "POST", "new_Ping", Some("{}")).await;
    let why = reason(&ping);
    assert_eq!(ping.status(), 200, "{why:?} {:?}", ping.text().await);
}
