//! The parser on what real clients send, and its refusals.

use dataverse::query::{CompareOp, Filter, Literal, Operand};
use dataverse::request::EtagCondition;
use dataverse::{Operation, ParseError, ParseLimits, RawRequest, RequestKind, Schema, parse_request};

fn parse(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Result<dataverse::Request, ParseError> {
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (url, None),
    };
    let raw = RawRequest { method, path, query, headers, body: body.as_bytes() };
    parse_request(&Schema::standard(), &raw, &ParseLimits::default())
}

#[test]
fn python_client_plus_is_space_and_dwa_percent_encoding() {
    let a = parse("GET", "/api/data/v9.2/accounts?$filter=name+eq+'A%2BB'", &[], "").unwrap();
    let b = parse("GET", "/api/data/v9.2/accounts?$filter=name%20eq%20%27A%2BB%27", &[], "").unwrap();
    assert_eq!(a, b);
    let Operation::Query(q) = a.operation else { panic!() };
    assert_eq!(
        q.filter,
        Some(Filter::Compare {
            left: Operand::Column("name".into()),
            op: CompareOp::Eq,
            right: Operand::Value(Literal::String("A+B".into()))
        })
    );
}

#[test]
fn lookups_use_value_names() {
    let r = parse("GET", "/api/data/v9.2/contacts?$select=fullname,_parentcustomerid_value&$filter=_parentcustomerid_value eq 6f1c4a3e-0000-4000-8000-000000000001", &[], "").unwrap();
    let Operation::Query(q) = r.operation else { panic!() };
    assert_eq!(q.select, vec!["fullname", "parentcustomerid"]);
    assert!(parse("GET", "/api/data/v9.2/contacts?$select=parentcustomerid", &[], "").is_err());
}

