//! Retries upstream (design §6.5), with a sleeper that records the waits and returns at once.
//!
//! Against the real emulator with service protection on: a 429 whose `Retry-After` fits in
//! `max_retry_wait` is waited out (the sleeper moves the emulator's clock by the wait) and
//! retried for any method, `$batch` included; a longer one reaches the agent with its
//! `Retry-After`. For 502/503/504 and lost connections the upstream must fail on purpose: a
//! tiny server stands in for Dataverse having a bad moment (503 a given number of times, then
//! a plain answer), and a closed port for an unreachable org. Only GET and writes conditional
//! on a specific ETag are sent again; POST and `$batch` never.

use crate::app::{App, reason, request_id, spawn_app_with_upstream};
use audit::{Decision, RecordType};
use emulator::{EmulatorClock, Protection};
use gateway::{Retries, Sleeper, UpstreamClient};
use policy::Level;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Records every wait and returns at once; when given the emulator's clock, moves it on by the
/// wait, as real time would have.
#[derive(Debug, Default)]
struct RecordingSleeper {
    waits: Mutex<Vec<Duration>>,
    clock: Option<EmulatorClock>,
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.waits.lock().unwrap().push(duration);
        if let Some(clock) = &self.clock {
            clock.set(Some(clock.now() + chrono::Duration::from_std(duration).unwrap()));
        }
        Box::pin(std::future::ready(()))
    }
}

impl RecordingSleeper {
    fn waits(&self) -> Vec<Duration> {
        self.waits.lock().unwrap().clone()
    }
}

const FIVE: Duration = Duration::from_secs(5);
const QUERY: &str = "accounts?$select=name&$top=1";

fn ms(list: &[u64]) -> Vec<Duration> {
    list.iter().map(|n| Duration::from_millis(*n)).collect()
}

fn retry_after(resp: &reqwest::Response) -> Option<String> {
    resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned())
}

/// The gateway in front of the emulator enforcing `protect`, its clock frozen; retries wait on
/// a recording sleeper that moves the emulator's clock.
async fn throttled_app(protect: &str) -> (App, Arc<RecordingSleeper>, String) {
    let mut sleeper = None;
    let protection: Protection = protect.parse().unwrap();
    let app = spawn_app_with_upstream(Some(protection), |emulator, upstream| {
        let s = Arc::new(RecordingSleeper { clock: Some(emulator.clock()), ..Default::default() });
        sleeper = Some(s.clone());
        upstream.with_retries(Retries { max_wait: FIVE, sleeper: s })
    })
    .await;
    app.emulator.set_clock(Some(chrono::DateTime::from_timestamp(1_750_000_000, 0).unwrap()));
    let key = app.agent("Retry Agent", &[("account", Level::Full)], true).await;
    (app, sleeper.unwrap(), key)
}

/// The outcome record of a forwarded request.
async fn outcome(app: &App, rid: &str) -> audit::AuditRecord {
    let records = app.records(rid).await;
    assert_eq!(records.len(), 2, "an attempt and an outcome: {records:#?}");
    let o = records.into_iter().find(|r| r.record_type == RecordType::Outcome).unwrap();
    assert_eq!(o.decision, Some(Decision::Allowed));
    o
}

#[tokio::test]
async fn a_429_within_max_retry_wait_is_waited_out_and_the_agent_gets_200() {
    let (app, sleeper, key) = throttled_app("requests=1,window=3s").await;
    assert_eq!(app.send(&key, "GET", QUERY, None).await.status(), 200);
    let before = app.upstream_requests();
    let resp = app.send(&key, "GET", QUERY, None).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.upstream_requests(), before + 2, "throttled once, then answered");
    assert_eq!(sleeper.waits(), [Duration::from_secs(3)], "waited exactly Retry-After");
    assert_eq!(outcome(&app, &request_id(&resp)).await.upstream_status, Some(200));
}

