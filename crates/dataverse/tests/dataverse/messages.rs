//! The catalog's functions and actions Stanchion executes: parsed into typed messages (inline
//! parameters and aliases, bodies checked member by member), classified with their action
//! grant and table levels, printed back for forwarding.

use dataverse::print::print_request;
use dataverse::request::{Message, Operation};
use dataverse::{Classification, ParseError, ParseLimits, Privilege, RawRequest, Schema, classify, parse_request};

const OPP: &str = "0fa17e78-797e-4018-bb87-f265cf54fa33";

fn parse(method: &str, url: &str, body: &str) -> Result<dataverse::Request, ParseError> {
    let (path, query) = url.split_once('?').map_or((url, None), |(p, q)| (p, Some(q)));
    let path = format!("/api/data/v9.2/{path}");
    let raw = RawRequest { method, path: &path, query, headers: &[], body: body.as_bytes() };
    parse_request(&Schema::standard(), &raw, &ParseLimits::default())
}

fn win(body: &str) -> Result<dataverse::Request, ParseError> {
    parse("POST", "WinOpportunity", body)
}

#[test]
fn retrieve_total_record_count_inline_and_through_an_alias() {
    for url in [
        "RetrieveTotalRecordCount(EntityNames=['account','contact'])",
        "RetrieveTotalRecordCount(EntityNames=@p1)?@p1=[\"account\",\"contact\"]",
        "RetrieveTotalRecordCount(EntityNames=['account','account','contact'])",
    ] {
        let r = parse("GET", url, "").unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(
            r.operation,
            Operation::Message(Message::RetrieveTotalRecordCount { tables: vec!["account".into(), "contact".into()] }),
            "{url}"
        );
        let Classification::Classified(t) = classify(&Schema::standard(), &r) else { panic!("{url}") };
        assert_eq!(t.action, None, "a data function needs no grant");
        let tables: Vec<_> = t.tables.iter().map(|a| (a.table.as_str(), a.privilege)).collect();
        assert_eq!(tables, [("account", Privilege::Read), ("contact", Privilege::Read)]);
        let printed = print_request(&Schema::standard(), &r).unwrap();
        assert_eq!(printed.target, "RetrieveTotalRecordCount(EntityNames=['account','contact'])");
    }
    for (url, needle) in [
        ("RetrieveTotalRecordCount(EntityNames=['widget'])", "The entity 'widget' does not exist"),
        ("RetrieveTotalRecordCount(EntityNames=[])", "at least one table"),
        ("RetrieveTotalRecordCount(Names=['account'])", "one parameter, EntityNames"),
        ("RetrieveTotalRecordCount(EntityNames=@p9)", "@p9 has no value"),
        ("RetrieveTotalRecordCount(EntityNames=['a'b'])", "list of table names"),
    ] {
        let e = parse("GET", url, "").unwrap_err();
        assert!(e.to_string().contains(needle), "{url}: {e}");
    }
    assert!(parse("GET", "RetrieveTotalRecordCount(EntityNames=['widget'])", "").unwrap_err().names_unknown());
}

#[test]
fn closing_an_opportunity_is_an_action_on_it() {
    let body = format!(
        r#"{{"Status": 3, "OpportunityClose": {{"subject": "Won", "actualrevenue": 5000, "opportunityid@odata.bind": "/opportunities({OPP})"}}}}"#
    );
    let r = win(&body).unwrap();
    let Operation::Message(Message::CloseOpportunity { won: true, opportunity, status: 3, close }) = &r.operation
    else {
        panic!("{:?}", r.operation)
    };
    assert_eq!(opportunity.to_string(), OPP);
    assert_eq!(close.values.get("subject").and_then(|v| v.as_str()), Some("Won"));
    let Classification::Classified(t) = classify(&Schema::standard(), &r) else { panic!() };
    assert_eq!(t.action.as_deref(), Some("WinOpportunity"));
    let tables: Vec<_> = t.tables.iter().map(|a| (a.table.as_str(), a.privilege)).collect();
    assert_eq!(tables, [("opportunity", Privilege::Write)], "the opportunityclose is covered by the grant");
    assert_eq!(t.record_ids.iter().map(ToString::to_string).collect::<Vec<_>>(), [OPP]);
    // Printed back from the typed form, the bind against the service root.
    let printed =
        dataverse::print::print_request_for(&Schema::standard(), &r, Some("https://org/api/data/v9.2")).unwrap();
    assert_eq!(printed.target, "WinOpportunity");
    assert_eq!(
        printed.body.unwrap(),
        format!(
            r#"{{"Status":3,"OpportunityClose":{{"subject":"Won","actualrevenue":5000,"opportunityid@odata.bind":"https://org/api/data/v9.2/opportunities({OPP})"}}}}"#
        )
    );
    let lose = parse("POST", "LoseOpportunity", &body.replace("\"Status\": 3", "\"Status\": -1")).unwrap();
    assert!(matches!(lose.operation, Operation::Message(Message::CloseOpportunity { won: false, status: -1, .. })));
    let incident = parse(
        "POST",
        "CloseIncident",
        &format!(r#"{{"IncidentResolution": {{"subject": "Fixed", "timespent": 60, "incidentid@odata.bind": "/incidents({OPP})"}}, "Status": 5}}"#),
    )
    .unwrap();
    let Classification::Classified(t) = classify(&Schema::standard(), &incident) else { panic!() };
    assert_eq!(t.action.as_deref(), Some("CloseIncident"));
    assert_eq!(t.tables[0].table, "incident");
}

#[test]
fn action_bodies_are_checked_member_by_member() {
    let bind = format!(r#""opportunityid@odata.bind": "/opportunities({OPP})""#);
    for (body, needle) in [
        (format!(r#"{{"OpportunityClose": {{{bind}}}}}"#), "needs the parameter Status"),
        (r#"{"Status": 3}"#.to_owned(), "needs the parameter OpportunityClose"),
        (
            format!(r#"{{"Status": "won", "OpportunityClose": {{{bind}}}}}"#),
            "Status of WinOpportunity must be a whole number",
        ),
        (format!(r#"{{"Status": 3, "OpportunityClose": {{{bind}}}, "Extra": 1}}"#), "no parameter named 'Extra'"),
        (r#"{"Status": 3, "OpportunityClose": {"subject": "x"}}"#.to_owned(), "must name its opportunity by id"),
        (format!(r#"{{"Status": 3, "OpportunityClose": {{{bind}, "nosuchcolumn": 1}}}}"#), "nosuchcolumn"),
        (format!(r#"{{"Status": 3, "OpportunityClose": [{{{bind}}}]}}"#), "must be an object"),
        ("not json".to_owned(), "not valid JSON"),
    ] {
        let e = win(&body).unwrap_err();
        assert!(e.to_string().contains(needle), "{body}: {e}");
    }
    // Other functions and actions of the catalog stay refused as not supported yet.
    for (method, url) in [
        ("POST", "Merge"),
        ("POST", "BulkDelete"),
        ("GET", "systemusers(00000000-0000-0000-0000-000000000001)/Microsoft.Dynamics.CRM.RetrieveUserPrivileges"),
    ] {
        let r = parse(method, url, if method == "POST" { "{}" } else { "" }).unwrap();
        assert!(matches!(r.operation, Operation::Unsupported { .. }), "{url}");
    }
}
