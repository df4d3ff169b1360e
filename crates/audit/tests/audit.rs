//! Integration tests for the `audit` crate.

#[path = "audit/canonical.rs"]
mod canonical;
#[path = "audit/chain.rs"]
mod chain;
#[path = "audit/checkpoint.rs"]
mod checkpoint;
#[path = "audit/key.rs"]
mod key;
#[path = "audit/record.rs"]
mod record;
#[path = "audit/verify.rs"]
mod verify;
#[path = "audit/voice.rs"]
mod voice;
#[path = "audit/voice_admin.rs"]
mod voice_admin;

use audit::{Actor, AuditKey, AuditRecord, Kind, Privilege, RecordType, TableAccess, Timestamp};
use uuid::Uuid;

/// A fixed test key: bytes 0, 1, ..., 31.
fn key() -> AuditKey {
    let bytes: Vec<u8> = (0u8..32).collect();
    AuditKey::from_bytes(&bytes).unwrap()
}

/// A deterministic id.
fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// A fixed time plus `offset_ms`.
fn at(offset_ms: i64) -> Timestamp {
    let base = Timestamp::parse("2026-11-26T10:31:02.123Z").unwrap();
    Timestamp::from(base.as_datetime() + chrono::TimeDelta::milliseconds(offset_ms))
}

/// An unsealed agent request record by "Sales Ops Agent".
fn agent_record(n: u128, record_type: RecordType, kind: Kind) -> AuditRecord {
    AuditRecord {
        agent_id: Some("agt_sales".into()),
        agent_name: Some("Sales Ops Agent".into()),
        key_id: Some("ABCDEFGHJKMN".into()),
        ..AuditRecord::new(id(n), at(n as i64), record_type, Actor::Agent, kind)
    }
}

/// A `read` access on accounts.
fn accounts() -> Vec<TableAccess> {
    vec![TableAccess::new("account", "accounts", Privilege::Read)]
}
