//! Where the gateway's schema comes from: fixed (tests, or a schema given by the caller), or
//! learned from the org (spec §8; issue "a real org's schema"): its `$metadata` document, its
//! `EntityDefinitions` and its many-to-many relationships, merged by
//! [`dataverse::csdl::learn`].
//!
//! - A learned schema is cached on disk (one JSON file holding the three answers as received)
//!   and loaded from there at start, so a restart does not wait for the org.
//! - Until a schema is learned, agents' requests are answered 502 with the reason learning
//!   failed; at most one attempt runs at a time, and failed attempts are at least
//!   [`RETRY_FAILED`] apart.
//! - A request naming a table or column the schema does not know triggers one refresh (the
//!   cache file first, when `stanchion schema refresh` wrote a newer one; else the org), at most
//!   once per [`REFRESH_ON_UNKNOWN`]; then it is parsed again, and refused if still unknown.
//! - The checkpointer refreshes periodically ([`SchemaSource::tick`]).

use crate::upstream::{UpstreamClient, UpstreamError};
use dataverse::Schema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

/// Least time between two refreshes caused by unknown names.
pub const REFRESH_ON_UNKNOWN: Duration = Duration::from_secs(60);
/// Least time between two failed attempts to learn while no schema is known.
pub const RETRY_FAILED: Duration = Duration::from_secs(10);
/// The org's definitions read for learning (spec §8.2).
pub const ENTITIES_QUERY: &str = "EntityDefinitions?$select=LogicalName,SchemaName,PrimaryNameAttribute,DisplayName,DisplayCollectionName,ObjectTypeCode,OwnershipType,IsIntersect&$expand=Keys($select=SchemaName,KeyAttributes)";
/// The org's many-to-many relationships read for learning (spec §8.4).
pub const MANY_TO_MANY_QUERY: &str = "RelationshipDefinitions/Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata?$select=SchemaName,Entity1LogicalName,Entity2LogicalName,IntersectEntityName,Entity1IntersectAttribute,Entity2IntersectAttribute,Entity1NavigationPropertyName,Entity2NavigationPropertyName";

/// The org's answers a schema was learned from, as cached on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedSchema {
    /// The org URL they came from.
    pub org_url: String,
    /// When they were fetched (RFC 3339).
    pub fetched_at: String,
    /// The `$metadata` document.
    pub csdl: String,
    /// The `EntityDefinitions` answer ([`ENTITIES_QUERY`]), JSON text.
    pub entities: String,
    /// The many-to-many relationships answer ([`MANY_TO_MANY_QUERY`]), JSON text.
    pub many_to_many: String,
}

/// Why a schema could not be learned.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    /// The org could not be reached or refused.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The org answered with an error status.
    #[error("Dynamics 365 answered {what} with status {status}")]
    Status {
        /// Which read.
        what: &'static str,
        /// Its status.
        status: u16,
    },
    /// The answers could not be read or merged.
    #[error("the org's metadata could not be read: {0}")]
    Unreadable(String),
    /// The cache file could not be written or read.
    #[error("the schema cache {0}")]
    Cache(String),
}

impl CachedSchema {
    /// The schema these answers describe.
    pub fn schema(&self) -> Result<Schema, LearnError> {
        let json = |t: &str| {
            dataverse::json::parse(t.as_bytes()).map_err(|e| LearnError::Unreadable(format!("definitions: {e}")))
        };
        dataverse::csdl::learn(&self.csdl, &json(&self.entities)?, &json(&self.many_to_many)?)
            .map_err(|e| LearnError::Unreadable(e.to_string()))
    }

