//! The emulator's own key/value table `_emulator_meta` (a name no Dataverse logical name can
//! take, as those start with a letter): org-wide counters and the ids of the seeded system rows.

use super::statement;
use sea_query::{ColumnDef, Expr, ExprTrait as _, OnConflict, Query, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder as _;
use sqlx::{Row as _, SqliteConnection};

const TABLE: &str = "_emulator_meta";
const KEY: &str = "key";
const INT: &str = "int_value";
const TEXT: &str = "text_value";

/// The org-wide row version counter (spec §2.10, §16.3): one value per write, never reused.
pub(crate) const VERSION_COUNTER: &str = "versionnumber";
/// The case number counter (incident `ticketnumber`).
pub(crate) const TICKET_COUNTER: &str = "ticketnumber";

pub(super) fn create_table_sql() -> String {
    sea_query::Table::create()
        .table(TABLE)
        .if_not_exists()
        .col(ColumnDef::new(KEY).text().not_null().primary_key())
        .col(ColumnDef::new(INT).big_integer())
        .col(ColumnDef::new(TEXT).text())
        .to_string(SqliteQueryBuilder)
}

/// The text stored under `key`.
pub(crate) async fn get_text(conn: &mut SqliteConnection, key: &str) -> Result<Option<String>, sqlx::Error> {
    let q = Query::select().column(TEXT).from(TABLE).and_where(Expr::col(KEY).eq(key)).build_sqlx(SqliteQueryBuilder);
    let row = statement(q).fetch_optional(conn).await?;
    row.map(|r| r.try_get::<Option<String>, _>(TEXT)).transpose().map(Option::flatten)
}

/// Stores `value` under `key`.
pub(crate) async fn set_text(conn: &mut SqliteConnection, key: &str, value: &str) -> Result<(), sqlx::Error> {
    let q = Query::insert()
        .into_table(TABLE)
        .columns([KEY, TEXT])
        // Two columns, two values: `values_panic` cannot panic here.
        .values_panic([key.into(), value.into()])
        .on_conflict(OnConflict::column(KEY).update_column(TEXT).to_owned())
        .build_sqlx(SqliteQueryBuilder);
    statement(q).execute(conn).await.map(|_| ())
}

/// Increments counter `key` (starting from 0) and returns the new value. Runs inside the
/// caller's transaction, so a rolled-back write does not consume a value others can see.
pub(crate) async fn next(conn: &mut SqliteConnection, key: &str) -> Result<i64, sqlx::Error> {
    let q = Query::insert()
        .into_table(TABLE)
        .columns([KEY, INT])
        // Two columns, two values: `values_panic` cannot panic here.
        .values_panic([key.into(), 1i64.into()])
        .on_conflict(OnConflict::column(KEY).value(INT, Expr::col((TABLE, INT)).add(1)).to_owned())
        .returning_col(INT)
        .build_sqlx(SqliteQueryBuilder);
    let row = statement(q).fetch_one(conn).await?;
    row.try_get::<i64, _>(INT)
}

/// The current value of counter `key` (0 when it was never incremented).
pub(crate) async fn current(conn: &mut SqliteConnection, key: &str) -> Result<i64, sqlx::Error> {
    let q = Query::select().column(INT).from(TABLE).and_where(Expr::col(KEY).eq(key)).build_sqlx(SqliteQueryBuilder);
    let row = statement(q).fetch_optional(conn).await?;
    Ok(row.map(|r| r.try_get::<Option<i64>, _>(INT)).transpose()?.flatten().unwrap_or(0))
}

/// The table of deleted rows change tracking reports (`$deletedEntity`, spec §9): table,
/// id, and the row version the deletion took.
pub(crate) const DELETED: &str = "_emulator_deleted";

pub(super) fn create_deleted_sql() -> Vec<String> {
    vec![
        sea_query::Table::create()
            .table(DELETED)
            .if_not_exists()
            .col(ColumnDef::new("table_name").text().not_null())
            .col(ColumnDef::new("id").text().not_null())
            .col(ColumnDef::new("version").big_integer().not_null())
            .to_string(SqliteQueryBuilder),
        sea_query::Index::create()
            .if_not_exists()
            .name("ix__emulator_deleted_table_version")
            .table(DELETED)
            .col("table_name")
            .col("version")
            .to_string(SqliteQueryBuilder),
    ]
}

/// Records that row `id` of `table` was deleted, at a new row version.
pub(crate) async fn record_deletion(conn: &mut SqliteConnection, table: &str, id: &str) -> Result<(), sqlx::Error> {
    let version = next(&mut *conn, VERSION_COUNTER).await?;
    let q = Query::insert()
        .into_table(DELETED)
        .columns(["table_name", "id", "version"])
        // Three columns, three values: `values_panic` cannot panic here.
        .values_panic([table.into(), id.into(), version.into()])
        .build_sqlx(SqliteQueryBuilder);
    statement(q).execute(conn).await.map(|_| ())
}

/// The rows of `table` deleted at versions in `(after, upto]`, oldest first.
pub(crate) async fn deletions(
    conn: &mut SqliteConnection,
    table: &str,
    after: i64,
    upto: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let q = Query::select()
        .column("id")
        .from(DELETED)
        .and_where(Expr::col("table_name").eq(table))
        .and_where(Expr::col("version").gt(after))
        .and_where(Expr::col("version").lte(upto))
        .order_by("version", sea_query::Order::Asc)
        .build_sqlx(SqliteQueryBuilder);
    let rows = statement(q).fetch_all(conn).await?;
    rows.iter().map(|r| r.try_get::<String, _>(0)).collect()
}

/// Rows shared with users and teams (GrantAccess, ModifyAccess, RevokeAccess): the row, the
/// principal, and the rights as a comma-separated `AccessRights` list.
pub(crate) const SHARES: &str = "_emulator_shares";

pub(super) fn create_shares_sql() -> String {
    sea_query::Table::create()
        .table(SHARES)
        .if_not_exists()
        .col(ColumnDef::new("table_name").text().not_null())
        .col(ColumnDef::new("row_id").text().not_null())
        .col(ColumnDef::new("principal_id").text().not_null())
        .col(ColumnDef::new("rights").text().not_null())
        .primary_key(sea_query::Index::create().col("table_name").col("row_id").col("principal_id"))
        .to_string(SqliteQueryBuilder)
}

/// The rights a principal holds on a row through sharing (empty when not shared).
pub(crate) async fn shared_rights(
    conn: &mut SqliteConnection,
    table: &str,
    row: &str,
    principal: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let q = Query::select()
        .column("rights")
        .from(SHARES)
        .and_where(Expr::col("table_name").eq(table))
        .and_where(Expr::col("row_id").eq(row))
        .and_where(Expr::col("principal_id").eq(principal))
        .build_sqlx(SqliteQueryBuilder);
    let found = statement(q).fetch_optional(conn).await?;
    Ok(found
        .map(|r| r.try_get::<String, _>(0))
        .transpose()?
        .map(|text| text.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default())
}

/// Sets the rights a principal holds on a row (no rights: the share is removed).
pub(crate) async fn set_shared_rights(
    conn: &mut SqliteConnection,
    table: &str,
    row: &str,
    principal: &str,
    rights: &[String],
) -> Result<(), sqlx::Error> {
    let delete = Query::delete()
        .from_table(SHARES)
        .and_where(Expr::col("table_name").eq(table))
        .and_where(Expr::col("row_id").eq(row))
        .and_where(Expr::col("principal_id").eq(principal))
        .build_sqlx(SqliteQueryBuilder);
    statement(delete).execute(&mut *conn).await?;
    if rights.is_empty() {
        return Ok(());
    }
    let insert = Query::insert()
        .into_table(SHARES)
        .columns(["table_name", "row_id", "principal_id", "rights"])
        // Four columns, four values: `values_panic` cannot panic here.
        .values_panic([table.into(), row.into(), principal.into(), rights.join(",").into()])
        .build_sqlx(SqliteQueryBuilder);
    statement(insert).execute(conn).await.map(|_| ())
}
