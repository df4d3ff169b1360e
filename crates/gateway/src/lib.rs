//! Stanchion's data plane: the agents' listener.
//!
//! What it does: every request goes through named phases — authenticate (agent key), parse
//! (the `dataverse` parser), classify, authorize (the agent's policy, yielding [`Authorized`]),
//! the agent's request-rate and concurrency limits ([`AgentLimits`]), audit the attempt,
//! forward the canonically printed request upstream with the gateway's own Entra ID token
//! (waiting out Dataverse's 429s and retrying safe requests on 502/503/504: [`Retries`]),
//! rewrite links, audit the outcome — or is refused in Dataverse's error shape with one
//! committed audit record. The exceptions are the health probes `GET /healthz` and
//! `GET /readyz` ([`health_router`]), answered without authentication or audit. What it does
//! not do: manage agents or policies (the store and the CLI do), or forward anything that is not
//! [`Authorized`].
#![forbid(unsafe_code)]

mod annotations;
mod audit_record;
mod authenticate;
mod authorize;
mod batch;
pub mod client_certificate;
mod declarations;
mod floods;
mod health;
mod limits;
mod links;
mod metadata_filter;
mod metrics;
mod pipeline;
mod refusal;
mod retry;
pub mod schema_source;
mod server;
mod token_cache;
mod tool_call;
mod upstream;

pub use authenticate::Agent;
pub use authorize::{Authorized, AuthorizedBatch, PartRefused, Refused, authorize, authorize_batch};
pub use client_certificate::{CertificateError, ClientCertificate};
pub use health::{CHECK_TIMEOUT, Check, HEALTHZ, READYZ, Readiness, ReadyReport, health_router};
pub use limits::{AgentLimits, UpstreamBudget};
pub use links::LinkRewriter;
pub use metrics::Metrics;
pub use retry::{Retries, Sleeper, TokioSleeper};
pub use server::{Gateway, GatewayConfig, admin_router, router, spawn_checkpointer};
pub use token_cache::{ClientAuth, ClientCredentials, Clock, RefreshLabels, SystemClock, TokenCache, TokenError};
pub use tool_call::{McpCaller, ToolAnswer, ToolRequest};
pub use upstream::{UpstreamClient, UpstreamError, UpstreamResponse};

/// Installs the process-wide TLS crypto provider (ring) once; call before building an HTTP client.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A reqwest client for upstream calls (no proxies from the environment: the org URL is explicit).
pub fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    reqwest::Client::builder().no_proxy().build()
}
