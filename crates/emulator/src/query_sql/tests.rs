//! The SQL the query IR lowers to: shapes, aliases and bound values.

use super::*;
use chrono::TimeZone as _;
use dataverse::query::{Hop, QueryFunction};
use dataverse::{ParseLimits, RawRequest, Schema, parse_request};
use sea_query::{Query, SqliteQueryBuilder};

fn env(schema: &Schema) -> Env<'_> {
    Env {
        schema,
        now: Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap(),
        user: Uuid::from_u128(1),
        business_unit: Uuid::from_u128(2),
        default_team: Uuid::from_u128(3),
    }
}

/// The filter of `GET {set}?$filter={filter}`, parsed by the one parser.
fn parsed(schema: &Schema, set: &str, filter: &str) -> Filter {
    let query = format!("$filter={filter}");
    let path = format!("/api/data/v9.2/{set}");
    let raw = RawRequest { method: "GET", path: &path, query: Some(&query), headers: &[], body: b"" };
    match parse_request(schema, &raw, &ParseLimits::default()).expect("parses").operation {
        dataverse::Operation::Query(q) => q.filter.expect("a filter"),
        other => panic!("not a query: {other:?}"),
    }
}

/// `SELECT 1 FROM {table} WHERE {filter}` and its bound values.
fn to_sql(schema: &Schema, table: &str, filter: &Filter) -> (String, usize) {
    let table = schema.table(table).unwrap();
    let expr = filter_expr(&env(schema), table, filter).unwrap();
    let (sql, values) = Query::select()
        .expr(Expr::cust("1"))
        .from(table.logical_name.clone())
        .and_where(expr)
        .build(SqliteQueryBuilder);
    (sql, values.0.len())
}

#[test]
fn glob_patterns() {
    assert_eq!(glob_pattern(TextFunction::Contains, "Sample"), "*sample*");
    assert_eq!(glob_pattern(TextFunction::StartsWith, "a%b_c"), "a*b?c*");
    assert_eq!(glob_pattern(TextFunction::EndsWith, "Inc."), "*inc.");
    assert_eq!(glob_pattern(TextFunction::Contains, "[A-C]x"), "*[a-c]x*");
    assert_eq!(glob_pattern(TextFunction::Contains, "[^a]"), "*[^a]*");
    assert_eq!(glob_pattern(TextFunction::Contains, "a[b"), "*a[[]b*");
    assert_eq!(glob_pattern(TextFunction::Contains, "*?"), "*[*][?]*");
    assert_eq!(glob_pattern(TextFunction::Contains, "[]]"), "*[]]*");
}