#[test]
fn patch_with_if_match_is_update_without_is_upsert() {
    let id = "00000000-0000-0000-0000-000000000001";
    let u = parse("PATCH", &format!("/api/data/v9.2/accounts({id})"), &[("If-Match", "*")], r#"{"name":"x"}"#).unwrap();
    assert_eq!(u.kind(), RequestKind::Update);
    assert_eq!(u.headers.if_match, Some(EtagCondition::Any));
    let p = parse("PATCH", &format!("/api/data/v9.2/accounts({id})"), &[("If-None-Match", "null")], r#"{"name":"x"}"#)
        .unwrap();
    assert_eq!(p.kind(), RequestKind::Upsert);
    assert_eq!(p.headers.if_none_match, None);
}

#[test]
fn every_kind_is_recognised() {
    let id = "00000000-0000-0000-0000-000000000001";
    let cases = [
        ("GET", "/api/data/v9.2/".to_owned(), RequestKind::ServiceDocument),
        ("GET", "/api/data/v9.2/$metadata".into(), RequestKind::MetadataCsdl),
        ("GET", "/api/data/v9.2/accounts".into(), RequestKind::Query),
        ("GET", "/api/data/v9.2/accounts/$count".into(), RequestKind::Count),
        (
            "GET",
            "/api/data/v9.2/accounts?fetchXml=%3Cfetch%3E%3Centity%20name%3D%27account%27%2F%3E%3C%2Ffetch%3E".into(),
            RequestKind::FetchXmlQuery,
        ),
        ("GET", format!("/api/data/v9.2/accounts({id})"), RequestKind::Retrieve),
        ("GET", format!("/api/data/v9.2/accounts({id})/name"), RequestKind::RetrieveProperty),
        ("DELETE", format!("/api/data/v9.2/accounts({id})"), RequestKind::Delete),
        ("PUT", format!("/api/data/v9.2/accounts({id})/name"), RequestKind::UpdateProperty),
        ("DELETE", format!("/api/data/v9.2/accounts({id})/name"), RequestKind::ClearProperty),
        ("POST", format!("/api/data/v9.2/accounts({id})/contact_customer_accounts/$ref"), RequestKind::Associate),
        ("DELETE", format!("/api/data/v9.2/accounts({id})/primarycontactid/$ref"), RequestKind::Disassociate),
        (
            "GET",
            "/api/data/v9.2/RetrieveTotalRecordCount(EntityNames=@p1)?@p1=['account']".into(),
            RequestKind::UnboundFunction,
        ),
        ("GET", "/api/data/v9.2/RetrieveCurrentOrganization()".into(), RequestKind::UnboundFunction),
        (
            "GET",
            format!("/api/data/v9.2/accounts({id})/Microsoft.Dynamics.CRM.RetrievePrincipalAccess()"),
            RequestKind::BoundFunction,
        ),
        ("POST", "/api/data/v9.2/SendEmail".into(), RequestKind::UnboundAction),
        ("POST", format!("/api/data/v9.2/accounts({id})/Microsoft.Dynamics.CRM.Merge"), RequestKind::BoundAction),
        ("POST", "/api/data/v9.2/$batch".into(), RequestKind::Batch),
        ("GET", "/api/data/v9.2/EntityDefinitions".into(), RequestKind::MetadataDefinitions),
        ("GET", "/api/data/v9.2/accounts?$deltatoken=1".into(), RequestKind::ChangeTracking),
    ];
    for (method, url, kind) in cases {
        let body = match kind {
            RequestKind::UpdateProperty => r#"{"value":"x"}"#.to_owned(),
            RequestKind::Associate => format!(r#"{{"@odata.id":"/contacts({id})"}}"#),
            _ => String::new(),
        };
        let r = parse(method, &url, &[], &body).unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        assert_eq!(r.kind(), kind, "{method} {url}");
    }
    let create = parse("POST", "/api/data/v9.2/accounts", &[], r#"{"name":"x"}"#).unwrap();
    assert_eq!(create.kind(), RequestKind::Create);
}

#[test]
fn unsupported_options_are_not_parsed() {
    let r = parse("GET", "/api/data/v9.2/accounts?$apply=topcount(2,revenue)", &[], "").unwrap();
    assert!(matches!(r.operation, Operation::Unsupported { kind: RequestKind::Aggregate, .. }));
    let r = parse("GET", "/api/data/v9.2/accounts?$skip=2", &[], "").unwrap();
    assert!(matches!(r.operation, Operation::Unsupported { kind: RequestKind::Query, .. }));
    assert!(matches!(parse("GET", "/api/data/v9.2/accounts?$apply=((((garbage", &[], ""), Err(ParseError::Syntax(_))));
}

#[test]
fn malformed_slice_syntax_is_a_syntax_error() {
    for url in [
        "/api/data/v9.2/accounts?$filter=name eq",
        "/api/data/v9.2/accounts?$filter=(name eq 'a'",
        "/api/data/v9.2/accounts?$filter=name eqq 'a'",
        "/api/data/v9.2/accounts?$top=-1",
        "/api/data/v9.2/accounts?$orderby=name sideways",
        "/api/data/v9.2/accounts?$filter=numberofemployees eq 99999999999",
        "/api/data/v9.2/accounts?$filter=tolower(name) eq 'a'",
        "/api/data/v9.2/accounts?$filter=revenue add 1 eq 2",
        "/api/data/v9.2/accounts(not-a-guid)",
        "/api/data/v9.2/accounts?$filter=createdon gt 2024-02-30",
        "/api/data/v9.2/accounts?$filter=createdon gt 2023-02-29T00:00:00Z",
    ] {
        assert!(matches!(parse("GET", url, &[], ""), Err(ParseError::Syntax(_))), "{url}");
    }
}

#[test]
fn bodies_are_checked_against_the_schema() {
    let p = |b: &str| parse("POST", "/api/data/v9.2/accounts", &[], b);
    assert!(p(r#"{"name":"ok","revenue":1.5,"creditonhold":true,"industrycode":7}"#).is_ok());
    for bad in [
        r#"{"name":1}"#,
        r#"{"industrycode":999}"#,
        r#"{"numberofemployees":1.5}"#,
        r#"{"createdon":"2024-01-01T00:00:00Z"}"#,
        r#"{"_primarycontactid_value":"00000000-0000-0000-0000-000000000001"}"#,
        r#"[1]"#,
        "",
    ] {
        assert!(matches!(p(bad), Err(ParseError::Payload { .. })), "{bad}");
    }
    let long = format!(r#"{{"name":"{}"}}"#, "x".repeat(161));
    assert!(matches!(p(&long), Err(ParseError::Payload { code: "0x80044331", .. })));
}

#[test]
fn parameter_aliases_are_resolved_at_parse() {
    let q = |url: &str| match parse("GET", url, &[], "").unwrap_or_else(|e| panic!("{url}: {e}")).operation {
        Operation::Query(q) => q,
        other => panic!("{other:?}"),
    };
    let with = q(
        "/api/data/v9.2/accounts?$orderby=@p1 desc&$filter=@p1 ne @p3 and name eq @p4&@p1=revenue&@p3=5&@p4='O''Hara'",
    );
    let without = q("/api/data/v9.2/accounts?$orderby=revenue desc&$filter=revenue ne 5 and name eq 'O''Hara'");
    assert_eq!(with, without);
    // An alias without a value is null (spec §3.5).
    assert_eq!(
        q("/api/data/v9.2/accounts?$filter=name eq @missing"),
        q("/api/data/v9.2/accounts?$filter=name eq null")
    );
    // Aliases are not allowed inside $expand, nor on a single row.
    assert!(
        parse(
            "GET",
            "/api/data/v9.2/accounts?$expand=contact_customer_accounts($filter=fullname eq @p)&@p='x'",
            &[],
            ""
        )
        .is_err()
    );
    assert!(parse("GET", "/api/data/v9.2/accounts(00000000-0000-0000-0000-000000000001)?@p=1", &[], "").is_err());
    assert!(parse("GET", "/api/data/v9.2/accounts?$filter=name eq @a&@a=@b&@b='x'", &[], "").is_err());
}

#[test]
fn query_functions_of_the_digest() {
    let ok = [
        "Microsoft.Dynamics.CRM.Between(PropertyName='numberofemployees',PropertyValues=[\"5\",\"2000\"])",
        "Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=[\"OBrian\",\"O'Brian\"])",
        "Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@p2)&@p1='name'&@p2=[\"A\",\"B\"]",
        "Microsoft.Dynamics.CRM.LastXHours(PropertyName=@p1,PropertyValue=@p2)&@p1='modifiedon'&@p2=12",
        "Microsoft.Dynamics.CRM.LastXDays(PropertyName='createdon',PropertyValue=7)",
        "Microsoft.Dynamics.CRM.Today(PropertyName='createdon')",
        "Microsoft.Dynamics.CRM.On(PropertyName='createdon',PropertyValue='2024-03-01')",
        "Microsoft.Dynamics.CRM.EqualUserId(PropertyName='ownerid')",
        "Microsoft.Dynamics.CRM.EqualBusinessId(PropertyName='owningbusinessunit')",
        "Microsoft.Dynamics.CRM.Under(PropertyName='accountid',PropertyValue='00000000-0000-0000-0000-000000000001')",
        "Microsoft.Dynamics.CRM.InFiscalPeriodAndYear(PropertyName='createdon',PropertyValue1=3,PropertyValue2=2024)",
        "Microsoft.Dynamics.CRM.NotIn(PropertyName='industrycode',PropertyValues=['1','2'])",
    ];
    for f in ok {
        let url = format!("/api/data/v9.2/accounts?$filter={f}");
        let r = parse("GET", &url, &[], "").unwrap_or_else(|e| panic!("{f}: {e}"));
        let Operation::Query(q) = r.operation else { panic!() };
        assert!(matches!(q.filter, Some(Filter::Function { .. })), "{f}");
    }
    for bad in [
        "not Microsoft.Dynamics.CRM.Today(PropertyName='createdon')",
        "Microsoft.Dynamics.CRM.Today(PropertyName='name')",
        "Microsoft.Dynamics.CRM.LastXDays(PropertyName='createdon')",
        "Microsoft.Dynamics.CRM.Between(PropertyName='numberofemployees',PropertyValue=5)",
        "Microsoft.Dynamics.CRM.NoSuchThing(PropertyName='createdon')",
        "Microsoft.Dynamics.CRM.Today(PropertyName='nosuchcolumn')",
        "Between(PropertyName='numberofemployees',PropertyValues=[\"5\",\"2000\"])",
    ] {
        assert!(parse("GET", &format!("/api/data/v9.2/accounts?$filter={bad}"), &[], "").is_err(), "{bad}");
    }
}

#[test]
fn metadata_reads_of_the_real_clients_parse_and_print_back() {
    use dataverse::metadata_query::{MetaKey, MetaPath};
    use dataverse::print::{Redact, print_target};
    let schema = Schema::standard();
    let id = "70816501-edb9-4740-a16c-6a5efbc05d84";
    for (url, path) in [
        (
            "EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute&$filter=LogicalName eq 'account'".to_owned(),
            MetaPath::Entities,
        ),
        ("EntityDefinitions?$filter=IsPrivate eq false and (IsCustomEntity eq true or OwnershipType eq Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned')".into(), MetaPath::Entities),
        (
            "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)".into(),
            MetaPath::Attributes { entity: MetaKey::Name("account".into()), cast: Some("PicklistAttributeMetadata".into()) },
        ),
        (
            "EntityDefinitions(LogicalName='account')?$select=LogicalName&$expand=Attributes($select=LogicalName;$filter=AttributeType eq Microsoft.Dynamics.CRM.AttributeTypeCode'Picklist')".into(),
            MetaPath::Entity(MetaKey::Name("account".into())),
        ),
        (
            format!("EntityDefinitions({id})/Attributes"),
            MetaPath::Attributes { entity: MetaKey::Id(id.parse().unwrap()), cast: None },
        ),
        (
            "EntityDefinitions(LogicalName='account')/Attributes(LogicalName='name')/Microsoft.Dynamics.CRM.StringAttributeMetadata".into(),
            MetaPath::Attribute {
                entity: MetaKey::Name("account".into()),
                key: MetaKey::Name("name".into()),
                cast: Some("StringAttributeMetadata".into()),
            },
        ),
        (
            "EntityDefinitions(LogicalName='account')/OneToManyRelationships".into(),
            MetaPath::EntityRelationships { entity: MetaKey::Name("account".into()), which: "OneToManyRelationships".into() },
        ),
        (
            "RelationshipDefinitions/Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata?$select=SchemaName&$filter=ReferencedEntity eq 'account'".into(),
            MetaPath::Relationships { cast: Some("OneToManyRelationshipMetadata".into()) },
        ),
        (
            "RelationshipDefinitions(SchemaName='contact_customer_accounts')/Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata".into(),
            MetaPath::Relationship { key: MetaKey::Name("contact_customer_accounts".into()), cast: Some("OneToManyRelationshipMetadata".into()) },
        ),
        ("RelationshipDefinitions?$filter=SchemaName eq 'x'".into(), MetaPath::Relationships { cast: None }),
        ("GlobalOptionSetDefinitions(Name='incident_caseorigincode')".into(), MetaPath::OptionSet(MetaKey::Name("incident_caseorigincode".into()))),
    ] {
        let r = parse("GET", &format!("/api/data/v9.2/{url}"), &[], "").unwrap_or_else(|e| panic!("{url}: {e}"));
        let Operation::Metadata(read) = &r.operation else { panic!("{url}: {:?}", r.operation) };
        assert_eq!(read.path, path, "{url}");
        let printed = print_target(&schema, &r, Redact::Nothing).unwrap();
        let again = parse("GET", &format!("/api/data/v9.2/{printed}"), &[], "").unwrap();
        assert_eq!(again, r, "{url} printed as {printed}");
    }
    for bad in [
        "EntityDefinitions?$top=1",
        "EntityDefinitions?$filter=LogicalName eq",
        "EntityDefinitions(LogicalName='Account!')",
        "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.EnumAttributeMetadata",
        "EntityDefinitions(LogicalName='account')/Nope",
        "EntityDefinitions(LogicalName='account')?$filter=LogicalName eq 'x'",
        "EntityDefinitions?$expand=Privileges",
        "GlobalOptionSetDefinitions?$filter=Name eq 'x'",
    ] {
        assert!(parse("GET", &format!("/api/data/v9.2/{bad}"), &[], "").is_err(), "{bad}");
    }
    // Metadata writes are refused for every agent.
    let r = parse("POST", "/api/data/v9.2/EntityDefinitions", &[], "{}").unwrap();
    assert!(matches!(r.operation, Operation::Unsupported { kind: RequestKind::MetadataDefinitions, .. }));
}

/// A learned schema may be out of date: every way of naming an unknown table, column or
/// navigation property says so (the gateway refreshes the schema once before refusing).
#[test]
fn unknown_names_are_recognised_in_every_language() {
    let fx = |xml: &str| {
        let enc: String = xml.bytes().map(|b| format!("%{b:02X}")).collect();
        format!("/api/data/v9.2/accounts?fetchXml={enc}")
    };
    let sq = |sql: &str| {
        let enc: String = sql.bytes().map(|b| format!("%{b:02X}")).collect();
        format!("/api/data/v9.2/accounts?sql={enc}")
    };
    let urls = [
        ("GET", "/api/data/v9.2/accounts?$select=new_x".to_owned(), ""),
        ("GET", "/api/data/v9.2/accounts?$filter=new_x eq 1".into(), ""),
        ("GET", "/api/data/v9.2/accounts?$expand=new_nav".into(), ""),
        ("GET", "/api/data/v9.2/new_things".into(), ""),
        ("POST", "/api/data/v9.2/accounts".into(), r#"{"new_x":1}"#),
        ("GET", fx("<fetch><entity name='account'><attribute name='new_x'/></entity></fetch>"), ""),
        (
            "GET",
            fx(
                "<fetch><entity name='account'><filter><condition attribute='new_x' operator='null'/></filter></entity></fetch>",
            ),
            "",
        ),
        (
            "GET",
            fx(
                "<fetch><entity name='account'><link-entity name='new_thing' from='new_thingid' to='accountid'/></entity></fetch>",
            ),
            "",
        ),
        ("GET", sq("SELECT new_x FROM account"), ""),
        ("GET", sq("SELECT a.name FROM account a JOIN new_thing t ON t.new_accountid = a.accountid"), ""),
    ];
    for (method, url, body) in urls {
        let (path, query) = url.split_once('?').map_or((url.as_str(), None), |(p, q)| (p, Some(q)));
        let raw = RawRequest { method, path, query, headers: &[], body: body.as_bytes() };
        let unknown = match parse_request(&Schema::standard(), &raw, &ParseLimits::default()) {
            Err(e) => e.names_unknown(),
            Ok(r) => r.names_unknown(),
        };
        assert!(unknown, "{method} {url}");
    }
    for bad in ["/api/data/v9.2/accounts?$filter=name eq", "/api/data/v9.2/accounts?$top=x"] {
        let (path, query) = bad.split_once('?').unwrap();
        let raw = RawRequest { method: "GET", path, query: Some(query), headers: &[], body: b"" };
        assert!(
            !parse_request(&Schema::standard(), &raw, &ParseLimits::default()).unwrap_err().names_unknown(),
            "{bad}"
        );
    }
}
