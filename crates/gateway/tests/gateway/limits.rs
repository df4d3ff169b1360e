//! Per-agent limits (design §6.2, §6.4): the request over the rate gets 429 with `Retry-After`,
//! Dataverse's service-protection code and one committed record; the window slides on the
//! injected clock (no sleeping); a `$batch` costs one unit per part; policy refusals come
//! first and consume nothing; agents do not share limits. Holding requests open over real HTTP
//! is not deterministic, so the concurrency cap's refusals are unit-tested in
//! `gateway/src/limits.rs`; here a cap of 1 must still let sequential requests through (the
//! permit is released with each answer).

use crate::app::{App, ManualClock, reason, request_id, spawn_app_with};
use audit::{Decision, RecordType};
use gateway::{AgentLimits, GatewayConfig};
use policy::Level;
use std::sync::Arc;

async fn app_with(requests_per_minute: u32, concurrency: u32) -> (App, Arc<ManualClock>) {
    let clock = ManualClock::at(1_700_000_000);
    let config = GatewayConfig {
        agent_limits: AgentLimits { requests_per_minute, concurrency, clock: clock.clone() },
        ..Default::default()
    };
    (spawn_app_with(config).await, clock)
}

const QUERY: &str = "accounts?$select=name&$top=1";

async fn get(app: &App, key: &str) -> reqwest::Response {
    app.send(key, "GET", QUERY, None).await
}

fn retry_after(resp: &reqwest::Response) -> Option<u64> {
    resp.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap())
}

/// Status, reason header, `Retry-After`, error code and message of a refusal; its one record.
async fn refused(app: &App, resp: reqwest::Response) -> (u16, Option<String>, Option<u64>, String, String) {
    let (status, why, after, rid) = (resp.status().as_u16(), reason(&resp), retry_after(&resp), request_id(&resp));
    let body: serde_json::Value = resp.json().await.unwrap();
    let records = app.records(&rid).await;
    assert_eq!(records.len(), 1, "one committed record: {records:#?}");
    let r = &records[0];
    assert_eq!(r.record_type, RecordType::Decision);
    assert_eq!(r.decision, Some(Decision::Denied));
    assert_eq!(r.reason_code.as_deref(), why.as_deref());
    let code = body["error"]["code"].as_str().unwrap().to_owned();
    let message = body["error"]["message"].as_str().unwrap().to_owned();
    (status, why, after, code, message)
}

#[tokio::test]
async fn the_request_over_the_limit_gets_429_until_the_window_slides() {
    let (app, clock) = app_with(3, 8).await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Read)], false).await;
    for _ in 0..3 {
        assert_eq!(get(&app, &key).await.status(), 200);
    }
    let before = app.upstream_requests();
    let resp = get(&app, &key).await;
    let rid = request_id(&resp);
    let (status, why, after, code, message) = refused(&app, resp).await;
    assert_eq!((status, why.as_deref(), after, code.as_str()), (429, Some("rate_limited"), Some(60), "0x80072322"));
    assert_eq!(
        message,
        "Stanchion denied this request for Sales Ops Agent: it exceeded its limit of 3 requests per minute; \
         retry after 60 seconds."
    );
    assert_eq!(app.upstream_requests(), before, "nothing forwarded");
    let sentence = app.records(&rid).await[0].sentence();
    assert!(sentence.contains("denied: it exceeded its limit of 3 requests per minute"), "{sentence}");

    // One second before the first request leaves the window: still refused, 1 s to wait.
    clock.advance(59);
    let resp = get(&app, &key).await;
    assert_eq!((resp.status().as_u16(), retry_after(&resp)), (429, Some(1)));
    clock.advance(1);
    for _ in 0..3 {
        assert_eq!(get(&app, &key).await.status(), 200);
    }
    assert_eq!(get(&app, &key).await.status(), 429);
}

#[tokio::test]
async fn policy_refusals_come_first_and_consume_nothing() {
    let (app, _clock) = app_with(1, 8).await;
    let key = app.agent("Support Agent", &[("account", Level::Read)], false).await;
    // Denied for policy: 403 with its own reason, and the budget is untouched.
    for _ in 0..3 {
        let resp = app.send(&key, "GET", "contacts?$select=fullname", None).await;
        assert_eq!((resp.status().as_u16(), reason(&resp).as_deref()), (403, Some("table_off")));
    }
    assert_eq!(get(&app, &key).await.status(), 200);
    // Over the limit, a request the policy refuses is still refused for the policy …
    let resp = app.send(&key, "GET", "contacts?$select=fullname", None).await;
    assert_eq!((resp.status().as_u16(), reason(&resp).as_deref()), (403, Some("table_off")));
    // … and one it allows gets 429; refused ones do not push the wait further out.
    for _ in 0..3 {
        let resp = get(&app, &key).await;
        assert_eq!((resp.status().as_u16(), retry_after(&resp)), (429, Some(60)));
    }
}

#[tokio::test]
async fn one_agents_limit_does_not_affect_another() {
    let (app, _clock) = app_with(2, 8).await;
    let busy = app.agent("Busy Agent", &[("account", Level::Read)], false).await;
    let calm = app.agent("Calm Agent", &[("account", Level::Read)], false).await;
    for _ in 0..2 {
        assert_eq!(get(&app, &busy).await.status(), 200);
    }
    assert_eq!(get(&app, &busy).await.status(), 429);
    for _ in 0..2 {
        assert_eq!(get(&app, &calm).await.status(), 200);
    }
    assert_eq!(get(&app, &calm).await.status(), 429);
}

