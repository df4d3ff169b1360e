//! Collection pages (spec §3.3, §3.4, §3.7, §3.8): keyset paging, never `OFFSET`.
//!
//! - Page size: `Prefer: odata.maxpagesize=N`, else 5000. With maxpagesize, `$top` is ignored
//!   (spec §3.4: the current page-results article says so when both are sent). Without it,
//!   `$top` caps the rows at `min($top, 5000)` and the answer is never paged.
//! - Order: the `$orderby` columns, then the primary key ascending (spec §3.3), so every row
//!   has a unique position.
//! - A page ends with `@odata.nextLink` when more rows follow; its `$skiptoken` ([`token`])
//!   carries the sort values of the page's last row, and the next page reads the rows strictly
//!   after them: `k1 > v1 OR (k1 = v1 AND (k2 > v2 OR (k2 = v2 AND id > vid)))`, `<` for
//!   descending columns. A row inserted before the cursor is never returned and shifts
//!   nothing; a row inserted after it shows up in its place.
//! - NULLs sort first ascending and last descending (SQLite's order, and SQL Server's behind
//!   Dataverse); the keyset predicate follows that: ascending after NULL is `k IS NOT NULL`,
//!   ascending after `v` is `k > v`; descending after `v` is `k < v OR k IS NULL`, and nothing is
//!   strictly after NULL descending; "same value" is `k = v` or `k IS NULL`.
//! - Text compares with the column's `NOCASE` collation both in `ORDER BY` and in the keyset
//!   predicate; decimals compare as `CAST(… AS REAL)` in both.
//! - A token that does not decode, names other columns than the request's `$orderby` (plus the
//!   primary key) or holds values that do not fit them answers 400 `0x0` "The $skiptoken is not
//!   valid for this query". Tokens are not signed: a well-formed cookie, Dataverse's own
//!   included, is as good as one the emulator issued.
//! - A token longer than the parser accepts (8192 bytes: long text sort values) cannot be issued;
//!   that page answers 501 (an emulator gap) rather than losing rows.

mod token;

use crate::decimal;
use crate::query_sql::{Env, SortKey, filter_expr, primary_key_sort, sort_key};
use crate::read::{MAX_ROWS, RawRow, raw_row, sort_alias, sql_columns};
use crate::response::db_error;
use crate::rows::{Cell, SqlClass, normalize_date, normalize_datetime, storage};
use crate::store::statement;
use dataverse::error::DataverseError;
use dataverse::metadata::{Column, ColumnType, Table};
use dataverse::query::Query;
use sea_query::{Alias, Expr, ExprTrait as _, Func, Order, SqliteQueryBuilder};
use sea_query_sqlx::{SqlxBinder as _, SqlxValues};
use sqlx::SqliteConnection;
use token::{Cookie, Key};
use uuid::Uuid;

/// Longest `$skiptoken` the parser accepts (`dataverse` parse/options.rs).
const MAX_TOKEN: usize = 8192;

/// How many rows a query answers and whether it is paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Rows per page.
    pub(crate) size: u32,
    /// Whether a `@odata.nextLink` follows a full page.
    pub(crate) paged: bool,
}

impl Plan {
    /// Spec §3.4, §3.8: see the module doc.
    pub(crate) fn new(q: &Query, max_page_size: Option<u32>) -> Plan {
        match (max_page_size, q.top) {
            (Some(n), _) => Plan { size: n.clamp(1, MAX_ROWS), paged: true },
            (None, Some(top)) => Plan { size: std::cmp::min(top, MAX_ROWS), paged: false },
            (None, None) => Plan { size: MAX_ROWS, paged: true },
        }
    }
}

/// Where the previous page ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cursor {
    /// The number of the page this cursor starts.
    page: u32,
    /// The last row's sort values, one per sort term.
    values: Vec<Cell>,
}

/// One sort term: its name in the cookie, its SQL and its direction.
#[derive(Debug, Clone)]
pub(crate) struct Term<'t> {
    /// The name the cookie carries: the column's logical name, or the navigation path and the
    /// column joined with dots (`primarycontactid.fullname`: an XML name).
    name: String,
    /// The SQL of the term.
    key: SortKey<'t>,
    /// Descending.
    descending: bool,
}

/// The sort terms: the `$orderby` terms, then the primary key ascending (spec §3.3).
pub(crate) fn sort_terms<'t>(env: &'t Env<'t>, table: &'t Table, q: &Query) -> Result<Vec<Term<'t>>, DataverseError> {
    let mut out = Vec::with_capacity(q.orderby.len() + 1);
    for o in &q.orderby {
        let mut name = String::new();
        for hop in &o.path {
            name.push_str(&hop.navigation);
            name.push('.');
        }
        name.push_str(&o.column);
        out.push(Term { name, key: sort_key(env, table, o)?, descending: o.descending });
    }
    out.push(Term { name: table.primary_id.clone(), key: primary_key_sort(table)?, descending: false });
    Ok(out)
}

