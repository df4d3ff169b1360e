//! `$apply` (spec §3.11): Microsoft's examples parse to the aggregation IR and print back to
//! the same request; classification reads every grouped and aggregated column; what Dataverse
//! refuses is refused with its message.

use dataverse::print::{Redact, print_target};
use dataverse::query::{AggregateFunction, Aggregation};
use dataverse::{
    Classification, Operation, ParseError, ParseLimits, Privilege, RawRequest, RequestKind, Schema, classify,
    parse_request,
};

fn parse(url: &str) -> Result<dataverse::Request, ParseError> {
    let (path, query) = url.split_once('?').map_or((url, None), |(p, q)| (p, Some(q)));
    let path = format!("/api/data/v9.2/{path}");
    let raw = RawRequest { method: "GET", path: &path, query, headers: &[], body: b"" };
    parse_request(&Schema::standard(), &raw, &ParseLimits::default())
}

fn aggregation(url: &str) -> Aggregation {
    match parse(url).unwrap_or_else(|e| panic!("{url}: {e}")).operation {
        Operation::Aggregate(a) => a,
        other => panic!("{url}: {other:?}"),
    }
}

fn syntax_error(url: &str) -> String {
    match parse(url) {
        Err(ParseError::Syntax(m)) => m,
        other => panic!("{url}: {other:?}"),
    }
}

fn unsupported(url: &str) -> String {
    match parse(url).unwrap_or_else(|e| panic!("{url}: {e}")).operation {
        Operation::Unsupported { kind: RequestKind::Aggregate, reason } => reason,
        other => panic!("{url}: {other:?}"),
    }
}

/// Every example of Microsoft's "Aggregate data using OData" page, printed back canonically.
#[test]
fn microsoft_examples_parse_and_print_back() {
    let schema = Schema::standard();
    for (url, printed) in [
        ("accounts?$apply=groupby((statuscode))", "accounts?$apply=groupby((statuscode))"),
        (
            "accounts?$apply=groupby((statuscode),aggregate($count as count))",
            "accounts?$apply=groupby((statuscode),aggregate($count%20as%20count))",
        ),
        (
            "accounts?$apply=aggregate(revenue with sum as total)",
            "accounts?$apply=aggregate(revenue%20with%20sum%20as%20total)",
        ),
        (
            "accounts?$apply=groupby((statuscode),aggregate(revenue with average as averagevalue))",
            "accounts?$apply=groupby((statuscode),aggregate(revenue%20with%20average%20as%20averagevalue))",
        ),
        (
            "accounts?$apply=groupby((primarycontactid/fullname),aggregate(revenue with sum as total))",
            "accounts?$apply=groupby((primarycontactid/fullname),aggregate(revenue%20with%20sum%20as%20total))",
        ),
        (
            "accounts?$apply=filter(address1_stateorprovince eq 'WA')/groupby((primarycontactid/fullname))",
            "accounts?$apply=filter(address1_stateorprovince%20eq%20'WA')/groupby((primarycontactid/fullname))",
        ),
        (
            "accounts?$apply=aggregate(createdon with max as lastCreate)",
            "accounts?$apply=aggregate(createdon%20with%20max%20as%20lastCreate)",
        ),
        (
            "accounts?$apply=groupby((statecode,statuscode,accountcategorycode))",
            "accounts?$apply=groupby((statecode,statuscode,accountcategorycode))",
        ),
        (
            "accounts?$apply=groupby((_primarycontactid_value),aggregate($count as n))&$orderby=_primarycontactid_value desc&$top=3",
            "accounts?$apply=groupby((_primarycontactid_value),aggregate($count%20as%20n))&$orderby=_primarycontactid_value%20desc&$top=3",
        ),
    ] {
        let request = parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(request.kind(), RequestKind::Aggregate, "{url}");
        let target = print_target(&schema, &request, Redact::Nothing).unwrap();
        assert_eq!(target, printed);
        let again = parse(&target).unwrap();
        assert_eq!(again, request, "{url} prints to a request that parses back the same");
    }
}

#[test]
fn the_ir_names_keys_functions_and_aliases() {
    let schema = Schema::standard();
    let a = aggregation(
        "accounts?$apply=filter(revenue gt 0)/filter(statecode eq 0)/groupby((primarycontactid/fullname,_parentaccountid_value),aggregate(revenue with sum as total,$count as n,numberofemployees with min as smallest))",
    );
    assert!(a.filter.is_some(), "two filter steps are one filter");
    let names: Vec<String> = a.group_by.iter().map(|k| k.output_name(&schema, "account")).collect();
    assert_eq!(names, ["contact_fullname", "_parentaccountid_value"]);
    let aggregates: Vec<(AggregateFunction, Option<&str>, &str)> =
        a.aggregates.iter().map(|g| (g.function, g.column.as_deref(), g.alias.as_str())).collect();
    assert_eq!(
        aggregates,
        [
            (AggregateFunction::Sum, Some("revenue"), "total"),
            (AggregateFunction::Count, None, "n"),
            (AggregateFunction::Min, Some("numberofemployees"), "smallest"),
        ]
    );
}

