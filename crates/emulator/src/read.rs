//! Reads: collection queries, counts and single rows, and the JSON shape of a returned row
//! (spec §2.1 "every returned row has `@odata.etag` and the primary key", §2.5, §3).

use crate::query_sql::{filter_expr, order_terms};
use crate::response::db_error;
use crate::rows::{Cell, read_cell, to_json};
use crate::store::statement;
use dataverse::error::DataverseError;
use dataverse::json::{Object, Value};
use dataverse::metadata::{Column, ColumnType, Table};
use dataverse::query::{Filter, Query};
use sea_query::{Expr, ExprTrait as _, Func, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder as _;
use sqlx::{Row as _, SqliteConnection};
use uuid::Uuid;

/// Most rows one response carries, and the cap of `@odata.count` and `/$count` (spec §3.7, §3.8).
pub(crate) const MAX_ROWS: u32 = 5000;

/// The columns a response shows, in order: the selected ones (all when `select` is empty),
/// then the primary key if not selected, then `transactioncurrencyid` when a money column is
/// selected (spec §2.5: "Requesting a money column auto-adds `_transactioncurrencyid_value`").
pub(crate) fn projection<'t>(table: &'t Table, select: &[String]) -> Vec<&'t Column> {
    if select.is_empty() {
        return table.columns.iter().collect();
    }
    fn add<'t>(out: &mut Vec<&'t Column>, c: Option<&'t Column>) {
        if let Some(c) = c
            && !out.iter().any(|o| o.logical_name == c.logical_name)
        {
            out.push(c);
        }
    }
    let mut out: Vec<&Column> = Vec::new();
    for name in select {
        add(&mut out, table.column(name));
    }
    add(&mut out, table.column(&table.primary_id));
    if out.iter().any(|c| c.kind == ColumnType::Money) {
        add(&mut out, table.column("transactioncurrencyid"));
    }
    out
}

/// The `$select` part of `@odata.context`: the OData names of the selected columns, as asked.
pub(crate) fn context_columns(table: &Table, select: &[String]) -> Option<String> {
    if select.is_empty() {
        return None;
    }
    let names: Vec<String> = select.iter().filter_map(|s| table.column(s)).map(Column::odata_name).collect();
    Some(names.join(","))
}

/// The SQL columns read for a projection: its columns plus `versionnumber` for the ETag.
fn sql_columns(columns: &[&Column]) -> Vec<String> {
    let mut names: Vec<String> = columns.iter().map(|c| c.logical_name.clone()).collect();
    if !names.iter().any(|n| n == "versionnumber") {
        names.push("versionnumber".into());
    }
    names
}

/// One result row as JSON: `@odata.etag`, then the projected columns by OData name.
fn row_json(columns: &[&Column], row: &sqlx::sqlite::SqliteRow) -> Result<(Object, i64), sqlx::Error> {
    let version = row.try_get::<Option<i64>, _>("versionnumber")?.unwrap_or(0);
    let mut object = Object::new();
    object.insert("@odata.etag", Value::String(etag(version)));
    for column in columns {
        let cell = read_cell(row, &column.logical_name, &column.kind)?;
        object.insert(column.odata_name(), to_json(column, &cell));
    }
    Ok((object, version))
}

/// The weak ETag of a row version (spec §2.10).
pub(crate) fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// Runs a collection query: the rows (at most [`MAX_ROWS`]) and, with `$count=true`, the number
/// of matching rows capped at [`MAX_ROWS`].
pub(crate) async fn query(
    conn: &mut SqliteConnection,
    table: &Table,
    q: &Query,
) -> Result<(Vec<Object>, Option<i64>), DataverseError> {
    let columns = projection(table, &q.select);
    let mut select = sea_query::Query::select();
    select.columns(sql_columns(&columns)).from(table.logical_name.clone());
    if let Some(filter) = &q.filter {
        select.and_where(filter_expr(table, filter)?);
    }
    for (expr, order) in order_terms(table, &q.orderby)? {
        select.order_by_expr(expr, order);
    }
    select.limit(u64::from(std::cmp::min(q.top.unwrap_or(MAX_ROWS), MAX_ROWS)));
    let rows = statement(select.build_sqlx(SqliteQueryBuilder)).fetch_all(&mut *conn).await.map_err(db_error)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(row_json(&columns, row).map_err(db_error)?.0);
    }
    let count = if q.count { Some(count(conn, table, q.filter.as_ref()).await?) } else { None };
    Ok((out, count))
}

/// The number of rows matching `filter`, capped at [`MAX_ROWS`] (spec §3.7).
pub(crate) async fn count(
    conn: &mut SqliteConnection,
    table: &Table,
    filter: Option<&Filter>,
) -> Result<i64, DataverseError> {
    let mut select = sea_query::Query::select();
    select.expr(Func::count(Expr::col(table.primary_id.clone()))).from(table.logical_name.clone());
    if let Some(filter) = filter {
        select.and_where(filter_expr(table, filter)?);
    }
    let row = statement(select.build_sqlx(SqliteQueryBuilder)).fetch_one(conn).await.map_err(db_error)?;
    let n: i64 = row.try_get(0).map_err(db_error)?;
    Ok(std::cmp::min(n, i64::from(MAX_ROWS)))
}

/// One row by primary key, projected, with its version.
pub(crate) async fn row(
    conn: &mut SqliteConnection,
    table: &Table,
    id: Uuid,
    select: &[String],
) -> Result<Option<(Object, i64)>, DataverseError> {
    let columns = projection(table, select);
    let q = sea_query::Query::select()
        .columns(sql_columns(&columns))
        .from(table.logical_name.clone())
        .and_where(Expr::col(table.primary_id.clone()).eq(id.to_string()))
        .build_sqlx(SqliteQueryBuilder);
    let found = statement(q).fetch_optional(conn).await.map_err(db_error)?;
    found.map(|r| row_json(&columns, &r)).transpose().map_err(db_error)
}

/// Every stored cell of one row (for writes that need current values), or `None`.
pub(crate) async fn cells(
    conn: &mut SqliteConnection,
    table: &Table,
    id: Uuid,
) -> Result<Option<Vec<(String, Cell)>>, DataverseError> {
    let q = sea_query::Query::select()
        .columns(table.columns.iter().map(|c| c.logical_name.clone()))
        .from(table.logical_name.clone())
        .and_where(Expr::col(table.primary_id.clone()).eq(id.to_string()))
        .build_sqlx(SqliteQueryBuilder);
    let Some(row) = statement(q).fetch_optional(conn).await.map_err(db_error)? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(table.columns.len());
    for column in &table.columns {
        out.push((column.logical_name.clone(), read_cell(&row, &column.logical_name, &column.kind).map_err(db_error)?));
    }
    Ok(Some(out))
}
