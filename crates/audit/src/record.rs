//! The audit record: one per agent call (or call part) and one per admin change.

mod kind;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Timestamp, canonical};

pub use kind::Kind;

/// What a record stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordType {
    /// Written before a request is forwarded to Dynamics 365.
    Attempt,
    /// Written after Dynamics 365 answered (or failed to); links its attempt by `attempt_id`.
    Outcome,
    /// A single record for a request refused, or answered without forwarding.
    Decision,
    /// An admin change (agents, keys, policy).
    Admin,
}

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// An AI agent calling through the gateway (or an unknown caller claiming to be one).
    Agent,
    /// An admin user of the admin interface.
    Admin,
    /// The command-line tool.
    Cli,
    /// Stanchion itself.
    System,
}

/// How an agent reached the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// The Dataverse-compatible REST surface.
    Rest,
    /// The MCP server.
    Mcp,
}

/// A Dataverse privilege a request needs on a table (the protocol core's own type).
pub use dataverse::Privilege;

/// What Stanchion decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The request was allowed.
    Allowed,
    /// The request was refused by policy or because it could not be understood.
    Denied,
    /// Stanchion could not complete the request (e.g. the audit log was unavailable).
    Error,
}

/// One table a request touches, with the privilege it needs there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TableAccess {
    /// The table's logical name, e.g. `account` (also the singular noun in sentences).
    pub table: String,
    /// The entity set name, e.g. `accounts` (also the plural noun in sentences).
    pub set: String,
    /// The privilege needed.
    pub privilege: Privilege,
}

impl TableAccess {
    /// A table access entry.
    pub fn new(table: impl Into<String>, set: impl Into<String>, privilege: Privilege) -> Self {
        Self { table: table.into(), set: set.into(), privilege }
    }
}

/// What an admin record changed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Change {
    /// The agent's name.
    pub subject: String,
    /// The table's logical name, for table-level policy changes.
    pub table: Option<String>,
    /// The entity set name, for table-level policy changes.
    pub set: Option<String>,
    /// The value before, e.g. `off`.
    pub from: Option<String>,
    /// The value after, e.g. `read`; `on`/`off` for `policy_delete_records`.
    pub to: Option<String>,
    /// The key id, for key changes and agent creation (12 Crockford base32 characters).
    pub key_id: Option<String>,
    /// The column, for hidden-column changes.
    pub column: Option<String>,
}

impl Change {
    /// A change about `subject` with every other field empty.
    pub fn new(subject: impl Into<String>) -> Self {
        Self { subject: subject.into(), table: None, set: None, from: None, to: None, key_id: None, column: None }
    }
}

/// One audit record. Field names are the JSON names; absent values serialize
/// as `null` (never skipped) so the canonical form is stable.
///
/// Build one with [`AuditRecord::new`] (or [`AuditRecord::outcome_of`],
/// [`AuditRecord::admin`]) and struct-update syntax, then seal it with
/// [`ChainWriter::seal`](crate::ChainWriter::seal), which fills `chain_id`,
/// `seq`, `prev_hash` and `hash`.
///
/// For `batch` records, `rows` holds the number of parts in the batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The record's own id.
    pub id: Uuid,
    /// The chain this record belongs to.
    pub chain_id: String,
    /// Position in the chain, from 1, without gaps.
    pub seq: u64,
    /// When the record was made.
    pub time: Timestamp,
    /// Attempt, outcome, decision or admin.
    pub record_type: RecordType,
    /// For outcomes, the id of the linked attempt.
    pub attempt_id: Option<Uuid>,
    /// Who acted.
    pub actor: Actor,
    /// Admin user name, `cli:root@host`, or `system`.
    pub actor_name: Option<String>,
    /// The agent's id.
    pub agent_id: Option<String>,
    /// The agent's display name.
    pub agent_name: Option<String>,
    /// The agent key's id.
    pub key_id: Option<String>,
    /// REST or MCP.
    pub transport: Option<Transport>,
    /// The MCP tool called, for MCP requests.
    pub mcp_tool: Option<String>,
    /// The batch this record is a part of.
    pub batch_id: Option<String>,
    /// The part number within the batch, from 1.
    pub part: Option<u32>,
    /// Stanchion's request id.
    pub request_id: Option<String>,
    /// The request kind (or admin change kind).
    pub kind: Kind,
    /// The HTTP method.
    pub method: Option<String>,
    /// The request path, already redacted by the caller.
    pub path: Option<String>,
    /// The tables touched, with the privilege needed on each.
    pub tables: Vec<TableAccess>,
    /// Ids of the records addressed.
    pub record_ids: Vec<String>,
    /// Columns selected or written.
    pub columns: Vec<String>,
    /// The decision; `None` for admin records.
    pub decision: Option<Decision>,
    /// A stable code for the (first) reason, e.g. `delete_off`.
    pub reason_code: Option<String>,
    /// The plain-English reason, e.g. `deleting records is off for this agent`.
    pub reason: Option<String>,
    /// Every failed check, in plain English; the first equals `reason`.
    pub reasons: Vec<String>,
    /// The HTTP status Dynamics 365 answered.
    pub upstream_status: Option<u16>,
    /// Dynamics 365's request id.
    pub upstream_request_id: Option<String>,
    /// Rows returned; for `batch` records, the number of parts.
    pub rows: Option<u64>,
    /// Milliseconds from receipt to answer.
    pub latency_ms: Option<u64>,
    /// The caller's IP address.
    pub client_ip: Option<String>,
    /// The caller's User-Agent.
    pub user_agent: Option<String>,
    /// What an admin record changed.
    pub change: Option<Change>,
    /// Hex of the previous record's hash (the genesis value for seq 1).
    pub prev_hash: String,
    /// Hex of this record's hash.
    pub hash: String,
}

