//! `/metrics` on the admin router: counts derived from the committed audit records (so they
//! agree with the log), in OpenMetrics text, over real HTTP.

use crate::app::spawn_app;
use policy::Level;

/// The value of the first sample line that starts with `prefix`.
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_count_what_the_audit_log_records() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Read)], false).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = format!("http://{}", listener.local_addr().unwrap());
    let router = gateway::admin_router(app.gateway.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    for _ in 0..2 {
        assert_eq!(app.send(&key, "GET", "accounts?$select=name&$top=1", None).await.status(), 200);
    }
    assert_eq!(app.send(&key, "GET", "contacts?$select=fullname", None).await.status(), 403);
    assert_eq!(app.send("not-a-key", "GET", "accounts", None).await.status(), 401);
    assert_eq!(app.send("not-a-key", "GET", "accounts", None).await.status(), 401, "folded: no record");

    let resp = app.http.get(format!("{admin}/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = resp.text().await.unwrap();
    let allowed = r#"stanchion_requests_total{agent="Sales Ops Agent",decision="allowed",reason=""}"#;
    assert_eq!(sample(&text, allowed), Some(2.0), "{text}");
    let denied = r#"stanchion_requests_total{agent="Sales Ops Agent",decision="denied",reason="table_off"}"#;
    assert_eq!(sample(&text, denied), Some(1.0), "{text}");
    let unknown = r#"stanchion_requests_total{agent="unknown",decision="denied",reason="malformed_key"}"#;
    assert_eq!(sample(&text, unknown), Some(1.0), "{text}");
    assert_eq!(sample(&text, "stanchion_unauthenticated_folded_total"), Some(1.0), "{text}");
    let table = r#"stanchion_table_requests_total{agent="Sales Ops Agent",table="account",decision="allowed"}"#;
    assert_eq!(sample(&text, table), Some(2.0), "{text}");
    assert_eq!(sample(&text, r#"stanchion_upstream_responses_total{status="200"}"#), Some(2.0), "{text}");
    let latency = r#"stanchion_request_duration_seconds_count{decision="allowed"}"#;
    assert_eq!(sample(&text, latency), Some(2.0), "{text}");
    // Two attempts, two outcomes, two refusals, the agent's creation is on the admin chain.
    assert!(sample(&text, "stanchion_audit_commit_duration_seconds_count").is_some_and(|n| n >= 6.0), "{text}");
    assert!(!text.contains("not-a-key") && !text.contains(&key), "no secrets in metrics");
    // The admin router also answers the probes; anything else is 404.
    assert_eq!(app.http.get(format!("{admin}/readyz")).send().await.unwrap().status(), 200);
    assert_eq!(app.http.get(format!("{admin}/api/data/v9.2/accounts")).send().await.unwrap().status(), 404);
}
