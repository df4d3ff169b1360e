//! Liveness and readiness probes: `GET /healthz` and `GET /readyz`.
//!
//! What it does: `/healthz` answers 200 `{"status":"ok"}` whenever the process serves HTTP; it
//! consults nothing. `/readyz` runs four checks concurrently, each given up after
//! [`CHECK_TIMEOUT`], and answers 200 `{"status":"ready","checks":{…}}` when all pass, else 503
//! `{"status":"not_ready","checks":{…}}`, each check being `"ok"` or a short reason:
//! - `store`: `SELECT 1` on the store's pool;
//! - `audit`: this process's audit writer is running and an audit commit could start (the
//!   database's write lock is taken, the audit table read, and the transaction rolled back:
//!   nothing is written, no record is made);
//! - `upstream_token`: the token cache holds a token that is not due for renewal, or gets one now;
//! - `schema`: the org's tables are known (learned, or loaded from the cache).
//!
//! Reasons are fixed phrases (`&'static str`), never an error's text, so no path, URL, connection
//! string, token or secret can appear in the body; the details go to the log. Concurrent
//! `/readyz` calls share one evaluation, so a flood of probes is at most one evaluation at a time.
//!
//! What it does not do: authenticate, parse, rate-limit or audit — these are not Dataverse calls
//! and never reach the pipeline (other methods on these paths get 405; every other path,
//! `/healthz/` included, still goes through the pipeline). It does not call the org's API (only
//! the token endpoint), nor remember a past failure: each probe reports the state now, so an
//! instance taken out of rotation comes back once its dependencies do. [`health_router`] carries
//! its own state, so any listener (the agents' today, the admin one later) can merge it.

use crate::token_cache::{TokenCache, TokenError};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{ChainAppender, Store};

/// The liveness path.
pub const HEALTHZ: &str = "/healthz";
/// The readiness path.
pub const READYZ: &str = "/readyz";
/// How long each readiness check may take before it counts as failed.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// One check's result: `Err` carries a short, fixed reason.
pub type Check = Result<(), &'static str>;

/// The result of one readiness evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyReport {
    /// The store answers a trivial query.
    pub store: Check,
    /// An audit commit could start.
    pub audit: Check,
    /// An upstream token is at hand.
    pub upstream_token: Check,
    /// The org's schema is known.
    pub schema: Check,
}

impl ReadyReport {
    /// Whether every check passed.
    pub fn is_ready(&self) -> bool {
        self.store.is_ok() && self.audit.is_ok() && self.upstream_token.is_ok() && self.schema.is_ok()
    }
}

#[derive(Serialize)]
struct Body {
    status: &'static str,
    checks: Checks,
}

#[derive(Serialize)]
struct Checks {
    store: &'static str,
    audit: &'static str,
    upstream_token: &'static str,
    schema: &'static str,
}

/// What `/readyz` checks: the store, this process's audit writer and the upstream token cache.
#[derive(Debug)]
pub struct Readiness {
    store: Store,
    audit: ChainAppender,
    tokens: TokenCache,
    schema: Arc<crate::schema_source::SchemaSource>,
    /// The last evaluation and when it finished (callers that waited for it reuse it).
    last: tokio::sync::Mutex<Option<(Instant, ReadyReport)>>,
}

impl Readiness {
    /// Checks over these handles (clones of the ones requests use).
    pub fn new(
        store: Store,
        audit: ChainAppender,
        tokens: TokenCache,
        schema: Arc<crate::schema_source::SchemaSource>,
    ) -> Self {
        Readiness { store, audit, tokens, schema, last: tokio::sync::Mutex::new(None) }
    }

    /// Runs the checks, or returns the evaluation that finished while this call waited for
    /// another one in flight (never one that finished before this call was made).
    pub async fn check(&self) -> ReadyReport {
        let asked = Instant::now();
        let mut last = self.last.lock().await;
        if let Some((finished, report)) = last.as_ref()
            && *finished >= asked
        {
            return report.clone();
        }
        let (store, audit, upstream_token) = tokio::join!(
            bounded("store", self.store_check()),
            bounded("audit", self.audit_check()),
            bounded("upstream_token", self.token_check()),
        );
        let schema = match self.schema.problem() {
            None => Ok(()),
            Some(reason) => {
                tracing::warn!(reason, "readiness: the org's schema is not known");
                Err("not learned")
            }
        };
        let report = ReadyReport { store, audit, upstream_token, schema };
        *last = Some((Instant::now(), report.clone()));
        report
    }

    async fn store_check(&self) -> Check {
        self.store.ping().await.map_err(|e| {
            tracing::warn!(error = %e, "readiness: the store did not answer");
            "unavailable"
        })
    }

    async fn audit_check(&self) -> Check {
        if !self.audit.is_running() {
            tracing::warn!("readiness: the audit writer has stopped");
            return Err("writer stopped");
        }
        self.store.audit_writable().await.map_err(|e| {
            tracing::warn!(error = %e, "readiness: an audit commit could not start");
            "not writable"
        })
    }

    async fn token_check(&self) -> Check {
        // The token itself is dropped at once: only whether one could be had matters here.
        match self.tokens.token().await {
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "readiness: no upstream token");
                Err(match e {
                    TokenError::Unreachable(_) => "token endpoint unreachable",
                    TokenError::Refused(_) => "credentials refused",
                    TokenError::Malformed => "unexpected token response",
                    TokenError::Signing => "client assertion could not be signed",
                })
            }
        }
    }
}

/// A check that has not answered within [`CHECK_TIMEOUT`] fails as `timed out`.
async fn bounded(name: &'static str, check: impl Future<Output = Check>) -> Check {
    tokio::time::timeout(CHECK_TIMEOUT, check).await.unwrap_or_else(|_| {
        tracing::warn!(check = name, "readiness: check timed out");
        Err("timed out")
    })
}

/// `GET /healthz` and `GET /readyz`, with their own state: merge into any router.
pub fn health_router<S: Clone + Send + Sync + 'static>(readiness: Arc<Readiness>) -> Router<S> {
    Router::new().route(HEALTHZ, get(healthz)).route(READYZ, get(readyz)).with_state(readiness)
}

async fn healthz() -> Response {
    json(StatusCode::OK, r#"{"status":"ok"}"#.to_owned())
}

async fn readyz(State(readiness): State<Arc<Readiness>>) -> Response {
    let report = readiness.check().await;
    let text = |c: Check| c.err().unwrap_or("ok");
    let ready = report.is_ready();
    let body = Body {
        status: if ready { "ready" } else { "not_ready" },
        checks: Checks {
            store: text(report.store),
            audit: text(report.audit),
            upstream_token: text(report.upstream_token),
            schema: text(report.schema),
        },
    };
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    // Serializing three fixed strings cannot fail; an empty object is the fallback anyway.
    json(status, serde_json::to_string(&body).unwrap_or_else(|_| "{}".to_owned()))
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::ReadyReport;

    #[test]
    fn ready_only_when_every_check_passes() {
        let ok = ReadyReport { store: Ok(()), audit: Ok(()), upstream_token: Ok(()), schema: Ok(()) };
        assert!(ok.is_ready());
        assert!(!ReadyReport { store: Err("unavailable"), ..ok.clone() }.is_ready());
        assert!(!ReadyReport { audit: Err("not writable"), ..ok.clone() }.is_ready());
        assert!(!ReadyReport { upstream_token: Err("timed out"), ..ok.clone() }.is_ready());
        assert!(!ReadyReport { schema: Err("not learned"), ..ok }.is_ready());
    }
}
