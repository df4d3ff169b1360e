//! Reads: single rows, stored cells and counts, read as [`RawRow`]s that
//! [`crate::annotations::shape`] turns into the JSON of spec §2.1 ("every returned row has
//! `@odata.etag` and the primary key"), §2.5 and §3. Collection pages are read by
//! [`crate::paging`].

use crate::query_sql::{Env, filter_expr};
use crate::response::db_error;
use crate::rows::{Cell, SqlClass, lookup_type_column, read_cell};
use crate::store::statement;
use dataverse::error::DataverseError;
use dataverse::metadata::Schema;
use dataverse::metadata::{Column, ColumnType, Table};
use dataverse::query::{Expand, Filter};
use sea_query::{Alias, Expr, ExprTrait as _, Func, SqliteQueryBuilder};
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

/// The parenthesized part of `@odata.context` (spec §3, §3.6): the OData names of the selected
/// columns, as asked, then each expanded navigation property with its own list in parentheses
/// (`name,primarycontactid(contactid,fullname)`; `nav()` when it selects and expands nothing).
/// `nav/$ref` expansions are not listed (they project no columns of the related table). `None`
/// when nothing is selected or expanded.
pub(crate) fn context_columns(schema: &Schema, table: &Table, select: &[String], expand: &[Expand]) -> Option<String> {
    let mut items: Vec<String> = select.iter().filter_map(|s| table.column(s)).map(Column::odata_name).collect();
    for e in expand.iter().filter(|e| !e.refs_only) {
        let inner = schema.table(&e.table).and_then(|t| context_columns(schema, t, &e.select, &e.expand));
        items.push(format!("{}({})", e.navigation, inner.unwrap_or_default()));
    }
    (!items.is_empty()).then(|| items.join(","))
}

/// One row as read, before it is shaped as JSON.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawRow {
    /// `versionnumber`, for the ETag.
    pub(crate) version: i64,
    /// The projected cells, in projection order.
    pub(crate) cells: Vec<Cell>,
    /// Per projected column: the table a lookup points at (from its hidden `@type` column).
    pub(crate) targets: Vec<Option<String>>,
    /// Sort key values (collection pages only): the `$orderby` columns, then the primary key.
    pub(crate) sort: Vec<Cell>,
}

/// The SQL columns read for a projection: its columns, the hidden target-table column of each
/// projected lookup, and `versionnumber`. A collection page adds its sort values as
/// [`sort_alias`] expressions.
pub(crate) fn sql_columns(columns: &[&Column]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut add = |n: String| {
        if !names.contains(&n) {
            names.push(n);
        }
    };
    for c in columns {
        add(c.logical_name.clone());
        if c.is_lookup() {
            add(lookup_type_column(&c.logical_name));
        }
    }
    add("versionnumber".into());
    names
}

/// The result column of the `i`th sort value of a page (`_s0`, `_s1`…: no logical name starts
/// with `_`).
pub(crate) fn sort_alias(i: usize) -> String {
    format!("_s{i}")
}

/// Reads a result row selected with [`sql_columns`], and its sort values (of the types of
/// `sort`'s columns) from the [`sort_alias`] columns.
pub(crate) fn raw_row(
    columns: &[&Column],
    sort: &[&Column],
    row: &sqlx::sqlite::SqliteRow,
) -> Result<RawRow, sqlx::Error> {
    let version = row.try_get::<Option<i64>, _>("versionnumber")?.unwrap_or(0);
    let mut cells = Vec::with_capacity(columns.len());
    let mut targets = Vec::with_capacity(columns.len());
    for column in columns {
        cells.push(read_cell(row, &column.logical_name, &column.kind)?);
        targets.push(if column.is_lookup() {
            row.try_get::<Option<String>, _>(lookup_type_column(&column.logical_name).as_str())?
        } else {
            None
        });
    }
    let mut values = Vec::with_capacity(sort.len());
    for (i, column) in sort.iter().enumerate() {
        values.push(read_cell(row, &sort_alias(i), &column.kind)?);
    }
    Ok(RawRow { version, cells, targets, sort: values })
}

/// The weak ETag of a row version (spec §2.10).
pub(crate) fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// A count capped at [`MAX_ROWS`] (spec §3.7), and whether the cap was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Count {
    /// `min(matching rows, 5000)`.
    pub(crate) shown: i64,
    /// More than 5000 rows match (`totalrecordcountlimitexceeded`).
    pub(crate) exceeded: bool,
}

/// The number of rows matching `filter`, capped at [`MAX_ROWS`] (spec §3.7). Counts at most
/// one row more than the cap (`SELECT COUNT(*) FROM (SELECT 1 … LIMIT 5001)`).
pub(crate) async fn count(
    conn: &mut SqliteConnection,
    env: &Env<'_>,
    table: &Table,
    filter: Option<&Filter>,
) -> Result<Count, DataverseError> {
    let n = count_up_to(conn, env, table, filter, u64::from(MAX_ROWS) + 1).await?;
    Ok(Count { shown: std::cmp::min(n, i64::from(MAX_ROWS)), exceeded: n > i64::from(MAX_ROWS) })
}

