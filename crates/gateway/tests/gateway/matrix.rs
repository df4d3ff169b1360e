//! The access matrix: every operation of the slice at every level, allowed and denied, with
//! nothing forwarded on a refusal.

use crate::app::{reason, request_id, spawn_app};
use policy::Level;

const NEW_ACCOUNT: &str = r#"{"name":"Matrix Co","revenue":1000.5}"#;

struct Case {
    method: &'static str,
    path: String,
    body: Option<&'static str>,
    headers: Vec<(&'static str, &'static str)>,
}

async fn cases(app: &crate::app::App, admin: &str) -> Vec<(&'static str, Case)> {
    let id = app.first_id(admin, "accounts", "accountid").await;
    let fresh = uuid::Uuid::new_v4();
    vec![
        (
            "query",
            Case {
                method: "GET",
                path: "accounts?$select=name&$filter=revenue gt 0&$orderby=name&$top=3".into(),
                body: None,
                headers: vec![],
            },
        ),
        ("count", Case { method: "GET", path: "accounts/$count".into(), body: None, headers: vec![] }),
        ("retrieve", Case { method: "GET", path: format!("accounts({id})?$select=name"), body: None, headers: vec![] }),
        ("create", Case { method: "POST", path: "accounts".into(), body: Some(NEW_ACCOUNT), headers: vec![] }),
        (
            "update",
            Case {
                method: "PATCH",
                path: format!("accounts({id})"),
                body: Some(r#"{"telephone1":"555-0100"}"#),
                headers: vec![("If-Match", "*")],
            },
        ),
        (
            "upsert",
            Case {
                method: "PATCH",
                path: format!("accounts({fresh})"),
                body: Some(r#"{"name":"Upserted"}"#),
                headers: vec![],
            },
        ),
        ("delete", Case { method: "DELETE", path: format!("accounts({fresh})"), body: None, headers: vec![] }),
    ]
}

/// (level, delete switch) → which operations are allowed.
fn allowed(level: Level, delete: bool, op: &str) -> bool {
    match op {
        "query" | "count" | "retrieve" => level >= Level::Read,
        "delete" => level == Level::Full && delete,
        _ => level == Level::Full,
    }
}

fn expected_reason(level: Level, op: &str) -> &'static str {
    match (level, op) {
        (Level::Off, _) => "table_off",
        (Level::Read, _) => "table_read_only",
        _ => "delete_off",
    }
}

#[tokio::test]
async fn every_operation_at_every_level() {
    let app = spawn_app().await;
    let admin = app.agent("Admin Agent", &[("account", Level::Full)], true).await;
    for (level, delete) in
        [(Level::Off, false), (Level::Read, false), (Level::Read, true), (Level::Full, false), (Level::Full, true)]
    {
        let name = format!("Agent {level} {delete}");
        let key = app.agent(&name, &[("account", level)], delete).await;
        for (op, case) in cases(&app, &admin).await {
            let before = app.upstream_requests();
            let resp = app.send_with(&key, case.method, &case.path, case.body, &case.headers).await;
            let status = resp.status().as_u16();
            let rid = request_id(&resp);
            let why = reason(&resp);
            let forwarded = app.upstream_requests() - before;
            if allowed(level, delete, op) {
                assert!(
                    status < 400,
                    "{name} {op}: expected allowed, got {status} {why:?} {}",
                    resp.text().await.unwrap()
                );
                assert!(forwarded >= 1, "{name} {op}: allowed but not forwarded");
                let recs = app.records(&rid).await;
                assert_eq!(recs.len(), 2, "{name} {op}: attempt + outcome");
            } else {
                assert_eq!(status, 403, "{name} {op}: expected 403");
                assert_eq!(why.as_deref(), Some(expected_reason(level, op)), "{name} {op}");
                let body: serde_json::Value = resp.json().await.unwrap();
                assert_eq!(body["error"]["code"], "0x80040220");
                assert!(body["error"]["message"].as_str().unwrap().contains(&name), "{body}");
                assert_eq!(forwarded, 0, "{name} {op}: a refusal forwarded something");
                let recs = app.records(&rid).await;
                assert_eq!(recs.len(), 1, "{name} {op}: one decision record");
                assert_eq!(recs[0].reason_code.as_deref(), Some(expected_reason(level, op)));
            }
        }
    }
}

/// An empty policy denies every request kind except WhoAmI (answered) and the service document
/// (answered, filtered to nothing).
#[tokio::test]
async fn empty_policy_denies_every_kind() {
    let app = spawn_app().await;
    let admin = app.agent("Admin Agent", &[("account", Level::Full)], true).await;
    let id = app.first_id(&admin, "accounts", "accountid").await;
    let key = app.agent("Nobody", &[], false).await;

    let who = app.send(&key, "GET", "WhoAmI", None).await;
    assert_eq!(who.status(), 200);
    let who: serde_json::Value = who.json().await.unwrap();
    assert!(who["UserId"].is_string());

    let doc = app.send(&key, "GET", "", None).await;
    assert_eq!(doc.status(), 200);
    let doc: serde_json::Value = doc.json().await.unwrap();
    assert_eq!(doc["value"].as_array().unwrap().len(), 0, "{doc}");

    let denied: Vec<(&str, String, Option<&str>)> = vec![
        ("GET", "accounts".into(), None),
        ("GET", "accounts/$count".into(), None),
        ("GET", "accounts?fetchXml=%3Cfetch%3E%3Centity%20name%3D%22account%22%2F%3E%3C%2Ffetch%3E".into(), None),
        ("GET", format!("accounts({id})"), None),
        ("GET", format!("accounts({id})/name"), None),
        ("POST", "accounts".into(), Some(r#"{"name":"x"}"#)),
        ("PATCH", format!("accounts({id})"), Some(r#"{"name":"x"}"#)),
        ("DELETE", format!("accounts({id})"), None),
        ("PUT", format!("accounts({id})/name"), Some(r#"{"value":"x"}"#)),
        ("DELETE", format!("accounts({id})/telephone1"), None),
        (
            "POST",
            format!("accounts({id})/contact_customer_accounts/$ref"),
            Some(r#"{"@odata.id":"contacts(00000000-0000-0000-0000-000000000001)"}"#),
        ),
        ("DELETE", format!("accounts({id})/primarycontactid/$ref"), None),
        ("GET", "RetrieveTotalRecordCount(EntityNames=@p1)?@p1=[\"account\"]".into(), None),
        ("GET", format!("accounts({id})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"), None),
        ("POST", "WinOpportunity".into(), Some("{}")),
        ("POST", format!("accounts({id})/Microsoft.Dynamics.CRM.QualifyLead"), Some("{}")),
        ("POST", "$batch".into(), Some("")),
        ("GET", "EntityDefinitions(LogicalName='account')".into(), None),
        ("GET", "EntityDefinitions(LogicalName='account')/Attributes".into(), None),
        ("GET", "accounts?$select=name&$deltatoken=abc".into(), None),
    ];
    for (method, path, body) in denied {
        let before = app.upstream_requests();
        let resp = app.send(&key, method, &path, body).await;
        let status = resp.status().as_u16();
        assert!(status == 403 || status == 400, "{method} {path}: {status}");
        assert_eq!(app.upstream_requests(), before, "{method} {path} was forwarded");
        let rid = request_id(&resp);
        assert_eq!(app.records(&rid).await.len(), 1, "{method} {path} not audited");
    }
}

#[tokio::test]
async fn links_point_at_the_gateway_and_ids_are_recorded() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full)], false).await;
    let resp = app.send(&key, "POST", "accounts", Some(NEW_ACCOUNT)).await;
    assert_eq!(resp.status(), 204);
    let entity = resp.headers()["odata-entityid"].to_str().unwrap().to_owned();
    assert!(entity.starts_with(&app.api("accounts(")), "{entity}");
    let id = entity.trim_end_matches(')').rsplit('(').next().unwrap().to_owned();
    let recs = app.records(&request_id(&resp)).await;
    assert_eq!(recs[1].record_ids, vec![id.clone()]);
    assert_eq!(
        recs[1].sentence(),
        format!("Sales Ops Agent created account {} (name, revenue) — allowed.", audit::short_id(&id))
    );

    let resp = app.send_with(&key, "GET", &format!("accounts({id})?$select=name"), None, &[]).await;
    let rid = request_id(&resp);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["@odata.context"].as_str().unwrap().starts_with(&app.api("$metadata")), "{body}");
    assert_eq!(body["name"], "Matrix Co");
    let recs = app.records(&rid).await;
    assert_eq!(recs[1].rows, Some(1));
}

#[tokio::test]
async fn revocation_applies_to_the_next_request() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Read)], false).await;
    assert_eq!(app.send(&key, "GET", "accounts?$top=1", None).await.status(), 200);
    let key_id = &key[4..16];
    app.store.revoke_key(&store::Actor::Cli("cli:t@h".into()), "Sales Ops Agent", key_id).await.unwrap();
    let resp = app.send(&key, "GET", "accounts?$top=1", None).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(reason(&resp).as_deref(), Some("key_revoked"));
}

