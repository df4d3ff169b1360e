//! The gateway's router, shared state and checkpoint timer.

use crate::health::{Readiness, health_router};
use crate::limits::{AgentLimits, Limiter};
use crate::pipeline::{Incoming, run};
use crate::upstream::UpstreamClient;
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::response::Response;
use dataverse::{ParseLimits, Schema};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{ChainAppender, Store};

/// Internal header carrying a trusted proxy's `X-Forwarded-Proto` (never read from clients).
const TRUSTED_PROTO: &str = "x-stanchion-trusted-proto";

/// Gateway settings.
#[derive(Debug, Clone, Default)]
pub struct GatewayConfig {
    /// `listen.public_url`: the client-facing base; else `http(s)://{Host}`.
    pub public_url: Option<String>,
    /// `listen.trusted_proxies`: peers whose `X-Forwarded-Proto/-Host` are honoured.
    pub trusted_proxies: Vec<IpAddr>,
    /// The agents listener serves TLS itself (`listen.tls_cert_file`): links are `https://`
    /// unless a trusted proxy or `public_url` says otherwise.
    pub tls: bool,
    /// Parser limits.
    pub limits: ParseLimits,
    /// `audit.record_values`: keep literals in recorded paths.
    pub record_values: bool,
    /// `[limits] per_agent_*`: requests per minute and at once, and their clock.
    pub agent_limits: AgentLimits,
    /// `[limits] unauthenticated_per_ip_per_minute`: refusals without a valid key per client
    /// address and minute before 429 (0: never 429; repeats are folded in the audit either way).
    pub unauthenticated_per_minute: u32,
    /// `[limits] upstream_*`: the whole gateway's budget towards the org.
    pub upstream_budget: crate::limits::UpstreamBudget,
}

/// Everything a request needs.
pub struct Gateway {
    pub(crate) schema: Arc<crate::schema_source::SchemaSource>,
    pub(crate) store: Store,
    pub(crate) audit: ChainAppender,
    pub(crate) upstream: UpstreamClient,
    pub(crate) config: GatewayConfig,
    pub(crate) limiter: Limiter,
    pub(crate) budget: Limiter,
    pub(crate) floods: crate::floods::Floods,
    pub(crate) metrics: crate::metrics::Metrics,
    pub(crate) readiness: Arc<Readiness>,
}

impl Gateway {
    /// Builds the gateway state with a fixed schema; opens this process's audit chain.
    pub fn new(schema: Arc<Schema>, store: Store, upstream: UpstreamClient, config: GatewayConfig) -> Arc<Gateway> {
        Gateway::with_schema(crate::schema_source::SchemaSource::fixed(schema), store, upstream, config)
    }

