//! Building audit records from what the pipeline learned (design §5 fields). Paths are recorded
//! with literals redacted unless `audit.record_values` is on.

use crate::pipeline::Incoming;
use audit::{Actor, AuditRecord, Decision, Kind, RecordType, TableAccess, Timestamp, Transport};
use dataverse::json::Value;
use dataverse::print::{Redact, print_target, redact_raw};
use dataverse::{Operation, Request, Schema, Touches};
use uuid::Uuid;

/// A record under construction.
pub(crate) struct Draft {
    pub agent: Option<(String, String)>,
    pub key_id: Option<String>,
    pub reasons: Vec<String>,
    base: AuditRecord,
    redact: Redact,
}

fn now() -> Timestamp {
    Timestamp::from_datetime(chrono::Utc::now())
}

fn clean(s: &str, max: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max).collect()
}

impl Draft {
    pub fn new(inc: &Incoming, record_values: bool) -> Self {
        let mut base = AuditRecord::new(Uuid::nil(), now(), RecordType::Decision, Actor::Agent, Kind::Unclassified);
        match &inc.via {
            crate::pipeline::Via::Rest => base.transport = Some(Transport::Rest),
            crate::pipeline::Via::Mcp(tool) => {
                base.transport = Some(Transport::Mcp);
                base.mcp_tool = tool.as_deref().map(|t| clean(t, 64));
            }
        }
        base.request_id = Some(inc.request_id.clone());
        base.method = Some(clean(&inc.method, 10));
        let raw = redact_raw(&inc.path, inc.query.as_deref());
        base.path = Some(clean(&raw, 2000));
        base.client_ip = Some(inc.client_ip.clone());
        base.user_agent = inc.headers.get("user-agent").and_then(|v| v.to_str().ok()).map(|s| clean(s, 200));
        Draft {
            agent: None,
            key_id: None,
            reasons: Vec::new(),
            base,
            redact: if record_values { Redact::Nothing } else { Redact::Literals },
        }
    }

    /// Fills kind and canonical (redacted) path from the parsed request.
    pub fn set_request(&mut self, schema: &Schema, request: &Request) {
        if let Operation::Unsupported { .. } = request.operation {
            // Recognised but not understood: recorded as unclassified with its redacted raw path.
            return;
        }
        self.base.kind = Kind::parse(request.kind().name());
        if let Some(target) = print_target(schema, request, self.redact) {
            self.base.path = Some(format!("/api/data/{}/{target}", request.version.as_str()));
        }
    }

    /// Records the request as a `$batch` (its outer request is not a typed operation).
    pub fn set_batch(&mut self) {
        self.base.kind = Kind::Batch;
    }

    /// Fills tables, columns and record ids from the classification.
    pub fn set_touches(&mut self, schema: &Schema, t: &Touches) {
        self.base.tables = t
            .tables
            .iter()
            .map(|a| {
                let set = schema.table(&a.table).map_or_else(|| a.table.clone(), |tb| tb.set_name.clone());
                TableAccess::new(a.table.clone(), set, a.privilege)
            })
            .collect();
        let root = t.tables.first().map(|a| a.table.clone());
        self.base.columns = t
            .columns
            .iter()
            .map(|(table, c)| if Some(table) == root.as_ref() { c.clone() } else { format!("{table}.{c}") })
            .collect();
        self.base.record_ids = t.record_ids.iter().map(Uuid::to_string).collect();
    }

    fn finish(&self, record_type: RecordType) -> AuditRecord {
        let mut r = self.base.clone();
        r.id = Uuid::new_v4();
        r.time = now();
        r.record_type = record_type;
        if let Some((id, name)) = &self.agent {
            r.agent_id = Some(id.clone());
            r.agent_name = Some(name.clone());
        }
        r.key_id.clone_from(&self.key_id);
        r.reasons.clone_from(&self.reasons);
        r
    }

    /// The record of an unauthenticated request.
    pub fn unauthenticated(&self) -> AuditRecord {
        let mut r = self.finish(RecordType::Decision);
        r.kind = Kind::Unauthenticated;
        r
    }

    /// The record of a request refused before it was classified.
    pub fn unclassified(&self) -> AuditRecord {
        let mut r = self.finish(RecordType::Decision);
        if r.kind == Kind::Unclassified || r.tables.is_empty() {
            r.kind = Kind::Unclassified;
        }
        r
    }

    /// The record of an MCP tool call refused before it became a request.
    pub fn mcp_tool(&self) -> AuditRecord {
        let mut r = self.finish(RecordType::Decision);
        r.kind = Kind::McpTool;
        r.path = None;
        r.method = None;
        r
    }

    /// The record of a classified request that was refused.
    pub fn decision(&self) -> AuditRecord {
        self.finish(RecordType::Decision)
    }

    /// The attempt record of an authorized request.
    pub fn attempt(&self) -> AuditRecord {
        let mut r = self.finish(crate::pipeline::ATTEMPT);
        r.decision = Some(Decision::Allowed);
        r
    }
}

/// The outcome record linked to an attempt.
pub(crate) fn outcome(attempt: &AuditRecord, inc: &Incoming, decision: Decision) -> AuditRecord {
    let mut r = AuditRecord::outcome_of(attempt, Uuid::new_v4(), now());
    r.decision = Some(decision);
    r.latency_ms = Some(inc.started.elapsed().as_millis() as u64);
    r
}

/// Rows an answer carried: the `value` array of a query (groups of an aggregation), 1 for a
/// retrieved row.
pub(crate) fn rows(request: &Request, body: &Value, status: u16) -> Option<u64> {
    if !(200..300).contains(&status) {
        return None;
    }
    match &request.operation {
        Operation::Query(_) | Operation::Aggregate(_) | Operation::Changes { .. } => {
            body.as_object().and_then(|o| o.get("value")).and_then(Value::as_array).map(|v| v.len() as u64)
        }
        Operation::Retrieve { .. } => Some(1),
        _ => None,
    }
}

/// The record's reason: the agent-facing message without its "Stanchion denied …: " lead-in
/// and final full stop, so that the audit sentence reads "— denied: it can only read contacts."
pub(crate) fn reason_phrase(message: &str) -> String {
    let tail =
        message.split_once(": ").filter(|(head, _)| head.starts_with("Stanchion denied")).map_or(message, |(_, t)| t);
    tail.trim_end_matches('.').to_owned()
}
