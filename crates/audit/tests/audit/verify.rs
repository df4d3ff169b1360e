//! Verification of chains and checkpoints.

use audit::{AuditKey, AuditRecord, BadRecord, ChainReport, Checkpoint, record_hash, verify};

use super::chain::build;
use super::{at, key};

fn checkpoint_of(record: &AuditRecord) -> Checkpoint {
    Checkpoint::sign(&key(), record.chain_id.clone(), record.seq, record.hash.clone(), at(1000))
}

fn bad(chain_id: &str, seq: u64, problem: &str) -> Option<BadRecord> {
    Some(BadRecord { chain_id: chain_id.into(), seq, problem: problem.into() })
}

#[test]
fn intact_chains_verify_in_any_input_order() {
    let mut records = build("gw-b", 5);
    let checkpoints = [checkpoint_of(&records[4]), checkpoint_of(&records[1])];
    records.extend(build("gw-a", 2));
    records.reverse();
    records.swap(1, 4);
    let report = verify(&key(), records, Some(&checkpoints));
    assert!(report.intact, "{report:?}");
    assert_eq!(report.first_bad, None);
    assert!(report.truncation_checkable);
    assert_eq!(
        report.chains,
        [
            ChainReport { chain_id: "gw-a".into(), head_seq: 2, first_seq: 1, checkpoint_seq: None },
            ChainReport { chain_id: "gw-b".into(), head_seq: 5, first_seq: 1, checkpoint_seq: Some(5) },
        ]
    );
}

#[test]
fn a_modified_field_breaks_its_hash() {
    let mut records = build("gw-1", 5);
    records[2].columns.push("revenue".into());
    let report = verify(&key(), records, None);
    assert!(!report.intact);
    assert_eq!(report.first_bad, bad("gw-1", 3, "the hash does not match the record's contents"));
}

#[test]
fn a_rehashed_record_without_the_key_or_relinking_is_caught() {
    let mut records = build("gw-1", 5);
    records[2].rows = Some(1000);
    let other_key = AuditKey::from_bytes(&[9; 32]).unwrap();
    records[2].hash = record_hash(&other_key, &records[2]).unwrap();
    let report = verify(&key(), records.clone(), None);
    assert_eq!(report.first_bad, bad("gw-1", 3, "the hash does not match the record's contents"));

    // Even with the key, rewriting one record breaks the next link.
    records[2].hash = record_hash(&key(), &records[2]).unwrap();
    let report = verify(&key(), records, None);
    assert_eq!(report.first_bad, bad("gw-1", 4, "prev_hash does not match the hash of seq 3"));
}

#[test]
fn a_deleted_middle_record_is_a_seq_gap() {
    let mut records = build("gw-1", 5);
    records.remove(2);
    let report = verify(&key(), records, None);
    assert!(!report.intact);
    assert_eq!(report.first_bad, bad("gw-1", 3, "missing: seq 2 is followed by seq 4"));
    assert_eq!(report.chains[0].head_seq, 5);
}

#[test]
fn a_missing_first_record_is_caught() {
    let mut records = build("gw-1", 3);
    records.remove(0);
    let report = verify(&key(), records, None);
    assert_eq!(report.first_bad, bad("gw-1", 1, "missing: the chain starts at seq 2"));
}

#[test]
fn a_reordered_record_is_caught() {
    let mut records = build("gw-1", 5);
    // Swap the positions of records 3 and 4 in the chain.
    records[2].seq = 4;
    records[3].seq = 3;
    let report = verify(&key(), records, None);
    assert_eq!(report.first_bad, bad("gw-1", 3, "the hash does not match the record's contents"));
}

#[test]
fn a_duplicated_seq_is_caught() {
    let mut records = build("gw-1", 3);
    records.push(records[1].clone());
    let report = verify(&key(), records, None);
    assert_eq!(report.first_bad, bad("gw-1", 2, "two records have seq 2"));
}