    /// Reads the org's answers.
    pub async fn fetch(upstream: &UpstreamClient) -> Result<CachedSchema, LearnError> {
        let request_id = format!("schema-{}", uuid::Uuid::new_v4());
        let get = |path: &'static str, accept: &'static str, what: &'static str| {
            let request_id = request_id.clone();
            async move {
                let r = upstream.get_raw(path, accept, &request_id).await?;
                if r.status != 200 {
                    return Err(LearnError::Status { what, status: r.status });
                }
                String::from_utf8(r.body.to_vec()).map_err(|_| LearnError::Unreadable(format!("{what} is not UTF-8")))
            }
        };
        let csdl = get("$metadata", "application/xml", "$metadata").await?;
        let entities = get(ENTITIES_QUERY, "application/json", "EntityDefinitions").await?;
        let many_to_many = get(MANY_TO_MANY_QUERY, "application/json", "RelationshipDefinitions").await?;
        Ok(CachedSchema {
            org_url: upstream.org_url().to_owned(),
            fetched_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            csdl,
            entities,
            many_to_many,
        })
    }

    /// Writes the cache file (atomically: a temporary file renamed over it).
    pub fn save(&self, path: &std::path::Path) -> Result<(), LearnError> {
        let text = serde_json::to_string(self).map_err(|e| LearnError::Cache(e.to_string()))?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| LearnError::Cache(format!("{} could not be written: {e}", path.display())))
    }

    /// Reads a cache file, if there is one.
    pub fn load(path: &std::path::Path) -> Result<Option<CachedSchema>, LearnError> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| LearnError::Cache(format!("{} is not readable: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(LearnError::Cache(format!("{} is not readable: {e}", path.display()))),
        }
    }
}

#[derive(Debug, Default)]
struct Attempts {
    /// The last refresh or attempt, and whether it was caused by an unknown name.
    last: Option<Instant>,
    last_unknown: Option<Instant>,
    /// When the current schema was learned (for the periodic refresh).
    learned: Option<Instant>,
    /// The modification time of the cache file the schema came from or was written to.
    cache_mtime: Option<SystemTime>,
    /// Why the last attempt failed.
    error: Option<String>,
}

/// The gateway's schema (see the module doc).
#[derive(Debug)]
pub struct SchemaSource {
    current: RwLock<Option<Arc<Schema>>>,
    learning: Option<Learning>,
    attempts: Mutex<Attempts>,
    /// One attempt at a time.
    gate: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct Learning {
    cache: Option<PathBuf>,
    every: Duration,
}

/// What a request gets: the schema, or why there is none.
pub enum Current {
    /// The schema.
    Known(Arc<Schema>),
    /// None learned yet; the reason.
    Unknown(String),
}

impl SchemaSource {
    /// A schema that never changes.
    pub fn fixed(schema: Arc<Schema>) -> Self {
        SchemaSource {
            current: RwLock::new(Some(schema)),
            learning: None,
            attempts: Mutex::new(Attempts::default()),
            gate: tokio::sync::Mutex::new(()),
        }
    }