#[tokio::test]
async fn a_concurrency_cap_of_one_releases_its_permit_with_each_answer() {
    let (app, _clock) = app_with(0, 1).await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full)], false).await;
    for _ in 0..5 {
        assert_eq!(get(&app, &key).await.status(), 200);
    }
    let resp = app.send(&key, "POST", "accounts", Some(r#"{"name":"Sequential Co"}"#)).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(get(&app, &key).await.status(), 200);
}

fn part(method: &str, target: &str, body: Option<&str>, cid: &str) -> String {
    let mut out = format!(
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {cid}\r\n\r\n\
         {method} {target} HTTP/1.1\r\nAccept: application/json\r\n"
    );
    match body {
        Some(b) => out.push_str(&format!("Content-Type: application/json\r\n\r\n{b}\r\n")),
        None => out.push_str("\r\n\r\n"),
    }
    out
}

/// Five parts: two requests and a change set of three.
fn five_parts(app: &App) -> String {
    let get = part("GET", &app.api(QUERY), None, "1");
    let get2 = part("GET", &app.api(QUERY), None, "2");
    let mut cs = String::from("Content-Type: multipart/mixed; boundary=cs\r\n\r\n");
    for (i, name) in ["A", "B", "C"].iter().enumerate() {
        cs.push_str("--cs\r\n");
        cs.push_str(&part("POST", "accounts", Some(&format!(r#"{{"name":"Limit {name}"}}"#)), &(i + 3).to_string()));
    }
    cs.push_str("--cs--\r\n");
    format!("--b\r\n{get}--b\r\n{get2}--b\r\n{cs}--b--\r\n")
}

async fn post_batch(app: &App, key: &str) -> reqwest::Response {
    app.http
        .post(app.api("$batch"))
        .header("Authorization", format!("Bearer {key}"))
        .header("Content-Type", "multipart/mixed; boundary=b")
        .header("OData-Version", "4.0")
        .body(five_parts(app))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_batch_costs_one_unit_per_part() {
    // Four per minute: a batch of five can never fit.
    let (app, _clock) = app_with(4, 8).await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full)], false).await;
    let before = app.upstream_requests();
    let resp = post_batch(&app, &key).await;
    let rid = request_id(&resp);
    let (status, why, after, code, message) = refused(&app, resp).await;
    assert_eq!((status, why.as_deref(), after, code.as_str()), (429, Some("rate_limited"), Some(60), "0x80072322"));
    assert!(
        message.contains("this batch of 5 requests is larger than its limit of 4 requests per minute"),
        "{message}"
    );
    assert_eq!(app.upstream_requests(), before, "nothing forwarded");
    let record = &app.records(&rid).await[0];
    assert_eq!(record.rows, Some(5));
    assert!(record.sentence().contains("sent a batch of 5 requests — denied"), "{}", record.sentence());
    // The refused batch consumed nothing: four single requests still fit.
    for _ in 0..4 {
        assert_eq!(get(&app, &key).await.status(), 200);
    }

    // Five per minute: the batch fits once, and then the window is full.
    let (app, clock) = app_with(5, 8).await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full)], false).await;
    assert_eq!(post_batch(&app, &key).await.status(), 200);
    let resp = get(&app, &key).await;
    assert_eq!((resp.status().as_u16(), retry_after(&resp)), (429, Some(60)));
    // A second batch is counted as five as well.
    clock.advance(30);
    assert_eq!(get(&app, &key).await.status(), 429);
    clock.advance(30);
    assert_eq!(get(&app, &key).await.status(), 200);
    let resp = post_batch(&app, &key).await;
    let (status, _, after, _, message) = refused(&app, resp).await;
    assert_eq!((status, after), (429, Some(60)));
    assert!(message.contains("(this batch counts as 5)"), "{message}");
}

/// The upstream budget (design §7, §6.2): one budget for the whole gateway over any 300 s; a
/// batch counts once however many parts it has; past it every agent gets 429 naming the
/// gateway's budget, and nothing is forwarded.
#[tokio::test]
async fn the_upstream_budget_counts_a_batch_once_for_every_agent() {
    let clock = ManualClock::at(1_700_000_000);
    let config = GatewayConfig {
        agent_limits: AgentLimits { clock: clock.clone(), ..AgentLimits::default() },
        upstream_budget: gateway::UpstreamBudget { requests_per_5min: 2, concurrency: 0, clock: clock.clone() },
        ..Default::default()
    };
    let app = spawn_app_with(config).await;
    let sales = app.agent("Sales Ops Agent", &[("account", Level::Full)], false).await;
    let support = app.agent("Support Agent", &[("account", Level::Read)], false).await;
    assert_eq!(post_batch(&app, &sales).await.status(), 200, "five parts, one upstream request");
    assert_eq!(get(&app, &support).await.status(), 200);
    let before = app.upstream_requests();
    let (status, why, after, code, message) = refused(&app, get(&app, &sales).await).await;
    assert_eq!((status, why.as_deref(), after, code.as_str()), (429, Some("rate_limited"), Some(300), "0x80072322"));
    assert!(message.contains("the gateway's budget of 2 requests per 5 minutes"), "{message}");
    assert_eq!(app.upstream_requests(), before, "nothing forwarded");
    clock.advance(300);
    assert_eq!(get(&app, &support).await.status(), 200);
}
