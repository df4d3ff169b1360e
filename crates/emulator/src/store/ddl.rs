//! SQL tables from table metadata: one SQL table per Dataverse table, named by its logical name,
//! one typed column per Dataverse column (storage classes in [`crate::rows`]), a hidden
//! `{lookup}@type` column per lookup, and an index on every lookup column and on `statecode`.
//! Tables created by an older schema get the columns they lack added.

use super::meta;
use crate::rows::{SqlClass, lookup_type_column, storage};
use dataverse::Schema;
use dataverse::metadata::{Column, Table};
use sea_query::{ColumnDef, Index, SqliteQueryBuilder};
use sqlx::{AssertSqlSafe, SqliteConnection};

/// Creates (or completes) every table of `schema` and the emulator's meta table.
pub(super) async fn create_tables(conn: &mut SqliteConnection, schema: &Schema) -> Result<(), sqlx::Error> {
    execute(conn, meta::create_table_sql()).await?;
    for table in schema.tables() {
        create_table(conn, table).await?;
    }
    Ok(())
}

/// Every SQL column of a table: (name, definition).
fn column_defs(table: &Table) -> Vec<(String, ColumnDef)> {
    let mut out = Vec::new();
    for column in &table.columns {
        out.push((column.logical_name.clone(), column_def(table, column)));
        if column.is_lookup() {
            let name = lookup_type_column(&column.logical_name);
            let mut def = ColumnDef::new(name.clone());
            def.text();
            out.push((name, def));
        }
    }
    out
}

fn column_def(table: &Table, column: &Column) -> ColumnDef {
    let mut def = ColumnDef::new(column.logical_name.clone());
    match storage(&column.kind) {
        SqlClass::TextNoCase => def.text().extra("COLLATE NOCASE"),
        SqlClass::Text => def.text(),
        SqlClass::Integer => def.big_integer(),
        SqlClass::Real => def.double(),
    };
    if column.logical_name == table.primary_id {
        def.not_null().primary_key();
    }
    def
}

async fn create_table(conn: &mut SqliteConnection, table: &Table) -> Result<(), sqlx::Error> {
    let mut create = sea_query::Table::create();
    create.table(table.logical_name.clone()).if_not_exists();
    for (_, mut def) in column_defs(table) {
        create.col(&mut def);
    }
    execute(conn, create.to_string(SqliteQueryBuilder)).await?;

    let existing: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
        .bind(table.logical_name.clone())
        .fetch_all(&mut *conn)
        .await?;
    for (name, mut def) in column_defs(table) {
        if !existing.contains(&name) {
            let alter = sea_query::Table::alter().table(table.logical_name.clone()).add_column(&mut def).to_owned();
            execute(conn, alter.to_string(SqliteQueryBuilder)).await?;
        }
    }

    let indexed = table.columns.iter().filter(|c| c.is_lookup() || c.logical_name == "statecode");
    for column in indexed {
        let index = Index::create()
            .if_not_exists()
            .name(format!("ix_{}_{}", table.logical_name, column.logical_name))
            .table(table.logical_name.clone())
            .col(column.logical_name.clone())
            .to_owned();
        execute(conn, index.to_string(SqliteQueryBuilder)).await?;
    }
    Ok(())
}

async fn execute(conn: &mut SqliteConnection, sql: String) -> Result<(), sqlx::Error> {
    // Schema statements built by sea-query from metadata names; they carry no values.
    sqlx::query(AssertSqlSafe(sql)).execute(conn).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_table_is_typed_and_indexed() {
        let schema = Schema::standard();
        let table = schema.table("account").unwrap();
        let mut create = sea_query::Table::create();
        create.table(table.logical_name.clone()).if_not_exists();
        for (_, mut def) in column_defs(table) {
            create.col(&mut def);
        }
        let sql = create.to_string(SqliteQueryBuilder);
        assert!(sql.contains(r#""accountid" text NOT NULL PRIMARY KEY"#), "{sql}");
        assert!(sql.contains(r#""name" text COLLATE NOCASE"#), "{sql}");
        assert!(sql.contains(r#""revenue" integer"#), "{sql}");
        assert!(sql.contains(r#""address1_latitude" double"#), "{sql}");
        assert!(sql.contains(r#""ownerid@type" text"#), "{sql}");
    }
}
