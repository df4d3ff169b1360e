//! Parse + classify of the same question asked in the four query languages: a FetchXML query
//! with two link-entities (the metadata/FetchXML/SQL issue's goal: ≤ 20 µs), its SQL twin with
//! two JOINs, an `$apply` aggregation, and the OData query with `$expand` as the floor.
//!
//! Run: `cargo bench -p dataverse --bench query_languages`; figures go in BENCHMARKS.md.

use criterion::{Criterion, criterion_group, criterion_main};
use dataverse::{ParseLimits, RawRequest, Schema, classify, parse_request};
use std::hint::black_box;

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

const FETCH: &str = "<fetch top='50'><entity name='account'><attribute name='name'/><attribute name='revenue'/><order attribute='name'/><filter type='and'><condition attribute='statecode' operator='eq' value='0'/><condition attribute='revenue' operator='gt' value='100000'/></filter><link-entity name='contact' from='contactid' to='primarycontactid' alias='pc'><attribute name='fullname'/><attribute name='emailaddress1'/><filter><condition attribute='lastname' operator='like' value='%son%'/></filter></link-entity><link-entity name='systemuser' from='systemuserid' to='owninguser' link-type='outer' alias='owner'><attribute name='fullname'/></link-entity></entity></fetch>";
const SQL: &str = "SELECT TOP 50 a.name, a.revenue, pc.fullname, pc.emailaddress1, owner.fullname FROM account a JOIN contact pc ON a.primarycontactid = pc.contactid LEFT JOIN systemuser owner ON a.owninguser = owner.systemuserid WHERE a.statecode = 0 AND a.revenue > 100000 AND pc.lastname LIKE '%son%' ORDER BY a.name";
const APPLY: &str = "$apply=filter(statecode eq 0 and revenue gt 100000)/groupby((primarycontactid/fullname,statuscode),aggregate(revenue with sum as total,$count as n))&$top=50";
const ODATA: &str = "$select=name,revenue&$filter=statecode eq 0 and revenue gt 100000 and contains(primarycontactid/lastname,'son')&$expand=primarycontactid($select=fullname,emailaddress1),owninguser($select=fullname)&$orderby=name&$top=50";

fn benches(c: &mut Criterion) {
    let schema = Schema::standard();
    let limits = ParseLimits::default();
    let queries = [
        ("fetchxml_two_links", format!("fetchXml={}", encode(FETCH))),
        ("sql_two_joins", format!("sql={}", encode(SQL))),
        ("apply_groupby", APPLY.replace(' ', "%20")),
        ("odata_expand_floor", ODATA.replace(' ', "%20")),
    ];
    for (name, query) in &queries {
        let raw =
            RawRequest { method: "GET", path: "/api/data/v9.2/accounts", query: Some(query), headers: &[], body: b"" };
        // Checked once: each must parse and classify.
        let parsed = parse_request(&schema, &raw, &limits).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(matches!(classify(&schema, &parsed), dataverse::Classification::Classified(_)), "{name}");
        c.bench_function(&format!("parse_classify_{name}"), |b| {
            b.iter(|| {
                let r = parse_request(&schema, black_box(&raw), &limits).unwrap();
                black_box(classify(&schema, &r));
            })
        });
    }
}

criterion_group!(query_languages, benches);
criterion_main!(query_languages);
