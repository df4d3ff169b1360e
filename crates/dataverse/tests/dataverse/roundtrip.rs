//! Property tests: `parse(print(r)) == r` and printer idempotence, over generated queries,
//! retrieves, creates and deletes of the standard account table.

use dataverse::metadata::{ColumnType, Navigation};
use dataverse::print::{Redact, print_request, print_target};
use dataverse::query::{CompareOp, Expand, Filter, Hop, Literal, Operand, OrderBy, Query, QueryFunction, TextFunction};
use dataverse::record::{Bind, Link, Record, Reference};
use dataverse::request::{ApiVersion, Headers, Method, Operation, PathTarget, Request, RowKey};
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
        .prop_map(|(function, column, value)| Filter::Text { function, path: vec![], column, value });
    prop_oneof![cmp, text]
}

fn text_of(table: &str) -> Vec<String> {
    Schema::standard()
        .table(table)
        .unwrap()
        .columns
        .iter()
        .filter(|c| matches!(c.kind, ColumnType::String { .. }))
        .map(|c| c.logical_name.clone())
        .collect()
}

fn hop(from: &str, nav: &str) -> Hop {
    let schema = Schema::standard();
    let Some(Navigation::Single { column, target, .. }) = schema.navigation(from, nav) else { panic!("{from}.{nav}") };
    Hop { navigation: nav.into(), column: column.into(), table: target.into() }
}

/// Filters through navigation: single-valued paths and lambdas over collection-valued ones.
fn related_leaf() -> impl Strategy<Value = Filter> {
    let text = "[a-z ']{0,6}";
    let path = (prop::sample::select(text_of("contact")), text, any::<bool>()).prop_map(|(c, v, two)| {
        let path = if two {
            vec![hop("account", "parentaccountid"), hop("account", "primarycontactid")]
        } else {
            vec![hop("account", "primarycontactid")]
        };
        // Both paths end at contact, so the column is one of contact's.
        Filter::Compare {
            left: Operand::Related { path, column: c },
            op: CompareOp::Eq,
            right: Operand::Value(Literal::String(v)),
        }
    });
    let any = (prop::sample::select(text_of("contact")), text, any::<bool>()).prop_map(|(c, v, empty)| Filter::Any {
        navigation: "contact_customer_accounts".into(),
        table: "contact".into(),
        predicate: (!empty).then(|| {
            (
                "c".to_owned(),
                Box::new(Filter::Compare {
                    left: Operand::Column(c),
                    op: CompareOp::Ne,
                    right: Operand::Value(Literal::String(v)),
                }),
            )
        }),
    });
    let all = (prop::sample::select(text_of("opportunity")), text).prop_map(|(c, v)| Filter::All {
        navigation: "opportunity_customer_accounts".into(),
        table: "opportunity".into(),
        variable: "o".into(),
        predicate: Box::new(Filter::Text { function: TextFunction::Contains, path: vec![], column: c, value: v }),
    });
    let function = prop_oneof![
        (1i64..400).prop_map(|n| Filter::Function {
            function: QueryFunction::LastXDays,
            column: "createdon".into(),
            values: vec![Literal::Integer(n)]
        }),
        Just(Filter::Function { function: QueryFunction::Today, column: "modifiedon".into(), values: vec![] }),
        prop::collection::vec("[a-zA-Z ']{0,6}", 1..4).prop_map(|v| Filter::Function {
            function: QueryFunction::In,
            column: "name".into(),
            values: v.into_iter().map(Literal::String).collect(),
        }),
        (1i64..13, 2000i64..2030).prop_map(|(p, y)| Filter::Function {
            function: QueryFunction::InFiscalPeriodAndYear,
            column: "createdon".into(),
            values: vec![Literal::Integer(p), Literal::Integer(y)],
        }),
    ];
    let related_text = (prop::sample::select(text_of("contact")), "[a-z ']{0,6}").prop_map(|(c, v)| Filter::Text {
        function: TextFunction::EndsWith,
        path: vec![hop("account", "primarycontactid")],
        column: c,
        value: v,
    });
    prop_oneof![path, any, all, function, related_text]
}

