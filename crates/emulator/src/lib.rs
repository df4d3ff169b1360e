//! A local Microsoft Dataverse (Web API v9.2) on SQLite: Stanchion's default upstream and the
//! target of its real-client tests.
//!
//! What it does:
//! - serves `/api/data/v9.0|v9.1|v9.2/…` for the request slice the `dataverse` crate parses
//!   (service document, `WhoAmI`, collection queries with `$select`/`$filter`/`$orderby`/`$top`/
//!   `$count`/`$expand`, paged with `odata.maxpagesize` and `$skiptoken` (module `paging`),
//!   `/$count`, retrieve (with `$expand`), create, update, upsert and delete by primary or
//!   alternate key (module `keys`)),
//!   answering with Dataverse's status codes, headers, JSON shapes and error codes (each shape
//!   cites its spec section), with the instance annotations `odata.include-annotations` asks for
//!   (module `annotations`);
//! - every request is parsed by [`dataverse::parse_request`], the same parser the gateway uses,
//!   and the resulting typed request is executed: there is no second parser here;
//! - `$filter` runs in SQL in full: navigation paths, `any`/`all` lambdas and every
//!   `Microsoft.Dynamics.CRM.*` query function with a meaning here (module `query_sql`);
//!   `$expand` reads related rows with one query per expansion per page (module `expand`);
//! - reads "now" from a clock tests can freeze ([`RunningEmulator::set_clock`]): it stamps
//!   written rows and drives the date query functions and the service protection window;
//! - enforces Dataverse's service protection limits (spec §11) per caller when
//!   [`EmulatorConfig::protection`] is set (off by default): 429 with `Retry-After` and the
//!   `0x80072322` / `0x80072326` errors, nothing executed (module `protection`);
//! - keeps one real SQL table per Dataverse table, created from [`dataverse::Schema::standard`]
//!   metadata, with typed columns, system columns (`createdon`, owner, `versionnumber`, …) and
//!   an org-wide row-version counter that drives ETags;
//! - issues client-credentials tokens at `POST /{tenant}/oauth2/v2.0/token` (Entra ID v2 shape)
//!   and requires a valid one on every `/api/data` call;
//! - seeds the system rows (root business unit, USD currency, default team, one application
//!   user per client) and, on request, deterministic sample CRM data.
//!
//! Choices where the spec is silent (each also documented where it is made):
//! - keyset paging: `$skiptoken` is Dataverse's paging cookie holding the last row's sort
//!   values; `$top` is ignored with `odata.maxpagesize` (spec §3.4) and otherwise caps an unpaged
//!   answer; NULLs sort first ascending (module `paging`);
//! - a duplicate alternate-key value answers 400 `0x80060892` (module `keys`);
//! - formatted values are en-US in UTC (module `annotations`);
//! - text comparisons, ordering and `contains`/`startswith`/`endswith` ignore case for ASCII
//!   letters only; `%`, `_` and `[…]` in text-function values are wildcards (see the
//!   `query_sql` module);
//! - `ne` never matches NULL (SQL semantics); `eq null`/`ne null` are `IS [NOT] NULL`;
//! - money is stored exactly (INTEGER ten-thousandths) and answered with four decimals;
//! - columns the metadata marks required (lookups excepted, as clients cannot bind them yet)
//!   must be set on create and cannot be cleared (`0x80040203`);
//! - PATCH answers carry `OData-EntityId` whether they created or updated the row;
//! - impersonation and method-override headers are answered 501; other `MSCRM.*` headers
//!   are ignored (there are no plug-ins to bypass);
//! - date query functions use UTC, weeks starting on Sunday and a fiscal year equal to the
//!   calendar year in 12 monthly periods; `EqualUserTeams` knows one team, the root business
//!   unit's default team (every user is a member); a related row whose predicate is NULL makes
//!   `all` false (module `query_sql`);
//! - expanded collections are inline (up to 5000 rows per parent row); `nav/$ref` adds the
//!   lookup's `_x_value` and the `@odata.context` lists expansions as `nav(columns)` (module
//!   `expand`).
//!
//! What it does not do: authorize anything beyond "holds a valid token for this org" (agents,
//! policies and audit are the gateway's job); security roles, plug-ins, `$batch`,
//! FetchXML, metadata endpoints, actions and everything else the parser reports as
//! unsupported, which is answered 501.
#![forbid(unsafe_code)]

mod annotations;
mod assertion;
mod auth;
mod binds;
mod clock;
mod decimal;
mod deep_insert;
mod expand;
mod files;
mod intersect;
mod keys;
mod metadata_api;
mod paging;
mod protection;
mod query_sql;
mod read;
mod response;
mod rows;
mod seed;
mod server;
mod store;
mod token;
mod write;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use protection::{Protection, ProtectionSyntax};
pub use token::token_url;

/// Where the emulator keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// One SQLite database in memory; everything is lost on shutdown.
    InMemory,
    /// A data directory: `emulator.sqlite` (WAL), `emulator-client.json` (default client) and
    /// `emulator-signing.key` (token signing key, so tokens survive a restart).
    Dir(PathBuf),
}

/// An OAuth client (app registration) allowed to get tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredential {
    /// The client id (`client_id` form field; `appid` claim).
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
}

