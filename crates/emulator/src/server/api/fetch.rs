//! `GET {set}?fetchXml=…` (spec §4): rows with the root table's columns and each linked table's
//! as `alias.column`, null values left out (spec §4.1), formatted values and lookup annotations
//! as asked, paged by `count` and `page`.
//!
//! - Paging (spec §4.5): `count` rows from `(page - 1) * count`; when more follow and the client
//!   asked for them, `@Microsoft.Dynamics.CRM.morerecords` and
//!   `@Microsoft.Dynamics.CRM.fetchxmlpagingcookie` (the cookie names the page's first and last
//!   primary keys, URL-encoded twice as Dataverse does). The emulator pages by position; the
//!   cookie a client sends back is accepted and not needed. No `@odata.nextLink`.
//! - `returntotalrecordcount='true'`: `@Microsoft.Dynamics.CRM.totalrecordcount` (capped at
//!   5000) and `…limitexceeded`.
//! - The SQL is built by [`crate::query_sql::fetch`].

use super::{include_preference, rows, shape_rows, table};
use crate::annotations::{TOTAL_RECORD_COUNT, TOTAL_RECORD_COUNT_LIMIT_EXCEEDED};
use crate::query_sql::fetch::statement as fetch_statement;
use crate::read::{MAX_ROWS, RawRow};
use crate::response::{db_error, json};
use crate::rows::{Cell, lookup_type_column, read_cell};
use crate::store::statement;
use axum::http::StatusCode;
use axum::response::Response;
use dataverse::error::DataverseError;
use dataverse::fetch::Fetch;
use dataverse::json::{Object, Value};
use dataverse::metadata::Column;
use sea_query::{Alias, Expr, Func, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder as _;
use sqlx::Row as _;

const PAGING_COOKIE: &str = "Microsoft.Dynamics.CRM.fetchxmlpagingcookie";
const MORE_RECORDS: &str = "Microsoft.Dynamics.CRM.morerecords";

/// Every byte but letters and digits as `%XX`.
fn encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02x}") }).collect()
}

fn raw(columns: &[&Column], prefix: &str, version: bool, row: &sqlx::sqlite::SqliteRow) -> Result<RawRow, sqlx::Error> {
    let mut cells = Vec::with_capacity(columns.len());
    let mut targets = Vec::with_capacity(columns.len());
    for c in columns {
        cells.push(read_cell(row, &format!("{prefix}{}", c.logical_name), &c.kind)?);
        targets.push(if c.is_lookup() {
            row.try_get::<Option<String>, _>(format!("{prefix}{}", lookup_type_column(&c.logical_name)).as_str())?
        } else {
            None
        });
    }
    let version = if version { row.try_get::<Option<i64>, _>("versionnumber")?.unwrap_or(0) } else { 0 };
    Ok(RawRow { version, cells, targets, sort: Vec::new() })
}

pub(in crate::server) async fn fetch(ctx: &rows::Ctx<'_>, f: &Fetch) -> Result<Response, DataverseError> {
    let app = ctx.app;
    if f.aggregate {
        // Answered as the aggregation it stands for, each value under its alias.
        let a = f.aggregation(&app.schema).map_err(|e| match e {
            dataverse::fetch::FetchError::Invalid(m) | dataverse::fetch::FetchError::Unsupported(m) => {
                DataverseError::bad_request(m)
            }
        })?;
        return super::aggregate::aggregate(ctx, &a).await;
    }
    let t = table(app, &f.root.table)?;
    let st = fetch_statement(ctx.env, t, f)?;
    let size = u64::from(f.top.or(f.count).unwrap_or(MAX_ROWS));
    let page = u64::from(f.page.unwrap_or(1));
    let mut conn = app.store.read().await.map_err(db_error)?;
    let total = if f.total_count {
        let mut inner = st.statement.clone();
        inner.clear_order_by();
        inner.limit(u64::from(MAX_ROWS) + 1);
        let q = sea_query::Query::select()
            .expr(Func::count(Expr::cust("*")))
            .from_subquery(inner, Alias::new("matching"))
            .build_sqlx(SqliteQueryBuilder);
        let n: i64 = statement(q).fetch_one(&mut *conn).await.map_err(db_error)?.try_get(0).map_err(db_error)?;
        Some(n)
    } else {
        None
    };
    let mut q = st.statement;
    if f.top.is_some() {
        q.limit(size);
    } else {
        q.limit(size + 1).offset((page - 1) * size);
    }
    let mut found = statement(q.build_sqlx(SqliteQueryBuilder)).fetch_all(&mut *conn).await.map_err(db_error)?;
    let more = f.top.is_none() && found.len() as u64 > size;
    found.truncate(usize::try_from(size).unwrap_or(usize::MAX));
    let roots =
        found.iter().map(|r| raw(&st.columns, "", !f.distinct, r)).collect::<Result<Vec<_>, _>>().map_err(db_error)?;
    let mut shaped = shape_rows(app, &mut conn, t, &st.columns, &ctx.include, &roots).await?;
    for link in &st.links {
        let prefix = format!("{}_", link.sql);
        let raws = found
            .iter()
            .map(|r| raw(&link.columns, &prefix, false, r))
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_error)?;
        let linked = shape_rows(app, &mut conn, link.table, &link.columns, &ctx.include, &raws).await?;
        for (row, l) in shaped.iter_mut().zip(linked) {
            for (k, v) in l.iter() {
                if k != "@odata.etag" {
                    row.insert(format!("{}.{k}", link.alias), v.clone());
                }
            }
        }
    }
    let first_last = |row: Option<&RawRow>| {
        row.and_then(|r| st.columns.iter().position(|c| c.logical_name == t.primary_id).and_then(|i| r.cells.get(i)))
            .and_then(Cell::as_text)
            .map(str::to_owned)
            .unwrap_or_default()
    };
    let (first, last) = (first_last(roots.first()), first_last(roots.last()));
    drop(conn);
    let rows: Vec<Value> = shaped
        .into_iter()
        .map(|mut row| {
            row.retain(|k, v| !(v.is_null() || f.distinct && k == "@odata.etag"));
            Value::Object(row)
        })
        .collect();
    let mut o = Object::new();
    o.insert("@odata.context", Value::String(ctx.base.context(&t.set_name)));
    if let Some(n) = total {
        if ctx.include.wants(TOTAL_RECORD_COUNT) {
            o.insert(format!("@{TOTAL_RECORD_COUNT}"), Value::from(n.min(i64::from(MAX_ROWS))));
        }
        if ctx.include.wants(TOTAL_RECORD_COUNT_LIMIT_EXCEEDED) {
            o.insert(format!("@{TOTAL_RECORD_COUNT_LIMIT_EXCEEDED}"), Value::Bool(n > i64::from(MAX_ROWS)));
        }
    }
    if more && ctx.include.wants(PAGING_COOKIE) {
        let inner = format!(
            "<cookie page=\"{page}\"><{id} last=\"{{{}}}\" first=\"{{{}}}\" /></cookie>",
            last.to_uppercase(),
            first.to_uppercase(),
            id = t.primary_id
        );
        let cookie = format!(
            "<cookie pagenumber=\"{}\" pagingcookie=\"{}\" istracking=\"False\" />",
            page + 1,
            encode(&encode(&inner))
        );
        o.insert(format!("@{PAGING_COOKIE}"), Value::String(cookie));
    }
    if ctx.include.wants(MORE_RECORDS) {
        o.insert(format!("@{MORE_RECORDS}"), Value::Bool(more));
    }
    o.insert("value", Value::Array(rows));
    Ok(include_preference(json(StatusCode::OK, o), &ctx.include))
}