fn expand() -> impl Strategy<Value = Vec<Expand>> {
    let plain = |navigation: &str, table: &str, collection: bool| Expand {
        navigation: navigation.into(),
        table: table.into(),
        collection,
        refs_only: false,
        select: vec![],
        filter: None,
        orderby: vec![],
        top: None,
        expand: vec![],
    };
    let single = (prop::collection::vec(prop::sample::select(text_of("contact")), 0..3), any::<bool>()).prop_map(
        move |(select, nested)| {
            let mut e = plain("primarycontactid", "contact", false);
            e.select = select;
            if nested {
                let mut n = plain("createdby", "systemuser", false);
                n.select = vec!["fullname".into()];
                e.expand = vec![n];
            }
            e
        },
    );
    let collection = (
        prop::sample::select(text_of("contact")),
        "[a-z]{0,5}",
        prop::option::of(0u32..50),
        any::<bool>(),
    )
        .prop_map(move |(c, v, top, desc)| {
            let mut e = plain("contact_customer_accounts", "contact", true);
            e.select = vec![c.clone(), "fullname".into()];
            e.filter =
                Some(Filter::Text { function: TextFunction::StartsWith, path: vec![], column: c.clone(), value: v });
            e.orderby = vec![OrderBy { path: Vec::new(), column: c, descending: desc }];
            e.top = top;
            e
        });
    let refs = Just({
        let mut e = plain("parentaccountid", "account", false);
        e.refs_only = true;
        e
    });
    prop::collection::vec(prop_oneof![single, collection, refs], 0..2).prop_map(|mut v| {
        v.dedup_by(|a, b| a.navigation == b.navigation);
        v
    })
}

fn filter() -> impl Strategy<Value = Filter> {
    prop_oneof![3 => leaf(), 1 => related_leaf()].prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| match a {
                f @ Filter::Function { .. } => f,
                a => Filter::Not(Box::new(a)),
            }),
        ]
    })
}

/// A sort key on the account's own columns or through one or two hops to a contact column.
fn order_item(own: Vec<String>) -> impl Strategy<Value = OrderBy> {
    let plain = (prop::sample::select(own), any::<bool>()).prop_map(|(column, descending)| OrderBy {
        path: Vec::new(),
        column,
        descending,
    });
    let related = (prop::sample::select(text_of("contact")), any::<bool>(), any::<bool>()).prop_map(
        |(column, two, descending)| {
            let path = if two {
                vec![hop("account", "parentaccountid"), hop("account", "primarycontactid")]
            } else {
                vec![hop("account", "primarycontactid")]
            };
            OrderBy { path, column, descending }
        },
    );
    prop_oneof![3 => plain, 1 => related]
}

fn query() -> impl Strategy<Value = Query> {
    let all = columns(|_| true);
    (
        prop::collection::vec(prop::sample::select(all.clone()), 0..4),
        prop::option::of(filter()),
        prop::collection::vec(order_item(all), 0..3),
        prop::option::of(0u32..5000),
        any::<bool>(),
        prop::option::of("([A-Za-z0-9=._-]|%3C|%22|%20){1,20}"),
        expand(),
    )
        .prop_map(|(select, filter, order, top, count, skiptoken, expand)| Query {
            table: "account".into(),
            select,
            filter,
            orderby: order,
            top,
            count,
            skiptoken,
            expand,
        })
}

/// What a path after `accounts(id)` addresses: a column, the primary contact, a contact of the
/// account by id or by email, or the account's contacts as a query.
fn path_target() -> impl Strategy<Value = PathTarget> {
    let contact_cols = prop::collection::vec(prop::sample::select(text_of("contact")), 0..3);
    prop_oneof![
        (prop::sample::select(columns(|_| true)), any::<bool>())
            .prop_map(|(column, raw)| PathTarget::Column { column, raw }),
        (contact_cols.clone(), any::<bool>()).prop_map(|(select, refs_only)| PathTarget::Single {
            navigation: "primarycontactid".into(),
            table: "contact".into(),
            refs_only,
            select: if refs_only { vec![] } else { select },
            expand: vec![],
        }),
        (contact_cols, any::<u128>(), prop::option::of("[a-z@.' ]{1,12}")).prop_map(|(select, id, email)| {
            PathTarget::Member {
                navigation: "contact_customer_accounts".into(),
                table: "contact".into(),
                key: match email {
                    Some(e) => RowKey::Alternate(vec![("emailaddress1".into(), Literal::String(e))]),
                    None => RowKey::Id(uuid::Uuid::from_u128(id)),
                },
                select,
                expand: vec![],
            }
        }),
        order_item(text_of("contact")).prop_map(|o| {
            let mut query = Query {
                table: "contact".into(),
                select: vec![],
                filter: None,
                orderby: vec![],
                top: None,
                count: false,
                skiptoken: None,
                expand: vec![],
            };
            // The contact's own columns, or through `parentcustomerid_account`.
            query.orderby = vec![match o.path.is_empty() {
                true => o,
                false => OrderBy {
                    path: vec![hop("contact", "parentcustomerid_account")],
                    column: "name".into(),
                    descending: o.descending,
                },
            }];
            PathTarget::Collection {
                navigation: "contact_customer_accounts".into(),
                query,
                refs_only: false,
                count_only: false,
            }
        }),
    ]
}