/// The number of rows matching `filter`, counting at most `limit`
/// (`SELECT COUNT(*) FROM (SELECT 1 … LIMIT limit)`).
pub(crate) async fn count_up_to(
    conn: &mut SqliteConnection,
    env: &Env<'_>,
    table: &Table,
    filter: Option<&Filter>,
    limit: u64,
) -> Result<i64, DataverseError> {
    let mut inner = sea_query::Query::select();
    inner.expr(Expr::cust("1")).from(table.logical_name.clone());
    if let Some(filter) = filter {
        inner.and_where(filter_expr(env, table, filter)?);
    }
    inner.limit(limit);
    let q = sea_query::Query::select()
        .expr(Func::count(Expr::cust("*")))
        .from_subquery(inner, Alias::new("matching"))
        .build_sqlx(SqliteQueryBuilder);
    let row = statement(q).fetch_one(conn).await.map_err(db_error)?;
    row.try_get(0).map_err(db_error)
}

/// The ids of every row of `table` matching `filter` (BulkDelete's query).
pub(crate) async fn matching_ids(
    conn: &mut SqliteConnection,
    env: &Env<'_>,
    table: &Table,
    filter: &Filter,
) -> Result<Vec<Uuid>, DataverseError> {
    let q = sea_query::Query::select()
        .column(table.primary_id.clone())
        .from(table.logical_name.clone())
        .and_where(filter_expr(env, table, filter)?)
        .build_sqlx(SqliteQueryBuilder);
    let rows = statement(q).fetch_all(conn).await.map_err(db_error)?;
    rows.iter()
        .map(|r| {
            let text: String = r.try_get(0).map_err(db_error)?;
            Uuid::parse_str(&text)
                .map_err(|_| DataverseError::new(500, dataverse::error::codes::UNEXPECTED, "a stored id is not a GUID"))
        })
        .collect()
}

/// One row by primary key, with `columns` (see [`crate::expand::columns`]).
pub(crate) async fn row(
    conn: &mut SqliteConnection,
    table: &Table,
    id: Uuid,
    columns: &[&Column],
) -> Result<Option<RawRow>, DataverseError> {
    let q = sea_query::Query::select()
        .columns(sql_columns(columns))
        .from(table.logical_name.clone())
        .and_where(Expr::col(table.primary_id.clone()).eq(id.to_string()))
        .build_sqlx(SqliteQueryBuilder);
    let found = statement(q).fetch_optional(conn).await.map_err(db_error)?;
    found.map(|r| raw_row(columns, &[], &r)).transpose().map_err(db_error)
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

/// Whether a column's storage class is TEXT compared case-insensitively.
pub(crate) fn is_nocase(column: &Column) -> bool {
    crate::rows::storage(&column.kind) == SqlClass::TextNoCase
}

/// Whether row `id` of `table` has its lookup `column` pointing at `parent` of `parent_table`
/// (for a lookup to several tables, its hidden `@type` column must name `parent_table`).
pub(crate) async fn points_at(
    conn: &mut SqliteConnection,
    table: &Table,
    id: Uuid,
    column: &str,
    parent_table: &str,
    parent: Uuid,
) -> Result<bool, DataverseError> {
    let mut q = sea_query::Query::select();
    q.expr(Expr::cust("1"))
        .from(table.logical_name.clone())
        .and_where(Expr::col(table.primary_id.clone()).eq(id.to_string()))
        .and_where(Expr::col(column.to_owned()).eq(parent.to_string()));
    if table.column(column).is_some_and(crate::query_sql::polymorphic) {
        q.and_where(Expr::col(lookup_type_column(column)).eq(parent_table.to_owned()));
    }
    let found = statement(q.build_sqlx(SqliteQueryBuilder)).fetch_optional(conn).await.map_err(db_error)?;
    Ok(found.is_some())
}

/// Ids of the rows of `table` whose lookup `column` names `parent` (at most 5000, by id): the
/// references of a collection-valued navigation property.
pub(crate) async fn referencing_ids(
    conn: &mut SqliteConnection,
    table: &Table,
    column: &str,
    parent: Uuid,
) -> Result<Vec<Uuid>, DataverseError> {
    let q = sea_query::Query::select()
        .column(table.primary_id.clone())
        .from(table.logical_name.clone())
        .and_where(Expr::col(column.to_owned()).eq(parent.to_string()))
        .order_by(table.primary_id.clone(), sea_query::Order::Asc)
        .limit(5000)
        .build_sqlx(SqliteQueryBuilder);
    let rows = statement(q).fetch_all(conn).await.map_err(db_error)?;
    rows.iter()
        .map(|r| {
            let text: String = sqlx::Row::try_get(r, 0).map_err(db_error)?;
            Uuid::try_parse(&text)
                .map_err(|_| DataverseError::new(500, dataverse::error::codes::UNEXPECTED, "a stored id is not a GUID"))
        })
        .collect()
}
