//! Persistence for Stanchion: agents, keys, policies, the audit log and its checkpoints.
//!
//! What it does: opens the SQLite store (WAL, `synchronous=FULL`), runs migrations, reads and
//! writes agents, keys and policies with an admin audit record in the same transaction, and
//! appends gateway audit records through a group-committing [`ChainAppender`]. What it does not
//! do: know about HTTP, authorize requests or render anything.
#![forbid(unsafe_code)]

mod admin;
mod appender;
pub mod catalog;
mod checkpoints;
pub mod keys;
mod lifecycle;
mod migrations;
mod prune;
mod records;
mod search;
mod secrets;

pub use admin::{Actor, AgentInfo, KeyInfo, KeyLookup};
pub use appender::ChainAppender;
pub use checkpoints::CheckpointFile;
pub use lifecycle::Rotation;
pub use migrations::{MigrationState, MigrationStatus, migration_status};
pub use prune::{PruneReport, PrunedChain};
pub use search::{AuditQuery, MAX_RESULTS};
pub use secrets::{Secrets, load_or_create_secrets};

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A file (key, checkpoint) could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Stored data is not what the store wrote.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// An agent name or id that does not exist.
    #[error("no agent named or with id '{0}'")]
    UnknownAgent(String),
    /// An agent name already taken (names are unique case-insensitively).
    #[error("an agent named '{0}' already exists")]
    DuplicateAgent(String),
    /// A key id that does not exist for the agent.
    #[error("no key {0} for this agent")]
    UnknownKey(String),
    /// Invalid input from the caller.
    #[error("{0}")]
    Invalid(String),
    /// The audit writer has stopped.
    #[error("the audit log is unavailable")]
    AuditUnavailable,
}

/// Where the store lives and the secrets it uses.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// SQLite database file.
    pub database: PathBuf,
    /// Secrets (key secret, audit key).
    pub secrets: Secrets,
    /// The append-only checkpoint file outside the database.
    pub checkpoint_file: PathBuf,
}

/// The store handle (cheap to clone).
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    secrets: Secrets,
    checkpoints: CheckpointFile,
    /// When each key's `last_used_at` was last written by this process (written at most once a
    /// minute per key, so a busy agent does not turn every request into a write).
    key_touches: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) and migrates the store.
    pub async fn open(config: &StoreConfig) -> Result<Store, StoreError> {
        if let Some(dir) = config.database.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::File { path: dir.to_owned(), source })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(&config.database)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        migrations::MIGRATOR.run(&pool).await?;
        Ok(Store {
            pool,
            secrets: config.secrets.clone(),
            checkpoints: CheckpointFile::new(config.checkpoint_file.clone()),
            key_touches: Default::default(),
        })
    }

    /// The secrets in use.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// The checkpoint file.
    pub fn checkpoint_file(&self) -> &CheckpointFile {
        &self.checkpoints
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Checks that the database answers (health).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// The default database file in a data directory.
pub fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join("stanchion.sqlite")
}
