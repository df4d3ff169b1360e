//! Table-driven classification: every read through another table is a read of that table
//! (design §4), each case with the touch that must be there — drop it and the test fails.

use dataverse::{Classification, ParseLimits, Privilege, RawRequest, Schema, classify, parse_request};

fn touches(url: &str) -> Vec<(String, Privilege)> {
    let (path, query) = url.split_once('?').map_or((url, None), |(p, q)| (p, Some(q)));
    let path = format!("/api/data/v9.2/{path}");
    let raw = RawRequest { method: "GET", path: &path, query, headers: &[], body: b"" };
    let schema = Schema::standard();
    let request = parse_request(&schema, &raw, &ParseLimits::default()).unwrap_or_else(|e| panic!("{url}: {e}"));
    match classify(&schema, &request) {
        Classification::Classified(t) => t.tables.into_iter().map(|a| (a.table, a.privilege)).collect(),
        Classification::Unclassified { reason, .. } => panic!("{url}: unclassified: {reason}"),
    }
}

fn columns(url: &str) -> Vec<(String, String)> {
    let (path, query) = url.split_once('?').map_or((url, None), |(p, q)| (p, Some(q)));
    let path = format!("/api/data/v9.2/{path}");
    let raw = RawRequest { method: "GET", path: &path, query, headers: &[], body: b"" };
    let schema = Schema::standard();
    let request = parse_request(&schema, &raw, &ParseLimits::default()).unwrap();
    match classify(&schema, &request) {
        Classification::Classified(t) => t.columns,
        Classification::Unclassified { reason, .. } => panic!("{reason}"),
    }
}

fn reads(tables: &[&str]) -> Vec<(String, Privilege)> {
    tables.iter().map(|t| ((*t).to_owned(), Privilege::Read)).collect()
}

#[test]
fn reads_through_other_tables() {
    let id = "00000000-0000-0000-0000-000000000001";
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("accounts?$select=name".into(), vec!["account"]),
        ("accounts?$select=_primarycontactid_value&$filter=_primarycontactid_value eq null".into(), vec!["account"]),
        ("accounts?$expand=primarycontactid($select=fullname)".into(), vec!["account", "contact"]),
        ("accounts?$expand=primarycontactid/$ref".into(), vec!["account", "contact"]),
        ("accounts?$expand=contact_customer_accounts($select=fullname;$top=2)".into(), vec!["account", "contact"]),
        ("accounts?$expand=primarycontactid($expand=createdby($select=fullname))".into(), vec!["account", "contact", "systemuser"]),
        ("accounts?$expand=contact_customer_accounts($filter=parentcustomerid_account/name eq 'x')".into(), vec!["account", "contact"]),
        ("accounts?$filter=primarycontactid/fullname eq 'Susanna'".into(), vec!["account", "contact"]),
        ("accounts?$filter=primarycontactid/createdby/fullname eq 'x'".into(), vec!["account", "contact", "systemuser"]),
        ("accounts?$filter=contains(primarycontactid/fullname,'x')".into(), vec!["account", "contact"]),
        ("accounts?$filter=contact_customer_accounts/any(c:c/jobtitle eq 'x')".into(), vec!["account", "contact"]),
        ("accounts?$filter=contact_customer_accounts/any()".into(), vec!["account", "contact"]),
        ("accounts?$filter=opportunity_customer_accounts/all(o:o/name ne 'x')".into(), vec!["account", "opportunity"]),
        ("accounts?$filter=contact_customer_accounts/any(c:c/opportunity_customer_contacts/any(o:o/name eq 'x'))".into(), vec!["account", "contact", "opportunity"]),
        ("accounts?$filter=not contact_customer_accounts/any(c:c/parentcustomerid_account/name eq 'x')".into(), vec!["account", "contact"]),
        ("systemusers?$filter=user_accounts/any(a:a/name eq 'x')".into(), vec!["systemuser", "account"]),
        (format!("accounts({id})?$expand=opportunity_customer_accounts($select=name)"), vec!["account", "opportunity"]),
        ("contacts?$filter=parentcustomerid_account/primarycontactid/fullname eq 'x'".into(), vec!["contact", "account"]),
        ("EntityDefinitions?$select=LogicalName,EntitySetName&$filter=LogicalName eq 'lead'".into(), vec!["lead"]),
        (format!("accounts({id})/name"), vec!["account"]),
        (format!("accounts({id})/name/$value"), vec!["account"]),
        (format!("accounts({id})/primarycontactid?$select=fullname"), vec!["account", "contact"]),
        (format!("accounts({id})/primarycontactid/$ref"), vec!["account", "contact"]),
        (format!("accounts({id})/contact_customer_accounts?$filter=jobtitle ne null"), vec!["account", "contact"]),
        (format!("accounts({id})/contact_customer_accounts/$count"), vec!["account", "contact"]),
        (format!("accounts({id})/contact_customer_accounts({id})?$select=fullname"), vec!["account", "contact"]),
        (
            format!("accounts({id})/contact_customer_accounts(emailaddress1='a@b.c')?$expand=createdby($select=fullname)"),
            vec!["account", "contact", "systemuser"],
        ),
        (format!("accounts({id})/opportunity_customer_accounts/$ref"), vec!["account", "opportunity"]),
        (
            "EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)".into(),
            vec!["contact"],
        ),
        // An alias can carry a navigation path: it is resolved before classification.
        ("accounts?$filter=@p eq 'x'&@p=primarycontactid/fullname".into(), vec!["account", "contact"]),
        ("accounts?$filter=@p&@p=contact_customer_accounts/any()".into(), vec!["account", "contact"]),
        // Ordering through navigation reads the tables reached; ordering by a lookup sorts by
        // the related row's primary name, a read of every table the lookup can point at.
        ("accounts?$orderby=primarycontactid/fullname".into(), vec!["account", "contact"]),
        ("accounts?$orderby=name,parentaccountid/createdby/fullname desc".into(), vec!["account", "systemuser"]),
        ("accounts?$orderby=@o&@o=primarycontactid/fullname".into(), vec!["account", "contact"]),
        ("accounts?$orderby=_primarycontactid_value".into(), vec!["account", "contact"]),
        ("incidents?$orderby=_customerid_value".into(), vec!["incident", "account", "contact"]),
        ("accounts?$orderby=_ownerid_value desc".into(), vec!["account", "systemuser", "team"]),
        ("accounts?$expand=contact_customer_accounts($orderby=createdby/fullname)".into(), vec!["account", "contact", "systemuser"]),
    ];
    for (url, want) in cases {
        let got = touches(&url);
        let want = reads(&want);
        for w in &want {
            assert!(got.contains(w), "{url}: missing {w:?} in {got:?}");
        }
        assert_eq!(got.len(), want.len(), "{url}: {got:?}");
    }
}

