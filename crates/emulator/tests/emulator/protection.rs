//! Service protection limits (spec §11, §10.3) with `EmulatorConfig::protection`, on a frozen
//! clock (no sleeping): the request over the limit is 429 with `Retry-After` and Dataverse's
//! code and message, moving the clock lets requests through again, a throttled write executes
//! nothing, callers are counted apart, and the token endpoint is never throttled. The
//! concurrency cap's refusals are unit-tested in `src/protection.rs` (holding requests open
//! over real HTTP is not deterministic).

use crate::common::{Emu, assert_error, config, fetch_token, header, root, spawn, spawn_with};
use chrono::{DateTime, Duration, TimeZone as _, Utc};
use emulator::{ClientCredential, EmulatorConfig, Protection, Storage};
use serde_json::json;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 2, 9, 0, 0).unwrap()
}

fn protected(protect: &str) -> EmulatorConfig {
    EmulatorConfig { protection: Some(protect.parse::<Protection>().unwrap()), ..config(Storage::InMemory) }
}

/// An emulator with these limits, its clock frozen at [`t0`].
async fn spawn_protected(protect: &str) -> Emu {
    let e = spawn_with(protected(protect)).await;
    e.emu.set_clock(Some(t0()));
    e
}

const QUERY: &str = "accounts?$select=name";

#[tokio::test]
async fn the_request_over_the_limit_is_429_with_retry_after_and_the_code() {
    let e = spawn_protected("requests=3,window=300s").await;
    for left in ["2", "1", "0"] {
        let resp = e.get(QUERY).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(header(&resp, "x-ms-ratelimit-burst-remaining-xrm-requests").as_deref(), Some(left));
    }
    e.emu.set_clock(Some(t0() + Duration::seconds(100)));
    let resp = e.get(QUERY).await;
    // Room comes back when the first request leaves the window: 300 s after it, 200 s from now.
    assert_eq!(header(&resp, "retry-after").as_deref(), Some("200"));
    assert!(header(&resp, "x-ms-service-request-id").is_some());
    let message = assert_error(resp, 429, "0x80072322").await;
    assert_eq!(message, "Number of requests exceeded the limit of 3 over time window of 300 seconds.");
}

#[tokio::test]
async fn moving_the_clock_lets_requests_through_again() {
    let e = spawn_protected("requests=2,window=1m").await;
    assert_eq!(e.get(QUERY).await.status(), 200);
    e.emu.set_clock(Some(t0() + Duration::seconds(30)));
    assert_eq!(e.get(QUERY).await.status(), 200);
    let resp = e.get(QUERY).await;
    assert_eq!(header(&resp, "retry-after").as_deref(), Some("30"));
    assert_error(resp, 429, "0x80072322").await;
    // The window slides: one minute after the first request, one request fits again …
    e.emu.set_clock(Some(t0() + Duration::seconds(60)));
    assert_eq!(e.get(QUERY).await.status(), 200);
    let resp = e.get(QUERY).await;
    assert_eq!(header(&resp, "retry-after").as_deref(), Some("30"));
    assert_eq!(resp.status(), 429);
    // … and a whole window later everything does.
    e.emu.set_clock(Some(t0() + Duration::seconds(120)));
    assert_eq!(e.get(QUERY).await.status(), 200);
    assert_eq!(e.get(QUERY).await.status(), 200);
}

#[tokio::test]
async fn a_throttled_post_creates_nothing() {
    let e = spawn_protected("requests=1").await;
    let filter = "accounts?$select=name&$filter=name eq 'Throttled Co'";
    assert_eq!(e.get_json(filter).await["value"].as_array().unwrap().len(), 0);
    let served = e.emu.api_requests();
    let resp = e.send("POST", "accounts", Some(&json!({"name": "Throttled Co"})), &[]).await;
    assert_eq!(header(&resp, "retry-after").as_deref(), Some("300"));
    assert!(header(&resp, "odata-entityid").is_none());
    assert_error(resp, 429, "0x80072322").await;
    assert_eq!(e.emu.api_requests(), served + 1);
    e.emu.set_clock(Some(t0() + Duration::seconds(300)));
    assert_eq!(e.get_json(filter).await["value"].as_array().unwrap().len(), 0, "nothing was created");
}

#[tokio::test]
async fn callers_are_counted_apart_and_tokens_are_never_throttled() {
    let clients =
        ["one", "two"].map(|id| ClientCredential { client_id: id.into(), client_secret: format!("{id}-secret-value") });
    let e = spawn_with(EmulatorConfig { clients: clients.to_vec(), ..protected("requests=1,concurrency=4") }).await;
    e.emu.set_clock(Some(t0()));
    assert_eq!(e.get(QUERY).await.status(), 200);
    assert_eq!(e.get(QUERY).await.status(), 429);
    // The token endpoint is not a Web API route: it still answers, for either client.
    let other = fetch_token(&e.http, &root(&e.emu), &e.emu.org_url, &clients[1]).await;
    fetch_token(&e.http, &root(&e.emu), &e.emu.org_url, &clients[0]).await;
    let resp = e.http.get(e.url(QUERY)).bearer_auth(&other).send().await.unwrap();
    assert_eq!(resp.status(), 200, "another application user has its own window");
}

#[tokio::test]
async fn without_protection_nothing_is_throttled() {
    let e = spawn().await;
    e.emu.set_clock(Some(t0()));
    for _ in 0..20 {
        let resp = e.get(QUERY).await;
        assert_eq!(resp.status(), 200);
        assert!(header(&resp, "x-ms-ratelimit-burst-remaining-xrm-requests").is_none());
    }
}
