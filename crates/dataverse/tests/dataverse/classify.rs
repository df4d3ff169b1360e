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
