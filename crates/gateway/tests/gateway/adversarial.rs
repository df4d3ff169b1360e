//! Adversarial requests: case and percent-encoding tricks, `..` and `//`, duplicated or unknown
//! options, refused headers, malformed keys and not-yet-supported shapes. Each is refused and
//! audited, and nothing is forwarded.

use crate::app::{reason, request_id, spawn_app};
use policy::Level;

#[tokio::test]
async fn tricks_are_refused_audited_and_not_forwarded() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full), ("contact", Level::Read)], false).await;
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        ("GET", "Accounts", None, vec![], "unclassified"),
        ("GET", "ACCOUNTS?$top=1", None, vec![], "unclassified"),
        ("GET", "accounts?$SELECT=name", None, vec![], "syntax"),
        ("GET", "accounts?$Select=name", None, vec![], "syntax"),
        ("GET", "accounts?$select=name&$select=revenue", None, vec![], "syntax"),
        ("GET", "accounts?$top=1&$top=2", None, vec![], "syntax"),
        ("GET", "accounts?foo=bar", None, vec![], "syntax"),
        ("GET", "accounts?$frobnicate=1", None, vec![], "syntax"),
        ("GET", "accounts%2Fcontacts", None, vec![], "syntax"),
        ("GET", "accounts?$filter=name eq 'x' or 1 eq 1", None, vec![], "syntax"),
        ("GET", "accounts?$filter=name eq 'unterminated", None, vec![], "syntax"),
        ("GET", "accounts?$filter=revenue eq 'abc'", None, vec![], "syntax"),
        ("GET", "accounts?$select=emailaddress9", None, vec![], "syntax"),
        ("GET", "accounts?$expand=nosuchnavigation", None, vec![], "syntax"),
        ("GET", "accounts?$skip=10", None, vec![], "unclassified"),
        ("GET", "accounts?$apply=topcount(2,revenue)", None, vec![], "unclassified"),
        ("GET", "accounts?$apply=groupby((statuscode)", None, vec![], "syntax"),
        ("GET", "accounts?$apply=groupby((statuscode))&$orderby=name", None, vec![], "syntax"),
        ("GET", "accounts?$orderby=contact_customer_accounts/fullname", None, vec![], "syntax"),
        ("GET", "accounts?savedQuery=00000000-0000-0000-0000-000000000001", None, vec![], "unclassified"),
        (
            "GET",
            "accounts?$top=1",
            None,
            vec![("MSCRMCallerID", "00000000-0000-0000-0000-000000000001")],
            "refused_header",
        ),
        (
            "GET",
            "accounts?$top=1",
            None,
            vec![("CallerObjectId", "00000000-0000-0000-0000-000000000001")],
            "refused_header",
        ),
        ("GET", "accounts?$top=1", None, vec![("MSCRM.BypassCustomPluginExecution", "true")], "refused_header"),
        ("GET", "accounts?$top=1", None, vec![("MSCRM.SomethingNew", "1")], "refused_header"),
        ("GET", "accounts?$top=1", None, vec![("X-HTTP-Method", "DELETE")], "refused_header"),
        ("GET", "accounts?$top=1", None, vec![("Prefer", "odata.frobnicate")], "syntax"),
        ("POST", "accounts", Some(r#"{"name":"a","name":"b"}"#), vec![], "syntax"),
        ("POST", "accounts", Some(r#"{"name":"a","nosuchcolumn":1}"#), vec![], "syntax"),
        ("POST", "accounts", Some(r#"{"name":"\ud800"}"#), vec![], "syntax"),
        // A collection-valued bind writes the related rows: contacts are read-only here.
        (
            "POST",
            "accounts",
            Some(
                r#"{"name":"a","contact_customer_accounts@odata.bind":["/contacts(00000000-0000-0000-0000-000000000001)"]}"#,
            ),
            vec![],
            "table_read_only",
        ),
        // Associating from an allowed URL writes the table holding the lookup: contacts.
        (
            "POST",
            "accounts(00000000-0000-0000-0000-000000000002)/contact_customer_accounts/$ref",
            Some(r#"{"@odata.id":"/contacts(00000000-0000-0000-0000-000000000001)"}"#),
            vec![],
            "table_read_only",
        ),
        (
            "DELETE",
            "accounts(00000000-0000-0000-0000-000000000002)/lead_parent_account(00000000-0000-0000-0000-000000000001)/$ref",
            None,
            vec![],
            "table_off",
        ),
        // Deep insert creates rows of every table it names.
        ("POST", "accounts", Some(r#"{"name":"a","lead_parent_account":[{"lastname":"l"}]}"#), vec![], "table_off"),
        ("POST", "accounts", Some(r#"{"name":"a","primarycontactid":{"lastname":"c"}}"#), vec![], "table_read_only"),
        // An absolute reference must name this service.
        (
            "POST",
            "accounts",
            Some(
                r#"{"name":"a","primarycontactid@odata.bind":"https://evil.example/api/data/v9.2/contacts(00000000-0000-0000-0000-000000000001)"}"#,
            ),
            vec![],
            "syntax",
        ),
        // Creating an allowed row can still write another table's rows through a bind.
        (
            "POST",
            "accounts",
            Some(r#"{"name":"a","lead_parent_account@odata.bind":["/leads(00000000-0000-0000-0000-000000000001)"]}"#),
            vec![],
            "table_off",
        ),
        ("POST", "contacts", Some(r#"{"lastname":"a"}"#), vec![], "table_read_only"),
        ("GET", "leads?$top=1", None, vec![], "table_off"),
        ("PATCH", "EntityDefinitions(LogicalName='account')", Some("{}"), vec![], "metadata_write"),
    ];
    for (method, path, body, headers, want) in cases {
        let before = app.upstream_requests();
        let resp = app.send_with(&key, method, path, body, &headers).await;
        let got = reason(&resp);
        let status = resp.status().as_u16();
        let rid = request_id(&resp);
        let text = resp.text().await.unwrap();
        assert_eq!(got.as_deref(), Some(want), "{method} {path} {headers:?}: {status} {text}");
        assert!(status == 400 || status == 403, "{method} {path}: {status}");
        let err: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(err["error"]["code"].as_str().unwrap().starts_with("0x"), "{text}");
        assert!(!err["error"]["message"].as_str().unwrap().is_empty());
        assert_eq!(app.upstream_requests(), before, "{method} {path} was forwarded");
        let recs = app.records(&rid).await;
        assert_eq!(recs.len(), 1, "{method} {path}: one decision record");
        assert_eq!(recs[0].reason_code.as_deref(), Some(want));
    }
}

/// Dot segments and empty segments, sent raw (HTTP clients normalise them away).
#[tokio::test]
async fn dot_and_empty_segments_are_refused() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full)], false).await;
    for path in ["accounts/../leads", "accounts/%2E%2E/leads", "./accounts", "accounts//", "%2e/accounts"] {
        let before = app.upstream_requests();
        let (status, headers) = app.raw_get(&key, &format!("/api/data/v9.2/{path}")).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(headers.get("x-stanchion-reason").map(String::as_str), Some("syntax"), "{path}");
        assert_eq!(app.upstream_requests(), before);
        let recs = app.records(&headers["x-stanchion-request-id"]).await;
        assert_eq!(recs.len(), 1);
    }
}

#[tokio::test]
async fn bad_bearers_are_refused_without_look_up() {
    let clock = crate::app::ManualClock::at(1_700_000_000);
    let app = crate::app::spawn_app_on(clock.clone()).await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Read)], false).await;
    let forged = format!("{}{}", &key[..17], "A".repeat(43));
    for (bearer, want) in [
        ("", "malformed_key"),
        ("not-a-key", "malformed_key"),
        ("stn_0000000000000_short", "malformed_key"),
        ("stn_ZZZZZZZZZZZZ_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "unknown_key"),
        (forged.as_str(), "unknown_key"),
    ] {
        let before = app.upstream_requests();
        let resp = app.send(bearer, "GET", "accounts?$top=1", None).await;
        assert_eq!(resp.status(), 401, "{bearer}");
        assert_eq!(reason(&resp).as_deref(), Some(want), "{bearer}");
        let rid = request_id(&resp);
        assert_eq!(app.upstream_requests(), before);
        assert_eq!(app.records(&rid).await.len(), 1);
        clock.advance(60); // each in its own flood window, so each has its own record
    }
}

/// Design §5: unauthenticated repeats from one address within a window get no record of their
/// own; they are counted and the count becomes one folded record when the window is over; more
/// than the per-address limit in a window get 429 with `Retry-After`.
#[tokio::test]
async fn unauthenticated_floods_fold_into_one_counted_record() {
    let clock = crate::app::ManualClock::at(1_700_000_000);
    let agent_limits = gateway::AgentLimits { clock: clock.clone(), ..gateway::AgentLimits::default() };
    let config = gateway::GatewayConfig { agent_limits, unauthenticated_per_minute: 5, ..Default::default() };
    let app = crate::app::spawn_app_with(config).await;
    let before = app.store.all_records().await.unwrap().len();
    let mut statuses = Vec::new();
    for i in 0..8 {
        let resp = app.send("not-a-key", "GET", "accounts?$top=1", None).await;
        statuses.push(resp.status().as_u16());
        let own = app.records(&request_id(&resp)).await.len();
        assert_eq!(own, usize::from(i == 0), "request {i}: only the first has a record");
        if i == 7 {
            assert_eq!(resp.headers()["retry-after"], "60");
            assert_eq!(reason(&resp).as_deref(), Some("rate_limited"));
        }
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
    assert_eq!(app.store.all_records().await.unwrap().len(), before + 1, "a flood is not a write load");

    // The next refusal after the window records itself and the folded count.
    clock.advance(60);
    let resp = app.send("not-a-key", "GET", "accounts?$top=1", None).await;
    assert_eq!(resp.status(), 401);
    let records = app.store.all_records().await.unwrap();
    assert_eq!(records.len(), before + 3);
    let folded = records.iter().find(|r| r.reason_code.as_deref() == Some("unauthenticated_folded")).unwrap();
    assert_eq!(folded.rows, Some(7));
    let sentence = folded.sentence();
    assert!(sentence.starts_with("An unknown caller (127.0.0.1) sent 7 more requests — denied"), "{sentence}");
}

/// Literals from `$filter`, keys and bodies never reach the store.
#[tokio::test]
async fn values_never_reach_the_store() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full)], false).await;
    let secret = "Zanzibar-Marker-7731";
    app.send(&key, "GET", &format!("accounts?$filter=name eq '{secret}'"), None).await;
    app.send(&key, "POST", "accounts", Some(&format!(r#"{{"name":"{secret}","revenue":98765.4321}}"#))).await;
    app.send(&key, "GET", &format!("accounts(name='{secret}')"), None).await;
    app.send(&key, "GET", &format!("accounts?$filter=contains(name,'{secret}')&$top=3141592653"), None).await;
    app.store.close().await;
    for entry in std::fs::read_dir(app.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(secret), "{} holds the literal", path.display());
        assert!(!text.contains("98765.4321"), "{} holds the number", path.display());
        // Ten digits: a short number could turn up by chance in the hex of ids and hashes.
        assert!(!text.contains("3141592653"), "{} holds the $top value", path.display());
    }
}
