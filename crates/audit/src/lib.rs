//! Stanchion's audit trail, as pure data and pure functions.
//!
//! Every call an agent makes through Stanchion, and every admin change, becomes
//! one [`AuditRecord`]. This crate defines:
//!
//! - the typed record and its JSON field names ([`AuditRecord`] and friends);
//! - the record's one plain-English sentence ([`sentence`]), derived from the
//!   fields and never stored;
//! - canonical bytes: RFC 8785 (JCS) JSON over an integer-only value model
//!   ([`canonical_json`], [`AuditRecord::canonical_bytes`]);
//! - the tamper-evident keyed hash chain ([`ChainWriter`], [`genesis_hash`],
//!   [`record_hash`]) under an [`AuditKey`];
//! - signed checkpoints, one JSON line each ([`Checkpoint`]);
//! - verification of chains and checkpoints given to it ([`verify`]).
//!
//! It does **not** do I/O: it reads no files, opens no database, never reads
//! the clock and draws no random numbers. Times, ids and keys are passed in
//! as values; the `store` crate persists records and the gateway builds them.
//!
//! ```
//! use audit::{
//!     Actor, AuditKey, AuditRecord, ChainWriter, Decision, Kind, Privilege, RecordType,
//!     TableAccess, Timestamp, verify,
//! };
//!
//! let key = AuditKey::from_hex(&"ab".repeat(32)).unwrap();
//! let mut writer = ChainWriter::new(&key, "gateway-1");
//! let time = Timestamp::parse("2026-11-26T10:31:02.123Z").unwrap();
//! let attempt = writer.seal(&key, AuditRecord {
//!     agent_name: Some("Sales Ops Agent".into()),
//!     tables: vec![TableAccess::new("account", "accounts", Privilege::Read)],
//!     columns: vec!["name".into()],
//!     decision: Some(Decision::Allowed),
//!     ..AuditRecord::new(uuid::Uuid::from_u128(1), time, RecordType::Attempt, Actor::Agent, Kind::Query)
//! });
//! let outcome = writer.seal(&key, AuditRecord {
//!     rows: Some(25),
//!     upstream_status: Some(200),
//!     ..AuditRecord::outcome_of(&attempt, uuid::Uuid::from_u128(2), time)
//! });
//! assert_eq!(outcome.sentence(), "Sales Ops Agent read 25 accounts (name) — allowed.");
//!
//! let checkpoint = writer.checkpoint(&key, time).unwrap();
//! let report = verify(&key, [outcome, attempt], Some(&[checkpoint]));
//! assert!(report.intact && report.truncation_checkable);
//! ```

#![forbid(unsafe_code)]

mod canonical;
mod chain;
mod checkpoint;
mod error;
mod hex;
mod key;
mod record;
mod time;
mod truncation;
mod verify;
mod voice;

pub use canonical::canonical_json;
pub use chain::{ChainWriter, genesis_hash, record_hash};
pub use checkpoint::Checkpoint;
pub use error::Error;
pub use key::AuditKey;
pub use record::{Actor, AuditRecord, Change, Decision, Kind, Privilege, RecordType, TableAccess, Transport};
pub use time::Timestamp;
pub use truncation::Truncation;
pub use verify::{BadRecord, ChainReport, VerifyReport, verify, verify_with};
pub use voice::{sentence, short_id};