/// `filter(…)` alone is an ordinary filtered query.
#[test]
fn filter_steps_alone_are_a_query() {
    let r = parse("accounts?$apply=filter(name eq 'A')&$select=name").unwrap();
    let Operation::Query(q) = r.operation else { panic!("{:?}", r.operation) };
    assert!(q.filter.is_some());
    assert_eq!(q.select, ["name"]);
}

#[test]
fn classification_reads_grouped_aggregated_and_reached_columns() {
    let schema = Schema::standard();
    let r = parse("accounts?$apply=filter(primarycontactid/emailaddress1 ne null)/groupby((primarycontactid/fullname,statuscode),aggregate(revenue with sum as total))").unwrap();
    let Classification::Classified(t) = classify(&schema, &r) else { panic!() };
    let tables: Vec<(&str, Privilege)> = t.tables.iter().map(|a| (a.table.as_str(), a.privilege)).collect();
    assert_eq!(tables, [("account", Privilege::Read), ("contact", Privilege::Read)]);
    for (table, column) in [
        ("account", "primarycontactid"),
        ("contact", "emailaddress1"),
        ("contact", "fullname"),
        ("account", "statuscode"),
        ("account", "revenue"),
    ] {
        assert!(t.columns.contains(&(table.to_owned(), column.to_owned())), "{table}.{column} in {:?}", t.columns);
    }
    // Grouping by a lookup's id reads the table itself only.
    let r = parse("accounts?$apply=groupby((_primarycontactid_value))").unwrap();
    let Classification::Classified(t) = classify(&schema, &r) else { panic!() };
    assert_eq!(t.tables.len(), 1);
}

#[test]
fn what_dataverse_refuses_is_refused_with_its_message() {
    let m = syntax_error("accounts?$apply=groupby((statuscode),aggregate($count as n))&$orderby=n desc");
    assert_eq!(m, "The query node SingleValueOpenPropertyAccess is not supported");
    assert!(syntax_error("accounts?$apply=groupby((createdon))").contains("date and time"));
    assert!(syntax_error("accounts?$apply=aggregate(name with sum as s)").contains("sum cannot aggregate 'name'"));
    assert!(syntax_error("accounts?$apply=aggregate(revenue with avg as a)").contains("'avg' is not an aggregation"));
    assert!(syntax_error("accounts?$apply=aggregate(nosuch with sum as a)").contains("nosuch"));
    assert!(syntax_error("accounts?$apply=groupby((statuscode,statuscode))").contains("twice"));
    assert!(syntax_error("accounts?$apply=aggregate($count as a,$count as a)").contains("used twice"));
    assert!(
        syntax_error("accounts?$apply=groupby((statuscode),aggregate($count as statuscode))").contains("group key")
    );
    assert!(
        syntax_error("accounts?$apply=groupby((contact_customer_accounts/fullname))").contains("collection-valued")
    );
    assert!(syntax_error("accounts?$apply=groupby(statuscode)").contains("parentheses"));
    assert!(syntax_error("accounts?$apply=frobnicate(1)").contains("not an $apply transformation"));
    assert!(syntax_error("accounts?$apply=filter(name eq 'x)").contains("unterminated"));
    assert!(syntax_error("accounts?$apply=groupby((statuscode))&$filter=name eq 'x'").contains("filter(…)"));
    assert!(syntax_error("accounts?$apply=groupby((statuscode))&$select=name").contains("$select"));
    assert!(syntax_error("accounts?$apply=groupby((statuscode))&$expand=primarycontactid").contains("$expand"));
    assert!(syntax_error("accounts?$apply=aggregate($count as 1x)").contains("alias"));
    assert!(unsupported("accounts?$apply=aggregate(revenue with countdistinct as n)").contains("countdistinct"));
    assert!(unsupported("accounts?$apply=compute(revenue mul 2 as r)").contains("compute"));
    assert!(unsupported("accounts?$apply=groupby((statuscode))/filter(statuscode eq 1)").contains("after groupby"));
    assert!(
        unsupported("accounts?$apply=aggregate(primarycontactid/numberofchildren with sum as n)").contains("related")
    );
}