impl AuditRecord {
    /// An unsealed record with every optional field empty, every list empty,
    /// and empty chain fields (`chain_id` "", `seq` 0, `prev_hash` "", `hash` "").
    pub fn new(id: Uuid, time: Timestamp, record_type: RecordType, actor: Actor, kind: Kind) -> Self {
        Self {
            id,
            chain_id: String::new(),
            seq: 0,
            time,
            record_type,
            attempt_id: None,
            actor,
            actor_name: None,
            agent_id: None,
            agent_name: None,
            key_id: None,
            transport: None,
            mcp_tool: None,
            batch_id: None,
            part: None,
            request_id: None,
            kind,
            method: None,
            path: None,
            tables: Vec::new(),
            record_ids: Vec::new(),
            columns: Vec::new(),
            decision: None,
            reason_code: None,
            reason: None,
            reasons: Vec::new(),
            upstream_status: None,
            upstream_request_id: None,
            rows: None,
            latency_ms: None,
            client_ip: None,
            user_agent: None,
            change: None,
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    /// An unsealed outcome for `attempt`: it links the attempt by `attempt_id`
    /// and copies who asked and what was asked (actor through `columns`,
    /// `decision`, `client_ip`, `user_agent`). Results (`upstream_status`,
    /// `rows`, `latency_ms`, ...) are left for the caller.
    pub fn outcome_of(attempt: &AuditRecord, id: Uuid, time: Timestamp) -> Self {
        Self {
            attempt_id: Some(attempt.id),
            actor_name: attempt.actor_name.clone(),
            agent_id: attempt.agent_id.clone(),
            agent_name: attempt.agent_name.clone(),
            key_id: attempt.key_id.clone(),
            transport: attempt.transport,
            mcp_tool: attempt.mcp_tool.clone(),
            batch_id: attempt.batch_id.clone(),
            part: attempt.part,
            request_id: attempt.request_id.clone(),
            method: attempt.method.clone(),
            path: attempt.path.clone(),
            tables: attempt.tables.clone(),
            record_ids: attempt.record_ids.clone(),
            columns: attempt.columns.clone(),
            decision: attempt.decision,
            client_ip: attempt.client_ip.clone(),
            user_agent: attempt.user_agent.clone(),
            ..Self::new(id, time, RecordType::Outcome, attempt.actor, attempt.kind.clone())
        }
    }

    /// An unsealed admin record: `actor` (admin, cli or system) named
    /// `actor_name` made `change` of the given admin `kind`.
    pub fn admin(
        id: Uuid,
        time: Timestamp,
        actor: Actor,
        actor_name: Option<String>,
        kind: Kind,
        change: Change,
    ) -> Self {
        Self { actor_name, change: Some(change), ..Self::new(id, time, RecordType::Admin, actor, kind) }
    }

    /// The record as a JSON value, every field present.
    pub fn to_value(&self) -> serde_json::Value {
        // Serializing this struct cannot fail: every map key is a string and
        // every value a string, integer, bool, null, array or object.
        serde_json::to_value(self).expect("audit records always serialize")
    }

    /// The bytes the chain hashes: RFC 8785 canonical JSON of the record
    /// without its `hash` member.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut value = self.to_value();
        if let Some(object) = value.as_object_mut() {
            object.shift_remove("hash");
        }
        // Records hold no floats (only u16/u32/u64 numbers), so canonical
        // JSON, which refuses only non-integers, cannot fail.
        canonical::canonical_json(&value).expect("audit records hold only integers").into_bytes()
    }

    /// The record's plain-English sentence; see [`sentence`](crate::sentence).
    pub fn sentence(&self) -> String {
        crate::sentence(self)
    }
}