#[tokio::test]
async fn a_throttled_post_is_retried_and_creates_one_row() {
    let (app, sleeper, key) = throttled_app("requests=1,window=2s").await;
    assert_eq!(app.send(&key, "GET", QUERY, None).await.status(), 200);
    let resp = app.send(&key, "POST", "accounts", Some(r#"{"name":"Retried Co"}"#)).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(sleeper.waits(), [Duration::from_secs(2)]);
    let found: serde_json::Value =
        app.send(&key, "GET", "accounts?$select=name&$filter=name eq 'Retried Co'", None).await.json().await.unwrap();
    assert_eq!(found["value"].as_array().unwrap().len(), 1, "created once: {found}");
}

#[tokio::test]
async fn a_throttled_batch_is_retried() {
    let (app, sleeper, key) = throttled_app("requests=1,window=2s").await;
    assert_eq!(app.send(&key, "GET", QUERY, None).await.status(), 200);
    let before = app.upstream_requests();
    let resp = one_get_batch(&app, &key).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.upstream_requests(), before + 2);
    assert_eq!(sleeper.waits(), [Duration::from_secs(2)]);
}

#[tokio::test]
async fn a_retry_after_above_max_retry_wait_is_passed_through() {
    let (app, sleeper, key) = throttled_app("requests=1,window=300s").await;
    assert_eq!(app.send(&key, "GET", QUERY, None).await.status(), 200);
    let before = app.upstream_requests();
    let resp = app.send(&key, "GET", QUERY, None).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(retry_after(&resp).as_deref(), Some("300"));
    assert_eq!(reason(&resp), None, "Dataverse's answer, not a Stanchion refusal");
    let rid = request_id(&resp);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "0x80072322");
    assert_eq!(body["error"]["message"], "Number of requests exceeded the limit of 1 over time window of 300 seconds.");
    assert_eq!(app.upstream_requests(), before + 1, "not retried");
    assert!(sleeper.waits().is_empty());
    assert_eq!(outcome(&app, &rid).await.upstream_status, Some(429));
}

/// A stand-in for Dataverse failing: answers 503 (Dataverse's error JSON) `failures` times,
/// then 200 with an empty collection to a GET and 204 to anything else.
struct Flaky {
    url: String,
    hits: Arc<AtomicU32>,
}

async fn flaky(failures: u32) -> Flaky {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    let hits = Arc::new(AtomicU32::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (counter, base) = (hits.clone(), url.clone());
    let router = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let (counter, base) = (counter.clone(), base.clone());
        async move {
            let json = "application/json; odata.metadata=minimal";
            if counter.fetch_add(1, Ordering::SeqCst) < failures {
                let body = r#"{"error":{"code":"0x80040216","message":"Service Unavailable"}}"#;
                return (StatusCode::SERVICE_UNAVAILABLE, [(header::CONTENT_TYPE, json)], body).into_response();
            }
            if req.method() == axum::http::Method::GET {
                let body =
                    format!(r#"{{"@odata.context":"{base}/api/data/v9.2/$metadata#accounts(name)","value":[]}}"#);
                return (StatusCode::OK, [(header::CONTENT_TYPE, json)], body).into_response();
            }
            StatusCode::NO_CONTENT.into_response()
        }
    });
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Flaky { url, hits }
}

/// The gateway with its upstream at `org_url` (tokens still from the emulator).
async fn app_upstream_at(org_url: String) -> (App, Arc<RecordingSleeper>, String) {
    let sleeper = Arc::new(RecordingSleeper::default());
    let s = sleeper.clone();
    let app = spawn_app_with_upstream(None, move |_, upstream| {
        UpstreamClient::new(gateway::http_client().unwrap(), org_url, upstream.tokens().clone())
            .with_retries(Retries { max_wait: FIVE, sleeper: s })
    })
    .await;
    let key = app.agent("Retry Agent", &[("account", Level::Full)], true).await;
    (app, sleeper, key)
}

const ROW: &str = "accounts(00000000-0000-0000-0000-000000000001)";