#[test]
fn values_are_bound_never_inlined() {
    let schema = Schema::standard();
    let filter = Filter::Compare {
        left: Operand::Column("name".into()),
        op: CompareOp::Eq,
        right: Operand::Value(Literal::String("x' OR 1=1 --".into())),
    };
    let (sql, values) = to_sql(&schema, "account", &filter);
    assert_eq!(sql, r#"SELECT 1 FROM "account" WHERE "account"."name" = ?"#);
    assert_eq!(values, 1);
}

#[test]
fn money_literals_scale_exactly() {
    let schema = Schema::standard();
    let revenue = schema.table("account").unwrap().column("revenue").unwrap();
    assert_eq!(literal_cell(revenue, &Literal::Integer(5)), Some(Cell::Int(50_000)));
    assert_eq!(literal_cell(revenue, &Literal::Decimal("1.25".into())), Some(Cell::Int(12_500)));
    assert_eq!(literal_cell(revenue, &Literal::Decimal("0.00005".into())), Some(Cell::Real(0.5)));
}

#[test]
fn navigation_paths_are_correlated_subqueries() {
    let schema = Schema::standard();
    let f = parsed(&schema, "accounts", "primarycontactid/createdby/fullname%20eq%20'x'");
    let (sql, values) = to_sql(&schema, "account", &f);
    assert_eq!(
        sql,
        r#"SELECT 1 FROM "account" WHERE ((SELECT "_t2"."fullname" FROM "contact" AS "_t1" INNER JOIN "systemuser" AS "_t2" ON "_t2"."systemuserid" = "_t1"."createdby" WHERE "_t1"."contactid" = "account"."primarycontactid") COLLATE NOCASE) = ?"#
    );
    assert_eq!(values, 1);
    // A polymorphic hop follows only rows pointing at the hop's table.
    let hop = Hop {
        navigation: "parentcustomerid_account".into(),
        column: "parentcustomerid".into(),
        table: "account".into(),
    };
    let f = Filter::Compare {
        left: Operand::Related { path: vec![hop], column: "numberofemployees".into() },
        op: CompareOp::Gt,
        right: Operand::Value(Literal::Integer(5)),
    };
    let (sql, values) = to_sql(&schema, "contact", &f);
    assert!(
        sql.contains(
            r#"WHERE "_t1"."accountid" = "contact"."parentcustomerid" AND "contact"."parentcustomerid@type" = ?) > ?"#
        ),
        "{sql}"
    );
    assert_eq!(values, 2);
}

#[test]
fn lambdas_nest_in_their_own_scope() {
    let schema = Schema::standard();
    let f = parsed(
        &schema,
        "accounts",
        "contact_customer_accounts/any(c:c/jobtitle%20eq%20'x'%20and%20c/incident_customer_contacts/all(i:i/title%20ne%20'y'))",
    );
    let (sql, values) = to_sql(&schema, "account", &f);
    assert_eq!(
        sql,
        concat!(
            r#"SELECT 1 FROM "account" WHERE EXISTS(SELECT 1 FROM "contact" AS "_t1" WHERE "_t1"."parentcustomerid" = "account"."accountid""#,
            r#" AND "_t1"."parentcustomerid@type" = ? AND ("_t1"."jobtitle" = ? AND (NOT EXISTS(SELECT 1 FROM "incident" AS "_t2""#,
            r#" WHERE "_t2"."customerid" = "_t1"."contactid" AND "_t2"."customerid@type" = ? AND (NOT COALESCE("_t2"."title" <> ?, ?))))))"#
        )
    );
    assert_eq!(values, 5);
    let (sql, _) = to_sql(&schema, "account", &parsed(&schema, "accounts", "account_parent_account/any()"));
    assert_eq!(
        sql,
        r#"SELECT 1 FROM "account" WHERE EXISTS(SELECT 1 FROM "account" AS "_t1" WHERE "_t1"."parentaccountid" = "account"."accountid")"#
    );
}

#[test]
fn hierarchies_walk_recursive_ctes() {
    let schema = Schema::standard();
    let id = Uuid::from_u128(9).to_string();
    let f = Filter::Function {
        function: QueryFunction::Under,
        column: "accountid".into(),
        values: vec![Literal::String(id)],
    };
    let (sql, values) = to_sql(&schema, "account", &f);
    assert_eq!(
        sql,
        concat!(
            r#"SELECT 1 FROM "account" WHERE "account"."accountid" IN (WITH RECURSIVE "_t1" ("id") AS (SELECT "accountid" FROM "account" WHERE "parentaccountid" = ?"#,
            r#" UNION SELECT "_t2"."accountid" FROM "account" AS "_t2" INNER JOIN "_t1" ON "_t2"."parentaccountid" = "_t1"."id") SELECT "id" FROM "_t1")"#
        )
    );
    assert_eq!(values, 1);
}

#[test]
fn date_functions_bind_instants_in_the_column_format() {
    let schema = Schema::standard();
    let today = Filter::Function { function: QueryFunction::Today, column: "createdon".into(), values: vec![] };
    let table = schema.table("account").unwrap();
    let expr = filter_expr(&env(&schema), table, &today).unwrap();
    let (sql, values) = Query::select().expr(Expr::cust("1")).from("account").and_where(expr).build(SqliteQueryBuilder);
    assert_eq!(sql, r#"SELECT 1 FROM "account" WHERE "account"."createdon" >= ? AND "account"."createdon" < ?"#);
    let texts: Vec<String> = values.0.iter().map(|v| format!("{v:?}")).collect();
    assert!(texts[0].contains("2024-03-01T00:00:00Z") && texts[1].contains("2024-03-02T00:00:00Z"), "{texts:?}");
    // A date-only column compares with dates: from 2024-02-28T20:00 (so from Feb 29) to now.
    let contacts = schema.table("contact").unwrap();
    let last = Filter::Function {
        function: QueryFunction::LastXHours,
        column: "birthdate".into(),
        values: vec![Literal::Integer(40)],
    };
    let expr = filter_expr(&env(&schema), contacts, &last).unwrap();
    let (_, values) = Query::select().expr(Expr::cust("1")).from("contact").and_where(expr).build(SqliteQueryBuilder);
    let texts: Vec<String> = values.0.iter().map(|v| format!("{v:?}")).collect();
    assert!(texts[0].contains("\"2024-02-29\"") && texts[1].contains("\"2024-03-01\""), "{texts:?}");
}

#[test]
fn values_that_do_not_fit_are_400() {
    let schema = Schema::standard();
    let table = schema.table("account").unwrap();
    for (function, column, values) in [
        (QueryFunction::In, "numberofemployees", vec![Literal::String("many".into())]),
        (QueryFunction::Between, "numberofemployees", vec![Literal::Integer(1)]),
        (QueryFunction::On, "createdon", vec![Literal::Integer(2024)]),
        (QueryFunction::LastXDays, "createdon", vec![Literal::String("-1".into())]),
        (QueryFunction::InFiscalPeriod, "createdon", vec![Literal::Integer(13)]),
        (QueryFunction::Under, "accountid", vec![Literal::String("not-a-guid".into())]),
        (QueryFunction::Under, "name", vec![Literal::String(Uuid::nil().to_string())]),
        (QueryFunction::EqualUserLanguage, "numberofemployees", vec![]),
    ] {
        let f = Filter::Function { function, column: column.into(), values };
        let e = filter_expr(&env(&schema), table, &f).unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (400, "0x0"), "{function:?}: {}", e.message);
    }
}
