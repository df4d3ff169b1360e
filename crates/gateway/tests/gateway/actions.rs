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
