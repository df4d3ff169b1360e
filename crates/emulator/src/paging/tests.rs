//! Keyset paging against the emulator's own DDL in an in-memory database: query plans use the
//! indexes, and paging through any order returns exactly the rows of the unpaged order.

use super::*;
use crate::read::projection;
use crate::store::Store;
use dataverse::{ParseLimits, RawRequest, Schema, parse_request};
use sqlx::{AssertSqlSafe, Row as _};

/// The query a client sends as `GET accounts?{query}`, parsed by the one parser.
fn query(schema: &Schema, query: &str) -> Query {
    let raw =
        RawRequest { method: "GET", path: "/api/data/v9.2/accounts", query: Some(query), headers: &[], body: b"" };
    match parse_request(schema, &raw, &ParseLimits::default()).expect("parses").operation {
        dataverse::Operation::Query(q) => q,
        other => panic!("not a query: {other:?}"),
    }
}

fn env(schema: &Schema) -> Env<'_> {
    Env { schema, now: chrono::Utc::now(), user: Uuid::nil(), business_unit: Uuid::nil(), default_team: Uuid::nil() }
}

fn id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// One account row: (name, revenue units, exchange rate text, latitude, created on).
type Fixture = (Option<&'static str>, Option<i64>, Option<&'static str>, Option<f64>, &'static str);

async fn insert(conn: &mut SqliteConnection, n: u32, (name, revenue, rate, latitude, created): Fixture) {
    let q = sea_query::Query::insert()
        .into_table("account")
        .columns(["accountid", "name", "revenue", "exchangerate", "address1_latitude", "createdon", "statecode"])
        .values_panic([
            id(n).into(),
            name.map(str::to_owned).into(),
            revenue.into(),
            rate.map(str::to_owned).into(),
            latitude.into(),
            created.into(),
            i64::from(n % 2).into(),
        ])
        .build_sqlx(SqliteQueryBuilder);
    statement(q).execute(conn).await.expect("insert");
}

#[tokio::test]
async fn keyset_page_on_active_accounts_by_name_uses_an_index() {
    let schema = Schema::standard();
    let table = schema.table("account").unwrap();
    let store = Store::open(None, &schema).await.unwrap();
    let mut conn = store.read().await.unwrap();
    let mut q = query(&schema, "$select=name&$filter=statecode%20eq%200&$orderby=name");
    let cookie = Cookie {
        page: 2,
        keys: vec![
            Key { column: "name".into(), last: Some("Fourth Coffee".into()), first: Some("Alpine".into()) },
            Key {
                column: "accountid".into(),
                last: Some(format!("{{{}}}", id(9))),
                first: Some(format!("{{{}}}", id(1))),
            },
        ],
    };
    q.skiptoken = Some(token::encode_token(&cookie));
    let env = env(&schema);
    let terms = sort_terms(&env, table, &q).unwrap();
    let c = cursor(&terms, &q).unwrap().expect("a cursor");
    let columns = projection(table, &q.select);
    let src = Source { env: &env, table, columns: &columns };
    for (label, c) in [("first page", None), ("keyset page", Some(&c))] {
        let (sql, values) = page_sql(src, &q, Plan { size: 10, paged: true }, &terms, c).unwrap();
        let plan = sqlx::query_with(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")), values)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        let details: Vec<String> = plan.iter().map(|r| r.get::<String, _>("detail")).collect();
        let text = details.join("\n");
        assert!(text.contains("USING INDEX") || text.contains("USING COVERING INDEX"), "{label}: {text}\n{sql}");
        assert!(!details.iter().any(|d| d.starts_with("SCAN account") && !d.contains("USING")), "{label}: {text}");
        assert!(!text.contains("TEMP B-TREE"), "{label}: the index gives the order: {text}");
    }
    let (sql, _) = page_sql(src, &q, Plan { size: 10, paged: true }, &terms, Some(&c)).unwrap();
    assert!(sql.contains(r#"("account"."name" > ? OR ("account"."name" = ? AND "account"."accountid" > ?))"#), "{sql}");
    assert!(sql.ends_with(r#"ORDER BY "account"."name" ASC, "account"."accountid" ASC LIMIT ?"#), "{sql}");
}

#[tokio::test]
async fn paging_through_any_order_returns_every_row_once() {
    let schema = Schema::standard();
    let table = schema.table("account").unwrap();
    let store = Store::open(None, &schema).await.unwrap();
    let mut conn = store.read().await.unwrap();
    let rows: [Fixture; 8] = [
        (Some("b"), Some(5), Some("1.5000000000"), Some(-0.5), "2024-01-02T00:00:00Z"),
        (None, Some(5), None, None, "2024-01-01T00:00:00Z"),
        (Some("A"), None, Some("10.0000000000"), Some(47.63958), "2024-01-02T00:00:00Z"),
        (Some("a"), Some(1), Some("2.0000000000"), Some(1e-7), "2023-12-31T23:59:59Z"),
        (Some("c"), None, Some("1.5000000000"), None, "2024-01-01T00:00:00Z"),
        (None, Some(9), Some("-3.2500000000"), Some(-0.5), "2024-01-03T00:00:00Z"),
        (Some("B"), Some(5), None, Some(12.25), "2024-01-02T00:00:00Z"),
        (Some("a"), Some(1), Some("2.0000000000"), Some(47.63958), "2024-01-01T00:00:00Z"),
    ];
    for (n, row) in (1..).zip(rows) {
        insert(&mut conn, n, row).await;
    }
    // Contacts (some sharing a name, one without) as primary contacts, and parent accounts, for
    // ordering through navigation and by lookups (sorted by the related row's name).
    let contacts = [(101, Some("Zoe")), (102, Some("adam")), (103, Some("Adam")), (104, None)];
    for (n, name) in contacts {
        let q = sea_query::Query::insert()
            .into_table("contact")
            .columns(["contactid", "fullname", "statecode"])
            .values_panic([id(n).into(), name.map(str::to_owned).into(), 0i64.into()])
            .build_sqlx(SqliteQueryBuilder);
        statement(q).execute(&mut *conn).await.expect("insert contact");
    }
    for (account, contact, parent) in [(1, 101, 3), (2, 102, 3), (3, 103, 1), (5, 104, 2), (6, 102, 1), (8, 101, 9)] {
        let q = sea_query::Query::update()
            .table("account")
            .values([("primarycontactid", id(contact).into()), ("parentaccountid", id(parent).into())])
            .and_where(sea_query::Expr::col("accountid").eq(id(account)))
            .build_sqlx(SqliteQueryBuilder);
        statement(q).execute(&mut *conn).await.expect("link");
    }
    for order in [
        "&$orderby=primarycontactid/fullname",
        "&$orderby=primarycontactid/fullname%20desc,name",
        "&$orderby=_primarycontactid_value",
        "&$orderby=_primarycontactid_value%20desc,revenue",
        "&$orderby=parentaccountid/name%20desc",
        "&$orderby=parentaccountid/primarycontactid/fullname,parentaccountid/revenue%20desc",
        "",
        "&$orderby=name",
        "&$orderby=name%20desc",
        "&$orderby=revenue%20desc,name",
        "&$orderby=revenue,name%20desc",
        "&$orderby=name%20desc,revenue%20desc",
        "&$orderby=statecode,revenue",
        "&$orderby=exchangerate%20desc,address1_latitude",
        "&$orderby=address1_latitude%20desc,createdon%20desc",
        "&$orderby=createdon,exchangerate",
    ] {
        let base = format!("$select=name{order}");
        let env = env(&schema);
        let columns = projection(table, &["name".to_owned()]);
        let src = Source { env: &env, table, columns: &columns };
        let all = fetch(&mut conn, src, &query(&schema, &base), Plan { size: 100, paged: true }).await.unwrap();
        assert_eq!(all.rows.len(), rows.len());
        assert!(all.next.is_none());
        for size in 1..=3 {
            let mut q = query(&schema, &base);
            let mut seen = Vec::new();
            loop {
                let page = fetch(&mut conn, src, &q, Plan { size, paged: true }).await.unwrap();
                assert!(page.rows.len() <= size as usize);
                seen.extend(page.rows);
                match page.next {
                    Some(t) => q.skiptoken = Some(t),
                    None => break,
                }
            }
            let ids = |rows: &[RawRow]| rows.iter().map(|r| r.sort.last().cloned()).collect::<Vec<_>>();
            assert_eq!(ids(&seen), ids(&all.rows), "order {order:?}, page size {size}");
        }
    }
}

#[test]
fn tokens_must_name_the_sort_columns() {
    let schema = Schema::standard();
    let table = schema.table("account").unwrap();
    let token = |keys: Vec<Key>| token::encode_token(&Cookie { page: 2, keys });
    let pk = |v: &str| Key { column: "accountid".into(), last: Some(v.into()), first: Some(v.into()) };
    let mut q = query(&schema, "$orderby=revenue");
    let good = vec![Key { column: "revenue".into(), last: Some("12.5".into()), first: None }, pk(&id(1))];
    q.skiptoken = Some(token(good));
    let env = env(&schema);
    let terms = sort_terms(&env, table, &q).unwrap();
    let c = cursor(&terms, &q).unwrap().unwrap();
    assert_eq!(c.values, vec![Cell::Int(125_000), Cell::Text(id(1))]);
    for keys in [
        vec![pk(&id(1))],
        vec![Key { column: "name".into(), last: Some("x".into()), first: None }, pk(&id(1))],
        vec![Key { column: "revenue".into(), last: Some("lots".into()), first: None }, pk(&id(1))],
        vec![Key { column: "revenue".into(), last: None, first: None }, pk("not-a-guid")],
        vec![
            Key { column: "revenue".into(), last: None, first: None },
            Key { column: "accountid".into(), last: None, first: None },
        ],
    ] {
        q.skiptoken = Some(token(keys));
        assert_eq!(cursor(&terms, &q).unwrap_err().message, "The $skiptoken is not valid for this query");
    }
    q.skiptoken = Some("garbage".into());
    assert_eq!(cursor(&terms, &q).unwrap_err().status, 400);
}

#[test]
fn plans_follow_top_and_maxpagesize() {
    let schema = Schema::standard();
    let q = query(&schema, "$top=7");
    assert_eq!(Plan::new(&q, None), Plan { size: 7, paged: false });
    assert_eq!(Plan::new(&q, Some(3)), Plan { size: 3, paged: true }, "$top is ignored with maxpagesize");
    assert_eq!(Plan::new(&query(&schema, "$top=9000"), None), Plan { size: 5000, paged: false });
    assert_eq!(Plan::new(&query(&schema, "$select=name"), None), Plan { size: 5000, paged: true });
}