#[test]
fn orderings_read_their_columns() {
    let c = columns("accounts?$orderby=primarycontactid/jobtitle,_parentaccountid_value desc");
    for want in [
        ("account", "primarycontactid"),
        ("contact", "jobtitle"),
        ("account", "parentaccountid"),
        ("account", "name"), // the parent account's primary name
    ] {
        assert!(c.contains(&(want.0.to_owned(), want.1.to_owned())), "{want:?} not in {c:?}");
    }
}

#[test]
fn lookups_followed_are_columns_read() {
    let c = columns(
        "accounts?$filter=primarycontactid/fullname eq 'x'&$expand=contact_customer_accounts($select=jobtitle)",
    );
    for want in [
        ("account", "primarycontactid"),
        ("contact", "fullname"),
        ("contact", "parentcustomerid"),
        ("contact", "jobtitle"),
    ] {
        assert!(c.contains(&(want.0.to_owned(), want.1.to_owned())), "{want:?} not in {c:?}");
    }
}

#[test]
fn expand_rules() {
    let schema = Schema::standard();
    let bad = [
        "accounts?$expand=primarycontactid($filter=fullname eq 'x')",
        "accounts?$expand=primarycontactid($top=1)",
        "accounts?$expand=contact_customer_accounts($expand=createdby)",
        "accounts?$expand=nosuchnav",
        "accounts?$expand=primarycontactid,primarycontactid",
        "accounts?$expand=primarycontactid($count=true)",
        "accounts?$expand=contact_customer_accounts($filter=fullname eq @p1)",
        "accounts?$expand=primarycontactid/$ref($select=fullname)",
        "accounts?$expand=createdby,modifiedby,owninguser,owningteam,owningbusinessunit,primarycontactid,parentaccountid,transactioncurrencyid,contact_customer_accounts,opportunity_customer_accounts,incident_customer_accounts",
        "accounts?$filter=contact_customer_accounts/fullname eq 'x'",
        "accounts?$filter=contact_customer_accounts/any(c:fullname eq 'x')",
        "accounts?$filter=primarycontactid/nosuch eq 'x'",
    ];
    for url in bad {
        let (path, query) = url.split_once('?').unwrap();
        let path = format!("/api/data/v9.2/{path}");
        let raw = RawRequest { method: "GET", path: &path, query: Some(query), headers: &[], body: b"" };
        assert!(parse_request(&schema, &raw, &ParseLimits::default()).is_err(), "{url} should be refused");
    }
}

