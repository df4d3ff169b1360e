//! Writes: insert, update and delete of one row with the system behaviour of spec §2.2
//! ("Create-time system behaviour an emulator should reproduce") and §2.6.
//!
//! On insert: `createdon`/`modifiedon` now, `createdby`/`modifiedby` and (user-owned tables)
//! `ownerid`/`owninguser` the caller, `owningbusinessunit` the root business unit, `statecode`
//! 0 and `statuscode` the first status of the state, `versionnumber` the next org-wide version,
//! `transactioncurrencyid` USD with `exchangerate` 1 and every `x_base` equal to `x` when a money
//! column is set, `fullname` composed from `firstname`/`lastname`, incident `ticketnumber`
//! `CAS-nnnnn-XnXnXn`, note `filesize` from `documentbody`. On update: `modifiedon`,
//! `modifiedby`, `versionnumber`, and the same derived columns when their sources change. Both
//! keep alternate-key values unique ([`crate::keys`]).

use crate::decimal;
use crate::response::db_error;
use crate::rows::{Cell, lookup_type_column, to_cell};
use crate::seed::SystemIds;
use crate::store::{meta, statement};
use dataverse::error::{DataverseError, codes};
use dataverse::json::Object;
use dataverse::metadata::{ColumnType, Ownership, Table};
use sea_query::{Expr, ExprTrait as _, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder as _;
use sqlx::SqliteConnection;
use uuid::Uuid;

/// Invalid state/status combination (spec §10.3, name unconfirmed there).
const INVALID_STATE_STATUS: &str = "0x80048408";

/// Column values of one row being written, by logical name.
pub(crate) type Cells = Vec<(String, Cell)>;

/// Who writes, and when.
pub(crate) struct WriteCtx<'a> {
    /// The calling application user's `systemuserid`.
    pub(crate) caller: Uuid,
    /// The seeded system rows.
    pub(crate) ids: &'a SystemIds,
    /// Now, as stored.
    pub(crate) now: String,
}

fn get<'c>(cells: &'c [(String, Cell)], name: &str) -> Option<&'c Cell> {
    cells.iter().find(|(n, _)| n == name).map(|(_, c)| c)
}

fn set(cells: &mut Cells, name: &str, cell: Cell) {
    match cells.iter_mut().find(|(n, _)| n == name) {
        Some(slot) => slot.1 = cell,
        None => cells.push((name.to_owned(), cell)),
    }
}

/// Sets a lookup and its hidden target-table column, if the table has the lookup.
pub(crate) fn set_lookup(table: &Table, cells: &mut Cells, column: &str, id: Uuid, target: &str) {
    if table.column(column).is_some_and(|c| c.is_lookup()) {
        set(cells, column, Cell::Text(id.to_string()));
        set(cells, &lookup_type_column(column), Cell::Text(target.to_owned()));
    }
}

/// Clears a lookup and its hidden target-table column, if the table has the lookup.
pub(crate) fn clear_lookup(table: &Table, cells: &mut Cells, column: &str) {
    if table.column(column).is_some_and(|c| c.is_lookup()) {
        set(cells, column, Cell::Null);
        set(cells, &lookup_type_column(column), Cell::Null);
    }
}

/// The cells of a parsed record body (the parser has checked names, settability and types).
pub(crate) fn record_cells(table: &Table, record: &Object) -> Result<Cells, DataverseError> {
    let mut cells = Cells::new();
    for (name, value) in record {
        let column = table.column(name).ok_or_else(|| {
            DataverseError::new(
                400,
                codes::PAYLOAD_ERROR,
                format!("The property '{name}' does not exist on {}", table.logical_name),
            )
        })?;
        cells.push((name.to_owned(), to_cell(table, column, value)?));
    }
    Ok(cells)
}

