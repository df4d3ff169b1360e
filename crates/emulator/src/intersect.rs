//! N:N pairs (spec §5): each pair of rows of a many-to-many relationship is one row of its
//! intersect table ([`crate::store`] creates them keyed by the pair). Associating inserts the
//! pair (a pair already recorded is Dataverse's duplicate-key error), disassociating removes it
//! (404 when there is no such pair), and deleting a row removes every pair it is in, as
//! Dataverse does. What it does not do: check that the rows exist (callers resolve them first).

use crate::response::db_error;
use crate::store::statement;
use dataverse::Schema;
use dataverse::error::{DataverseError, codes};
use dataverse::metadata::{ManyToMany, Navigation};
use sea_query::{Expr, ExprTrait as _, OnConflict, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder as _;
use sqlx::SqliteConnection;
use uuid::Uuid;

/// Most pair ids [`ids`] returns (the page limit of a `$ref` collection, spec §3.7).
const MAX_IDS: u64 = 5000;

/// One N:N relationship seen from one of its tables: the intersect table, the column holding
/// this side's row and the column holding the other side's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Side<'a> {
    /// The relationship.
    pub(crate) relationship: &'a ManyToMany,
    /// Intersect column of the row the navigation starts from.
    pub(crate) own: &'a str,
    /// Intersect column of the related row.
    pub(crate) other: &'a str,
}

impl<'a> Side<'a> {
    /// The side of an N:N navigation property; `None` for a 1:N or N:1 one.
    pub(crate) fn of(navigation: &Navigation<'a>) -> Option<Side<'a>> {
        match *navigation {
            Navigation::Many { relationship, own_column, target_column, .. } => {
                Some(Side { relationship, own: own_column, other: target_column })
            }
            _ => None,
        }
    }

    /// The side of the N:N navigation property `navigation` of `table`.
    pub(crate) fn find(schema: &'a Schema, table: &str, navigation: &str) -> Option<Side<'a>> {
        schema.navigation(table, navigation).as_ref().and_then(Side::of)
    }

    fn table(&self) -> String {
        self.relationship.intersect.clone()
    }
}

/// Records the pair; 400 `0x80040237` when it is already recorded.
pub(crate) async fn pair(
    conn: &mut SqliteConnection,
    side: Side<'_>,
    own: Uuid,
    other: Uuid,
) -> Result<(), DataverseError> {
    let mut insert = sea_query::Query::insert();
    insert.into_table(side.table()).columns([side.own.to_owned(), side.other.to_owned()]);
    insert.values([own.to_string().into(), other.to_string().into()]).map_err(|e| {
        tracing::error!(error = %e, "building an intersect insert failed");
        DataverseError::new(500, codes::UNEXPECTED, "An unexpected error occurred.")
    })?;
    insert.on_conflict(OnConflict::columns([side.own.to_owned(), side.other.to_owned()]).do_nothing().to_owned());
    let q = insert.build_sqlx(SqliteQueryBuilder);
    let done = statement(q).execute(conn).await.map_err(db_error)?;
    if done.rows_affected() == 0 {
        return Err(DataverseError::new(400, codes::DUPLICATE_RECORD, "Cannot insert duplicate key."));
    }
    Ok(())
}

/// Removes the pair; whether it was recorded.
pub(crate) async fn unpair(
    conn: &mut SqliteConnection,
    side: Side<'_>,
    own: Uuid,
    other: Uuid,
) -> Result<bool, DataverseError> {
    let q = sea_query::Query::delete()
        .from_table(side.table())
        .and_where(Expr::col(side.own.to_owned()).eq(own.to_string()))
        .and_where(Expr::col(side.other.to_owned()).eq(other.to_string()))
        .build_sqlx(SqliteQueryBuilder);
    Ok(statement(q).execute(conn).await.map_err(db_error)?.rows_affected() > 0)
}

/// Whether the pair is recorded.
pub(crate) async fn paired(
    conn: &mut SqliteConnection,
    side: Side<'_>,
    own: Uuid,
    other: Uuid,
) -> Result<bool, DataverseError> {
    let q = sea_query::Query::select()
        .expr(Expr::cust("1"))
        .from(side.table())
        .and_where(Expr::col(side.own.to_owned()).eq(own.to_string()))
        .and_where(Expr::col(side.other.to_owned()).eq(other.to_string()))
        .build_sqlx(SqliteQueryBuilder);
    Ok(statement(q).fetch_optional(conn).await.map_err(db_error)?.is_some())
}

/// The ids of the rows paired with `own` (at most 5000, by id): the references of an N:N
/// navigation property.
pub(crate) async fn ids(conn: &mut SqliteConnection, side: Side<'_>, own: Uuid) -> Result<Vec<Uuid>, DataverseError> {
    let q = sea_query::Query::select()
        .column(side.other.to_owned())
        .from(side.table())
        .and_where(Expr::col(side.own.to_owned()).eq(own.to_string()))
        .order_by(side.other.to_owned(), sea_query::Order::Asc)
        .limit(MAX_IDS)
        .build_sqlx(SqliteQueryBuilder);
    let rows = statement(q).fetch_all(conn).await.map_err(db_error)?;
    rows.iter()
        .map(|r| {
            let text: String = sqlx::Row::try_get(r, 0).map_err(db_error)?;
            Uuid::try_parse(&text).map_err(|_| DataverseError::new(500, codes::UNEXPECTED, "a stored id is not a GUID"))
        })
        .collect()
}

/// Removes every pair the deleted row `id` of `table` was in.
pub(crate) async fn forget(
    conn: &mut SqliteConnection,
    schema: &Schema,
    table: &str,
    id: Uuid,
) -> Result<(), DataverseError> {
    for m in schema.many_to_many() {
        for (t, column) in [(&m.entity1, &m.entity1_column), (&m.entity2, &m.entity2_column)] {
            if t != table {
                continue;
            }
            let q = sea_query::Query::delete()
                .from_table(m.intersect.clone())
                .and_where(Expr::col(column.clone()).eq(id.to_string()))
                .build_sqlx(SqliteQueryBuilder);
            statement(q).execute(&mut *conn).await.map_err(db_error)?;
        }
    }
    Ok(())
}