/// Parses and classifies a write with a JSON body.
fn write_touches(method: &str, url: &str, body: &str) -> dataverse::Touches {
    let path = format!("/api/data/v9.2/{url}");
    let raw = RawRequest { method, path: &path, query: None, headers: &[], body: body.as_bytes() };
    let schema = Schema::standard();
    let request = parse_request(&schema, &raw, &ParseLimits::default()).unwrap_or_else(|e| panic!("{url}: {e}"));
    match classify(&schema, &request) {
        Classification::Classified(t) => t,
        Classification::Unclassified { reason, .. } => panic!("{url}: unclassified: {reason}"),
    }
}

/// A write's table touches are exactly `want` (each present, nothing more).
fn assert_touches(method: &str, url: &str, body: &str, want: &[(&str, Privilege)]) {
    let t = write_touches(method, url, body);
    let got: Vec<(String, Privilege)> = t.tables.iter().map(|a| (a.table.clone(), a.privilege)).collect();
    for (table, p) in want {
        assert!(got.contains(&((*table).to_owned(), *p)), "{method} {url} {body}: missing {table} {p:?} in {got:?}");
    }
    assert_eq!(got.len(), want.len(), "{method} {url} {body}: {got:?}");
}

/// Design §4 "Relationships": the table holding the lookup is written, the table pointed at is
/// read; polymorphic lookups check the bound target's table; binding `ownerid` needs nothing of
/// systemuser or team; a collection-valued bind writes the related rows.
#[test]
fn binds_write_the_lookup_holder_and_read_the_target() {
    use Privilege::{Create, Read, Write};
    let id = "00000000-0000-0000-0000-000000000001";
    let row = format!("accounts({id})");
    type Case<'a> = (&'a str, &'a str, String, Vec<(&'a str, Privilege)>);
    let cases: Vec<Case> = vec![
        (
            "POST",
            "accounts",
            format!(r#"{{"name":"a","primarycontactid@odata.bind":"/contacts({id})"}}"#),
            vec![("account", Create), ("contact", Read)],
        ),
        (
            "POST",
            "contacts",
            format!(r#"{{"lastname":"a","parentcustomerid_account@odata.bind":"accounts({id})"}}"#),
            vec![("contact", Create), ("account", Read)],
        ),
        (
            "POST",
            "contacts",
            format!(r#"{{"lastname":"a","parentcustomerid_contact@odata.bind":"/contacts({id})"}}"#),
            vec![("contact", Create), ("contact", Read)],
        ),
        (
            "POST",
            "accounts",
            format!(r#"{{"name":"a","ownerid@odata.bind":"/systemusers({id})"}}"#),
            vec![("account", Create)],
        ),
        (
            "POST",
            "accounts",
            format!(r#"{{"name":"a","ownerid@odata.bind":"/teams({id})"}}"#),
            vec![("account", Create)],
        ),
        (
            "POST",
            "accounts",
            format!(r#"{{"name":"a","contact_customer_accounts@odata.bind":["/contacts({id})"]}}"#),
            vec![("account", Create), ("contact", Write)],
        ),
        (
            "POST",
            "accounts",
            r#"{"name":"a","primarycontactid@odata.bind":"$1"}"#.to_owned(),
            vec![("account", Create), ("contact", Read)],
        ),
        // A polymorphic lookup checks the bound target's table (design §4).
        (
            "POST",
            "tasks",
            format!(r#"{{"subject":"call","regardingobjectid_lead_task@odata.bind":"/leads({id})"}}"#),
            vec![("task", Create), ("lead", Read)],
        ),
        (
            "POST",
            "annotations",
            format!(r#"{{"subject":"n","objectid_incident@odata.bind":"/incidents({id})"}}"#),
            vec![("annotation", Create), ("incident", Read)],
        ),
        (
            "PATCH",
            &row,
            r#"{"primarycontactid@odata.bind":null}"#.to_owned(),
            vec![("account", Create), ("account", Write), ("contact", Read)],
        ),
        (
            "PATCH",
            &row,
            r#"{"parentaccountid@odata.bind":"https://org.example/api/data/v9.2/accounts(accountnumber='A-1')"}"#
                .to_owned(),
            vec![("account", Create), ("account", Write), ("account", Read)],
        ),
    ];
    for (method, url, body, want) in cases {
        assert_touches(method, url, &body, &want);
    }
    // The lookup column written, and the alternate-key column named by a reference.
    let t = write_touches(
        "PATCH",
        &format!("accounts({id})"),
        r#"{"parentaccountid@odata.bind":"/accounts(accountnumber='A-1')"}"#,
    );
    assert!(t.columns.contains(&("account".into(), "parentaccountid".into())), "{:?}", t.columns);
    assert!(t.columns.contains(&("account".into(), "accountnumber".into())), "{:?}", t.columns);
}

#[test]
fn malformed_binds_are_payload_errors() {
    let schema = Schema::standard();
    let id = "00000000-0000-0000-0000-000000000001";
    for body in [
        format!(r#"{{"name":"a","primarycontactid@odata.bind":"/accounts({id})"}}"#),
        r#"{"name":"a","primarycontactid@odata.bind":"/contacts(nope)"}"#.to_owned(),
        r#"{"name":"a","primarycontactid@odata.bind":5}"#.to_owned(),
        format!(r#"{{"name":"a","primarycontactid@odata.bind":"/contacts({id})?$select=x"}}"#),
        format!(r#"{{"name":"a","primarycontactid@odata.bind":"/contacts(%7B{id}%7D)"}}"#),
        format!(r#"{{"name":"a","primarycontactid@odata.bind":"ftp://org/api/data/v9.2/contacts({id})"}}"#),
        format!(r#"{{"name":"a","primarycontactid@odata.bind":"https://org/other/contacts({id})"}}"#),
        format!(r#"{{"name":"a","primarycontactid@odata.bind":"/api/data/v8.0/contacts({id})"}}"#),
        format!(r#"{{"name":"a","nosuchnav@odata.bind":"/contacts({id})"}}"#),
        format!(r#"{{"name":"a","contact_customer_accounts@odata.bind":"/contacts({id})"}}"#),
        format!(
            r#"{{"name":"a","primarycontactid@odata.bind":"/contacts({id})","primarycontactid@odata.bind":"/contacts({id})"}}"#
        ),
        r#"{"name":"a","primarycontactid@odata.bind":"$"}"#.to_owned(),
    ] {
        let raw = RawRequest {
            method: "POST",
            path: "/api/data/v9.2/accounts",
            query: None,
            headers: &[],
            body: body.as_bytes(),
        };
        let err = parse_request(&schema, &raw, &ParseLimits::default()).expect_err(&body);
        assert_eq!(err.to_dataverse().status, 400, "{body}: {err}");
    }
    // A collection-valued bind only on create.
    let raw = RawRequest {
        method: "PATCH",
        path: &format!("/api/data/v9.2/accounts({id})"),
        query: None,
        headers: &[],
        body: format!(r#"{{"contact_customer_accounts@odata.bind":["/contacts({id})"]}}"#).into_bytes().leak(),
    };
    assert!(parse_request(&schema, &raw, &ParseLimits::default()).is_err());
}

/// Clearing a property is a write of that column, never a delete (design §4).
#[test]
fn single_property_writes_are_writes() {
    let id = "00000000-0000-0000-0000-000000000001";
    for (method, body) in [("PUT", r#"{"value":"555"}"#), ("DELETE", "")] {
        let t = write_touches(method, &format!("accounts({id})/telephone1"), body);
        let got: Vec<(String, Privilege)> = t.tables.iter().map(|a| (a.table.clone(), a.privilege)).collect();
        assert_eq!(got, [("account".to_owned(), Privilege::Write)], "{method}");
        assert!(t.columns.contains(&("account".into(), "telephone1".into())), "{method}: {:?}", t.columns);
    }
}

/// `$ref` writes: the table holding the lookup is written, the other end read (design §4).
#[test]
fn ref_writes_write_the_lookup_holder() {
    use Privilege::{Read, Write};
    let id = "00000000-0000-0000-0000-000000000001";
    let odata_id = format!(r#"{{"@odata.id":"https://org.example/api/data/v9.2/contacts({id})"}}"#);
    let cases = [
        (
            "POST",
            format!("accounts({id})/contact_customer_accounts/$ref"),
            odata_id.clone(),
            vec![("contact", Write), ("account", Read)],
        ),
        (
            "PUT",
            format!("accounts({id})/primarycontactid/$ref"),
            odata_id.clone(),
            vec![("account", Write), ("contact", Read)],
        ),
        ("DELETE", format!("accounts({id})/primarycontactid/$ref"), String::new(), vec![("account", Write)]),
        (
            "DELETE",
            format!("accounts({id})/contact_customer_accounts({id})/$ref"),
            String::new(),
            vec![("contact", Write), ("account", Read)],
        ),
        (
            "PUT",
            format!("contacts({id})/parentcustomerid_account/$ref"),
            format!(r#"{{"@odata.id":"/accounts({id})"}}"#),
            vec![("contact", Write), ("account", Read)],
        ),
    ];
    for (method, url, body, want) in cases {
        assert_touches(method, &url, &body, &want);
    }
}

/// Deep insert (spec §2.2): every row created with the row is a create of its table, at any
/// depth; the printed body parses back to the same request.
#[test]
fn deep_insert_creates_every_table_it_names() {
    use Privilege::{Create, Read};
    let body = r#"{"name":"a","primarycontactid":{"lastname":"b","parentcustomerid_contact@odata.bind":"/contacts(00000000-0000-0000-0000-000000000001)"},"opportunity_customer_accounts":[{"name":"o","Opportunity_Tasks":[{"subject":"t"}]}],"lead_parent_account":[{"lastname":"l"}]}"#;
    let t = write_touches("POST", "accounts", body);
    let got: Vec<(String, Privilege)> = t.tables.iter().map(|a| (a.table.clone(), a.privilege)).collect();
    for want in [
        ("account", Create),
        ("contact", Create),
        ("contact", Read),
        ("opportunity", Create),
        ("task", Create),
        ("lead", Create),
    ] {
        assert!(got.contains(&(want.0.to_owned(), want.1)), "missing {want:?} in {got:?}");
    }
    for col in [
        ("account", "primarycontactid"),
        ("opportunity", "customerid"),
        ("task", "regardingobjectid"),
        ("lead", "parentaccountid"),
        ("contact", "lastname"),
    ] {
        assert!(t.columns.contains(&(col.0.into(), col.1.into())), "{col:?} not in {:?}", t.columns);
    }
    let schema = Schema::standard();
    let raw = RawRequest {
        method: "POST",
        path: "/api/data/v9.2/accounts",
        query: None,
        headers: &[],
        body: body.as_bytes(),
    };
    let request = parse_request(&schema, &raw, &ParseLimits::default()).unwrap();
    let printed = dataverse::print::print_request(&schema, &request).unwrap();
    let body2 = printed.body.unwrap();
    let again = RawRequest { body: body2.as_bytes(), ..raw };
    assert_eq!(parse_request(&schema, &again, &ParseLimits::default()).unwrap(), request, "{body2}");
    // Limits and shapes.
    let deep = (0..12).fold(r#"{"lastname":"x"}"#.to_owned(), |inner, _| {
        format!(r#"{{"name":"a","primarycontactid":{{"lastname":"c","parentcustomerid_account":{inner}}}}}"#)
    });
    for bad in [
        deep.as_str(),
        r#"{"name":"a","primarycontactid":[{"lastname":"b"}]}"#,
        r#"{"name":"a","contact_customer_accounts":{"lastname":"b"}}"#,
        r#"{"name":"a","contact_customer_accounts":[5]}"#,
    ] {
        let raw = RawRequest {
            method: "POST",
            path: "/api/data/v9.2/accounts",
            query: None,
            headers: &[],
            body: bad.as_bytes(),
        };
        let err = parse_request(&schema, &raw, &ParseLimits::default()).expect_err(bad);
        assert_eq!(err.to_dataverse().status, 400, "{bad}");
    }
}

/// N:N relationships (design §4: associating or disassociating needs Full use on both tables;
/// Dataverse asks Append and AppendTo on both, spec §5): every way of pairing rows writes both
/// tables, and every way of following the relationship reads the related table. Each case
/// names the touch that must be there.
#[test]
fn many_to_many_pairs_write_both_tables_and_reads_read_the_related_one() {
    use Privilege::{Append, AppendTo, Create};
    let id = "00000000-0000-0000-0000-000000000001";
    let both = |a: &'static str, b: &'static str| vec![(a, Append), (a, AppendTo), (b, Append), (b, AppendTo)];
    let lead_ref = format!(r#"{{"@odata.id":"https://org.example/api/data/v9.2/leads({id})"}}"#);
    type Case<'a> = (&'a str, String, String, Vec<(&'a str, Privilege)>);
    let cases: Vec<Case> = vec![
        ("POST", format!("accounts({id})/accountleads_association/$ref"), lead_ref.clone(), both("account", "lead")),
        (
            "DELETE",
            format!("accounts({id})/accountleads_association({id})/$ref"),
            String::new(),
            both("account", "lead"),
        ),
        (
            "POST",
            format!("leads({id})/accountleads_association/$ref"),
            format!(r#"{{"@odata.id":"accounts({id})"}}"#),
            both("lead", "account"),
        ),
        (
            "POST",
            "accounts".into(),
            format!(r#"{{"name":"a","accountleads_association@odata.bind":["/leads({id})"]}}"#),
            [vec![("account", Create)], both("account", "lead")].concat(),
        ),
        (
            "POST",
            "accounts".into(),
            r#"{"name":"a","accountleads_association":[{"lastname":"x"}]}"#.into(),
            [vec![("account", Create), ("lead", Create)], both("account", "lead")].concat(),
        ),
        (
            "POST",
            format!("teams({id})/teammembership_association/$ref"),
            format!(r#"{{"@odata.id":"systemusers({id})"}}"#),
            both("team", "systemuser"),
        ),
    ];
    for (method, url, body, want) in cases {
        assert_touches(method, &url, &body, &want);
    }
    // A `$ref` delete by `$id=` names the lead row too.
    let path = format!("/api/data/v9.2/accounts({id})/accountleads_association/$ref");
    let query = format!("$id=https://org.example/api/data/v9.2/leads({id})");
    let raw = RawRequest { method: "DELETE", path: &path, query: Some(&query), headers: &[], body: b"" };
    let schema = Schema::standard();
    let request = parse_request(&schema, &raw, &ParseLimits::default()).unwrap();
    let Classification::Classified(t) = classify(&schema, &request) else { panic!("unclassified") };
    assert!(t.tables.iter().any(|a| a.table == "lead" && a.privilege == Append), "{:?}", t.tables);

    for (url, want) in [
        (format!("accounts({id})?$expand=accountleads_association($select=fullname)"), vec!["account", "lead"]),
        ("accounts?$filter=accountleads_association/any(l:l/lastname eq 'x')".to_owned(), vec!["account", "lead"]),
        ("leads?$filter=accountleads_association/all(a:a/name ne 'x')".to_owned(), vec!["lead", "account"]),
        (format!("accounts({id})/accountleads_association?$select=fullname"), vec!["account", "lead"]),
        (format!("accounts({id})/accountleads_association/$ref"), vec!["account", "lead"]),
        (format!("accounts({id})/accountleads_association/$count"), vec!["account", "lead"]),
        (format!("accounts({id})/accountleads_association({id})?$select=fullname"), vec!["account", "lead"]),
        ("systemusers?$filter=teammembership_association/any(t:t/name eq 'x')".to_owned(), vec!["systemuser", "team"]),
    ] {
        let got = touches(&url);
        assert_eq!(got, reads(&want), "{url}");
    }
}

/// N:N navigation properties are collection-valued everywhere: not a path hop, not a bind on
/// update, not `PUT …/$ref`.
#[test]
fn many_to_many_navigation_is_collection_valued() {
    let id = "00000000-0000-0000-0000-000000000001";
    let schema = Schema::standard();
    let refused = [
        ("GET", "accounts".to_owned(), Some("$filter=accountleads_association/lastname eq 'x'"), String::new()),
        ("GET", "accounts".to_owned(), Some("$orderby=accountleads_association/lastname"), String::new()),
        (
            "PUT",
            format!("accounts({id})/accountleads_association/$ref"),
            None,
            format!(r#"{{"@odata.id":"leads({id})"}}"#),
        ),
        (
            "PATCH",
            format!("accounts({id})"),
            None,
            format!(r#"{{"accountleads_association@odata.bind":["leads({id})"]}}"#),
        ),
        (
            "POST",
            format!("accounts({id})/accountleads_association/$ref"),
            None,
            format!(r#"{{"@odata.id":"contacts({id})"}}"#),
        ),
    ];
    for (method, url, query, body) in refused {
        let path = format!("/api/data/v9.2/{url}");
        let raw = RawRequest { method, path: &path, query, headers: &[], body: body.as_bytes() };
        assert!(
            parse_request(&schema, &raw, &ParseLimits::default()).is_err(),
            "{method} {url} {query:?} should be refused"
        );
    }
}
