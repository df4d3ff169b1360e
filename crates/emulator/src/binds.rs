//! `@odata.bind` on create and update (spec §2.2, §5): lookups set by reference.
//!
//! - A single-valued bind sets this row's lookup column and its hidden `{lookup}@type` column
//!   (the table the navigation property names); `null` clears both. Binding `ownerid` also sets
//!   `owninguser` or `owningteam` and clears the other, as assigning does.
//! - A collection-valued bind (create only) points each listed row's lookup at the new row,
//!   as an update of that row (its version and `modifiedon` change).
//! - A reference to a missing row fails the whole write with 404 `0x80040217` ("{table} With Id
//!   = … Does Not Exist", or the alternate-key message): the caller's transaction is rolled back.
//! - `$n` references exist only inside `$batch` change sets; elsewhere they fail with Dataverse's
//!   "Content-ID Reference: '$n' does not exist in the batch context."

use crate::intersect::Side;
use crate::keys;
use crate::write::{self, Cells, WriteCtx};
use dataverse::error::DataverseError;
use dataverse::metadata::{Schema, Table};
use dataverse::record::{Bind, Link, Record, Reference};
use dataverse::request::RowKey;
use sqlx::SqliteConnection;
use uuid::Uuid;

fn table<'s>(schema: &'s Schema, name: &str) -> Result<&'s Table, DataverseError> {
    schema.table(name).ok_or_else(|| DataverseError::bad_request(format!("The table '{name}' does not exist")))
}

/// The id of the row a reference names, which must exist.
pub(crate) async fn resolve(
    conn: &mut SqliteConnection,
    table: &Table,
    reference: &Reference,
) -> Result<Uuid, DataverseError> {
    match reference {
        Reference::ContentId(id) => Err(DataverseError::bad_request(format!(
            "Content-ID Reference: '${id}' does not exist in the batch context."
        ))),
        Reference::Row { key: RowKey::Id(id), .. } => {
            if write::exists(conn, table, *id).await? {
                Ok(*id)
            } else {
                Err(DataverseError::not_found(&table.logical_name, id))
            }
        }
        Reference::Row { key: RowKey::Alternate(parts), .. } => {
            keys::resolve(conn, table, parts).await?.ok_or_else(|| keys::not_found(table))
        }
    }
}

/// Applies the single-valued binds of `record` to the cells of the row being written.
pub(crate) async fn single(
    conn: &mut SqliteConnection,
    schema: &Schema,
    written: &Table,
    record: &Record,
    cells: &mut Cells,
) -> Result<(), DataverseError> {
    for bind in &record.binds {
        let Bind::Single { column, table: target, target: reference, .. } = bind else { continue };
        let id = match reference {
            Some(r) => Some(resolve(conn, table(schema, target)?, r).await?),
            None => None,
        };
        set(written, cells, column, id, target);
        if column == "ownerid" {
            let (user, team) = match target.as_str() {
                "team" => (None, id),
                _ => (id, None),
            };
            set(written, cells, "owninguser", user, "systemuser");
            set(written, cells, "owningteam", team, "team");
        }
    }
    Ok(())
}

fn set(table: &Table, cells: &mut Cells, column: &str, id: Option<Uuid>, target: &str) {
    match id {
        Some(id) => write::set_lookup(table, cells, column, id, target),
        None => write::clear_lookup(table, cells, column),
    }
}

/// Applies the collection-valued binds of a created row `id` of `written`: each listed row's
/// lookup now points at it (1:N), or each listed row is paired with it (N:N).
pub(crate) async fn collection(
    conn: &mut SqliteConnection,
    ctx: &WriteCtx<'_>,
    schema: &Schema,
    written: &Table,
    id: Uuid,
    record: &Record,
) -> Result<(), DataverseError> {
    for bind in &record.binds {
        let Bind::Collection { navigation, link, table: related, targets } = bind else { continue };
        let related = table(schema, related)?;
        for reference in targets {
            let rid = resolve(conn, related, reference).await?;
            let column = match link {
                Link::Lookup(column) => column,
                Link::Intersect { .. } => {
                    let side = Side::find(schema, &written.logical_name, navigation).ok_or_else(|| {
                        DataverseError::bad_request(format!("'{navigation}' is not an N:N navigation property"))
                    })?;
                    if !write::exists(conn, related, rid).await? {
                        return Err(DataverseError::not_found(&related.logical_name, &rid));
                    }
                    crate::intersect::pair(conn, side, id, rid).await?;
                    continue;
                }
            };
            let current = crate::read::cells(conn, related, rid)
                .await?
                .ok_or_else(|| DataverseError::not_found(&related.logical_name, &rid))?;
            let mut cells = Cells::new();
            write::set_lookup(related, &mut cells, column, id, &written.logical_name);
            write::update(conn, ctx, related, rid, &current, cells).await?;
        }
    }
    Ok(())
}