fn invalid_token() -> DataverseError {
    DataverseError::bad_request("The $skiptoken is not valid for this query")
}

/// A cookie value as the cell it is compared with, or `None` when it does not fit the column.
fn value_cell(column: &Column, text: &str, primary_key: bool) -> Option<Cell> {
    if primary_key || matches!(column.kind, ColumnType::Uniqueidentifier | ColumnType::Lookup { .. }) {
        let bare = text.trim_start_matches('{').trim_end_matches('}');
        return Uuid::try_parse(bare).ok().map(|id| Cell::Text(id.to_string()));
    }
    Some(match (&column.kind, storage(&column.kind)) {
        (ColumnType::Money, _) => Cell::Int(i64::try_from(decimal::scaled(text, decimal::MONEY_SCALE)?).ok()?),
        (ColumnType::Decimal, _) => {
            Cell::Text(decimal::format(decimal::scaled(text, decimal::DECIMAL_SCALE)?, decimal::DECIMAL_SCALE))
        }
        (ColumnType::DateTime, _) => Cell::Text(normalize_datetime(text)?),
        (ColumnType::DateOnly, _) => Cell::Text(normalize_date(text)?),
        (_, SqlClass::Integer) => Cell::Int(text.parse().ok()?),
        (_, SqlClass::Real) => Cell::Real(text.parse::<f64>().ok().filter(|f| f.is_finite())?),
        (_, SqlClass::Text | SqlClass::TextNoCase) => Cell::Text(text.to_owned()),
    })
}

/// A cell as the text a cookie carries (`None` = NULL).
fn cell_text(column: &Column, cell: &Cell, primary_key: bool) -> Option<String> {
    match (cell, &column.kind) {
        (Cell::Null, _) => None,
        (Cell::Text(t), _) if primary_key => Some(format!("{{{}}}", t.to_ascii_uppercase())),
        (Cell::Int(units), ColumnType::Money) => Some(decimal::format(i128::from(*units), decimal::MONEY_SCALE)),
        (Cell::Int(i), _) => Some(i.to_string()),
        (Cell::Real(f), _) => Some(format!("{f:?}")),
        (Cell::Text(t), _) => Some(t.clone()),
    }
}

/// The cursor of the request's `$skiptoken`, checked against its sort terms.
fn cursor(terms: &[Term<'_>], q: &Query) -> Result<Option<Cursor>, DataverseError> {
    let Some(raw) = &q.skiptoken else { return Ok(None) };
    let cookie = token::decode_token(raw).ok_or_else(invalid_token)?;
    if cookie.keys.len() != terms.len() {
        return Err(invalid_token());
    }
    let last = terms.len() - 1;
    let mut values = Vec::with_capacity(terms.len());
    for (i, (term, key)) in terms.iter().zip(&cookie.keys).enumerate() {
        if key.column != term.name {
            return Err(invalid_token());
        }
        values.push(match &key.last {
            None if i == last => return Err(invalid_token()),
            None => Cell::Null,
            Some(text) => value_cell(term.key.column, text, i == last).ok_or_else(invalid_token)?,
        });
    }
    Ok(Some(Cursor { page: cookie.page, values }))
}

/// The term side and value side of a keyset comparison.
fn sides(term: &Term<'_>, value: &Cell) -> (Expr, Expr) {
    let v = Expr::val(value.to_sql());
    let v =
        if term.key.column.kind == ColumnType::Decimal { Expr::expr(Func::cast_as(v, Alias::new("REAL"))) } else { v };
    (term.key.order.clone(), v)
}

/// Rows strictly after `value` in this term's order; `None` = no row.
fn beyond(term: &Term<'_>, value: &Cell) -> Option<Expr> {
    let (col, v) = sides(term, value);
    match (term.descending, value) {
        (false, Cell::Null) => Some(col.is_not_null()),
        (false, _) => Some(col.gt(v)),
        (true, Cell::Null) => None,
        (true, _) => Some(col.clone().lt(v).or(col.is_null())),
    }
}

/// Rows with the same value in this term.
fn same(term: &Term<'_>, value: &Cell) -> Expr {
    let (col, v) = sides(term, value);
    if *value == Cell::Null { col.is_null() } else { col.eq(v) }
}

/// The keyset predicate: rows after `cursor` in the order of `terms`.
fn after(terms: &[Term<'_>], cursor: &Cursor) -> Expr {
    let mut acc: Option<Expr> = None;
    for (term, value) in terms.iter().zip(&cursor.values).rev() {
        let strictly = beyond(term, value);
        acc = match (strictly, acc) {
            (Some(s), Some(inner)) => Some(s.or(same(term, value).and(inner))),
            (Some(s), None) => Some(s),
            (None, Some(inner)) => Some(same(term, value).and(inner)),
            (None, None) => None,
        };
    }
    // The primary key term is ascending and never NULL, so `acc` is always set.
    let acc = acc.unwrap_or_else(|| Expr::cust("0"));
    // A range bound on the first ascending sort term lets SQLite seek in its index to the
    // cursor instead of reading every earlier row (the OR-chain alone does not): it excludes
    // nothing the chain admits, since later rows never sort before the cursor's first value.
    match (terms.first(), cursor.values.first()) {
        (Some(term), Some(value)) if !term.descending && *value != Cell::Null => {
            let (col, v) = sides(term, value);
            col.gte(v).and(acc)
        }
        _ => acc,
    }
}

/// What one page is read with: the filter environment, the table and the columns read (the
/// shown ones and those `$expand` needs, see [`crate::expand::columns`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    /// Schema, clock and caller for `$filter`.
    pub(crate) env: &'a Env<'a>,
    /// The table queried.
    pub(crate) table: &'a Table,
    /// The columns read.
    pub(crate) columns: &'a [&'a Column],
}