    /// Builds the gateway state with this schema source (a learned schema: see
    /// [`crate::schema_source`]); opens this process's audit chain.
    pub fn with_schema(
        schema: crate::schema_source::SchemaSource,
        store: Store,
        upstream: UpstreamClient,
        config: GatewayConfig,
    ) -> Arc<Gateway> {
        let chain_id = format!(
            "gw-{}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let audit = ChainAppender::start(store.clone(), chain_id);
        let limiter = Limiter::new(config.agent_limits.clone());
        let budget = Limiter::upstream(&config.upstream_budget);
        let floods = crate::floods::Floods::new(config.unauthenticated_per_minute, config.agent_limits.clock.clone());
        let schema = Arc::new(schema);
        let readiness =
            Arc::new(Readiness::new(store.clone(), audit.clone(), upstream.tokens().clone(), schema.clone()));
        let metrics = crate::metrics::Metrics::default().with_token_refreshes(upstream.tokens().refreshes());
        Arc::new(Gateway { schema, store, audit, upstream, config, limiter, budget, floods, metrics, readiness })
    }

    /// Commits an audit record and counts it in the metrics.
    pub(crate) async fn append(&self, record: audit::AuditRecord) -> Result<audit::AuditRecord, store::StoreError> {
        let started = std::time::Instant::now();
        let sealed = self.audit.append(record).await?;
        self.metrics.observe(&sealed, started.elapsed().as_secs_f64());
        Ok(sealed)
    }

    /// The schema source.
    pub fn schema(&self) -> &crate::schema_source::SchemaSource {
        &self.schema
    }

    /// The metrics (`GET /metrics` on the admin listener).
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// Records the folded counts of unauthenticated floods whose window is over (design §5);
    /// the checkpointer calls it every period, tests when they like.
    pub async fn flush_folded(&self) {
        self.record_folded(self.floods.take_finished()).await;
    }

    /// Records every folded count, windows still open included (on shutdown, before the last
    /// checkpoint).
    pub async fn flush_all_folded(&self) {
        self.record_folded(self.floods.take_all()).await;
    }

    async fn record_folded(&self, folded: Vec<crate::floods::Folded>) {
        for f in folded {
            if let Err(e) = self.append(f.record()).await {
                tracing::error!(error = %e, client_ip = %f.client_ip, count = f.count, "folded refusals not recorded");
            }
        }
    }

    /// This process's audit chain.
    pub fn audit(&self) -> &ChainAppender {
        &self.audit
    }

    /// The readiness checks over this gateway's store, audit chain and token cache (for
    /// mounting [`health_router`] on another listener).
    pub fn readiness(&self) -> Arc<Readiness> {
        self.readiness.clone()
    }

    /// The client-facing base URL (design §6.3): `listen.public_url`, else `{proto}://{Host}`
    /// where `proto` is `https` only when a trusted proxy said so.
    pub(crate) fn public_base(&self, headers: &HeaderMap) -> String {
        if let Some(u) = self.config.public_url.as_deref().filter(|u| !u.is_empty()) {
            return u.trim_end_matches('/').to_owned();
        }
        let proto = match headers.get(TRUSTED_PROTO).and_then(|v| v.to_str().ok()) {
            Some("https") => "https",
            Some(_) => "http",
            None if self.config.tls => "https",
            None => "http",
        };
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                !h.is_empty()
                    && h.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
            })
            .unwrap_or("localhost");
        format!("{proto}://{host}")
    }

    /// Headers as the pipeline sees them: `X-Forwarded-Host/-Proto` are honoured only from
    /// `listen.trusted_proxies`, and a client cannot set the internal marker itself.
    pub(crate) fn effective_headers(&self, headers: &HeaderMap, peer: IpAddr) -> HeaderMap {
        let mut h = headers.clone();
        h.remove(TRUSTED_PROTO);
        if self.config.trusted_proxies.contains(&peer) {
            if let Some(host) = headers.get("x-forwarded-host").cloned() {
                h.insert("host", host);
            }
            if let Some(proto) = headers.get("x-forwarded-proto").cloned() {
                h.insert(TRUSTED_PROTO, proto);
            }
        }
        h
    }
}

/// The agents' router: `GET /healthz` and `GET /readyz` (exact paths) are the health probes;
/// every other request goes through the pipeline.
pub fn router(gw: Arc<Gateway>) -> Router {
    let limit = gw.config.limits.max_body + 1;
    Router::new()
        .merge(health_router(gw.readiness()))
        .fallback(handle)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(gw)
}

/// The admin listener's routes (design §7 `listen.admin`): `/metrics` (OpenMetrics text) and the
/// health probes. Nothing here reaches the org or writes the audit log; the console will join
/// it. Everything else is 404.
pub fn admin_router(gw: Arc<Gateway>) -> Router {
    Router::new().merge(health_router(gw.readiness())).route("/metrics", axum::routing::get(metrics)).with_state(gw)
}

async fn metrics(State(gw): State<Arc<Gateway>>) -> Response {
    let mut response = axum::response::IntoResponse::into_response(gw.metrics.encode());
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}

async fn handle(
    State(gw): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: axum::extract::Request,
) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, gw.config.limits.max_body + 1).await {
        Ok(b) => b,
        Err(_) => bytes::Bytes::from(vec![0u8; gw.config.limits.max_body + 1]),
    };
    let headers = gw.effective_headers(&parts.headers, peer.ip());
    let inc = Incoming {
        request_id,
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers,
        body,
        client_ip: peer.ip().to_string(),
        started,
        via: crate::pipeline::Via::Rest,
    };
    run(&gw, inc).await
}

/// Writes a checkpoint of this process's chain every `every` (design §5: 60 s).
pub fn spawn_checkpointer(gw: Arc<Gateway>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            gw.flush_folded().await;
            // Audit search indexes committed records here, off the request path.
            if let Err(e) = gw.store.catch_up_search_in_background().await {
                tracing::warn!(error = %e, "audit search index not caught up");
            }
            if let Err(e) = gw.audit.checkpoint(audit::Timestamp::from_datetime(chrono::Utc::now())).await {
                tracing::error!(error = %e, "audit checkpoint failed");
            }
            // A learned schema: a newer cache file, or the org again when it is due.
            gw.schema.tick(&gw.upstream).await;
        }
    })
}