impl std::fmt::Debug for ClientCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredential")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// How to run the emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Organization URL used in token audiences and links; default `http://{bound address}`.
    pub org_url: Option<String>,
    /// In memory or in a data directory.
    pub storage: Storage,
    /// Registered clients; when empty, the default client `stanchion-local` is used.
    pub clients: Vec<ClientCredential>,
    /// Seed of the deterministic sample data, loaded into an empty database only.
    pub seed: Option<u64>,
    /// Service protection limits per caller (spec §11); `None` (the default) enforces none.
    pub protection: Option<Protection>,
    /// Certificates registered for certificate sign-in (client assertions).
    pub client_certificates: Vec<CertificateRegistration>,
    /// The tables served; `None`: the standard tables ([`dataverse::Schema::standard`]). Tests
    /// add custom tables this way, as a real org has its own.
    pub schema: Option<dataverse::Schema>,
}

/// A certificate registered on a client (`--client-cert [CLIENT_ID=]FILE`): assertions signed
/// with its key sign that client in, as with Entra ID's certificate credentials.
#[derive(Debug, Clone)]
pub struct CertificateRegistration {
    /// The client it belongs to; `None`: the first client (the default client when none is
    /// configured).
    pub client_id: Option<String>,
    /// The PEM text holding the certificate (a private key in it is ignored).
    pub pem: String,
}

impl Default for EmulatorConfig {
    /// Design §7 "Emulator defaults": listen `127.0.0.1:8090`, in memory, default client.
    fn default() -> Self {
        EmulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8090)),
            org_url: None,
            storage: Storage::InMemory,
            clients: Vec::new(),
            seed: None,
            protection: None,
            client_certificates: Vec::new(),
            schema: None,
        }
    }
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// Binding the listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// Reading or writing a file in the data directory failed.
    #[error("data directory: {what}: {source}")]
    DataDir {
        /// Which file or directory.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file in the data directory exists but cannot be understood.
    #[error("data directory: {0}")]
    Corrupt(String),
    /// The configuration is not usable.
    #[error("configuration: {0}")]
    Config(String),
    /// The database could not be opened, created or seeded.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Seeding or loading the system rows failed.
    #[error("setting up the database: {0}")]
    Setup(String),
    /// The operating system's random source failed.
    #[error("random source unavailable: {0}")]
    Random(String),
}

/// A running emulator. Dropping it stops the server too; [`RunningEmulator::shutdown`] also
/// waits until in-flight requests are answered and the database is closed.
#[derive(Debug)]
pub struct RunningEmulator {
    /// The address actually bound.
    pub local_addr: SocketAddr,
    /// The organization URL (no trailing slash).
    pub org_url: String,
    /// The registered clients (the default one included when it was used).
    pub clients: Vec<ClientCredential>,
    /// True when the default client's secret was generated by this start: print it once.
    pub default_client_created: bool,
    api_requests: std::sync::Arc<std::sync::atomic::AtomicU64>,
    sql_statements: std::sync::Arc<std::sync::atomic::AtomicU64>,
    clock: std::sync::Arc<clock::Clock>,
    keys: token::SigningKeys,
    handle: server::ServerHandle,
}

impl RunningEmulator {
    /// How many requests the emulator has served on `/api/…` since it started (tests use it to
    /// prove that a refusal forwarded nothing).
    pub fn api_requests(&self) -> u64 {
        self.api_requests.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How many SQL statements the emulator has run while serving `/api/…` requests since it
    /// started (tests use it to prove that `$expand` costs one query per expansion per page,
    /// not one per row). Requests served concurrently add to the same count.
    pub fn sql_statements(&self) -> u64 {
        self.sql_statements.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Freezes the emulator's clock at `at` (second precision), or lets it follow the system
    /// clock again with `None`. The clock stamps the rows written (`createdon`, `modifiedon`),
    /// is "now" for the date query functions (`Today`, `LastXDays`…) and moves the service
    /// protection window; token lifetimes always follow the system clock.
    pub fn set_clock(&self, at: Option<chrono::DateTime<chrono::Utc>>) {
        self.clock.set(at);
    }

    /// A handle on the same clock, for code that moves time while something else owns the
    /// emulator (a test's fake sleeper, say).
    pub fn clock(&self) -> EmulatorClock {
        EmulatorClock(self.clock.clone())
    }

    /// Replaces the token signing key for the rest of this run, as after a credential reset: every
    /// access token issued before is refused with 401 from now on (tests of token renewal use
    /// it). The key file of a data directory is not changed: a restart trusts it again.
    pub fn revoke_tokens(&self) -> Result<(), EmulatorError> {
        self.keys.replace(token::Keys::new(&files::random_bytes::<32>()?));
        Ok(())
    }

    /// Stops accepting connections, finishes in-flight requests and closes the database.
    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }
}

/// The emulator's clock (see [`RunningEmulator::set_clock`]), shareable.
#[derive(Debug, Clone)]
pub struct EmulatorClock(std::sync::Arc<clock::Clock>);

impl EmulatorClock {
    /// Now, second precision.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.now()
    }

    /// Freezes the clock at `at`, or lets it follow the system clock with `None`.
    pub fn set(&self, at: Option<chrono::DateTime<chrono::Utc>>) {
        self.0.set(at);
    }
}

/// Binds the listener, opens (and if needed creates and seeds) the database, and serves in a
/// spawned task.
pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
    server::start(config).await
}
