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
    // Functions and actions outside the catalog are recognised and refused as not supported.
    for (method, url) in [
        ("POST", "SendEmail"),
        ("POST", "AddToQueue"),
        (
            "GET",
            "accounts(00000000-0000-0000-0000-000000000001)/Microsoft.Dynamics.CRM.RetrieveSharedPrincipalsAndAccess",
        ),
    ] {
        let r = parse(method, url, if method == "POST" { "{}" } else { "" }).unwrap();
        assert!(matches!(r.operation, Operation::Unsupported { .. }), "{url}");
    }
}

#[test]
fn the_multiple_messages_are_the_single_writes_many_times() {
    let create = parse(
        "POST",
        "accounts/Microsoft.Dynamics.CRM.CreateMultiple",
        r#"{"Targets":[{"@odata.type":"Microsoft.Dynamics.CRM.account","name":"A"},{"@odata.type":"Microsoft.Dynamics.CRM.account","name":"B","primarycontactid@odata.bind":"/contacts(0fa17e78-797e-4018-bb87-f265cf54fa33)"}]}"#,
    )
    .unwrap();
    let Operation::Message(Message::CreateMultiple { table, records }) = &create.operation else { panic!() };
    assert_eq!((table.as_str(), records.len()), ("account", 2));
    let Classification::Classified(t) = classify(&Schema::standard(), &create) else { panic!() };
    assert_eq!(t.action, None, "a data message needs no grant");
    let tables: Vec<_> = t.tables.iter().map(|a| (a.table.as_str(), a.privilege)).collect();
    assert!(
        tables.contains(&("account", Privilege::Create)) && tables.contains(&("contact", Privilege::Read)),
        "{tables:?}"
    );
    let printed = print_request(&Schema::standard(), &create).unwrap();
    assert_eq!(printed.target, "accounts/Microsoft.Dynamics.CRM.CreateMultiple");
    assert!(
        printed.body.unwrap().starts_with(r#"{"Targets":[{"@odata.type":"Microsoft.Dynamics.CRM.account","name":"A"}"#)
    );

    let update = parse(
        "POST",
        "accounts/Microsoft.Dynamics.CRM.UpdateMultiple",
        &format!(
            r#"{{"Targets":[{{"@odata.type":"Microsoft.Dynamics.CRM.account","accountid":"{OPP}","name":"C"}}]}}"#
        ),
    )
    .unwrap();
    let Classification::Classified(t) = classify(&Schema::standard(), &update) else { panic!() };
    assert_eq!(t.tables[0].privilege, Privilege::Write);
    assert_eq!(t.record_ids[0].to_string(), OPP);
    let upsert = parse(
        "POST",
        "accounts/Microsoft.Dynamics.CRM.UpsertMultiple",
        r#"{"Targets":[{"@odata.type":"Microsoft.Dynamics.CRM.account","@odata.id":"accounts(accountnumber='X-1')","name":"D"}]}"#,
    )
    .unwrap();
    let Operation::Message(Message::UpsertMultiple { targets, .. }) = &upsert.operation else { panic!() };
    assert!(matches!(targets[0].0, dataverse::request::RowKey::Alternate(_)));
    let printed = print_request(&Schema::standard(), &upsert).unwrap();
    assert!(printed.body.unwrap().contains(r#""@odata.id":"accounts(accountnumber='X-1')""#));

    for (url, body, needle) in [
        (
            "accounts/Microsoft.Dynamics.CRM.CreateMultiple",
            r#"{"Targets":[{"name":"A"}]}"#,
            "must carry \"@odata.type\"",
        ),
        (
            "accounts/Microsoft.Dynamics.CRM.CreateMultiple",
            r#"{"Targets":[{"@odata.type":"Microsoft.Dynamics.CRM.contact","lastname":"x"}]}"#,
            "@odata.type",
        ),
        ("accounts/Microsoft.Dynamics.CRM.CreateMultiple", r#"{"Targets":[]}"#, "at least one target"),
        ("accounts/Microsoft.Dynamics.CRM.CreateMultiple", r#"{"Items":[]}"#, "needs the parameter Targets"),
        (
            "accounts/Microsoft.Dynamics.CRM.UpdateMultiple",
            r#"{"Targets":[{"@odata.type":"Microsoft.Dynamics.CRM.account","name":"A"}]}"#,
            "must name its row by accountid",
        ),
        (
            "accounts/Microsoft.Dynamics.CRM.CreateMultiple",
            r#"{"Targets":[{"@odata.type":"Microsoft.Dynamics.CRM.account","nosuch":1}]}"#,
            "nosuch",
        ),
    ] {
        let e = parse("POST", url, body).unwrap_err();
        assert!(e.to_string().contains(needle), "{body}: {e}");
    }
    let too_many = format!(
        r#"{{"Targets":[{}]}}"#,
        vec![r#"{"@odata.type":"Microsoft.Dynamics.CRM.account","name":"A"}"#; 1001].join(",")
    );
    assert!(
        parse("POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", &too_many)
            .unwrap_err()
            .to_string()
            .contains("at most 1000")
    );
}

/// Microsoft's Python SDK's BulkDelete body for a list of ids (`_build_delete_multiple`).
fn sdk_bulk_delete(ids: &[&str]) -> String {
    let values: Vec<String> = ids.iter().map(|id| format!(r#"{{"Value": "{id}", "Type": "System.Guid"}}"#)).collect();
    format!(
        r#"{{"JobName": "Bulk delete account records @ 2026-11-27T08:00:00Z", "SendEmailNotification": false,
            "ToRecipients": [], "CCRecipients": [], "RecurrencePattern": "", "StartDateTime": "2026-11-27T08:00:00Z",
            "QuerySet": [{{"@odata.type": "Microsoft.Dynamics.CRM.QueryExpression", "EntityName": "account",
              "ColumnSet": {{"@odata.type": "Microsoft.Dynamics.CRM.ColumnSet", "AllColumns": false, "Columns": []}},
              "Criteria": {{"@odata.type": "Microsoft.Dynamics.CRM.FilterExpression", "FilterOperator": "And",
                "Conditions": [{{"@odata.type": "Microsoft.Dynamics.CRM.ConditionExpression", "AttributeName": "accountid",
                  "Operator": "In", "Values": [{}]}}]}}}}]}}"#,
        values.join(",")
    )
}

#[test]
fn bulk_delete_is_an_action_that_deletes_what_its_query_matches() {
    let body = sdk_bulk_delete(&[OPP, "3f2c8a10-5b7e-4d21-9c3f-0e8d4b6a29a1"]);
    let r = parse("POST", "BulkDelete", &body).unwrap();
    let Operation::Message(Message::BulkDelete { table, job, .. }) = &r.operation else { panic!("{:?}", r.operation) };
    assert_eq!(table, "account");
    assert_eq!(job.conditions[0].values.len(), 2);
    let Classification::Classified(t) = classify(&Schema::standard(), &r) else { panic!() };
    assert_eq!(t.action.as_deref(), Some("BulkDelete"));
    let tables: Vec<_> = t.tables.iter().map(|a| (a.table.as_str(), a.privilege)).collect();
    assert_eq!(tables[0], ("account", Privilege::Delete));
    // Printed from the typed job, then parsed again to the same request.
    let printed = print_request(&Schema::standard(), &r).unwrap().body.unwrap();
    let again = parse("POST", "BulkDelete", &printed).unwrap();
    assert_eq!(again.operation, r.operation);
    // A condition on a lookup compares and reads the column; a string condition is a literal.
    let by_name = body
        .replace(r#""AttributeName": "accountid""#, r#""AttributeName": "name""#)
        .replace(r#""Operator": "In""#, r#""Operator": "Equal""#)
        .replace(&format!(r#""Values": [{{"Value": "{OPP}", "Type": "System.Guid"}},{{"Value": "3f2c8a10-5b7e-4d21-9c3f-0e8d4b6a29a1", "Type": "System.Guid"}}]"#), r#""Values": [{"Value": "Old Co", "Type": "System.String"}]"#);
    let r = parse("POST", "BulkDelete", &by_name).unwrap();
    let Classification::Classified(t) = classify(&Schema::standard(), &r) else { panic!() };
    assert!(t.columns.contains(&("account".to_owned(), "name".to_owned())), "{:?}", t.columns);

    for (body, needle) in [
        (body.replace(r#""Operator": "In""#, r#""Operator": "Like""#), "Like"),
        (body.replace(r#""AttributeName": "accountid""#, r#""AttributeName": "nosuch""#), "nosuch"),
        (body.replace(r#""EntityName": "account""#, r#""EntityName": "widget""#), "widget"),
        (body.replace(r#""JobName": "Bulk delete account records @ 2026-11-27T08:00:00Z", "#, ""), "JobName"),
    ] {
        match parse("POST", "BulkDelete", &body) {
            Err(e) => assert!(e.to_string().contains(needle), "{e}"),
            Ok(r) => match r.operation {
                Operation::Unsupported { reason, .. } => assert!(reason.contains(needle), "{reason}"),
                other => panic!("{needle}: {other:?}"),
            },
        }
    }
    // Deleting every row of a table needs an explicit condition.
    let unconditional = r#"{"JobName": "all", "QuerySet": [{"EntityName": "account", "Criteria": {"FilterOperator": "And", "Conditions": []}}]}"#;
    assert!(parse("POST", "BulkDelete", unconditional).unwrap_err().to_string().contains("at least one condition"));
}

#[test]
fn qualify_lead_creates_what_its_flags_ask_for() {
    let url = format!("leads({OPP})/Microsoft.Dynamics.CRM.QualifyLead");
    let body = r#"{"CreateAccount": true, "CreateContact": false, "CreateOpportunity": true, "OpportunityCustomerId@odata.bind": "/contacts(3f2c8a10-5b7e-4d21-9c3f-0e8d4b6a29a1)", "Status": 3, "SuppressDuplicateDetection": true}"#;
    let r = parse("POST", &url, body).unwrap();
    let Classification::Classified(t) = classify(&Schema::standard(), &r) else { panic!() };
    assert_eq!(t.action.as_deref(), Some("QualifyLead"));
    let tables: Vec<_> = t.tables.iter().map(|a| (a.table.as_str(), a.privilege)).collect();
    assert_eq!(
        tables,
        [
            ("lead", Privilege::Write),
            ("account", Privilege::Create),
            ("opportunity", Privilege::Create),
            ("contact", Privilege::Read)
        ]
    );
    let printed =
        dataverse::print::print_request_for(&Schema::standard(), &r, Some("https://org/api/data/v9.2")).unwrap();
    assert_eq!(printed.target, format!("leads({OPP})/Microsoft.Dynamics.CRM.QualifyLead"));
    assert!(printed.body.as_deref().unwrap().contains(r#""OpportunityCustomerId@odata.bind":"https://org/api/data/v9.2/contacts(3f2c8a10-5b7e-4d21-9c3f-0e8d4b6a29a1)""#));
    for (body, needle) in [
        (r#"{"CreateAccount": true, "CreateOpportunity": true, "Status": 3}"#, "needs the parameter CreateContact"),
        (
            r#"{"CreateAccount": true, "CreateContact": true, "CreateOpportunity": true, "Status": 3, "Bogus": 1}"#,
            "no parameter named 'Bogus'",
        ),
        (
            r#"{"CreateAccount": 1, "CreateContact": true, "CreateOpportunity": true, "Status": 3}"#,
            "CreateAccount must be true or false",
        ),
        (
            r#"{"CreateAccount": true, "CreateContact": true, "CreateOpportunity": true, "Status": 3, "OpportunityCustomerId@odata.bind": "/leads(3f2c8a10-5b7e-4d21-9c3f-0e8d4b6a29a1)"}"#,
            "account or contact",
        ),
        (
            r#"{"CreateAccount": true, "CreateContact": true, "CreateOpportunity": true, "Status": 3, "OpportunityCustomerId@odata.bind": "https://evil.example/api/data/v9.2/accounts(3f2c8a10-5b7e-4d21-9c3f-0e8d4b6a29a1)"}"#,
            "relative URL",
        ),
    ] {
        let e = parse("POST", &url, body).unwrap_err();
        assert!(e.to_string().contains(needle), "{body}: {e}");
    }
}

#[test]
fn change_tracking_is_a_read_with_select_only() {
    let path = "/api/data/v9.2/contacts";
    let parse_with = |query: &str, prefer: bool| {
        let headers: &[(&str, &str)] = if prefer { &[("Prefer", "odata.track-changes")] } else { &[] };
        let raw = RawRequest { method: "GET", path, query: Some(query), headers, body: b"" };
        parse_request(&Schema::standard(), &raw, &ParseLimits::default())
    };
    let first = parse_with("$select=lastname", true).unwrap();
    assert_eq!(
        first.operation,
        Operation::Changes { table: "contact".into(), select: vec!["lastname".into()], token: None }
    );
    let delta = parse_with("$select=lastname&$deltatoken=919042%2108%2f22%2f2017%2008%3a10%3a44", false).unwrap();
    let Operation::Changes { token: Some(token), .. } = &delta.operation else { panic!() };
    assert_eq!(token, "919042%2108%2f22%2f2017%2008%3a10%3a44", "kept exactly as received");
    let printed = print_request(&Schema::standard(), &delta).unwrap();
    assert_eq!(printed.target, "contacts?$select=lastname&$deltatoken=919042%2108%2f22%2f2017%2008%3a10%3a44");
    let Classification::Classified(t) = classify(&Schema::standard(), &delta) else { panic!() };
    assert_eq!(t.tables[0].privilege, Privilege::Read);
    assert_eq!(t.kind, dataverse::RequestKind::ChangeTracking);
    let e = parse_with("$filter=lastname eq 'x'", true).unwrap_err();
    assert_eq!(e.to_string(), "The \"$filter\" query parameter isn't supported when Change Tracking is enabled.");
}
