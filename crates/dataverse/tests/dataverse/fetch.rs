//! FetchXML: parsed, printed back to the same query, classified as reads of every linked table.

use dataverse::print::{Redact, print_target};
use dataverse::{Classification, Operation, ParseLimits, Privilege, RawRequest, Schema, classify, parse_request};

fn parse(xml: &str) -> dataverse::Request {
    let encoded: String = xml
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    let query = format!("fetchXml={encoded}");
    let raw =
        RawRequest { method: "GET", path: "/api/data/v9.2/accounts", query: Some(&query), headers: &[], body: b"" };
    parse_request(&Schema::standard(), &raw, &ParseLimits::default()).unwrap_or_else(|e| panic!("{xml}: {e}"))
}

#[test]
fn fetchxml_prints_back_to_the_same_query() {
    let schema = Schema::standard();
    for xml in [
        "<fetch version='1.0' mapping='logical' count='2' page='1'><entity name='account'><attribute name='name'/><order attribute='name' descending='true'/></entity></fetch>",
        "<fetch top='5' distinct='true'><entity name='account'><attribute name='name' alias='n'/><filter type='or'><condition attribute='name' operator='like' value='%a&amp;b%'/><filter><condition attribute='statuscode' operator='in'><value>1</value><value>2</value></condition><condition attribute='createdon' operator='last-x-days' value='7'/></filter></filter></entity></fetch>",
        "<fetch><entity name='account'><attribute name='name'/><filter><condition attribute='revenue' operator='gt' valueof='creditlimit'/></filter></entity></fetch>",
        "<fetch><entity name='account'><all-attributes/><link-entity name='contact' from='contactid' to='primarycontactid' alias='pc' link-type='outer'><attribute name='fullname'/><link-entity name='account' from='accountid' to='parentcustomerid' link-type='not any'/></link-entity></entity></fetch>",
    ] {
        let request = parse(xml);
        assert!(matches!(request.operation, Operation::Fetch(_)), "{xml}");
        let printed = print_target(&schema, &request, Redact::Nothing).unwrap();
        let query = printed.strip_prefix("accounts?").unwrap();
        let raw =
            RawRequest { method: "GET", path: "/api/data/v9.2/accounts", query: Some(query), headers: &[], body: b"" };
        let again = parse_request(&schema, &raw, &ParseLimits::default()).unwrap();
        assert_eq!(again, request, "{xml} -> {printed}");
        let redacted = print_target(&schema, &request, Redact::Literals).unwrap();
        assert!(!redacted.contains("Con") && !redacted.contains("%25a"), "{redacted}");
    }
}

#[test]
fn links_are_reads_of_their_tables_and_columns() {
    let schema = Schema::standard();
    let r = parse(
        "<fetch><entity name='account'><attribute name='name'/><link-entity name='contact' from='contactid' to='primarycontactid' link-type='exists'><filter><condition attribute='emailaddress1' operator='not-null'/></filter></link-entity></entity></fetch>",
    );
    let Classification::Classified(t) = classify(&schema, &r) else { panic!() };
    let tables: Vec<(&str, Privilege)> = t.tables.iter().map(|a| (a.table.as_str(), a.privilege)).collect();
    assert_eq!(tables, [("account", Privilege::Read), ("contact", Privilege::Read)]);
    for (table, column) in
        [("account", "name"), ("account", "primarycontactid"), ("contact", "contactid"), ("contact", "emailaddress1")]
    {
        assert!(t.columns.contains(&(table.to_owned(), column.to_owned())), "{table}.{column}");
    }
}

#[test]
fn aggregate_queries_refuse_links() {
    let r = parse(
        "<fetch aggregate='true'><entity name='account'><attribute name='name' groupby='true' alias='n'/><link-entity name='contact' from='contactid' to='primarycontactid'/></entity></fetch>",
    );
    assert!(matches!(r.operation, Operation::Unsupported { .. }), "{:?}", r.operation);
}