/// Inserts a new row. Fails with 400 `0x80040237` when the id is taken.
pub(crate) async fn insert(
    conn: &mut SqliteConnection,
    ctx: &WriteCtx<'_>,
    table: &Table,
    id: Uuid,
    mut cells: Cells,
) -> Result<(), DataverseError> {
    cells.retain(|(n, _)| *n != table.primary_id);
    check_required(table, &cells, true)?;
    apply_state(table, id, &mut cells, None)?;
    derive(table, &mut cells, &[])?;
    set(&mut cells, "createdon", Cell::Text(ctx.now.clone()));
    set(&mut cells, "modifiedon", Cell::Text(ctx.now.clone()));
    set_lookup(table, &mut cells, "createdby", ctx.caller, "systemuser");
    set_lookup(table, &mut cells, "modifiedby", ctx.caller, "systemuser");
    if table.ownership == Ownership::UserOwned {
        if get(&cells, "ownerid").is_none() {
            set_lookup(table, &mut cells, "ownerid", ctx.caller, "systemuser");
            set_lookup(table, &mut cells, "owninguser", ctx.caller, "systemuser");
        }
        set_lookup(table, &mut cells, "owningbusinessunit", ctx.ids.root_business_unit, "businessunit");
    }
    if get(&cells, "businessunitid").is_none() {
        set_lookup(table, &mut cells, "businessunitid", ctx.ids.root_business_unit, "businessunit");
    }
    apply_currency(table, &mut cells, ctx, true);
    if table.logical_name == "incident" && table.column("ticketnumber").is_some() {
        let n = meta::next(conn, meta::TICKET_COUNTER).await.map_err(db_error)?;
        set(&mut cells, "ticketnumber", Cell::Text(ticket_number(n)));
    }
    let version = meta::next(conn, meta::VERSION_COUNTER).await.map_err(db_error)?;
    set(&mut cells, "versionnumber", Cell::Int(version));
    if exists(conn, table, id).await? {
        // Spec §10.3 DuplicateRecord, "Cannot insert duplicate key." for a create.
        return Err(DataverseError::new(400, codes::DUPLICATE_RECORD, "Cannot insert duplicate key."));
    }
    crate::keys::check_unique(conn, table, id, &cells, &[]).await?;
    cells.insert(0, (table.primary_id.clone(), Cell::Text(id.to_string())));
    let q = sea_query::Query::insert()
        .into_table(table.logical_name.clone())
        .columns(cells.iter().map(|(n, _)| n.clone()))
        .values(cells.iter().map(|(_, c)| Expr::val(c.to_sql())))
        .map_err(|e| internal(&e))?
        .build_sqlx(SqliteQueryBuilder);
    statement(q).execute(conn).await.map_err(db_error)?;
    Ok(())
}

/// Updates an existing row whose stored cells are `current`.
pub(crate) async fn update(
    conn: &mut SqliteConnection,
    ctx: &WriteCtx<'_>,
    table: &Table,
    id: Uuid,
    current: &Cells,
    mut cells: Cells,
) -> Result<(), DataverseError> {
    cells.retain(|(n, _)| *n != table.primary_id);
    check_required(table, &cells, false)?;
    let current_state = get(current, "statecode").and_then(Cell::as_int);
    apply_state(table, id, &mut cells, Some(current_state.unwrap_or(0)))?;
    derive(table, &mut cells, current)?;
    set(&mut cells, "modifiedon", Cell::Text(ctx.now.clone()));
    set_lookup(table, &mut cells, "modifiedby", ctx.caller, "systemuser");
    let has_currency = get(current, "transactioncurrencyid").is_some_and(|c| *c != Cell::Null);
    apply_currency(table, &mut cells, ctx, !has_currency);
    let version = meta::next(conn, meta::VERSION_COUNTER).await.map_err(db_error)?;
    set(&mut cells, "versionnumber", Cell::Int(version));
    crate::keys::check_unique(conn, table, id, &cells, current).await?;
    let q = sea_query::Query::update()
        .table(table.logical_name.clone())
        .values(cells.iter().map(|(n, c)| (n.clone(), Expr::val(c.to_sql()))))
        .and_where(Expr::col(table.primary_id.clone()).eq(id.to_string()))
        .build_sqlx(SqliteQueryBuilder);
    statement(q).execute(conn).await.map_err(db_error)?;
    Ok(())
}

