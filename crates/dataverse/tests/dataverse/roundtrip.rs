//! Property tests: `parse(print(r)) == r` and printer idempotence, over generated queries,
//! retrieves, creates and deletes of the standard account table.

use dataverse::metadata::ColumnType;
use dataverse::print::{Redact, print_request, print_target};
use dataverse::query::{CompareOp, Filter, Literal, Operand, OrderBy, Query, TextFunction};
use dataverse::request::{ApiVersion, Headers, Method, Operation, Request, RowKey};
use dataverse::{ParseLimits, RawRequest, Schema, parse_request};
use proptest::prelude::*;

fn columns(kind: fn(&ColumnType) -> bool) -> Vec<String> {
    Schema::standard()
        .table("account")
        .unwrap()
        .columns
        .iter()
        .filter(|c| kind(&c.kind))
        .map(|c| c.logical_name.clone())
        .collect()
}

fn text_col() -> impl Strategy<Value = String> {
    prop::sample::select(columns(|k| matches!(k, ColumnType::String { .. } | ColumnType::Memo { .. })))
}

fn literal_and_column() -> impl Strategy<Value = (String, Literal)> {
    let text = (text_col(), "[a-zA-Z0-9 '%_.-]{0,12}").prop_map(|(c, s)| (c, Literal::String(s)));
    let int = (prop::sample::select(columns(|k| matches!(k, ColumnType::Integer))), any::<i32>())
        .prop_map(|(c, v)| (c, Literal::Integer(i64::from(v))));
    let money = (prop::sample::select(columns(|k| matches!(k, ColumnType::Money))), 0u32..1_000_000, 0u32..100)
        .prop_map(|(c, a, b)| (c, Literal::Decimal(format!("{a}.{b:02}"))));
    let boolean = (prop::sample::select(columns(|k| matches!(k, ColumnType::Boolean { .. }))), any::<bool>())
        .prop_map(|(c, v)| (c, Literal::Boolean(v)));
    let guid = (prop::sample::select(columns(|k| matches!(k, ColumnType::Lookup { .. }))), any::<u128>())
        .prop_map(|(c, v)| (c, Literal::Guid(uuid::Uuid::from_u128(v))));
    let date =
        (prop::sample::select(columns(|k| matches!(k, ColumnType::DateTime))), 2000u32..2030, 1u32..13, 1u32..29)
            .prop_map(|(c, y, m, d)| (c, Literal::DateTime(format!("{y}-{m:02}-{d:02}T10:20:30Z"))));
    let null = text_col().prop_map(|c| (c, Literal::Null));
    prop_oneof![text, int, money, boolean, guid, date, null]
}

fn op() -> impl Strategy<Value = CompareOp> {
    prop::sample::select(vec![CompareOp::Eq, CompareOp::Ne, CompareOp::Gt, CompareOp::Ge, CompareOp::Lt, CompareOp::Le])
}

fn leaf() -> impl Strategy<Value = Filter> {
    let cmp = (literal_and_column(), op(), any::<bool>()).prop_map(|((c, lit), op, flip)| {
        let op = if lit == Literal::Null { CompareOp::Eq } else { op };
        let (l, r) = (Operand::Column(c), Operand::Value(lit));
        if flip { Filter::Compare { left: r, op, right: l } } else { Filter::Compare { left: l, op, right: r } }
    });
    let text = (
        prop::sample::select(vec![TextFunction::Contains, TextFunction::StartsWith, TextFunction::EndsWith]),
        text_col(),
        "[a-z0-9 ']{0,8}",
    )
        .prop_map(|(function, column, value)| Filter::Text { function, column, value });
    prop_oneof![cmp, text]
}

fn filter() -> impl Strategy<Value = Filter> {
    leaf().prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    })
}

fn query() -> impl Strategy<Value = Query> {
    let all = columns(|_| true);
    (
        prop::collection::vec(prop::sample::select(all.clone()), 0..4),
        prop::option::of(filter()),
        prop::collection::vec((prop::sample::select(all), any::<bool>()), 0..3),
        prop::option::of(0u32..5000),
        any::<bool>(),
        prop::option::of("([A-Za-z0-9=._-]|%3C|%22|%20){1,20}"),
    )
        .prop_map(|(select, filter, order, top, count, skiptoken)| Query {
            table: "account".into(),
            select,
            filter,
            orderby: order.into_iter().map(|(column, descending)| OrderBy { column, descending }).collect(),
            top,
            count,
            skiptoken,
        })
}

fn request() -> impl Strategy<Value = Request> {
    let id = any::<u128>().prop_map(uuid::Uuid::from_u128);
    let op = prop_oneof![
        query().prop_map(Operation::Query),
        (id.clone(), prop::collection::vec(prop::sample::select(columns(|_| true)), 0..3))
            .prop_map(|(id, select)| Operation::Retrieve { table: "account".into(), key: RowKey::Id(id), select }),
        id.clone().prop_map(|id| Operation::Delete { table: "account".into(), key: RowKey::Id(id) }),
        "[a-zA-Z0-9 '()&=?%-]{1,20}".prop_map(|v| Operation::Delete {
            table: "account".into(),
            key: RowKey::Alternate(vec![("accountnumber".into(), Literal::String(v))]),
        }),
        ("[a-zA-Z ]{1,20}", 0i32..100_000).prop_map(|(name, n)| {
            let body = format!(r#"{{"name":{},"numberofemployees":{n}}}"#, dataverse::json::Value::String(name));
            let Ok(dataverse::json::Value::Object(record)) = dataverse::json::parse(body.as_bytes()) else {
                unreachable!()
            };
            Operation::Create { table: "account".into(), record, select: vec![] }
        }),
    ];
    op.prop_map(|operation| {
        let method = match operation {
            Operation::Create { .. } => Method::Post,
            Operation::Delete { .. } => Method::Delete,
            _ => Method::Get,
        };
        Request { method, version: ApiVersion::V92, operation, headers: Headers::default() }
    })
}

fn reparse(schema: &Schema, r: &Request) -> Request {
    let printed = print_request(schema, r).unwrap();
    let (path, query) = match printed.target.split_once('?') {
        Some((p, q)) => (format!("/api/data/v9.2/{p}"), Some(q.to_owned())),
        None => (format!("/api/data/v9.2/{}", printed.target), None),
    };
    let headers: Vec<(&str, &str)> = printed.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let body = printed.body.unwrap_or_default();
    let raw = RawRequest {
        method: r.method.as_str(),
        path: &path,
        query: query.as_deref(),
        headers: &headers,
        body: body.as_bytes(),
    };
    parse_request(schema, &raw, &ParseLimits::default()).unwrap_or_else(|e| panic!("{e}: {path}?{query:?}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn parse_print_round_trips(r in request()) {
        let schema = Schema::standard();
        prop_assert_eq!(reparse(&schema, &r), r);
    }

    #[test]
    fn printing_is_idempotent(r in request()) {
        let schema = Schema::standard();
        let once = print_request(&schema, &r).unwrap();
        let twice = print_request(&schema, &reparse(&schema, &r)).unwrap();
        prop_assert_eq!(once, twice);
    }

    #[test]
    fn redaction_hides_every_string_literal(r in request()) {
        let schema = Schema::standard();
        let redacted = print_target(&schema, &r, Redact::Literals).unwrap();
        prop_assert!(!redacted.contains('\''), "{}", redacted);
    }
}
