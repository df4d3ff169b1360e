//! Creating a row with its related rows in one operation (spec §2.2 "Create related table rows
//! in one operation", deep insert), inside the caller's transaction: a failure anywhere leaves
//! nothing behind.
//!
//! - A row pointed at through a single-valued navigation property (`"primarycontactid": {…}`)
//!   is created first, and the new row's lookup points at it (its `@type` is the table the
//!   navigation property names, so `parentcustomerid_account` makes an account).
//! - Rows under a collection-valued one (`"contact_customer_accounts": [{…}]`) are created
//!   after the row, each with its lookup pointing at it; under an N:N one
//!   (`"accountleads_association": [{…}]`) each is paired with it in the intersect table.
//! - Each row gets its binds ([`crate::binds`]) and the system columns of any create.

use crate::binds;
use crate::intersect::Side;
use crate::write::{self, Cells, WriteCtx};
use dataverse::error::DataverseError;
use dataverse::json::Value;
use dataverse::metadata::{Schema, Table};
use dataverse::record::{Link, Record, Related};
use sqlx::SqliteConnection;
use std::future::Future;
use std::pin::Pin;
use uuid::Uuid;

/// The id a record asks for (its primary key in the body), or a new one.
pub(crate) fn new_id(t: &Table, record: &Record) -> Result<Uuid, DataverseError> {
    match record.values.get(&t.primary_id).and_then(Value::as_str) {
        Some(s) => {
            Uuid::try_parse(s).map_err(|_| DataverseError::bad_request(format!("{} is not a GUID", t.primary_id)))
        }
        None => Ok(Uuid::new_v4()),
    }
}

/// The lookup a row created under a collection-valued navigation property gets: its column,
/// the parent's id and table.
type Parent<'a> = Option<(&'a str, Uuid, &'a str)>;

/// Creates `record` as row `id` of `t`, with every related row (see the module doc).
pub(crate) fn insert<'a>(
    conn: &'a mut SqliteConnection,
    ctx: &'a WriteCtx<'a>,
    schema: &'a Schema,
    t: &'a Table,
    record: &'a Record,
    id: Uuid,
    parent: Parent<'a>,
) -> Pin<Box<dyn Future<Output = Result<(), DataverseError>> + Send + 'a>> {
    Box::pin(async move {
        let mut cells: Cells = write::record_cells(t, &record.values)?;
        binds::single(&mut *conn, schema, t, record, &mut cells).await?;
        if let Some((column, parent_id, parent_table)) = parent {
            write::set_lookup(t, &mut cells, column, parent_id, parent_table);
        }
        for related in &record.related {
            if let Related::Single { column, table, record: nested, .. } = related {
                let nested_table = table_of(schema, table)?;
                let nested_id = new_id(nested_table, nested)?;
                insert(&mut *conn, ctx, schema, nested_table, nested, nested_id, None).await?;
                write::set_lookup(t, &mut cells, column, nested_id, table);
            }
        }
        write::insert(&mut *conn, ctx, t, id, cells).await?;
        binds::collection(&mut *conn, ctx, schema, t, id, record).await?;
        for related in &record.related {
            if let Related::Collection { navigation, link, table, records } = related {
                let nested_table = table_of(schema, table)?;
                for nested in records {
                    let nested_id = new_id(nested_table, nested)?;
                    match link {
                        Link::Lookup(column) => {
                            let parent = Some((column.as_str(), id, t.logical_name.as_str()));
                            insert(&mut *conn, ctx, schema, nested_table, nested, nested_id, parent).await?;
                        }
                        Link::Intersect { .. } => {
                            let side = Side::find(schema, &t.logical_name, navigation).ok_or_else(|| {
                                DataverseError::bad_request(format!("'{navigation}' is not an N:N navigation property"))
                            })?;
                            insert(&mut *conn, ctx, schema, nested_table, nested, nested_id, None).await?;
                            crate::intersect::pair(&mut *conn, side, id, nested_id).await?;
                        }
                    }
                }
            }
        }
        Ok(())
    })
}

fn table_of<'s>(schema: &'s Schema, name: &str) -> Result<&'s Table, DataverseError> {
    schema.table(name).ok_or_else(|| DataverseError::bad_request(format!("The table '{name}' does not exist")))
}