#[test]
fn a_wrong_genesis_is_caught() {
    let records = build("gw-1", 2);
    let renamed: Vec<AuditRecord> =
        records.into_iter().map(|record| AuditRecord { chain_id: "gw-2".into(), ..record }).collect();
    let report = verify(&key(), renamed, None);
    assert!(!report.intact);
    assert_eq!(report.first_bad.unwrap().seq, 1);
}

#[test]
fn a_truncated_tail_is_caught_by_a_checkpoint() {
    let mut records = build("gw-1", 5);
    let checkpoints = [checkpoint_of(&records[2]), checkpoint_of(&records[4])];
    records.truncate(3);
    let report = verify(&key(), records, Some(&checkpoints));
    assert!(!report.intact);
    assert!(report.truncation_checkable);
    assert_eq!(report.first_bad, bad("gw-1", 4, "truncated: the chain ends at seq 3 but a checkpoint covers seq 5"));
    assert_eq!(
        report.chains,
        [ChainReport { chain_id: "gw-1".into(), head_seq: 3, first_seq: 1, checkpoint_seq: Some(5) }]
    );
}

#[test]
fn truncation_is_not_checkable_without_checkpoints() {
    let mut records = build("gw-1", 5);
    records.truncate(3);
    let report = verify(&key(), records.clone(), None);
    assert!(report.intact);
    assert!(!report.truncation_checkable);
    assert_eq!(report.chains[0].checkpoint_seq, None);

    let report = verify(&key(), records, Some(&[]));
    assert!(report.intact);
    assert!(!report.truncation_checkable);
}

#[test]
fn a_forged_checkpoint_signature_is_damage() {
    let records = build("gw-1", 3);
    let mut forged = checkpoint_of(&records[2]);
    forged.seq = 9;
    let report = verify(&key(), records.clone(), Some(&[forged]));
    assert_eq!(report.first_bad, bad("gw-1", 9, "a checkpoint's signature does not verify"));
    assert_eq!(report.chains[0].checkpoint_seq, None);

    let other_key = AuditKey::from_bytes(&[9; 32]).unwrap();
    let foreign = Checkpoint::sign(&other_key, "gw-1", 3, records[2].hash.clone(), at(0));
    let report = verify(&key(), records, Some(&[foreign]));
    assert_eq!(report.first_bad, bad("gw-1", 3, "a checkpoint's signature does not verify"));
}

#[test]
fn a_checkpoint_with_another_hash_is_damage() {
    let records = build("gw-1", 3);
    let other = Checkpoint::sign(&key(), "gw-1", 2, records[2].hash.clone(), at(0));
    let report = verify(&key(), records, Some(&[other]));
    assert_eq!(report.first_bad, bad("gw-1", 2, "the hash differs from the checkpoint's hash"));
}

#[test]
fn a_checkpointed_chain_without_records_is_damage() {
    let records = build("gw-1", 3);
    let gone = build("gw-0", 2);
    let checkpoints = [checkpoint_of(&records[2]), checkpoint_of(&gone[1])];
    let report = verify(&key(), records, Some(&checkpoints));
    assert_eq!(report.first_bad, bad("gw-0", 1, "missing: the chain has no records but a checkpoint covers seq 2"));
    assert_eq!(
        report.chains[0],
        ChainReport { chain_id: "gw-0".into(), head_seq: 0, first_seq: 1, checkpoint_seq: Some(2) }
    );
}

#[test]
fn first_bad_is_the_earliest_by_chain_then_seq() {
    let mut b = build("gw-b", 5);
    b[1].rows = Some(7);
    let mut a = build("gw-a", 5);
    a[3].rows = Some(7);
    a[4].rows = Some(7);
    let mut records = b;
    records.extend(a);
    let report = verify(&key(), records, None);
    assert_eq!(report.first_bad, bad("gw-a", 4, "the hash does not match the record's contents"));
}