    /// A schema learned from the org, cached at `cache`, refreshed `every` so often. Loads the
    /// cache now if there is one (a cache of another org is ignored).
    pub fn learned(cache: Option<PathBuf>, every: Duration, org_url: &str) -> Self {
        let source = SchemaSource {
            current: RwLock::new(None),
            learning: Some(Learning { cache: cache.clone(), every }),
            attempts: Mutex::new(Attempts::default()),
            gate: tokio::sync::Mutex::new(()),
        };
        if let Some(path) = cache {
            match CachedSchema::load(&path).and_then(|c| match c {
                Some(c) if c.org_url == org_url => c.schema().map(Some),
                _ => Ok(None),
            }) {
                Ok(Some(schema)) => {
                    source.set(Arc::new(schema));
                    let mut a = source.lock();
                    a.cache_mtime = mtime(&path);
                    tracing::info!(cache = %path.display(), "schema loaded from the cache");
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "schema cache ignored"),
            }
        }
        source
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Attempts> {
        self.attempts.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set(&self, schema: Arc<Schema>) {
        *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(schema);
        let mut a = self.lock();
        a.learned = Some(Instant::now());
        a.error = None;
    }

    /// The schema now, without learning.
    pub fn now(&self) -> Option<Arc<Schema>> {
        self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Whether the schema is learned (refreshes apply).
    pub fn is_learned(&self) -> bool {
        self.learning.is_some()
    }

    /// Why no schema is known, for the readiness check; `None` when one is.
    pub fn problem(&self) -> Option<String> {
        if self.now().is_some() {
            return None;
        }
        Some(self.lock().error.clone().unwrap_or_else(|| "not learned yet".into()))
    }

    /// The schema for a request: learned now when none is (one attempt at a time, failed
    /// attempts [`RETRY_FAILED`] apart).
    pub async fn for_request(&self, upstream: &UpstreamClient) -> Current {
        if let Some(s) = self.now() {
            return Current::Known(s);
        }
        let _gate = self.gate.lock().await;
        if let Some(s) = self.now() {
            return Current::Known(s);
        }
        let recent_failure = {
            let a = self.lock();
            a.last.is_some_and(|t| t.elapsed() < RETRY_FAILED).then(|| a.error.clone()).flatten()
        };
        if let Some(error) = recent_failure {
            return Current::Unknown(error);
        }
        match self.refresh_locked(upstream).await {
            Ok(s) => Current::Known(s),
            Err(e) => Current::Unknown(e),
        }
    }

    /// After a request named something unknown: a newer cache file, else the org, at most once
    /// per [`REFRESH_ON_UNKNOWN`]. The new schema when it changed.
    pub async fn refresh_for_unknown(&self, upstream: &UpstreamClient) -> Option<Arc<Schema>> {
        self.learning.as_ref()?;
        if let Some(s) = self.reload_newer_cache() {
            return Some(s);
        }
        {
            let mut a = self.lock();
            if a.last_unknown.is_some_and(|t| t.elapsed() < REFRESH_ON_UNKNOWN) {
                return None;
            }
            a.last_unknown = Some(Instant::now());
        }
        let _gate = self.gate.lock().await;
        self.refresh_locked(upstream).await.ok()
    }

    /// The periodic check (the checkpointer's tick): a newer cache file is loaded; an old
    /// schema is learned again.
    pub async fn tick(&self, upstream: &UpstreamClient) {
        let Some(learning) = &self.learning else { return };
        if self.reload_newer_cache().is_some() {
            return;
        }
        let due = self.lock().learned.is_none_or(|t| t.elapsed() >= learning.every);
        if due {
            let _gate = self.gate.lock().await;
            if let Err(e) = self.refresh_locked(upstream).await {
                tracing::warn!(error = %e, "periodic schema refresh failed; the current schema stays");
            }
        }
    }

    /// Loads the cache file when it changed since this source last saw it.
    fn reload_newer_cache(&self) -> Option<Arc<Schema>> {
        let path = self.learning.as_ref()?.cache.as_ref()?;
        let now = mtime(path)?;
        if self.lock().cache_mtime.is_some_and(|seen| seen >= now) {
            return None;
        }
        let schema = CachedSchema::load(path).ok()??.schema().ok()?;
        let schema = Arc::new(schema);
        self.set(schema.clone());
        self.lock().cache_mtime = Some(now);
        tracing::info!(cache = %path.display(), "schema reloaded from the cache file");
        Some(schema)
    }

    async fn refresh_locked(&self, upstream: &UpstreamClient) -> Result<Arc<Schema>, String> {
        self.lock().last = Some(Instant::now());
        let result = async {
            let cached = CachedSchema::fetch(upstream).await?;
            let schema = cached.schema()?;
            if let Some(path) = self.learning.as_ref().and_then(|l| l.cache.as_ref()) {
                cached.save(path)?;
                self.lock().cache_mtime = mtime(path);
            }
            Ok::<_, LearnError>(schema)
        }
        .await;
        match result {
            Ok(schema) => {
                let schema = Arc::new(schema);
                tracing::info!(tables = schema.tables().len(), "schema learned from the org");
                self.set(schema.clone());
                Ok(schema)
            }
            Err(e) => {
                let message = match &e {
                    LearnError::Upstream(UpstreamError::Token(t)) => {
                        format!("Stanchion could not sign in to Dynamics 365: {t}")
                    }
                    other => format!("Stanchion could not learn the org's tables: {other}"),
                };
                tracing::warn!(error = %message, "schema not learned");
                self.lock().error = Some(message.clone());
                Err(message)
            }
        }
    }
}

fn mtime(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}
