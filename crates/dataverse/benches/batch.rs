//! A 100-part `$batch` through the protocol core as the gateway handles it: framed and parsed
//! into typed requests, every part classified, then re-printed and re-framed for forwarding
//! (issue: writes and `$batch`, goal ≤ 300 µs). The batch mixes what agents send: 40 creates
//! with a bind in two change sets, 30 updates, 30 queries.
//!
//! Run: `cargo bench -p dataverse --bench batch`; figures go in BENCHMARKS.md.

use criterion::{Criterion, criterion_group, criterion_main};
use dataverse::batch::{parse_batch, print_batch, write_batch};
use dataverse::{ParseLimits, RawRequest, Schema, classify};
use std::hint::black_box;

fn part(out: &mut String, method: &str, target: &str, body: Option<&str>, cid: Option<usize>) {
    out.push_str("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
    if let Some(id) = cid {
        out.push_str(&format!("Content-ID: {id}\r\n"));
    }
    out.push_str(&format!("\r\n{method} {target} HTTP/1.1\r\nAccept: application/json\r\n"));
    match body {
        Some(b) => out.push_str(&format!("Content-Type: application/json\r\n\r\n{b}\r\n")),
        None => out.push_str("\r\n\r\n"),
    }
}

/// The 100-part batch body (boundary `b`).
fn hundred() -> String {
    let mut out = String::new();
    let contact = "00000000-0000-0000-0000-0000000000c1";
    for cs in 0..2 {
        out.push_str(&format!("--b\r\nContent-Type: multipart/mixed; boundary=cs{cs}\r\n\r\n"));
        for i in 0..20 {
            out.push_str(&format!("--cs{cs}\r\n"));
            let rev = (i + 1) * 1000;
            let body = format!(
                r#"{{"name":"Batch Account {cs}-{i}","revenue":{rev}.5,"telephone1":"555-01{i:02}","primarycontactid@odata.bind":"/contacts({contact})"}}"#
            );
            part(&mut out, "POST", "/api/data/v9.2/accounts", Some(&body), Some(i + 1));
        }
        out.push_str(&format!("--cs{cs}--\r\n"));
    }
    for i in 0..30 {
        out.push_str("--b\r\n");
        let id = format!("00000000-0000-0000-0000-{i:012}");
        part(
            &mut out,
            "PATCH",
            &format!("accounts({id})"),
            Some(r#"{"description":"updated","numberofemployees":7}"#),
            None,
        );
    }
    for i in 0..30 {
        out.push_str("--b\r\n");
        let q = format!(
            "accounts?$select=name,revenue&$filter=statecode%20eq%200%20and%20contains(name,'{i}')&$orderby=name&$top=10"
        );
        part(&mut out, "GET", &q, None, None);
    }
    out.push_str("--b--\r\n");
    out
}

fn benches(c: &mut Criterion) {
    let schema = Schema::standard();
    let limits = ParseLimits::default();
    let body = hundred();
    let headers = [("Content-Type", "multipart/mixed; boundary=b"), ("OData-Version", "4.0")];
    let raw = RawRequest {
        method: "POST",
        path: "/api/data/v9.2/$batch",
        query: None,
        headers: &headers,
        body: body.as_bytes(),
    };
    let parsed = parse_batch(&schema, &raw, &limits).unwrap();
    assert_eq!(parsed.parts().count(), 100);
    c.bench_function("batch_100_parse_classify_print", |b| {
        b.iter(|| {
            let batch = parse_batch(&schema, black_box(&raw), &limits).unwrap();
            for p in batch.parts() {
                black_box(classify(&schema, &p.request));
            }
            let printed = print_batch(&schema, &batch, "https://org.crm.dynamics.com/api/data/v9.2").unwrap();
            write_batch(&printed, "0f8fad5b-d9cb-469f-a165-70867728950e").unwrap()
        })
    });
    c.bench_function("batch_100_parse_only", |b| b.iter(|| parse_batch(&schema, black_box(&raw), &limits).unwrap()));
}

criterion_group!(batch_benches, benches);
criterion_main!(batch_benches);
