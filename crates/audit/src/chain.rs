//! The keyed hash chain.
//!
//! `hash_0 = HMAC-SHA256(key, chain_id)` is the genesis value: record 1's
//! `prev_hash`. Then `hash_n = HMAC-SHA256(key, hash_{n-1} ‖ canonical_n)`,
//! where `hash_{n-1}` is the raw 32 bytes and `canonical_n` is the record's
//! canonical JSON without its `hash` member (which includes `prev_hash` hex).

use crate::{AuditKey, AuditRecord, Checkpoint, Error, Timestamp, hex};

/// The genesis value of `chain_id`, raw.
pub(crate) fn genesis(key: &AuditKey, chain_id: &str) -> [u8; 32] {
    key.hmac(&[chain_id.as_bytes()])
}

/// The chain link for `record` following `prev`, raw.
pub(crate) fn link(key: &AuditKey, prev: &[u8; 32], record: &AuditRecord) -> [u8; 32] {
    key.hmac(&[prev, &record.canonical_bytes()])
}

/// The genesis value of `chain_id` as lower-case hex: `prev_hash` of record 1.
pub fn genesis_hash(key: &AuditKey, chain_id: &str) -> String {
    hex::encode(&genesis(key, chain_id))
}

/// Recomputes `record`'s hash (lower-case hex) from its contents and its own
/// `prev_hash`. Fails if `prev_hash` is not 64 lower-case hex digits.
pub fn record_hash(key: &AuditKey, record: &AuditRecord) -> Result<String, Error> {
    let prev = hex::decode32(&record.prev_hash).ok_or(Error::Hex { field: "prev_hash" })?;
    Ok(hex::encode(&link(key, &prev, record)))
}

/// Appends records to one chain: assigns `chain_id`, `seq`, `prev_hash` and
/// `hash`. The caller persists each sealed record before sealing the next,
/// and keeps one writer per chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainWriter {
    chain_id: String,
    next_seq: u64,
    prev_hash: [u8; 32],
}

impl ChainWriter {
    /// A writer for a new, empty chain: the next record is seq 1 and links to
    /// the genesis value.
    pub fn new(key: &AuditKey, chain_id: impl Into<String>) -> Self {
        let chain_id = chain_id.into();
        let prev_hash = genesis(key, &chain_id);
        Self { chain_id, next_seq: 1, prev_hash }
    }

    /// A writer continuing a chain whose last record has `last_seq` and
    /// `last_hash` (hex). For an empty chain use [`ChainWriter::new`] (or pass
    /// 0 and the [`genesis_hash`]).
    pub fn resume(chain_id: impl Into<String>, last_seq: u64, last_hash: &str) -> Result<Self, Error> {
        let prev_hash = hex::decode32(last_hash).ok_or(Error::Hex { field: "last_hash" })?;
        Ok(Self { chain_id: chain_id.into(), next_seq: last_seq.saturating_add(1), prev_hash })
    }

    /// The chain's id.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// The seq the next sealed record gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The hash (hex) the next sealed record links to.
    pub fn prev_hash(&self) -> String {
        hex::encode(&self.prev_hash)
    }

    /// Seals `record` as the next link: overwrites its `chain_id`, `seq`,
    /// `prev_hash` and `hash`, and advances the writer.
    pub fn seal(&mut self, key: &AuditKey, mut record: AuditRecord) -> AuditRecord {
        record.chain_id.clone_from(&self.chain_id);
        record.seq = self.next_seq;
        record.prev_hash = hex::encode(&self.prev_hash);
        record.hash = String::new();
        let hash = link(key, &self.prev_hash, &record);
        record.hash = hex::encode(&hash);
        self.prev_hash = hash;
        self.next_seq += 1;
        record
    }

    /// A signed checkpoint of the chain's current head at `time`, or `None`
    /// when nothing has been sealed yet.
    pub fn checkpoint(&self, key: &AuditKey, time: Timestamp) -> Option<Checkpoint> {
        let seq = self.next_seq.checked_sub(1).filter(|seq| *seq > 0)?;
        Some(Checkpoint::sign(key, self.chain_id.clone(), seq, self.prev_hash(), time))
    }
}
