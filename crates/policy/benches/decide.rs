//! Parse + classify + decide of a typical agent query with `$select`, `$filter` (through a
//! navigation path), `$expand` and `$orderby`: the protocol-core work per request.
//!
//! Run: `cargo bench -p policy --bench decide`; figures go in BENCHMARKS.md.

use criterion::{Criterion, criterion_group, criterion_main};
use dataverse::{Classification, ParseLimits, RawRequest, Schema, classify, parse_request};
use policy::{AgentPolicy, Level, TableGrant, decide};
use std::hint::black_box;

const QUERY: &str = "$select=name,revenue,telephone1&$filter=statecode%20eq%200%20and%20primarycontactid/fullname%20ne%20null%20and%20contains(name,'contoso')&$expand=primarycontactid($select=fullname,emailaddress1)&$orderby=revenue%20desc,name&$top=50";

fn benches(c: &mut Criterion) {
    let schema = Schema::standard();
    let limits = ParseLimits::default();
    let headers = [("Accept", "application/json"), ("OData-Version", "4.0")];
    let raw =
        RawRequest { method: "GET", path: "/api/data/v9.2/accounts", query: Some(QUERY), headers: &headers, body: b"" };
    let mut policy = AgentPolicy::default();
    for t in ["account", "contact"] {
        policy.tables.insert(t.into(), TableGrant { level: Level::Full, delete: false });
    }
    policy.hidden.entry("contact".into()).or_default().insert("mobilephone".into());
    c.bench_function("parse_classify_decide_expand_query", |b| {
        b.iter(|| {
            let request = parse_request(&schema, black_box(&raw), &limits).unwrap();
            let Classification::Classified(t) = classify(&schema, &request) else { unreachable!() };
            let d = decide(&schema, &policy, &t);
            assert!(d.allowed);
            d
        })
    });
}

criterion_group!(decide_benches, benches);
criterion_main!(decide_benches);
