//! Prometheus metrics of the gateway (`GET /metrics` on the admin listener), in the OpenMetrics
//! text format via `prometheus-client`.
//!
//! They are derived from the audit records the pipeline commits — every request ends in exactly
//! one decision or outcome record — so the metrics and the audit log cannot disagree:
//! requests by agent, decision and reason; by agent, table and decision; upstream answers by
//! status; request latency by decision; audit commit latency; and unauthenticated repeats that
//! were folded (they have no record of their own). Upstream token fetches are counted by the
//! token cache itself (they are not requests). What it does not do: label by anything
//! unbounded (record ids, paths, client addresses) or expose field values.

use audit::{AuditRecord, Decision, RecordType};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    agent: String,
    decision: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TableLabels {
    agent: String,
    table: String,
    decision: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    decision: String,
}

/// The gateway's metrics and their registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    tables: Family<TableLabels, Counter>,
    upstream: Family<StatusLabels, Counter>,
    latency: Family<DecisionLabels, Histogram>,
    audit_commit: Histogram,
    folded: Counter,
}

fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("stanchion");
        let requests = Family::<RequestLabels, Counter>::default();
        let tables = Family::<TableLabels, Counter>::default();
        let upstream = Family::<StatusLabels, Counter>::default();
        let latency = Family::<DecisionLabels, Histogram>::new_with_constructor(seconds_histogram as fn() -> Histogram);
        let audit_commit = seconds_histogram();
        let folded = Counter::default();
        registry.register("requests", "Requests by agent, decision and reason code", requests.clone());
        registry.register("table_requests", "Requests by agent, table touched and decision", tables.clone());
        registry.register("upstream_responses", "Answers of Dynamics 365 by HTTP status", upstream.clone());
        registry.register("request_duration_seconds", "Time from receipt to answer, by decision", latency.clone());
        registry.register("audit_commit_duration_seconds", "Time to commit one audit record", audit_commit.clone());
        registry.register(
            "unauthenticated_folded",
            "Requests without a valid key answered without a record of their own (folded)",
            folded.clone(),
        );
        Metrics { registry, requests, tables, upstream, latency, audit_commit, folded }
    }
}

fn decision_name(d: Option<Decision>) -> &'static str {
    match d {
        Some(Decision::Allowed) => "allowed",
        Some(Decision::Denied) => "denied",
        Some(Decision::Error) => "error",
        None => "none",
    }
}

impl Metrics {
    /// Counts a committed record that ends a request (decision or outcome; attempts and admin
    /// records are not requests' ends), and its commit time.
    pub(crate) fn observe(&self, r: &AuditRecord, commit_seconds: f64) {
        self.audit_commit.observe(commit_seconds);
        if !matches!(r.record_type, RecordType::Decision | RecordType::Outcome) || r.kind.is_admin() {
            return;
        }
        let agent = r.agent_name.clone().unwrap_or_else(|| "unknown".into());
        let decision = decision_name(r.decision).to_owned();
        let reason = r.reason_code.clone().unwrap_or_default();
        let folded = r.reason_code.as_deref() == Some("unauthenticated_folded");
        if !folded {
            self.requests
                .get_or_create(&RequestLabels { agent: agent.clone(), decision: decision.clone(), reason })
                .inc();
            for table in r.tables.iter().map(|t| &t.table).collect::<std::collections::BTreeSet<_>>() {
                let labels = TableLabels { agent: agent.clone(), table: table.clone(), decision: decision.clone() };
                self.tables.get_or_create(&labels).inc();
            }
        }
        if let Some(status) = r.upstream_status {
            self.upstream.get_or_create(&StatusLabels { status: status.to_string() }).inc();
        }
        if let Some(ms) = r.latency_ms {
            self.latency.get_or_create(&DecisionLabels { decision }).observe(ms as f64 / 1000.0);
        }
    }

    /// Adds the upstream token fetches by result (`ok`, `failed`) of the gateway's token cache.
    pub(crate) fn with_token_refreshes(
        mut self,
        refreshes: prometheus_client::metrics::family::Family<crate::token_cache::RefreshLabels, Counter>,
    ) -> Self {
        self.registry.register(
            "upstream_token_refreshes",
            "Access tokens fetched from Entra ID (or the emulator), by result",
            refreshes,
        );
        self
    }

    /// Counts an unauthenticated request answered without a record (folded).
    pub(crate) fn folded(&self) {
        self.folded.inc();
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
