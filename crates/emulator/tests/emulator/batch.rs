//! `$batch` (spec §7): change sets as one transaction with `$n` references, requests outside
//! change sets, stopping at the first failure or continuing with `odata.continue-on-error`,
//! and answers framed as both real clients parse them (`e2e/fixtures/batch/README.md`).

use crate::common::{Emu, spawn};
use dataverse::batch::{PartResponse, ResponseItem, read_batch_response};
use serde_json::{Value, json};

/// One inner request: method, target, body, Content-ID.
type Req<'a> = (&'a str, String, Option<Value>, Option<&'a str>);

fn part(out: &mut String, boundary: &str, (method, target, body, cid): &Req<'_>) {
    out.push_str(&format!("--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"));
    if let Some(id) = cid {
        out.push_str(&format!("Content-ID: {id}\r\n"));
    }
    out.push_str(&format!("\r\n{method} {target} HTTP/1.1\r\nAccept: application/json\r\n"));
    match body {
        Some(b) => out.push_str(&format!("Content-Type: application/json; type=entry\r\n\r\n{b}\r\n")),
        None => out.push_str("\r\n\r\n"),
    }
}

/// A batch of items: each a single request or a change set of requests.
fn batch(items: &[Vec<Req<'_>>]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if item.len() == 1 && item[0].0 == "GET" {
            part(&mut out, "batch_b", &item[0]);
            continue;
        }
        let cs = format!("changeset_{i}");
        out.push_str(&format!("--batch_b\r\nContent-Type: multipart/mixed; boundary={cs}\r\n\r\n"));
        for r in item {
            part(&mut out, &cs, r);
        }
        out.push_str(&format!("--{cs}--\r\n"));
    }
    out.push_str("--batch_b--\r\n");
    out
}

async fn send(e: &Emu, body: String, continue_on_error: bool) -> (u16, Vec<ResponseItem>) {
    let mut req = e
        .http
        .post(e.url("$batch"))
        .bearer_auth(&e.token)
        .header("content-type", "multipart/mixed; boundary=batch_b")
        .header("odata-version", "4.0");
    if continue_on_error {
        req = req.header("prefer", "odata.continue-on-error");
    }
    let resp = req.body(body).send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("multipart/mixed; boundary=batchresponse_"), "{ct}");
    let bytes = resp.bytes().await.unwrap();
    let items = read_batch_response(&ct, &bytes, &Default::default())
        .unwrap_or_else(|err| panic!("{err}: {}", String::from_utf8_lossy(&bytes)));
    (status, items)
}

fn statuses(items: &[ResponseItem]) -> Vec<Vec<u16>> {
    items
        .iter()
        .map(|i| match i {
            ResponseItem::Response(r) => vec![r.status],
            ResponseItem::ChangeSet(rs) => rs.iter().map(|r: &PartResponse| r.status).collect(),
        })
        .collect()
}

async fn count(e: &Emu, set: &str) -> String {
    e.get(&format!("{set}/$count")).await.text().await.unwrap()
}

#[tokio::test]
async fn a_change_set_creates_related_rows_through_content_ids() {
    let e = spawn().await;
    let body = batch(&[
        vec![
            ("POST", format!("{}/contacts", e.base()), Some(json!({"lastname": "Batch"})), Some("1")),
            ("POST", "accounts".into(), Some(json!({"name": "Batch Co", "primarycontactid@odata.bind": "$1"})), Some("2")),
            ("PATCH", "$2".into(), Some(json!({"telephone1": "555-0100"})), Some("3")),
            ("PUT", "$1/jobtitle".into(), Some(json!({"value": "Buyer"})), Some("4")),
        ],
        vec![("GET", "accounts?$select=name,telephone1&$filter=name%20eq%20'Batch%20Co'&$expand=primarycontactid($select=lastname,jobtitle)".into(), None, None)],
    ]);
    let (status, items) = send(&e, body, false).await;
    assert_eq!(status, 200);
    assert_eq!(statuses(&items), [vec![204, 204, 204, 204], vec![200]]);
    let ResponseItem::ChangeSet(created) = &items[0] else { panic!("change set") };
    let ids: Vec<Option<&str>> = created.iter().map(|r| r.content_id.as_deref()).collect();
    assert_eq!(ids, [Some("1"), Some("2"), Some("3"), Some("4")], "Content-IDs echoed");
    assert!(created[0].headers.iter().any(|(n, v)| n == "odata-entityid" && v.contains("/contacts(")));
    let ResponseItem::Response(get) = &items[1] else { panic!("a response") };
    let v: Value = serde_json::from_slice(&get.body).unwrap();
    assert_eq!(v["value"][0]["telephone1"], "555-0100");
    assert_eq!(v["value"][0]["primarycontactid"]["lastname"], "Batch");
    assert_eq!(v["value"][0]["primarycontactid"]["jobtitle"], "Buyer");
}

#[tokio::test]
async fn a_failing_part_rolls_its_change_set_back_and_stops_the_batch() {
    let e = spawn().await;
    let (accounts, contacts) = (count(&e, "accounts").await, count(&e, "contacts").await);
    let missing = "00000000-0000-0000-0000-00000000dead";
    let body = batch(&[
        vec![
            ("POST", "contacts".into(), Some(json!({"lastname": "Rolled back"})), Some("1")),
            ("DELETE", format!("accounts({missing})"), None, Some("2")),
        ],
        vec![("POST", "accounts".into(), Some(json!({"name": "Never"})), Some("3"))],
    ]);
    // Dataverse: without continue-on-error the batch status mirrors the first failure.
    let (status, items) = send(&e, body.clone(), false).await;
    assert_eq!(status, 404);
    assert_eq!(statuses(&items), [vec![404]], "only the failing part answers; the rest did not run");
    let ResponseItem::ChangeSet(failed) = &items[0] else { panic!("change set") };
    assert_eq!(failed[0].content_id.as_deref(), Some("2"));
    let err: Value = serde_json::from_slice(&failed[0].body).unwrap();
    assert_eq!(err["error"]["code"], "0x80040217");
    assert_eq!(count(&e, "contacts").await, contacts, "the change set left nothing behind");
    assert_eq!(count(&e, "accounts").await, accounts, "the later change set did not run");
    // With continue-on-error the later items run and the batch answers 200.
    let (status, items) = send(&e, body, true).await;
    assert_eq!(status, 200);
    assert_eq!(statuses(&items), [vec![404], vec![204]]);
    assert_eq!(count(&e, "contacts").await, contacts);
    assert_ne!(count(&e, "accounts").await, accounts);
}

#[tokio::test]
async fn malformed_batches_are_400() {
    let e = spawn().await;
    for body in [
        // A GET inside a change set.
        "--batch_b\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET accounts HTTP/1.1\r\n\r\n\r\n--cs--\r\n--batch_b--\r\n".to_owned(),
        // `$n` that no earlier part declared.
        batch(&[vec![("PATCH", "$9".into(), Some(json!({"name": "x"})), Some("1"))]]),
        // No closing delimiter.
        "--batch_b\r\nContent-Type: application/http\r\n\r\nGET accounts HTTP/1.1\r\n\r\n".to_owned(),
    ] {
        let resp = e
            .http
            .post(e.url("$batch"))
            .bearer_auth(&e.token)
            .header("content-type", "multipart/mixed; boundary=batch_b")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{body}");
        let v = crate::common::json(resp).await;
        assert!(v["error"]["message"].as_str().unwrap().len() > 10, "{v}");
    }
}
