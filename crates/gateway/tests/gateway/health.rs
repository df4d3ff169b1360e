//! `/healthz` and `/readyz` on the agents' listener: answered without a key, never audited,
//! rate-limited or forwarded; `/readyz` names the failing check — wrong credentials, an
//! unreachable token endpoint, a cached token outliving its endpoint until renewal (manual
//! clock, no sleeping), a closed store — with a short reason and nothing secret. Every other
//! path, near misses included, still goes through the pipeline.

use crate::app::{App, ManualClock, reason, request_id, spawn_app, spawn_app_with, spawn_app_with_tokens};
use gateway::{AgentLimits, GatewayConfig, SystemClock};
use policy::Level;
use serde_json::{Value, json};
use std::sync::Arc;

/// Status, `Content-Type`, `Cache-Control` and body text of a GET to `path` on the listener.
async fn probe(
    http: &reqwest::Client,
    url: &str,
    path: &str,
    authorization: Option<&str>,
) -> (u16, String, String, String) {
    let mut req = http.get(format!("{url}{path}"));
    if let Some(a) = authorization {
        req = req.header("Authorization", a);
    }
    let resp = req.send().await.unwrap();
    let header = |n: &str| resp.headers().get(n).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let (status, content_type, cache) = (resp.status().as_u16(), header("content-type"), header("cache-control"));
    (status, content_type, cache, resp.text().await.unwrap())
}

/// `/readyz`'s status and parsed body.
async fn readyz(http: &reqwest::Client, url: &str) -> (u16, Value, String) {
    let (status, content_type, cache, text) = probe(http, url, "/readyz", None).await;
    assert_eq!(content_type, "application/json");
    assert_eq!(cache, "no-store");
    (status, serde_json::from_str(&text).unwrap(), text)
}

fn not_ready(store: &str, audit: &str, upstream_token: &str) -> Value {
    json!({"status": "not_ready", "checks": {"store": store, "audit": audit, "upstream_token": upstream_token, "schema": "ok"}})
}

