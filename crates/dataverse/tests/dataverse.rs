//! Protocol core tests: the standard schema, the parser's slice, the printer's round trip.

#[path = "dataverse/batch.rs"]
mod batch;
#[path = "dataverse/batch_requests.rs"]
mod batch_requests;
#[path = "dataverse/classify.rs"]
mod classify;
#[path = "dataverse/fuzz_corpus.rs"]
mod fuzz_corpus;
#[path = "dataverse/json.rs"]
mod json;
#[path = "dataverse/parse.rs"]
mod parse;
#[path = "dataverse/roundtrip.rs"]
mod roundtrip;

#[test]
fn standard_schema_is_consistent() {
    let s = dataverse::Schema::standard();
    for t in [
        "account",
        "contact",
        "lead",
        "opportunity",
        "incident",
        "systemuser",
        "team",
        "businessunit",
        "transactioncurrency",
    ] {
        let table = s.table(t).unwrap_or_else(|| panic!("{t} missing"));
        assert_eq!(s.table_by_set(&table.set_name).unwrap().logical_name, t);
        assert!(table.column(&table.primary_id).is_some());
        assert!(table.column(&table.primary_name).is_some(), "{t} primary name");
    }
    assert!(s.relationships().iter().any(|r| r.schema_name == "contact_customer_accounts"));
}
