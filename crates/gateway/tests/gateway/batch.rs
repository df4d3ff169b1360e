//! `$batch` through the gateway (design §6.2): every part classified before anything is
//! forwarded, one 403 naming the first failing part, malformed batches refused up front, the
//! re-printed batch forwarded, every part's answer filtered and its links rewritten, and one
//! audit record per part.

use crate::app::{App, reason, request_id, spawn_app};
use dataverse::batch::{ResponseItem, read_batch_response};
use policy::Level;
use store::Actor;

fn part(method: &str, target: &str, body: Option<&str>, cid: Option<&str>) -> String {
    let mut out = String::from("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
    if let Some(id) = cid {
        out.push_str(&format!("Content-ID: {id}\r\n"));
    }
    out.push_str(&format!("\r\n{method} {target} HTTP/1.1\r\nAccept: application/json\r\n"));
    match body {
        Some(b) => out.push_str(&format!("Content-Type: application/json\r\n\r\n{b}\r\n")),
        None => out.push_str("\r\n\r\n"),
    }
    out
}

fn change_set(parts: &[String]) -> String {
    let mut out = String::from("Content-Type: multipart/mixed; boundary=cs\r\n\r\n");
    for p in parts {
        out.push_str("--cs\r\n");
        out.push_str(p);
    }
    out.push_str("--cs--\r\n");
    out
}

fn batch(items: &[String]) -> String {
    let mut out = String::new();
    for i in items {
        out.push_str("--b\r\n");
        out.push_str(i);
    }
    out.push_str("--b--\r\n");
    out
}

async fn post(app: &App, key: &str, body: String) -> reqwest::Response {
    app.http
        .post(app.api("$batch"))
        .header("Authorization", format!("Bearer {key}"))
        .header("Content-Type", "multipart/mixed; boundary=b")
        .header("OData-Version", "4.0")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_allowed_batch_is_forwarded_filtered_and_audited_per_part() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full), ("contact", Level::Read)], false).await;
    app.store
        .set_column_hidden(&Actor::Cli("cli:t@h".into()), "Sales Ops Agent", "account", "accounts", "telephone1", true)
        .await
        .unwrap();
    let body = batch(&[
        change_set(&[
            part("POST", "accounts", Some(r#"{"name":"Batch Co","revenue":5}"#), Some("1")),
            part("PATCH", "$1", Some(r#"{"description":"patched"}"#), Some("2")),
        ]),
        part("GET", &app.api("accounts?$filter=name eq 'Batch Co'"), None, None),
    ]);
    let before = app.upstream_requests();
    let resp = post(&app, &key, body).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.upstream_requests(), before + 1, "forwarded as one request");
    let rid = request_id(&resp);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("multipart/mixed; boundary=batchresponse_"), "{ct}");
    let bytes = resp.bytes().await.unwrap();
    let items = read_batch_response(&ct, &bytes, &Default::default()).unwrap();
    let ResponseItem::ChangeSet(created) = &items[0] else { panic!("a change set") };
    assert_eq!(created.iter().map(|r| r.status).collect::<Vec<_>>(), [204, 204]);
    let entity = created[0].headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("odata-entityid")).unwrap();
    assert!(entity.1.starts_with(&app.api("accounts(")), "links point at the gateway: {}", entity.1);
    let ResponseItem::Response(get) = &items[1] else { panic!("a response") };
    let v: serde_json::Value = serde_json::from_slice(&get.body).unwrap();
    let row = &v["value"][0];
    assert_eq!(row["description"], "patched");
    assert!(row.get("telephone1").is_none(), "hidden column dropped inside the batch: {row}");
    assert!(v["@odata.context"].as_str().unwrap().starts_with(&app.api("$metadata")), "{v}");
    // The batch's attempt and outcome, and one outcome per part.
    let records = app.records(&rid).await;
    let parts: Vec<Option<u32>> = records.iter().filter(|r| r.part.is_some()).map(|r| r.part).collect();
    assert_eq!(parts, [Some(1), Some(2), Some(3)], "{records:#?}");
    let batch_records: Vec<_> = records.iter().filter(|r| r.part.is_none()).collect();
    assert_eq!(batch_records.len(), 2, "attempt and outcome");
    assert_eq!(batch_records[0].rows, Some(3));
    let sentence = batch_records[1].sentence();
    assert!(sentence.starts_with("Sales Ops Agent sent a batch of 3 requests"), "{sentence}");
    for r in &records {
        println!("{}", r.sentence());
    }
    let part = records.iter().find(|r| r.part == Some(1)).unwrap().sentence();
    assert!(part.contains("created account"), "{part}");
}

#[tokio::test]
async fn one_denied_part_refuses_the_whole_batch() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full), ("contact", Level::Read)], false).await;
    for (body, first) in [
        (
            batch(&[
                part("GET", "accounts?$select=name", None, None),
                part("GET", "leads?$select=fullname", None, None),
                part("GET", "contacts?$select=fullname", None, None),
            ]),
            "part 2",
        ),
        (
            batch(&[change_set(&[
                part("POST", "accounts", Some(r#"{"name":"x"}"#), Some("1")),
                part("POST", "contacts", Some(r#"{"lastname":"y"}"#), Some("2")),
            ])]),
            "part 2 (Content-ID 2)",
        ),
        (
            batch(&[part("GET", "accounts?$select=name", None, None)
                .replace("Accept:", "MSCRMCallerID: 00000000-0000-0000-0000-000000000001\r\nAccept:")]),
            "part 1",
        ),
    ] {
        let before = app.upstream_requests();
        let resp = post(&app, &key, body).await;
        assert_eq!(resp.status(), 403);
        assert_eq!(reason(&resp).as_deref(), Some("batch_part_denied"));
        let rid = request_id(&resp);
        let v: serde_json::Value = resp.json().await.unwrap();
        let message = v["error"]["message"].as_str().unwrap();
        assert!(message.contains(first), "{message}");
        assert_eq!(app.upstream_requests(), before, "nothing forwarded");
        let records = app.records(&rid).await;
        assert_eq!(records.len(), 1, "one decision record");
        assert_eq!(records[0].reason_code.as_deref(), Some("batch_part_denied"));
        let sentence = records[0].sentence();
        println!("{sentence}");
        assert!(sentence.contains("sent a batch of") && sentence.contains("denied"), "{sentence}");
    }
}

#[tokio::test]
async fn malformed_batches_are_refused_up_front() {
    let app = spawn_app().await;
    let key = app.agent("Sales Ops Agent", &[("account", Level::Full)], false).await;
    for body in [
        batch(&[change_set(&[part("GET", "accounts", None, Some("1"))])]),
        batch(&[part("GET", "https://evil.example/api/data/v9.2/accounts", None, None)]),
        batch(&[part("GET", "/api/data/v9.1/accounts", None, None)]),
        batch(&[change_set(&[part("PATCH", "$4", Some(r#"{"name":"x"}"#), Some("1"))])]),
        batch(&[part("POST", "$batch", None, None)]),
        "--b\r\nContent-Type: application/http\r\n\r\nGET accounts HTTP/1.1\r\n\r\n".to_owned(),
    ] {
        let before = app.upstream_requests();
        let resp = post(&app, &key, body.clone()).await;
        assert_eq!(resp.status(), 400, "{body}");
        assert_eq!(reason(&resp).as_deref(), Some("syntax"), "{body}");
        assert_eq!(app.upstream_requests(), before, "{body}");
    }
}