#[tokio::test]
async fn a_get_is_retried_after_503_and_a_post_is_not() {
    let up = flaky(1).await;
    let (app, sleeper, key) = app_upstream_at(up.url.clone()).await;
    let resp = app.send(&key, "GET", QUERY, None).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(up.hits.load(Ordering::SeqCst), 2);
    assert_eq!(sleeper.waits(), ms(&[100]));

    let up = flaky(1).await;
    let (app, sleeper, key) = app_upstream_at(up.url.clone()).await;
    let resp = app.send(&key, "POST", "accounts", Some(r#"{"name":"Once Co"}"#)).await;
    assert_eq!(resp.status(), 503, "passed on: a POST may have been applied");
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);
    assert!(sleeper.waits().is_empty());
    assert_eq!(outcome(&app, &request_id(&resp)).await.upstream_status, Some(503));
}

#[tokio::test]
async fn writes_are_retried_after_503_only_on_a_specific_etag() {
    for (method, body) in [("PATCH", Some(r#"{"name":"x"}"#)), ("DELETE", None)] {
        let up = flaky(1).await;
        let (app, sleeper, key) = app_upstream_at(up.url.clone()).await;
        let resp = app.send_with(&key, method, ROW, body, &[("If-Match", "W/\"42\"")]).await;
        assert_eq!(resp.status(), 204, "{method}");
        assert_eq!(up.hits.load(Ordering::SeqCst), 2, "{method}");
        assert_eq!(sleeper.waits(), ms(&[100]), "{method}");

        for if_match in [Some("*"), None] {
            let up = flaky(1).await;
            let (app, sleeper, key) = app_upstream_at(up.url.clone()).await;
            let headers: Vec<(&str, &str)> = if_match.map(|v| ("If-Match", v)).into_iter().collect();
            let resp = app.send_with(&key, method, ROW, body, &headers).await;
            assert_eq!(resp.status(), 503, "{method} If-Match {if_match:?}");
            assert_eq!(up.hits.load(Ordering::SeqCst), 1, "{method} If-Match {if_match:?}");
            assert!(sleeper.waits().is_empty());
        }
    }
}

#[tokio::test]
async fn a_batch_is_not_retried_after_503() {
    let up = flaky(1).await;
    let (app, sleeper, key) = app_upstream_at(up.url.clone()).await;
    let resp = one_get_batch(&app, &key).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);
    assert!(sleeper.waits().is_empty());
}

#[tokio::test]
async fn backoff_is_bounded_then_the_failure_reaches_the_agent() {
    // Always 503: three retries (100, 200, 400 ms), then Dataverse's 503 as is.
    let up = flaky(u32::MAX).await;
    let (app, sleeper, key) = app_upstream_at(up.url.clone()).await;
    let resp = app.send(&key, "GET", QUERY, None).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(up.hits.load(Ordering::SeqCst), 4);
    assert_eq!(sleeper.waits(), ms(&[100, 200, 400]));

    // An org that refuses connections: the same for a GET, nothing for a POST; 502 either way.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (app, sleeper, key) = app_upstream_at(format!("http://{closed}")).await;
    let resp = app.send(&key, "GET", QUERY, None).await;
    assert_eq!((resp.status().as_u16(), reason(&resp).as_deref()), (502, Some("upstream_unavailable")));
    assert_eq!(sleeper.waits(), ms(&[100, 200, 400]));
    let records = app.records(&request_id(&resp)).await;
    let o = records.iter().find(|r| r.record_type == RecordType::Outcome).unwrap();
    assert_eq!(o.decision, Some(Decision::Error));
    let resp = app.send(&key, "POST", "accounts", Some(r#"{"name":"Once Co"}"#)).await;
    assert_eq!(resp.status(), 502);
    assert_eq!(sleeper.waits().len(), 3, "the POST was not retried");
}

/// Posts a `$batch` of one GET of [`QUERY`] with the agent's key.
async fn one_get_batch(app: &crate::app::App, key: &str) -> reqwest::Response {
    let body = format!(
        "--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
         GET {} HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n--b--\r\n",
        app.api(QUERY)
    );
    app.http
        .post(app.api("$batch"))
        .header("Authorization", format!("Bearer {key}"))
        .header("Content-Type", "multipart/mixed; boundary=b")
        .body(body)
        .send()
        .await
        .unwrap()
}
