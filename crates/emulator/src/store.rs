//! The SQLite database: opening it (a file in WAL mode, or one shared in-memory connection),
//! creating one SQL table per Dataverse table from the schema metadata ([`ddl`]), and the
//! emulator's own key/value table holding the org-wide counters and system ids ([`meta`]).
//!
//! Every statement is built with sea-query and every value is bound; SQL text is never
//! assembled from values.
//!
//! Statements run while serving a request are counted ([`counted`]), so tests can prove that a
//! request costs a bounded number of statements (one per `$expand` per page, never one per row).

mod ddl;
pub(crate) mod meta;

use dataverse::Schema;
use sea_query_sqlx::SqlxValues;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Sqlite};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;

/// File name of the database inside the data directory.
const DB_FILE: &str = "emulator.sqlite";

/// The database and the lock that serializes write transactions.
#[derive(Debug)]
pub(crate) struct Store {
    pool: SqlitePool,
    /// Held for the whole of every write transaction: SQLite has one writer at a time anyway,
    /// and taking the lock first avoids `SQLITE_BUSY` on lock upgrades.
    write_lock: Mutex<()>,
}

impl Store {
    /// Opens (creating if needed) the database and brings its tables up to the schema.
    pub(crate) async fn open(dir: Option<&Path>, schema: &Schema) -> Result<Self, sqlx::Error> {
        let pool = match dir {
            Some(dir) => {
                let options = SqliteConnectOptions::new()
                    .filename(dir.join(DB_FILE))
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10));
                SqlitePoolOptions::new().max_connections(4).connect_with(options).await?
            }
            None => {
                // One connection that is never closed: an in-memory database lives exactly as
                // long as its connection.
                let options = SqliteConnectOptions::new().in_memory(true);
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_with(options)
                    .await?
            }
        };
        let store = Store { pool, write_lock: Mutex::new(()) };
        {
            let mut conn = store.pool.acquire().await?;
            ddl::create_tables(&mut conn, schema).await?;
        }
        Ok(store)
    }

    /// A connection for reads.
    pub(crate) async fn read(&self) -> Result<sqlx::pool::PoolConnection<Sqlite>, sqlx::Error> {
        self.pool.acquire().await
    }

    /// Starts a write transaction; the returned guard must be kept until it commits.
    pub(crate) async fn write(&self) -> Result<WriteTx<'_>, sqlx::Error> {
        let guard = self.write_lock.lock().await;
        let tx = self.pool.begin().await?;
        Ok(WriteTx { tx, _guard: guard })
    }

    /// Closes every connection.
    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }
}

/// A write transaction holding the writer lock.
pub(crate) struct WriteTx<'a> {
    /// The transaction; dropped without commit = rolled back.
    pub(crate) tx: sqlx::Transaction<'static, Sqlite>,
    _guard: tokio::sync::MutexGuard<'a, ()>,
}

impl WriteTx<'_> {
    /// Commits.
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

tokio::task_local! {
    /// The statement counter of the request being served, if any.
    static STATEMENTS: Arc<AtomicU64>;
}

/// Runs `f` (serving one request) counting every [`statement`] it builds into `counter`.
pub(crate) async fn counted<F: std::future::Future>(counter: Arc<AtomicU64>, f: F) -> F::Output {
    STATEMENTS.scope(counter, f).await
}

/// A statement built by sea-query (every value bound) ready for sqlx. Counted when a request is
/// being served (see [`counted`]); every statement built is run.
pub(crate) fn statement((sql, values): (String, SqlxValues)) -> sqlx::query::Query<'static, Sqlite, SqlxValues> {
    let _ = STATEMENTS.try_with(|c| c.fetch_add(1, Ordering::Relaxed));
    // The SQL text comes from sea-query's builder; every value is in `values`, bound.
    sqlx::query_with(AssertSqlSafe(sql), values)
}