/// Binds of an account body: its primary contact by id or email (or cleared), contacts pointed
/// at it, and leads paired with it (N:N).
fn binds() -> impl Strategy<Value = Vec<Bind>> {
    let reference = prop_oneof![
        any::<u128>().prop_map(|n| Reference::Row { key: RowKey::Id(uuid::Uuid::from_u128(n)), origin: None }),
        "[a-z@.]{1,12}".prop_map(|e| Reference::Row {
            key: RowKey::Alternate(vec![("emailaddress1".into(), Literal::String(e))]),
            origin: None
        }),
    ];
    let single = prop::option::of(reference.clone()).prop_map(|target| Bind::Single {
        navigation: "primarycontactid".into(),
        column: "primarycontactid".into(),
        table: "contact".into(),
        target,
    });
    let collection = prop::collection::vec(reference, 0..3).prop_map(|targets| Bind::Collection {
        navigation: "contact_customer_accounts".into(),
        link: Link::Lookup("parentcustomerid".into()),
        table: "contact".into(),
        targets,
    });
    let lead = any::<u128>().prop_map(|n| Reference::Row { key: RowKey::Id(uuid::Uuid::from_u128(n)), origin: None });
    let many = prop::collection::vec(lead, 0..3).prop_map(|targets| Bind::Collection {
        navigation: "accountleads_association".into(),
        link: Link::Intersect { relationship: "accountleads_association".into(), intersect: "accountleads".into() },
        table: "lead".into(),
        targets,
    });
    (prop::option::of(single), prop::option::of(collection), prop::option::of(many))
        .prop_map(|(s, c, m)| s.into_iter().chain(c).chain(m).collect())
}

fn request() -> impl Strategy<Value = Request> {
    let id = any::<u128>().prop_map(uuid::Uuid::from_u128);
    let op = prop_oneof![
        query().prop_map(Operation::Query),
        (id.clone(), prop::collection::vec(prop::sample::select(columns(|_| true)), 0..3)).prop_map(|(id, select)| {
            Operation::Retrieve { table: "account".into(), key: RowKey::Id(id), select, expand: vec![] }
        }),
        (id.clone(), path_target()).prop_map(|(id, target)| Operation::RetrieveProperty {
            table: "account".into(),
            key: RowKey::Id(id),
            target
        }),
        id.clone().prop_map(|id| Operation::Delete { table: "account".into(), key: RowKey::Id(id) }),
        "[a-zA-Z0-9 '()&=?%-]{1,20}".prop_map(|v| Operation::Delete {
            table: "account".into(),
            key: RowKey::Alternate(vec![("accountnumber".into(), Literal::String(v))]),
        }),
        ("[a-zA-Z ]{1,20}", 0i32..100_000, binds()).prop_map(|(name, n, binds)| {
            let body = format!(r#"{{"name":{},"numberofemployees":{n}}}"#, dataverse::json::Value::String(name));
            let Ok(dataverse::json::Value::Object(values)) = dataverse::json::parse(body.as_bytes()) else {
                unreachable!()
            };
            Operation::Create {
                table: "account".into(),
                record: Record { values, binds, related: vec![] },
                select: vec![],
                expand: vec![],
            }
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
        // Column names in query functions are quoted too; they are not values.
        let mut rest = redacted.clone();
        while let Some(i) = rest.find("PropertyName%3D'") {
            let tail = &rest[i + 16..];
            let end = tail.find('\'').map_or(tail.len(), |e| e + 1);
            rest = format!("{}{}", &rest[..i], &tail[end..]);
        }
        prop_assert!(!rest.contains('\''), "{}", redacted);
    }
}