#[test]
fn attempts_without_outcomes_are_listed_not_damage() {
    let mut records = build("gw-1", 5);
    let lost_outcome = records.remove(3); // seq 4, the outcome of seq 3
    let report = verify(&key(), records.clone(), None);
    // The gap is damage, but the missing outcome is only listed.
    assert_eq!(report.outcome_unknown, [records[2].id, records[3].id]);

    let mut records = build("gw-1", 5);
    records.extend(build("gw-2", 1));
    let report = verify(&key(), records.clone(), None);
    assert!(report.intact);
    assert_eq!(report.outcome_unknown, [records[4].id, records[5].id]);
    assert_eq!(lost_outcome.attempt_id, Some(records[2].id));
}

#[test]
fn report_serializes_with_the_documented_field_names() {
    let mut records = build("gw-1", 5);
    let checkpoints = [checkpoint_of(&records[4])];
    records.truncate(3);
    let report = verify(&key(), records, Some(&checkpoints));
    insta::assert_json_snapshot!("report_truncated", report);
    let value = serde_json::to_value(&report).unwrap();
    let names: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(names, ["intact", "chains", "first_bad", "outcome_unknown", "truncation_checkable"]);
}

fn truncation_before(records: &[AuditRecord], first_seq: u64) -> audit::Truncation {
    let last_pruned = &records[first_seq as usize - 2];
    audit::Truncation::sign(
        &key(),
        last_pruned.chain_id.clone(),
        first_seq,
        last_pruned.hash.clone(),
        at(500),
        first_seq - 1,
        at(2000),
    )
}

#[test]
fn a_signed_truncation_lets_a_pruned_chain_verify_and_nothing_else() {
    let records = build("gw-p", 6);
    let checkpoints = [checkpoint_of(&records[1]), checkpoint_of(&records[5])];
    let truncation = truncation_before(&records, 4);
    let kept: Vec<AuditRecord> = records[3..].to_vec();
    // Without the truncation the pruned chain is damaged; with it, intact (the checkpoint of a
    // pruned record is not looked for).
    assert!(!verify(&key(), kept.clone(), Some(&checkpoints)).intact);
    let report = audit::verify_with(&key(), kept.clone(), Some(&checkpoints), std::slice::from_ref(&truncation));
    assert!(report.intact, "{:?}", report.first_bad);
    assert_eq!(
        report.chains,
        [ChainReport { chain_id: "gw-p".into(), head_seq: 6, first_seq: 4, checkpoint_seq: Some(6) }]
    );
    // One more record removed than the truncation says: a gap.
    let report =
        audit::verify_with(&key(), records[4..].to_vec(), Some(&checkpoints), std::slice::from_ref(&truncation));
    assert_eq!(report.first_bad, bad("gw-p", 4, "missing: the chain starts at seq 5"));
    // A truncation not signed with the audit key is damage and is not used.
    let mut forged = truncation_before(&records, 2);
    forged.pruned = 0;
    let report = audit::verify_with(&key(), records.clone(), None, &[forged]);
    assert_eq!(report.first_bad, bad("gw-p", 2, "a truncation record's signature does not verify"));
    // A truncation naming another hash than the first kept record's prev_hash.
    let wrong = audit::Truncation::sign(&key(), "gw-p", 4, records[0].hash.clone(), at(500), 3, at(2000));
    let report = audit::verify_with(&key(), kept, None, &[wrong]);
    assert_eq!(report.first_bad, bad("gw-p", 4, "prev_hash is not the hash its truncation record names"));
}

#[test]
fn a_chain_pruned_whole_verifies_against_its_checkpoints() {
    let records = build("gw-old", 3);
    let checkpoints = [checkpoint_of(&records[2])];
    let truncation = truncation_before(&records, 4);
    let report = audit::verify_with(&key(), Vec::new(), Some(&checkpoints), &[truncation]);
    assert!(report.intact, "{:?}", report.first_bad);
    assert_eq!(
        report.chains,
        [ChainReport { chain_id: "gw-old".into(), head_seq: 0, first_seq: 4, checkpoint_seq: Some(3) }]
    );
}
