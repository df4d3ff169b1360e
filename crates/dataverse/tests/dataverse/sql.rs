//! `sql=` (spec §6.7): the documented SELECT subset lowers to the same IR as its OData twin;
//! everything else is refused naming the construct.

use dataverse::print::{Redact, print_target};
use dataverse::{Operation, ParseError, ParseLimits, RawRequest, RequestKind, Schema, parse_request};

fn parse(url: &str) -> Result<dataverse::Request, ParseError> {
    let (path, query) = url.split_once('?').map_or((url, None), |(p, q)| (p, Some(q)));
    let path = format!("/api/data/v9.2/{path}");
    let raw = RawRequest { method: "GET", path: &path, query, headers: &[], body: b"" };
    parse_request(&Schema::standard(), &raw, &ParseLimits::default())
}

fn sql(set: &str, text: &str) -> Result<dataverse::Request, ParseError> {
    let encoded: String = url_encode(text);
    parse(&format!("{set}?sql={encoded}"))
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// SQL and OData twins parse to the same operation.
#[test]
fn sql_lowers_to_the_odata_twin() {
    let id = "6f1c4a3e-0000-4000-8000-000000000001";
    let cases: Vec<(&str, String, String)> = vec![
        ("accounts", "SELECT name, revenue FROM account".into(), "accounts?$select=name,revenue".into()),
        (
            "accounts",
            "select TOP 5 a.name from account a where a.revenue > 1000 and (name like 'Con%' or name like '%Ltd') order by name desc".into(),
            "accounts?$select=name&$filter=revenue gt 1000 and (startswith(name,'Con') or endswith(name,'Ltd'))&$orderby=name desc&$top=5".into(),
        ),
        (
            "contacts",
            format!("SELECT fullname FROM contact WHERE parentcustomerid = '{id}' AND emailaddress1 IS NOT NULL AND createdon >= '2024-01-01T00:00:00Z'"),
            format!("contacts?$select=fullname&$filter=_parentcustomerid_value eq {id} and emailaddress1 ne null and createdon ge 2024-01-01T00:00:00Z"),
        ),
        (
            "accounts",
            "SELECT name FROM [account] WHERE statuscode IN (1, 2) AND numberofemployees NOT BETWEEN 10 AND 20 AND name NOT LIKE '%test%' AND creditonhold = 0".into(),
            "accounts?$select=name&$filter=(statuscode eq 1 or statuscode eq 2) and not ((numberofemployees ge 10 and numberofemployees le 20)) and not (contains(name,'test')) and creditonhold eq false".into(),
        ),
        (
            "accounts",
            "SELECT DISTINCT statecode, statuscode FROM account".into(),
            "accounts?$apply=groupby((statecode,statuscode))".into(),
        ),
        (
            "accounts",
            "SELECT statuscode, COUNT(*) AS n, SUM(revenue) total, AVG(revenue) FROM account WHERE name <> 'x' GROUP BY statuscode ORDER BY statuscode".into(),
            "accounts?$apply=filter(name ne 'x')/groupby((statuscode),aggregate($count as n,revenue with sum as total,revenue with average as avg_revenue))&$orderby=statuscode".into(),
        ),
        (
            "accounts",
            "SELECT MAX(createdon) AS lastCreate, COUNT(*) FROM account;".into(),
            "accounts?$apply=aggregate(createdon with max as lastCreate,$count as count)".into(),
        ),
    ];
    let schema = Schema::standard();
    for (set, text, odata) in cases {
        let a = sql(set, &text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let b = parse(&odata).unwrap_or_else(|e| panic!("{odata}: {e}"));
        assert_eq!(a, b, "{text}");
        assert!(print_target(&schema, &a, Redact::Nothing).is_some());
    }
}

#[test]
fn refusals_name_the_construct() {
    for (text, want) in [
        ("DELETE FROM account", "DELETE"),
        ("UPDATE account SET name = 'x'", "UPDATE"),
        ("DROP TABLE account", "DROP"),
        ("SELECT * FROM account", "SELECT *"),
        ("SELECT name FROM account UNION SELECT name FROM account", "UNION"),
        ("SELECT name FROM account WHERE accountid IN (SELECT parentcustomerid FROM contact)", "Subqueries"),
        ("SELECT name FROM account; SELECT name FROM account", "one statement"),
        ("SELECT statuscode, COUNT(*) FROM account GROUP BY statuscode HAVING COUNT(*) > 1", "HAVING"),
        ("WITH x AS (SELECT name FROM account) SELECT name FROM x", "WITH"),
        ("SELECT name FROM account ORDER BY name OFFSET 10 ROWS", "OFFSET"),
        ("SELECT a.name FROM account a RIGHT JOIN contact c ON a.accountid = c.parentcustomerid", "RIGHT JOIN"),
        ("SELECT name FROM contact", "must query account"),
        ("SELECT name FROM account WHERE revenue > creditlimit", "Column-to-column"),
        ("SELECT name FROM account WHERE name = NULL", "IS NULL"),
        ("SELECT UPPER(name) FROM account", "UPPER"),
        ("SELECT name, COUNT(*) FROM account", "GROUP BY"),
        ("SELECT name FROM account -- comment", "Comments"),
        ("SELECT nosuch FROM account", "nosuch"),
        ("SELECT name FROM account WHERE createdon > 'yesterday'", "cannot be compared"),
        ("SELECT name FROM account WHERE name = 'unterminated", "unterminated"),
        ("SELECT COUNT(*) AS [n,revenue with sum as t] FROM account", "not a valid alias"),
        ("SELECT name FROM account WHERE numberofemployees = '5'", "cannot be compared"),
        (
            "SELECT a.name FROM account a JOIN contact c ON a.primarycontactid = c.contactid WHERE a.numberofemployees = '5'",
            "cannot be compared",
        ),
        ("SELECT TOP 0 name FROM account", "out of range"),
        ("SELECT a.name FROM account a JOIN contact c ON a.name = c.fullname", "must follow a lookup"),
        ("SELECT a.name FROM account a JOIN contact c ON c.contactid = c.parentcustomerid", "joined table with one"),
        ("SELECT a.name FROM account a JOIN nosuch n ON a.accountid = n.x", "does not exist"),
    ] {
        match sql("accounts", text) {
            Err(ParseError::Syntax(m)) => assert!(m.contains(want), "{text}: {m}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    for (text, want) in [
        (
            "SELECT a.name FROM account a LEFT JOIN contact c ON a.primarycontactid = c.contactid WHERE c.lastname = 'x'",
            "LEFT JOIN",
        ),
        (
            "SELECT a.name FROM account a JOIN contact c ON a.primarycontactid = c.contactid WHERE a.name = 'x' OR c.lastname = 'y'",
            "several tables",
        ),
        ("SELECT COUNT(*) FROM account a JOIN contact c ON a.primarycontactid = c.contactid", "aggregates with JOIN"),
        ("SELECT name AS n FROM account", "aliases"),
        ("SELECT COUNT(name) FROM account", "COUNT(column)"),
        ("SELECT name FROM account WHERE name LIKE 'a_c'", "LIKE"),
    ] {
        match sql("accounts", text).unwrap_or_else(|e| panic!("{text}: {e}")).operation {
            Operation::Unsupported { kind: RequestKind::Query, reason } => {
                assert!(reason.contains(want), "{text}: {reason}")
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    // sql stands alone.
    assert!(matches!(parse("accounts?sql=SELECT%20name%20FROM%20account&$top=1"), Err(ParseError::Syntax(_))));
}

/// JOINs along lookups lower to their FetchXML twin: linked tables, `alias.column`.
#[test]
fn joins_lower_to_the_fetchxml_twin() {
    fn fetch_url(set: &str, xml: &str) -> String {
        format!("{set}?fetchXml={}", url_encode(xml))
    }
    for (set, text, xml) in [
        (
            "accounts",
            "SELECT TOP 10 a.name, c.fullname FROM account a JOIN contact c ON a.primarycontactid = c.contactid WHERE c.lastname = 'Glynn' AND a.revenue > 1000 ORDER BY a.name",
            "<fetch mapping='logical' top='10'><entity name='account'><attribute name='name'/><order attribute='name'/><filter type='and'><condition attribute='revenue' operator='gt' value='1000'/></filter><link-entity name='contact' from='contactid' to='primarycontactid' link-type='inner' alias='c'><attribute name='fullname'/><filter type='and'><condition attribute='lastname' operator='eq' value='Glynn'/></filter></link-entity></entity></fetch>",
        ),
        (
            "contacts",
            "SELECT contact.fullname, account.name FROM contact LEFT JOIN account ON account.primarycontactid = contact.contactid AND account.statecode IN (0, 1)",
            "<fetch mapping='logical'><entity name='contact'><attribute name='fullname'/><link-entity name='account' from='primarycontactid' to='contactid' link-type='outer' alias='account'><attribute name='name'/><filter type='and'><condition attribute='statecode' operator='in'><value>0</value><value>1</value></condition></filter></link-entity></entity></fetch>",
        ),
    ] {
        let a = sql(set, text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let b = parse(&fetch_url(set, xml)).unwrap_or_else(|e| panic!("{xml}: {e}"));
        assert!(matches!(a.operation, Operation::Fetch(_)), "{text}");
        assert_eq!(a, b, "{text}");
    }
}
