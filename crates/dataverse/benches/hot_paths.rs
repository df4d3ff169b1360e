//! The gateway's per-request CPU work in the protocol core: parse, classify, print (forwarded
//! and redacted), and the JSON tree against serde_json on the same payload.
//!
//! Run: `cargo bench -p dataverse --bench hot_paths`; figures go in BENCHMARKS.md.

use criterion::{Criterion, criterion_group, criterion_main};
use dataverse::print::{Redact, print_request, print_target};
use dataverse::{ParseLimits, RawRequest, Schema, classify, parse_request};
use std::hint::black_box;

const QUERY: &str = "$select=name,revenue,telephone1,_primarycontactid_value&$filter=statecode%20eq%200%20and%20(contains(name,'contoso')%20or%20revenue%20gt%20100000.50)%20and%20createdon%20ge%202024-01-01T00:00:00Z&$orderby=name%20asc,revenue%20desc&$top=50";
const HEADERS: &[(&str, &str)] = &[
    ("Accept", "application/json"),
    ("OData-MaxVersion", "4.0"),
    ("OData-Version", "4.0"),
    ("Authorization", "Bearer stn_ABCDEFGHJKMN_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
    ("User-Agent", "DataverseSvcPythonClient:1.1.0"),
];

fn body() -> String {
    let mut s = String::from("{\"name\":\"Contoso Ltd\",\"description\":\"");
    s.push_str(&"Lorem ipsum dolor sit amet. ".repeat(40));
    s.push_str("\",\"revenue\":12345678.90,\"numberofemployees\":420,\"creditonhold\":false,\"industrycode\":7,\"address1_city\":\"Redmond\",\"telephone1\":\"555-0100\",\"websiteurl\":\"https://contoso.example\"}");
    s
}

fn benches(c: &mut Criterion) {
    let schema = Schema::standard();
    let limits = ParseLimits::default();
    let query =
        RawRequest { method: "GET", path: "/api/data/v9.2/accounts", query: Some(QUERY), headers: HEADERS, body: b"" };
    let body = body();
    let create = RawRequest {
        method: "POST",
        path: "/api/data/v9.2/accounts",
        query: None,
        headers: HEADERS,
        body: body.as_bytes(),
    };

    c.bench_function("parse_query", |b| b.iter(|| parse_request(&schema, black_box(&query), &limits).unwrap()));
    c.bench_function("parse_create", |b| b.iter(|| parse_request(&schema, black_box(&create), &limits).unwrap()));
    let parsed = parse_request(&schema, &query, &limits).unwrap();
    c.bench_function("classify_query", |b| b.iter(|| classify(&schema, black_box(&parsed))));
    c.bench_function("print_query", |b| b.iter(|| print_request(&schema, black_box(&parsed)).unwrap()));
    c.bench_function("print_query_redacted", |b| {
        b.iter(|| print_target(&schema, black_box(&parsed), Redact::Literals).unwrap())
    });

    let mut group = c.benchmark_group("json_body_1k");
    group.bench_function("dataverse_json_parse", |b| {
        b.iter(|| dataverse::json::parse(black_box(body.as_bytes())).unwrap())
    });
    group.bench_function("serde_json_value_parse", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(body.as_bytes())).unwrap())
    });
    group.finish();
}

criterion_group!(hot_paths, benches);
criterion_main!(hot_paths);
