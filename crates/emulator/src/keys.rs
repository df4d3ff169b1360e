//! Alternate keys (spec §2.5, §2.7): addressing rows by key values, and keeping key values
//! unique.
//!
//! - Each key has a unique SQL index on its columns (created with the tables); text key
//!   columns are `NOCASE`, so `A-1` and `a-1` are the same key value, as on SQL Server's
//!   case-insensitive collation behind Dataverse.
//! - A key with a NULL column never collides (Dataverse's key indexes are filtered on NOT
//!   NULL; SQLite's unique indexes let NULLs repeat).
//! - A row the key values do not find: 404 `0x80060891` "A record with the specified key values
//!   does not exist in {logicalname} entity" (spec §10.3).
//! - A create or update that would give two rows the same key values: 400 `0x80060892`
//!   (DuplicateRecordEntityKey). Spec §10.3 leaves the status open (412/400); 400 is chosen
//!   because this is a validation failure of the payload, not a failed precondition the
//!   client asked for (412 stays reserved for `If-Match`/`If-None-Match`).
//! - Upsert by key creating a row sets the key columns from the URL; a body value for a key
//!   column must agree with the URL (ASCII case ignored for text), else 400 `0x80040203`. The
//!   same holds for updates addressed by key: the URL names the row by those values.

use crate::query_sql::literal_cell;
use crate::read::is_nocase;
use crate::response::db_error;
use crate::rows::Cell;
use crate::store::statement;
use crate::write::{Cells, set_lookup};
use dataverse::error::{DataverseError, codes};
use dataverse::metadata::{Column, ColumnType, Table};
use dataverse::query::Literal;
use sea_query::{Expr, ExprTrait as _, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder as _;
use sqlx::{Row as _, SqliteConnection};
use uuid::Uuid;

/// RecordNotFoundByEntityKey (spec §10.3).
pub(crate) const RECORD_NOT_FOUND_BY_KEY: &str = "0x80060891";
/// DuplicateRecordEntityKey (spec §10.3).
pub(crate) const DUPLICATE_KEY: &str = "0x80060892";

/// 404 for key values that find no row.
pub(crate) fn not_found(table: &Table) -> DataverseError {
    DataverseError::new(
        404,
        RECORD_NOT_FOUND_BY_KEY,
        format!("A record with the specified key values does not exist in {} entity", table.logical_name),
    )
}

fn key_column<'t>(table: &'t Table, name: &str) -> Result<&'t Column, DataverseError> {
    table.column(name).ok_or_else(|| {
        DataverseError::bad_request(format!(
            "Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.{}'.",
            table.logical_name
        ))
    })
}

/// The key values of the URL as the cells stored.
fn key_cells<'t>(table: &'t Table, parts: &[(String, Literal)]) -> Result<Vec<(&'t Column, Cell)>, DataverseError> {
    parts
        .iter()
        .map(|(name, literal)| {
            let column = key_column(table, name)?;
            let cell = literal_cell(column, literal).ok_or_else(|| {
                DataverseError::bad_request(format!(
                    "The key value for '{}' does not fit its type",
                    column.odata_name()
                ))
            })?;
            Ok((column, cell))
        })
        .collect()
}

/// The primary key of the row with these key values, if any.
pub(crate) async fn resolve(
    conn: &mut SqliteConnection,
    table: &Table,
    parts: &[(String, Literal)],
) -> Result<Option<Uuid>, DataverseError> {
    let mut q = sea_query::Query::select();
    q.column(table.primary_id.clone()).from(table.logical_name.clone());
    for (column, cell) in key_cells(table, parts)? {
        q.and_where(Expr::col(column.logical_name.clone()).eq(Expr::val(cell.to_sql())));
    }
    let row = statement(q.limit(1).build_sqlx(SqliteQueryBuilder)).fetch_optional(conn).await.map_err(db_error)?;
    let Some(row) = row else { return Ok(None) };
    let id: String = row.try_get(0).map_err(db_error)?;
    Uuid::try_parse(&id).map(Some).map_err(|_| {
        tracing::error!(table = %table.logical_name, "stored primary key is not a GUID");
        DataverseError::new(500, codes::UNEXPECTED, "An unexpected error occurred.")
    })
}

fn agree(column: &Column, a: &Cell, b: &Cell) -> bool {
    match (a, b) {
        (Cell::Text(x), Cell::Text(y)) if is_nocase(column) => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}

/// Checks that the body does not contradict the URL's key values, and (when `creating`) adds
/// them to the cells written.
pub(crate) fn apply_url_key(
    table: &Table,
    parts: &[(String, Literal)],
    cells: &mut Cells,
    creating: bool,
) -> Result<(), DataverseError> {
    for (column, url_cell) in key_cells(table, parts)? {
        match cells.iter().find(|(n, _)| *n == column.logical_name) {
            Some((_, body)) if !agree(column, body, &url_cell) => {
                return Err(DataverseError::new(
                    400,
                    codes::INVALID_ARGUMENT,
                    format!(
                        "The value of '{}' in the body differs from the alternate key in the URL",
                        column.logical_name
                    ),
                ));
            }
            Some(_) => {}
            None if creating => match (&column.kind, &url_cell) {
                (ColumnType::Lookup { targets }, Cell::Text(id)) => {
                    let (Some(target), 1) = (targets.first(), targets.len()) else {
                        return Err(DataverseError::bad_request(format!(
                            "The key column '{}' is a lookup to several tables; create the row by id",
                            column.odata_name()
                        )));
                    };
                    let id =
                        Uuid::try_parse(id).map_err(|_| DataverseError::bad_request("The key value is not a GUID"))?;
                    set_lookup(table, cells, &column.logical_name, id, target);
                }
                _ => cells.push((column.logical_name.clone(), url_cell)),
            },
            None => {}
        }
    }
    Ok(())
}

/// Refuses a write that would give row `id` the key values of another row. `cells` are the
/// values written; `current` the row's stored values (empty on create). Keys none of whose
/// columns are written are not checked on update.
pub(crate) async fn check_unique(
    conn: &mut SqliteConnection,
    table: &Table,
    id: Uuid,
    cells: &[(String, Cell)],
    current: &[(String, Cell)],
) -> Result<(), DataverseError> {
    let get = |list: &[(String, Cell)], name: &str| list.iter().find(|(n, _)| n == name).map(|(_, c)| c.clone());
    for key in &table.keys {
        if !current.is_empty() && !key.columns.iter().any(|c| get(cells, c).is_some()) {
            continue;
        }
        let values: Vec<(String, Cell)> = key
            .columns
            .iter()
            .map(|c| (c.clone(), get(cells, c).or_else(|| get(current, c)).unwrap_or(Cell::Null)))
            .collect();
        if values.iter().any(|(_, v)| *v == Cell::Null) {
            continue;
        }
        let mut q = sea_query::Query::select();
        q.column(table.primary_id.clone())
            .from(table.logical_name.clone())
            .and_where(Expr::col(table.primary_id.clone()).ne(id.to_string()));
        for (name, value) in &values {
            q.and_where(Expr::col(name.clone()).eq(Expr::val(value.to_sql())));
        }
        let taken = statement(q.limit(1).build_sqlx(SqliteQueryBuilder))
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
            .is_some();
        if taken {
            return Err(DataverseError::new(
                400,
                DUPLICATE_KEY,
                format!(
                    "A record that has the attribute values {} already exists. The entity key {} requires that this set of attributes contains unique values. Select unique values and try again.",
                    key.columns.join(", "),
                    key.schema_name
                ),
            ));
        }
    }
    Ok(())
}