/// Deletes a row, recording the deletion for change tracking; false when there was none.
pub(crate) async fn delete(conn: &mut SqliteConnection, table: &Table, id: Uuid) -> Result<bool, DataverseError> {
    let q = sea_query::Query::delete()
        .from_table(table.logical_name.clone())
        .and_where(Expr::col(table.primary_id.clone()).eq(id.to_string()))
        .build_sqlx(SqliteQueryBuilder);
    let done = statement(q).execute(&mut *conn).await.map_err(db_error)?;
    if done.rows_affected() > 0 {
        meta::record_deletion(conn, &table.logical_name, &id.to_string()).await.map_err(db_error)?;
    }
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn exists(conn: &mut SqliteConnection, table: &Table, id: Uuid) -> Result<bool, DataverseError> {
    let q = sea_query::Query::select()
        .column(table.primary_id.clone())
        .from(table.logical_name.clone())
        .and_where(Expr::col(table.primary_id.clone()).eq(id.to_string()))
        .build_sqlx(SqliteQueryBuilder);
    Ok(statement(q).fetch_optional(conn).await.map_err(db_error)?.is_some())
}

fn internal(e: &dyn std::fmt::Display) -> DataverseError {
    tracing::error!(error = %e, "building a statement failed");
    DataverseError::new(500, codes::UNEXPECTED, "An unexpected error occurred.")
}

/// System-required columns (lookups excepted: clients cannot bind them yet) must not be null,
/// and on insert must be present; business-required (`ApplicationRequired`) ones are not
/// enforced by the Web API, so not here either. `statecode`/`statuscode` can never be null.
fn check_required(table: &Table, cells: &Cells, creating: bool) -> Result<(), DataverseError> {
    for column in &table.columns {
        let never_null = matches!(column.kind, ColumnType::State { .. } | ColumnType::Status { .. });
        let system = column.required == dataverse::metadata::RequiredLevel::SystemRequired;
        if !(system || never_null) || column.is_lookup() {
            continue;
        }
        let missing = match get(cells, &column.logical_name) {
            Some(Cell::Null) => true,
            Some(_) => false,
            None => creating && system,
        };
        if missing {
            return Err(DataverseError::new(
                400,
                codes::INVALID_ARGUMENT,
                format!("Attribute '{}' of {} cannot be NULL.", column.logical_name, table.logical_name),
            ));
        }
    }
    Ok(())
}

/// Sets `statuscode` to the state's default when only the state is given (or on insert), and
/// refuses a status that does not belong to the state (spec §10.3 `0x80048408`).
fn apply_state(table: &Table, id: Uuid, cells: &mut Cells, current_state: Option<i64>) -> Result<(), DataverseError> {
    let (Some(state_col), Some(status_col)) = (table.column("statecode"), table.column("statuscode")) else {
        return Ok(());
    };
    let (ColumnType::State { options: states }, ColumnType::Status { options: statuses }) =
        (&state_col.kind, &status_col.kind)
    else {
        return Ok(());
    };
    let given_state = get(cells, "statecode").and_then(Cell::as_int);
    let state = given_state.or(current_state).unwrap_or(0);
    if current_state.is_none() {
        set(cells, "statecode", Cell::Int(state));
    }
    match get(cells, "statuscode").and_then(Cell::as_int) {
        Some(status) if !statuses.iter().any(|(v, _, s)| i64::from(*v) == status && i64::from(*s) == state) => {
            let label: String = states
                .iter()
                .find(|(v, _)| i64::from(*v) == state)
                .map(|(_, l)| l.chars().filter(|c| !c.is_whitespace()).collect())
                .unwrap_or_else(|| state.to_string());
            return Err(DataverseError::new(
                400,
                INVALID_STATE_STATUS,
                format!(
                    "{status} is not a valid status code for state code {}State.{label} on {} with Id {id}.",
                    table.schema_name, table.logical_name
                ),
            ));
        }
        Some(_) => {}
        None if given_state.is_some() || current_state.is_none() => {
            set(cells, "statecode", Cell::Int(state));
            if let Some((v, _, _)) = statuses.iter().find(|(_, _, s)| i64::from(*s) == state) {
                set(cells, "statuscode", Cell::Int(i64::from(*v)));
            }
        }
        None => {}
    }
    Ok(())
}

/// Derived columns: `fullname` from `firstname`/`lastname`; `x_base` from money `x`;
/// `filesize` from `documentbody`.
fn derive(table: &Table, cells: &mut Cells, current: &[(String, Cell)]) -> Result<(), DataverseError> {
    let composes_name = ["firstname", "lastname", "fullname"].iter().all(|c| table.column(c).is_some());
    let creating = current.is_empty();
    if composes_name && (creating || get(cells, "firstname").is_some() || get(cells, "lastname").is_some()) {
        let part = |name: &str| {
            get(cells, name)
                .or_else(|| get(current, name))
                .and_then(Cell::as_text)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let full = match (part("firstname"), part("lastname")) {
            (Some(f), Some(l)) => Cell::Text(format!("{f} {l}")),
            (Some(one), None) | (None, Some(one)) => Cell::Text(one.to_owned()),
            (None, None) => Cell::Null,
        };
        set(cells, "fullname", full);
    }
    let twins: Vec<(String, Cell)> = cells
        .iter()
        .filter(|(n, _)| table.column(n).is_some_and(|c| c.kind == ColumnType::Money))
        .filter_map(|(n, c)| {
            let base = format!("{n}_base");
            table.column(&base).map(|_| (base, c.clone()))
        })
        .collect();
    for (base, cell) in twins {
        set(cells, &base, cell);
    }
    // A note's read-only `filesize` (spec §15.10): the byte length its base64 `documentbody`
    // decodes to.
    if table.column("filesize").is_some()
        && let Some(body) = get(cells, "documentbody")
    {
        let size = body.as_text().map_or(Cell::Null, |b| {
            let digits = b.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=').count();
            Cell::Int(i64::try_from(digits * 3 / 4).unwrap_or(i64::MAX))
        });
        set(cells, "filesize", size);
    }
    Ok(())
}

/// When a money column gets a value and the row has no currency yet: USD, exchange rate 1.
fn apply_currency(table: &Table, cells: &mut Cells, ctx: &WriteCtx<'_>, needs_currency: bool) {
    let money_set =
        cells.iter().any(|(n, c)| *c != Cell::Null && table.column(n).is_some_and(|col| col.kind == ColumnType::Money));
    if money_set && needs_currency && get(cells, "transactioncurrencyid").is_none() {
        set_lookup(table, cells, "transactioncurrencyid", ctx.ids.currency, "transactioncurrency");
        if table.column("exchangerate").is_some() {
            let one = 10i128.pow(decimal::DECIMAL_SCALE);
            set(cells, "exchangerate", Cell::Text(decimal::format(one, decimal::DECIMAL_SCALE)));
        }
    }
}

/// `CAS-01001-X0X0X0` (spec §15.5): five digits from the counter, then six characters
/// alternating letter and digit, mixed deterministically from the counter.
pub(crate) fn ticket_number(n: i64) -> String {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut x = crate::seed::splitmix(n.unsigned_abs());
    let mut suffix = String::with_capacity(6);
    for i in 0..6 {
        let c = if i % 2 == 0 { LETTERS[(x % LETTERS.len() as u64) as usize] } else { b'0' + (x % 10) as u8 };
        suffix.push(char::from(c));
        x /= 31;
    }
    format!("CAS-{:05}-{suffix}", 1000 + n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_numbers_look_like_dataverse() {
        let t = ticket_number(1);
        assert!(t.starts_with("CAS-01001-"), "{t}");
        assert_eq!(t.len(), 16);
        assert_eq!(t, ticket_number(1));
        assert_ne!(t, ticket_number(2));
    }
}
