//! SQL tables from table metadata: one SQL table per Dataverse table, named by its logical name,
//! one typed column per Dataverse column (storage classes in [`crate::rows`]), a hidden
//! `{lookup}@type` column per lookup, an index on every lookup column, on the primary name and on
//! `statecode` (see [`indexes`]), and a unique index per alternate key ([`crate::keys`]).
//! Tables created by an older schema get the columns they lack added.

use super::meta;
use crate::rows::{SqlClass, lookup_type_column, storage};
use dataverse::Schema;
use dataverse::metadata::{Column, ManyToMany, Table};
use sea_query::{ColumnDef, Index, SqliteQueryBuilder};
use sqlx::{AssertSqlSafe, SqliteConnection};

/// Creates (or completes) every table of `schema` and the emulator's meta table.
pub(super) async fn create_tables(conn: &mut SqliteConnection, schema: &Schema) -> Result<(), sqlx::Error> {
    execute(conn, meta::create_table_sql()).await?;
    for sql in meta::create_deleted_sql() {
        execute(conn, sql).await?;
    }
    execute(conn, meta::create_shares_sql()).await?;
    for table in schema.tables() {
        create_table(conn, table).await?;
    }
    for m in schema.many_to_many() {
        for sql in intersect_sql(m) {
            execute(conn, sql).await?;
        }
    }
    Ok(())
}

/// The intersect table of an N:N relationship: one row per pair, keyed by the pair (so a pair
/// is recorded once), and indexed from the second side too. Only the emulator reads it: it is
/// not an entity set.
fn intersect_sql(m: &ManyToMany) -> Vec<String> {
    let (t, c1, c2) = (&m.intersect, &m.entity1_column, &m.entity2_column);
    let mut create = sea_query::Table::create();
    create.table(t.clone()).if_not_exists();
    for c in [c1, c2] {
        create.col(ColumnDef::new(c.clone()).text().not_null());
    }
    create.primary_key(Index::create().col(c1.clone()).col(c2.clone()));
    let mut index = Index::create();
    index.if_not_exists().name(format!("ix_{t}_{c2}")).table(t.clone()).col(c2.clone()).col(c1.clone());
    vec![create.to_string(SqliteQueryBuilder), index.to_string(SqliteQueryBuilder)]
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

    for (name, columns) in indexes(table) {
        let mut index = Index::create();
        index.if_not_exists().name(name).table(table.logical_name.clone());
        for c in columns {
            index.col(c);
        }
        execute(conn, index.to_string(SqliteQueryBuilder)).await?;
    }
    for key in &table.keys {
        let mut index = Index::create();
        index.if_not_exists().unique().name(format!("ak_{}_{}", table.logical_name, key.schema_name));
        index.table(table.logical_name.clone());
        for c in &key.columns {
            index.col(c.clone());
        }
        // A database written before the key existed may hold duplicates: keep serving it (writes
        // are still checked by `keys::check_unique`) and say so.
        if let Err(e) = execute(conn, index.to_string(SqliteQueryBuilder)).await {
            tracing::warn!(table = %table.logical_name, key = %key.schema_name, error = %e,
                "alternate key index not created; existing rows repeat key values");
        }
    }
    Ok(())
}

/// The non-unique indexes of a table, (name, columns): one per lookup; the primary name with
/// the primary key (keyset pages ordered by name, spec §3.8); `statecode` with the primary name
/// and key, for the common "active rows by name" page.
fn indexes(table: &Table) -> Vec<(String, Vec<String>)> {
    let t = &table.logical_name;
    let mut out: Vec<(String, Vec<String>)> = table
        .columns
        .iter()
        .filter(|c| c.is_lookup())
        .map(|c| (format!("ix_{t}_{}", c.logical_name), vec![c.logical_name.clone()]))
        .collect();
    let (name, id) = (table.primary_name.clone(), table.primary_id.clone());
    if table.column(&name).is_some() {
        out.push((format!("ix_{t}_{name}"), vec![name.clone(), id.clone()]));
        if table.column("statecode").is_some() {
            out.push((format!("ix_{t}_statecode_{name}"), vec!["statecode".into(), name, id]));
        }
    } else if table.column("statecode").is_some() {
        out.push((format!("ix_{t}_statecode"), vec!["statecode".into()]));
    }
    out
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

    #[test]
    fn intersect_tables_are_keyed_by_the_pair() {
        let schema = Schema::standard();
        let m = schema.many_to_many().iter().find(|m| m.intersect == "accountleads").unwrap();
        let sql = intersect_sql(m).join(";");
        assert!(sql.contains(r#""accountid" text NOT NULL"#), "{sql}");
        assert!(sql.contains(r#"PRIMARY KEY ("accountid", "leadid")"#), "{sql}");
        assert!(sql.contains(r#""ix_accountleads_leadid""#), "{sql}");
    }

    /// Spec §15.9–§15.10: the activity tables get their own primary key name and the hidden
    /// target column of their polymorphic regarding lookup, indexed like every lookup.
    #[test]
    fn activity_tables_get_keys_and_regarding_type_columns() {
        let schema = Schema::standard();
        for (name, pk, regarding) in
            [("task", "activityid", "regardingobjectid"), ("annotation", "annotationid", "objectid")]
        {
            let table = schema.table(name).unwrap();
            let defs: Vec<String> = column_defs(table).into_iter().map(|(n, _)| n).collect();
            assert!(defs.iter().any(|n| *n == pk), "{name}: {defs:?}");
            assert!(defs.iter().any(|n| *n == format!("{regarding}@type")), "{name}: {defs:?}");
            assert!(indexes(table).iter().any(|(_, cols)| *cols == [regarding.to_owned()]), "{name}");
        }
    }
}
