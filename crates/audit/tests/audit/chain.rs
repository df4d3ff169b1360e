//! Sealing records into a chain.

use audit::{AuditRecord, ChainWriter, Decision, Kind, RecordType, genesis_hash, record_hash};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{accounts, agent_record, at, key};

fn hmac(parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&(0u8..32).collect::<Vec<_>>()).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A sealed chain of `n` records: odd seqs are attempts, even seqs their outcomes.
pub(super) fn build(chain_id: &str, n: u64) -> Vec<AuditRecord> {
    let key = key();
    let mut writer = ChainWriter::new(&key, chain_id);
    let mut sealed: Vec<AuditRecord> = Vec::new();
    for seq in 1..=n {
        let base = u128::from(seq) + (u128::from(*chain_id.as_bytes().last().unwrap()) << 64);
        let record = if seq % 2 == 1 {
            AuditRecord {
                decision: Some(Decision::Allowed),
                tables: accounts(),
                columns: vec!["name".into()],
                ..agent_record(base, RecordType::Attempt, Kind::Query)
            }
        } else {
            let attempt = sealed.last().unwrap();
            AuditRecord {
                rows: Some(seq),
                upstream_status: Some(200),
                latency_ms: Some(40),
                ..AuditRecord::outcome_of(attempt, super::id(base), at(seq as i64))
            }
        };
        sealed.push(writer.seal(&key, record));
    }
    sealed
}

#[test]
fn seal_assigns_seq_prev_hash_and_hash_per_the_formula() {
    let records = build("gw-1", 3);
    let genesis = hex(&hmac(&[b"gw-1"]));
    assert_eq!(genesis_hash(&key(), "gw-1"), genesis);

    let mut prev = genesis;
    for (index, record) in records.iter().enumerate() {
        assert_eq!(record.chain_id, "gw-1");
        assert_eq!(record.seq, index as u64 + 1);
        assert_eq!(record.prev_hash, prev);
        // hash_n = HMAC(key, hash_{n-1} bytes ‖ canonical JSON without "hash").
        let mut value = serde_json::to_value(record).unwrap();
        value.as_object_mut().unwrap().shift_remove("hash");
        let canonical = audit::canonical_json(&value).unwrap();
        assert_eq!(record.canonical_bytes(), canonical.as_bytes());
        assert!(!canonical.contains("\"hash\""));
        assert!(canonical.starts_with("{\"actor\":\"agent\",\"actor_name\":null,"));
        let prev_bytes: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&prev[2 * i..2 * i + 2], 16).unwrap()).collect();
        let expected = hex(&hmac(&[&prev_bytes, canonical.as_bytes()]));
        assert_eq!(record.hash, expected);
        assert_eq!(record_hash(&key(), record).unwrap(), expected);
        prev = expected;
    }
}

#[test]
fn seal_overwrites_chain_fields_given_by_the_caller() {
    let key = key();
    let mut writer = ChainWriter::new(&key, "gw-1");
    let record = AuditRecord {
        chain_id: "other".into(),
        seq: 99,
        prev_hash: "x".into(),
        hash: "y".into(),
        ..agent_record(1, RecordType::Decision, Kind::Count)
    };
    let sealed = writer.seal(&key, record);
    assert_eq!((sealed.chain_id.as_str(), sealed.seq), ("gw-1", 1));
    assert_eq!(sealed.prev_hash, genesis_hash(&key, "gw-1"));
    assert_eq!(writer.next_seq(), 2);
    assert_eq!(writer.prev_hash(), sealed.hash);
}

#[test]
fn resume_continues_the_chain_exactly() {
    let key = key();
    let whole = build("gw-1", 4);
    let mut writer = ChainWriter::resume("gw-1", 3, &whole[2].hash).unwrap();
    assert_eq!(writer.chain_id(), "gw-1");
    assert_eq!(writer.next_seq(), 4);
    let mut fourth = whole[3].clone();
    fourth.hash.clear();
    assert_eq!(writer.seal(&key, fourth), whole[3]);

    assert!(ChainWriter::resume("gw-1", 3, "not hex").is_err());
    assert!(ChainWriter::resume("gw-1", 3, &whole[2].hash.to_uppercase()).is_err());
}

#[test]
fn sealed_record_snapshot() {
    // Pins the canonical bytes and the hash: any change here breaks every
    // existing chain.
    let records = build("gw-1", 2);
    insta::assert_json_snapshot!("sealed_outcome", records[1]);
}
