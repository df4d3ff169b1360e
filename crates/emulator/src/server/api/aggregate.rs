//! `GET {set}?$apply=…` (spec §3.11): one row per group with its keys and aggregate values.
//!
//! - More than 50,000 rows to aggregate answer 400 `0x8004E023` "AggregateQueryRecordLimit
//!   exceeded. Cannot perform this operation." (counted before grouping).
//! - `@odata.context` is `$metadata#{set}`; rows carry no `@odata.etag`, and null values are
//!   left out (spec §3.11: "nulls omitted").
//! - Annotations as asked: formatted values of keys (choice labels, a lookup's row name) and of
//!   aggregate values (`"8"`, `$440,000.00` in the base currency).
//!
//! The statement is built by [`crate::query_sql::aggregate`].

use super::{include_preference, rows, shape_rows, table};
use crate::query_sql::aggregate::{Slot, statement as aggregate_statement};
use crate::read::{RawRow, count_up_to};
use crate::response::{db_error, json};
use crate::rows::{Cell, read_cell};
use crate::store::statement;
use axum::http::StatusCode;
use axum::response::Response;
use dataverse::error::{DataverseError, codes};
use dataverse::json::{Object, Value};
use dataverse::metadata::Column;
use dataverse::query::Aggregation;
use sea_query::SqliteQueryBuilder;
use sea_query_sqlx::SqlxBinder as _;
use sqlx::Row as _;

/// Most rows one aggregation reads (spec §3.11).
pub(crate) const AGGREGATE_LIMIT: i64 = 50_000;

pub(in crate::server) async fn aggregate(ctx: &rows::Ctx<'_>, a: &Aggregation) -> Result<Response, DataverseError> {
    let app = ctx.app;
    let t = table(app, &a.table)?;
    let (q, slots) = aggregate_statement(ctx.env, t, a)?;
    let mut conn = app.store.read().await.map_err(db_error)?;
    let n = count_up_to(&mut conn, ctx.env, t, a.filter.as_ref(), AGGREGATE_LIMIT as u64 + 1).await?;
    if n > AGGREGATE_LIMIT {
        return Err(DataverseError::new(
            400,
            codes::AGGREGATE_QUERY_RECORD_LIMIT,
            "AggregateQueryRecordLimit exceeded. Cannot perform this operation.",
        ));
    }
    let found = statement(q.build_sqlx(SqliteQueryBuilder)).fetch_all(&mut *conn).await.map_err(db_error)?;
    let raw = found.iter().map(|r| raw_group(&slots, r)).collect::<Result<Vec<_>, _>>().map_err(db_error)?;
    let columns: Vec<&Column> = slots.iter().map(|s| &s.column).collect();
    let shaped = shape_rows(app, &mut conn, t, &columns, &ctx.include, &raw).await?;
    drop(conn);
    let rows = shaped
        .into_iter()
        .map(|mut row| {
            row.retain(|name, value| name != "@odata.etag" && !value.is_null());
            Value::Object(row)
        })
        .collect();
    let mut o = Object::new();
    o.insert("@odata.context", Value::String(ctx.base.context(&t.set_name)));
    o.insert("value", Value::Array(rows));
    Ok(include_preference(json(StatusCode::OK, o), &ctx.include))
}

/// One result row as a [`RawRow`] over the slots' columns.
fn raw_group(slots: &[Slot], row: &sqlx::sqlite::SqliteRow) -> Result<RawRow, sqlx::Error> {
    let mut cells = Vec::with_capacity(slots.len());
    let mut targets = Vec::with_capacity(slots.len());
    for s in slots {
        let cell = if s.read_real {
            row.try_get::<Option<f64>, _>(s.alias.as_str())?.map_or(Cell::Null, Cell::Real)
        } else {
            read_cell(row, &s.alias, &s.column.kind)?
        };
        cells.push(s.fit(cell));
        targets.push(match &s.target_alias {
            Some(alias) => row.try_get::<Option<String>, _>(alias.as_str())?,
            None => None,
        });
    }
    Ok(RawRow { version: 0, cells, targets, sort: Vec::new() })
}