#[tokio::test]
async fn healthz_answers_ok_without_a_key() {
    let app = spawn_app().await;
    let (status, content_type, cache, text) = probe(&app.http, &app.url, "/healthz", None).await;
    assert_eq!((status, content_type.as_str(), cache.as_str()), (200, "application/json", "no-store"));
    assert_eq!(text, r#"{"status":"ok"}"#);
}

#[tokio::test]
async fn readyz_is_ready_when_every_check_passes() {
    let app = spawn_app().await;
    let (status, _, text) = readyz(&app.http, &app.url).await;
    assert_eq!(status, 200);
    assert_eq!(text, r#"{"status":"ready","checks":{"store":"ok","audit":"ok","upstream_token":"ok","schema":"ok"}}"#);
    // Concurrent probes share evaluations and all get an answer.
    let probes: Vec<_> = (0..8)
        .map(|_| {
            let (http, url) = (app.http.clone(), app.url.clone());
            tokio::spawn(async move { readyz(&http, &url).await.0 })
        })
        .collect();
    for p in probes {
        assert_eq!(p.await.unwrap(), 200);
    }
}

#[tokio::test]
async fn readyz_names_upstream_token_when_the_credentials_are_wrong() {
    let secret = "wrong-secret-value";
    let app = spawn_app_with_tokens(
        GatewayConfig::default(),
        |c| c.auth = gateway::ClientAuth::Secret(secret.to_owned()),
        Arc::new(SystemClock),
    )
    .await;
    let (status, body, text) = readyz(&app.http, &app.url).await;
    assert_eq!(status, 503);
    assert_eq!(body, not_ready("ok", "ok", "credentials refused"));
    assert!(!text.contains(secret));
}

#[tokio::test]
async fn readyz_names_upstream_token_when_the_token_endpoint_is_unreachable() {
    // A port that was just free and is now closed: connecting is refused at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let token_url = format!("http://{closed}/test/oauth2/v2.0/token");
    let app = spawn_app_with_tokens(GatewayConfig::default(), |c| c.token_url = token_url, Arc::new(SystemClock)).await;
    let (status, body, text) = readyz(&app.http, &app.url).await;
    assert_eq!(status, 503);
    assert_eq!(body, not_ready("ok", "ok", "token endpoint unreachable"));
    assert!(!text.contains("127.0.0.1") && !text.contains("http"), "{text}");
}

#[tokio::test]
async fn a_cached_token_keeps_readyz_ready_until_it_can_no_longer_be_used() {
    let clock = ManualClock::at(1_700_000_000);
    let app = spawn_app_with_tokens(GatewayConfig::default(), |_| {}, clock.clone()).await;
    assert_eq!(readyz(&app.http, &app.url).await.0, 200);
    let App { url, emulator, http, store: _store, dir: _dir, gateway: _gateway } = app;
    emulator.shutdown().await;
    // The emulator's tokens last 3,599 s and are renewed 300 s ahead; renewal fails (the token
    // endpoint is gone) but the token is still good …
    clock.advance(3599 - 299);
    assert_eq!(readyz(&http, &url).await.0, 200);
    // … until it is 30 s from expiry: too close to send.
    clock.advance(300 - 30);
    let (status, body, _) = readyz(&http, &url).await;
    assert_eq!(status, 503);
    assert_eq!(body, not_ready("ok", "ok", "token endpoint unreachable"));
}

#[tokio::test]
async fn readyz_names_store_and_audit_when_the_store_is_closed() {
    let app = spawn_app().await;
    assert_eq!(readyz(&app.http, &app.url).await.0, 200);
    app.store.close().await;
    let (status, body, _) = readyz(&app.http, &app.url).await;
    assert_eq!(status, 503);
    assert_eq!(body, not_ready("unavailable", "not writable", "ok"));
    // Liveness does not depend on the store.
    assert_eq!(probe(&app.http, &app.url, "/healthz", None).await.0, 200);
}

#[tokio::test]
async fn health_probes_are_not_audited_rate_limited_or_forwarded() {
    let limits = AgentLimits { requests_per_minute: 1, concurrency: 1, clock: Arc::new(SystemClock) };
    let app = spawn_app_with(GatewayConfig { agent_limits: limits, ..Default::default() }).await;
    let key = app.agent("Probe Agent", &[("account", Level::Read)], false).await;
    let records = app.store.all_records().await.unwrap().len();
    let upstream = app.upstream_requests();
    let bearer = format!("Bearer {key}");
    for path in ["/healthz", "/readyz", "/healthz?verbose=1"] {
        for authorization in [None, Some(bearer.as_str()), Some("Bearer not-a-key")] {
            let (status, ..) = probe(&app.http, &app.url, path, authorization).await;
            assert_eq!(status, 200, "{path} {authorization:?}");
        }
    }
    assert_eq!(app.store.all_records().await.unwrap().len(), records, "no audit record");
    assert_eq!(app.upstream_requests(), upstream, "nothing forwarded");
    // The agent's one request a minute is still unspent.
    let resp = app.send(&key, "GET", "accounts?$select=name&$top=1", None).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn every_other_path_still_goes_through_the_pipeline() {
    let clock = ManualClock::at(1_700_000_000);
    let app = crate::app::spawn_app_on(clock.clone()).await;
    for path in ["/healthz/", "/readyz/", "/HEALTHZ", "/healthzz", "/api/data/v9.2/healthz"] {
        let resp = app.http.get(format!("{}{path}", app.url)).send().await.unwrap();
        assert_eq!(resp.status(), 401, "{path}");
        assert_eq!(reason(&resp).as_deref(), Some("malformed_key"), "{path}");
        assert_eq!(app.records(&request_id(&resp)).await.len(), 1, "{path}: one record");
        // The next unauthenticated request from this address starts a new flood window.
        clock.advance(60);
    }
    // Other methods on the probe paths are 405 (GET and HEAD only), not Dataverse calls.
    let records = app.store.all_records().await.unwrap().len();
    for path in ["/healthz", "/readyz"] {
        let resp = app.http.post(format!("{}{path}", app.url)).send().await.unwrap();
        assert_eq!(resp.status(), 405, "{path}");
        let allow = resp.headers().get("allow").unwrap().to_str().unwrap();
        assert!(allow.contains("GET") && allow.contains("HEAD"), "{allow}");
        let head = app.http.head(format!("{}{path}", app.url)).send().await.unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}");
    }
    assert_eq!(app.store.all_records().await.unwrap().len(), records);
}