/// `X-Forwarded-Host/-Proto` count only from trusted proxies (design §6.3).
#[tokio::test]
async fn forwarded_headers_only_from_trusted_proxies() {
    let forwarded = [("X-Forwarded-Host", "crm-proxy.example"), ("X-Forwarded-Proto", "https")];
    let app = crate::app::spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full)], false).await;
    let resp = app.send_with(&key, "POST", "accounts", Some(NEW_ACCOUNT), &forwarded).await;
    let entity = resp.headers()["odata-entityid"].to_str().unwrap().to_owned();
    assert!(entity.starts_with(&app.url), "untrusted forwarding headers were honoured: {entity}");

    let config = gateway::GatewayConfig { trusted_proxies: vec!["127.0.0.1".parse().unwrap()], ..Default::default() };
    let app = crate::app::spawn_app_with(config).await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full)], false).await;
    let resp = app.send_with(&key, "POST", "accounts", Some(NEW_ACCOUNT), &forwarded).await;
    let entity = resp.headers()["odata-entityid"].to_str().unwrap().to_owned();
    assert!(entity.starts_with("https://crm-proxy.example/api/data/v9.2/accounts("), "{entity}");
}

/// If the audit log cannot commit, nothing is forwarded and the agent gets 503 (invariant 5).
#[tokio::test]
async fn no_audit_no_forwarding() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full)], false).await;
    assert_eq!(app.send(&key, "GET", "accounts?$top=1", None).await.status(), 200);
    app.store.close().await;
    let before = app.upstream_requests();
    let resp = app.send(&key, "POST", "accounts", Some(NEW_ACCOUNT)).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(reason(&resp).as_deref(), Some("audit_unavailable"));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("audit log unavailable"), "{body}");
    assert_eq!(app.upstream_requests(), before);
}

