//! Schema migrations of the store: which of the migrations built into this binary a database has
//! applied (`stanchion migrate --check`), and applying the missing ones (`stanchion migrate`,
//! also done by every [`crate::Store::open`]). A database that applied a migration this binary
//! does not know, or one whose text changed since, is reported rather than touched.

use crate::StoreError;
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row};
use std::path::Path;

/// The migrations built into this binary.
pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// One migration and whether the database has it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationState {
    /// Version (the file's number).
    pub version: i64,
    /// Description (from the file name).
    pub description: String,
    /// Applied to the database.
    pub applied: bool,
}

/// A database's migrations against this binary's.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationStatus {
    /// Every migration of this binary, in order.
    pub migrations: Vec<MigrationState>,
    /// Versions the database applied that this binary does not know (a newer binary migrated it).
    pub unknown_applied: Vec<i64>,
    /// Versions whose text changed after they were applied.
    pub changed: Vec<i64>,
}

impl MigrationStatus {
    /// Migrations still to apply.
    pub fn pending(&self) -> usize {
        self.migrations.iter().filter(|m| !m.applied).count()
    }
}

/// Reads which migrations the database at `database` applied; changes nothing (a missing
/// database has applied none).
pub async fn migration_status(database: &Path) -> Result<MigrationStatus, StoreError> {
    let mut applied: Vec<(i64, Vec<u8>)> = Vec::new();
    if database.exists() {
        let mut conn = SqliteConnectOptions::new().filename(database).read_only(true).connect().await?;
        let has_table: Option<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'")
                .fetch_optional(&mut conn)
                .await?;
        if has_table.is_some() {
            let rows = sqlx::query("SELECT version, checksum FROM _sqlx_migrations WHERE success = 1 ORDER BY version")
                .fetch_all(&mut conn)
                .await?;
            applied = rows.iter().map(|r| (r.get::<i64, _>(0), r.get::<Vec<u8>, _>(1))).collect();
        }
    }
    let ours: Vec<_> = MIGRATOR.iter().filter(|m| !m.migration_type.is_down_migration()).collect();
    let migrations = ours
        .iter()
        .map(|m| MigrationState {
            version: m.version,
            description: m.description.to_string(),
            applied: applied.iter().any(|(v, _)| *v == m.version),
        })
        .collect();
    let unknown_applied =
        applied.iter().filter(|(v, _)| !ours.iter().any(|m| m.version == *v)).map(|(v, _)| *v).collect();
    let changed = applied
        .iter()
        .filter(|(v, sum)| ours.iter().any(|m| m.version == *v && m.checksum.as_ref() != sum.as_slice()))
        .map(|(v, _)| *v)
        .collect();
    Ok(MigrationStatus { migrations, unknown_applied, changed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::SqlitePoolOptions;

    /// A database migrated by a newer binary, or whose applied migration text changed, is
    /// reported, not touched.
    #[tokio::test]
    async fn unknown_and_changed_migrations_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let status = migration_status(&path).await.unwrap();
        assert_eq!(status.pending(), status.migrations.len(), "a missing database has applied nothing");
        assert!(!path.exists(), "reading the status created nothing");

        let options = SqliteConnectOptions::new().filename(&path).create_if_missing(true);
        let pool = SqlitePoolOptions::new().connect_with(options).await.unwrap();
        MIGRATOR.run(&pool).await.unwrap();
        assert_eq!(migration_status(&path).await.unwrap().pending(), 0);
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (9999, 'from the future', 1, x'00', 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query("UPDATE _sqlx_migrations SET checksum = x'01' WHERE version = 1").execute(&pool).await.unwrap();
        let status = migration_status(&path).await.unwrap();
        assert_eq!((status.unknown_applied, status.changed), (vec![9999], vec![1]));
    }
}