/// The SQL of one page of `q`: the columns and sort columns, `$filter`, the keyset predicate
/// of `cursor`, `ORDER BY` the sort terms, `LIMIT` the page size (plus one row, to know
/// whether another page follows, when paged). The keyset is on the queried rows only:
/// expanded rows are read afterwards for the rows of the page.
pub(crate) fn page_sql(
    src: Source<'_>,
    q: &Query,
    plan: Plan,
    terms: &[Term<'_>],
    cursor: Option<&Cursor>,
) -> Result<(String, SqlxValues), DataverseError> {
    let table = src.table;
    let mut select = sea_query::Query::select();
    select.columns(sql_columns(src.columns)).from(table.logical_name.clone());
    for (i, term) in terms.iter().enumerate() {
        select.expr_as(term.key.read.clone(), Alias::new(sort_alias(i)));
    }
    if let Some(filter) = &q.filter {
        select.and_where(filter_expr(src.env, table, filter)?);
    }
    if let Some(cursor) = cursor {
        select.and_where(after(terms, cursor));
    }
    for term in terms {
        select.order_by_expr(term.key.order.clone(), if term.descending { Order::Desc } else { Order::Asc });
    }
    select.limit(u64::from(plan.size) + u64::from(plan.paged));
    Ok(select.build_sqlx(SqliteQueryBuilder))
}

/// One page of rows, and the `$skiptoken` of the next page when there is one.
#[derive(Debug)]
pub(crate) struct Page {
    /// The rows, at most the page size.
    pub(crate) rows: Vec<RawRow>,
    /// The token of the next page.
    pub(crate) next: Option<String>,
}

/// Reads one page of `q`.
pub(crate) async fn fetch(
    conn: &mut SqliteConnection,
    src: Source<'_>,
    q: &Query,
    plan: Plan,
) -> Result<Page, DataverseError> {
    let terms = sort_terms(src.env, src.table, q)?;
    let cursor = cursor(&terms, q)?;
    let (sql, values) = page_sql(src, q, plan, &terms, cursor.as_ref())?;
    let found = statement((sql, values)).fetch_all(&mut *conn).await.map_err(db_error)?;
    let sort: Vec<&Column> = terms.iter().map(|t| t.key.column).collect();
    let mut rows = Vec::with_capacity(found.len());
    for row in &found {
        rows.push(raw_row(src.columns, &sort, row).map_err(db_error)?);
    }
    let size = plan.size as usize;
    if !plan.paged || rows.len() <= size {
        return Ok(Page { rows, next: None });
    }
    rows.truncate(size);
    let page = cursor.map_or(2, |c| c.page.saturating_add(1));
    let next = match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => Some(next_token(&terms, page, first, last)?),
        _ => None,
    };
    Ok(Page { rows, next })
}

fn next_token(terms: &[Term<'_>], page: u32, first: &RawRow, last: &RawRow) -> Result<String, DataverseError> {
    let pk = terms.len() - 1;
    let keys = terms
        .iter()
        .enumerate()
        .map(|(i, term)| Key {
            column: term.name.clone(),
            last: last.sort.get(i).and_then(|c| cell_text(term.key.column, c, i == pk)),
            first: first.sort.get(i).and_then(|c| cell_text(term.key.column, c, i == pk)),
        })
        .collect();
    let token = token::encode_token(&Cookie { page, keys });
    if token.len() > MAX_TOKEN {
        return Err(crate::response::unsupported(
            "paging past a row whose $orderby values are too long for a $skiptoken is not supported",
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests;