/// Single-property writes: Full use sets and clears (clearing is a write, not a delete, so the
/// Delete records switch does not gate it); Read-only agents are refused; hidden columns too.
#[tokio::test]
async fn single_property_writes() {
    let app = spawn_app().await;
    let full = app.agent("Sales Ops Agent", &[("account", Level::Full)], false).await;
    let reader = app.agent("Reader", &[("account", Level::Read)], false).await;
    let id = app.first_id(&full, "accounts", "accountid").await;
    let resp = app.send(&full, "PUT", &format!("accounts({id})/telephone1"), Some(r#"{"value":"555-0199"}"#)).await;
    assert_eq!(resp.status(), 204);
    let resp = app.send(&full, "DELETE", &format!("accounts({id})/telephone1"), None).await;
    assert_eq!(resp.status(), 204, "clearing is not deleting");
    // The raw value form (`/$value`, text/plain) is forwarded as the JSON form it means.
    let raw = |key: String, text: &'static str| {
        let url = app.api(&format!("accounts({id})/telephone1/$value"));
        async move {
            reqwest::Client::new()
                .put(url)
                .bearer_auth(key)
                .header("content-type", "text/plain")
                .body(text)
                .send()
                .await
                .unwrap()
        }
    };
    let resp = raw(full.clone(), "555-0142").await;
    assert_eq!(resp.status(), 204);
    let resp = app.send(&full, "GET", &format!("accounts({id})/telephone1"), None).await;
    assert_eq!(resp.json::<serde_json::Value>().await.unwrap()["value"], "555-0142");
    let resp = app.send(&full, "DELETE", &format!("accounts({id})/telephone1/$value"), None).await;
    assert_eq!(resp.status(), 204);
    let before = app.upstream_requests();
    let resp = raw(reader.clone(), "555-0143").await;
    assert_eq!(reason(&resp).as_deref(), Some("table_read_only"));
    for (method, body) in [("PUT", Some(r#"{"value":"x"}"#)), ("DELETE", None)] {
        let resp = app.send(&reader, method, &format!("accounts({id})/telephone1"), body).await;
        assert_eq!(reason(&resp).as_deref(), Some("table_read_only"), "{method}");
    }
    app.store
        .set_column_hidden(
            &store::Actor::Cli("cli:t@h".into()),
            "Sales Ops Agent",
            "account",
            "accounts",
            "telephone1",
            true,
        )
        .await
        .unwrap();
    let resp = app.send(&full, "PUT", &format!("accounts({id})/telephone1"), Some(r#"{"value":"x"}"#)).await;
    assert_eq!(reason(&resp).as_deref(), Some("hidden_column"));
    assert_eq!(app.upstream_requests(), before, "nothing refused was forwarded");
}

/// The chain's first checkpoint anchors it. If it cannot be written after the first records were
/// committed, those requests are refused (503, nothing forwarded) and the chain keeps its place:
/// once the checkpoint file is writable again the next request is served, the anchor is written,
/// and the whole chain verifies.
#[tokio::test]
async fn an_unwritable_first_checkpoint_refuses_then_recovers() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full)], false).await;
    // The admin changes above wrote their own chain's checkpoints: keep them aside.
    let checkpoints = app.dir.path().join("audit-checkpoints.log");
    let kept = std::fs::read(&checkpoints).unwrap_or_default();
    let _ = std::fs::remove_file(&checkpoints);
    std::fs::create_dir(&checkpoints).unwrap();
    let before = app.upstream_requests();
    let resp = app.send(&key, "GET", "accounts?$top=1", None).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(reason(&resp).as_deref(), Some("audit_unavailable"));
    assert_eq!(app.upstream_requests(), before, "nothing forwarded without an anchored chain");
    std::fs::remove_dir(&checkpoints).unwrap();
    std::fs::write(&checkpoints, kept).unwrap();
    for _ in 0..2 {
        assert_eq!(app.send(&key, "GET", "accounts?$top=1", None).await.status(), 200);
    }
    let records = app.store.all_records().await.unwrap();
    let anchors = app.store.checkpoint_file().read().unwrap();
    let report = audit::verify(&app.store.secrets().audit_key, records, anchors.as_deref());
    assert!(report.intact, "{report:?}");
}
