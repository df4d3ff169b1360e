//! `$batch` parts as typed requests (design §6.2) from the real clients' captured batches
//! (`e2e/fixtures/batch/`), and the canonical batch printed from them.

use dataverse::batch::{BatchRequests, TypedItem, parse_batch, print_batch, write_batch};
use dataverse::query::{CompareOp, Filter, Literal, Operand};
use dataverse::{Operation, ParseLimits, RawRequest, RequestKind, Schema};
use std::path::PathBuf;

/// A captured request file: its headers (name, value) and body.
fn fixture(path: &str) -> (Vec<(String, String)>, Vec<u8>) {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../e2e/fixtures/batch").join(path);
    let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("header end");
    let head = std::str::from_utf8(&bytes[..split]).unwrap();
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .filter(|(n, _)| !n.eq_ignore_ascii_case("authorization") && !n.eq_ignore_ascii_case("content-length"))
        .collect();
    (headers, bytes[split + 4..].to_vec())
}

fn parse(headers: &[(String, String)], body: &[u8]) -> Result<BatchRequests, dataverse::ParseError> {
    let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let raw = RawRequest { method: "POST", path: "/api/data/v9.2/$batch", query: None, headers: &pairs, body };
    parse_batch(&Schema::standard(), &raw, &ParseLimits::default())
}

/// Printing the parsed batch and parsing it again gives the same requests.
fn round_trip(batch: &BatchRequests, headers: &[(String, String)]) {
    let framed =
        write_batch(&print_batch(&Schema::standard(), batch, "https://org.example/api/data/v9.2").unwrap(), "x")
            .unwrap();
    let mut h: Vec<(String, String)> =
        headers.iter().filter(|(n, _)| !n.eq_ignore_ascii_case("content-type")).cloned().collect();
    h.push(("Content-Type".into(), framed.content_type.clone()));
    let again = parse(&h, &framed.body).expect("the printed batch parses");
    let requests = |b: &BatchRequests| {
        b.parts().map(|p| (p.content_id.clone(), p.target_ref.clone(), p.request.clone())).collect::<Vec<_>>()
    };
    assert_eq!(requests(&again), requests(batch));
}

#[test]
fn every_captured_batch_parses_to_typed_requests_and_round_trips() {
    for path in [
        "dwa/dwa-batch-changeset-contentid.http",
        "dwa/dwa-batch-gets.http",
        "dwa/dwa-batch-mixed-inchangeset-false.http",
        "dwa/dwa-batch-all-outside-changeset.http",
        "dwa/dwa-batch-continue-on-error.http",
        "python/py-batch-changeset-contentid.http",
        "python/py-batch-gets.http",
        "python/py-batch-mixed.http",
        "python/py-batch-continue-on-error.http",
    ] {
        let (headers, body) = fixture(path);
        let batch = parse(&headers, &body).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(batch.parts().count() > 0, "{path}");
        for p in batch.parts() {
            assert_ne!(p.request.kind(), RequestKind::Batch, "{path}");
        }
        let unsupported: Vec<usize> = batch
            .parts()
            .filter(|p| matches!(p.request.operation, Operation::Unsupported { .. }))
            .map(|p| p.number)
            .collect();
        match unsupported.first() {
            None => round_trip(&batch, &headers),
            Some(n) => {
                let err = print_batch(&Schema::standard(), &batch, "https://org.example/api/data/v9.2").unwrap_err();
                assert!(err.to_string().starts_with(&format!("part {n}")), "{path}: {err}");
                println!("{path}: part {n} is not supported yet, not printed");
            }
        }
    }
}

#[test]
fn content_id_targets_address_the_created_row() {
    let (headers, body) = fixture("dwa/dwa-batch-changeset-contentid.http");
    let batch = parse(&headers, &body).unwrap();
    let TypedItem::ChangeSet(parts) = &batch.items[0] else { panic!("a change set first") };
    let patch = parts.iter().find(|p| p.target_ref.is_some()).expect("a $n target");
    let id = patch.target_ref.as_deref().unwrap();
    let create = parts.iter().find(|p| p.content_id.as_deref() == Some(id)).unwrap();
    let Operation::Create { table, .. } = &create.request.operation else { panic!("{id} is a create") };
    assert_eq!(patch.request.table(), Some(table.as_str()));
    assert!(create.origin.as_deref() == Some("http://127.0.0.1:8765"), "{:?}", create.origin);
}

#[test]
fn unencoded_inner_urls_from_the_python_sdk_parse() {
    let (headers, body) = fixture("python/py-batch-gets.http");
    let batch = parse(&headers, &body).unwrap();
    let first = batch.parts().next().unwrap();
    let Operation::Query(q) = &first.request.operation else { panic!("a query") };
    let want = Filter::Compare {
        left: Operand::Column("name".into()),
        op: CompareOp::Eq,
        right: Operand::Value(Literal::String("O'Neil & Co".into())),
    };
    assert_eq!(q.filter.as_ref(), Some(&want));
}

#[test]
fn inner_urls_outside_the_service_and_nested_batches_are_refused() {
    let part = |method: &str, target: &str| {
        format!(
            "--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n{method} {target} HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n--b--\r\n"
        )
    };
    let headers = vec![("Content-Type".to_owned(), "multipart/mixed; boundary=b".to_owned())];
    for (method, target, want) in [
        ("GET", "/api/data/v9.1/accounts", "API version"),
        ("GET", "/other/accounts", "not under /api/data/v9.2/"),
        ("GET", "https://org.example/other/accounts", "not under /api/data/v9.2/"),
        ("POST", "$batch", "Content-ID"),
        ("POST", "/api/data/v9.2/$batch", "another batch"),
        ("GET", "accounts?$frobnicate=1", "part 1"),
    ] {
        let err = parse(&headers, part(method, target).as_bytes()).expect_err(target);
        assert!(err.to_string().contains(want), "{target}: {err}");
        assert_eq!(err.to_dataverse().status, 400, "{target}");
    }
    // Query options on the outer request mean nothing to a batch: refused, not dropped.
    let pairs = [("Content-Type", "multipart/mixed; boundary=b")];
    let body = part("GET", "accounts");
    let raw = RawRequest {
        method: "POST",
        path: "/api/data/v9.2/$batch",
        query: Some("$select=name"),
        headers: &pairs,
        body: body.as_bytes(),
    };
    assert!(parse_batch(&Schema::standard(), &raw, &ParseLimits::default()).is_err());
    // Relative and path-absolute forms are the same request.
    let a = parse(&headers, part("GET", "accounts?$select=name").as_bytes()).unwrap();
    let b = parse(&headers, part("GET", "/api/data/v9.2/accounts?$select=name").as_bytes()).unwrap();
    assert_eq!(a.parts().next().unwrap().request, b.parts().next().unwrap().request);
}
