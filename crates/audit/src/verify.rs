//! Verification of chains (and checkpoints) given as values.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{AuditKey, AuditRecord, Checkpoint, RecordType, Truncation, chain, hex};

/// The result of [`verify`]. Serializes with the field names
/// `intact, chains, first_bad, outcome_unknown, truncation_checkable`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// No damage was found.
    pub intact: bool,
    /// Every chain seen in records or in validly signed checkpoints, sorted by `chain_id`.
    pub chains: Vec<ChainReport>,
    /// The earliest problem, in `chain_id` then `seq` order; `None` when intact.
    pub first_bad: Option<BadRecord>,
    /// Ids of attempts that no outcome record links to, in `chain_id` then
    /// `seq` order. Not damage: the outcome may simply be unknown (a crash,
    /// a lost connection).
    pub outcome_unknown: Vec<Uuid>,
    /// Whether checkpoints were given (at least one), so that records removed
    /// from the end of a checkpointed chain are detected. `false` when the
    /// checkpoint file was absent or empty.
    pub truncation_checkable: bool,
}

/// One chain in a [`VerifyReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReport {
    /// The chain.
    pub chain_id: String,
    /// The highest seq among its records; 0 when it has none.
    pub head_seq: u64,
    /// The first seq the chain has kept: 1, or where a signed truncation (`audit prune`) let it
    /// start.
    pub first_seq: u64,
    /// The highest seq of a validly signed checkpoint for it, if any.
    pub checkpoint_seq: Option<u64>,
}

/// Where a chain is damaged, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadRecord {
    /// The chain.
    pub chain_id: String,
    /// The seq of the damaged or missing record.
    pub seq: u64,
    /// What is wrong, in plain English.
    pub problem: String,
}

/// Verifies `records` (of any number of chains, in any order) under `key`,
/// against the lines of the checkpoint file when it exists.
///
/// Damage is: a hash that does not recompute, a `prev_hash` that does not
/// link, a seq that does not start at 1, skips or repeats, a checkpoint whose
/// signature does not verify, and a validly signed checkpoint whose seq is
/// missing (including a chain ending before it, i.e. truncation, or absent
/// altogether) or holds a different hash. Attempts without an outcome are
/// listed in `outcome_unknown` and are not damage.
pub fn verify(
    key: &AuditKey,
    records: impl IntoIterator<Item = AuditRecord>,
    checkpoints_from_file: Option<&[Checkpoint]>,
) -> VerifyReport {
    verify_with(key, records, checkpoints_from_file, &[])
}

/// Like [`verify`], for a store where old records were pruned: a chain with a validly signed
/// [`Truncation`] starts at its `first_seq`, its first record linking to its `prev_hash`, and
/// checkpoints of pruned records are not looked for. A truncation whose signature does not
/// verify is damage and is not used.
pub fn verify_with(
    key: &AuditKey,
    records: impl IntoIterator<Item = AuditRecord>,
    checkpoints_from_file: Option<&[Checkpoint]>,
    truncations: &[Truncation],
) -> VerifyReport {
    let mut chains: BTreeMap<String, Vec<AuditRecord>> = BTreeMap::new();
    for record in records {
        chains.entry(record.chain_id.clone()).or_default().push(record);
    }
    let mut first_bad = FirstBad::default();
    let mut starts: BTreeMap<String, &Truncation> = BTreeMap::new();
    for t in truncations {
        if !t.verify_signature(key) {
            first_bad.add(&t.chain_id, t.first_seq, "a truncation record's signature does not verify".to_owned());
            continue;
        }
        let start = starts.entry(t.chain_id.clone()).or_insert(t);
        if t.first_seq > start.first_seq {
            *start = t;
        }
    }
    for (chain_id, records) in &mut chains {
        records.sort_by(|a, b| (a.seq, &a.hash, a.id).cmp(&(b.seq, &b.hash, b.id)));
        check_chain(key, chain_id, records, starts.get(chain_id).copied(), &mut first_bad);
    }

    let mut checkpoint_seqs: BTreeMap<String, u64> = BTreeMap::new();
    for checkpoint in checkpoints_from_file.unwrap_or_default() {
        if !checkpoint.verify_signature(key) {
            first_bad.add(&checkpoint.chain_id, checkpoint.seq, "a checkpoint's signature does not verify".to_owned());
            continue;
        }
        let highest = checkpoint_seqs.entry(checkpoint.chain_id.clone()).or_insert(checkpoint.seq);
        *highest = (*highest).max(checkpoint.seq);
        if starts.get(&checkpoint.chain_id).is_some_and(|t| checkpoint.seq < t.first_seq) {
            continue; // a pruned record, covered by a signed truncation
        }
        let records = chains.get(&checkpoint.chain_id).map(Vec::as_slice);
        check_checkpoint(checkpoint, records.unwrap_or_default(), &mut first_bad);
    }

    let chain_ids: BTreeSet<&String> = chains.keys().chain(checkpoint_seqs.keys()).chain(starts.keys()).collect();
    let chain_reports = chain_ids
        .into_iter()
        .map(|chain_id| ChainReport {
            chain_id: chain_id.clone(),
            head_seq: chains.get(chain_id).and_then(|records| records.last()).map_or(0, |record| record.seq),
            first_seq: starts.get(chain_id).map_or(1, |t| t.first_seq),
            checkpoint_seq: checkpoint_seqs.get(chain_id).copied(),
        })
        .collect();

    VerifyReport {
        intact: first_bad.0.is_none(),
        chains: chain_reports,
        first_bad: first_bad.0,
        outcome_unknown: outcome_unknown(&chains),
        truncation_checkable: checkpoints_from_file.is_some_and(|lines| !lines.is_empty()),
    }
}

/// The earliest problem seen so far, by `chain_id` then `seq`; on ties the
/// first one found stays.
#[derive(Default)]
struct FirstBad(Option<BadRecord>);

impl FirstBad {
    fn add(&mut self, chain_id: &str, seq: u64, problem: String) {
        let earlier = match &self.0 {
            None => true,
            Some(bad) => (chain_id, seq) < (bad.chain_id.as_str(), bad.seq),
        };
        if earlier {
            self.0 = Some(BadRecord { chain_id: chain_id.to_owned(), seq, problem });
        }
    }
}

/// Checks one chain's records, sorted by seq; a signed truncation sets where it starts.
fn check_chain(
    key: &AuditKey,
    chain_id: &str,
    records: &[AuditRecord],
    truncation: Option<&Truncation>,
    bad: &mut FirstBad,
) {
    let (genesis, mut expected_seq) = match truncation {
        Some(t) => (t.prev_hash.clone(), t.first_seq),
        None => (hex::encode(&chain::genesis(key, chain_id)), 1),
    };
    let first_seq = expected_seq;
    let mut previous: Option<&AuditRecord> = None;
    for record in records {
        let seq = record.seq;
        if seq == 0 {
            bad.add(chain_id, 0, "seq 0 is not valid: sequences start at 1".into());
            continue;
        }
        if seq < first_seq {
            bad.add(chain_id, seq, format!("seq {seq} is before seq {first_seq}, where a truncation starts the chain"));
            continue;
        }
        let duplicate = previous.is_some_and(|previous| previous.seq == seq);
        if duplicate {
            bad.add(chain_id, seq, format!("two records have seq {seq}"));
        } else if seq > expected_seq {
            let problem = match previous {
                None => format!("missing: the chain starts at seq {seq}"),
                Some(previous) => format!("missing: seq {} is followed by seq {seq}", previous.seq),
            };
            bad.add(chain_id, expected_seq, problem);
        }

        match hex::decode32(&record.prev_hash) {
            None => bad.add(chain_id, seq, "prev_hash is not 64 lower-case hex digits".into()),
            Some(prev) => {
                if hex::encode(&chain::link(key, &prev, record)) != record.hash {
                    bad.add(chain_id, seq, "the hash does not match the record's contents".into());
                }
            }
        }

        if duplicate {
            continue;
        }
        if seq == expected_seq {
            match previous {
                None if record.prev_hash != genesis => bad.add(
                    chain_id,
                    seq,
                    match truncation {
                        None => "prev_hash is not the chain's genesis value".into(),
                        Some(_) => "prev_hash is not the hash its truncation record names".into(),
                    },
                ),
                Some(previous) if record.prev_hash != previous.hash => {
                    bad.add(chain_id, seq, format!("prev_hash does not match the hash of seq {}", previous.seq))
                }
                _ => {}
            }
        }
        previous = Some(record);
        expected_seq = seq.saturating_add(1);
    }
}

/// Checks one validly signed checkpoint against its chain's sorted records.
fn check_checkpoint(checkpoint: &Checkpoint, records: &[AuditRecord], bad: &mut FirstBad) {
    let chain_id = &checkpoint.chain_id;
    let seq = checkpoint.seq;
    let head = records.last().map_or(0, |record| record.seq);
    if records.is_empty() {
        bad.add(chain_id, 1, format!("missing: the chain has no records but a checkpoint covers seq {seq}"));
    } else if head < seq {
        bad.add(
            chain_id,
            head + 1,
            format!("truncated: the chain ends at seq {head} but a checkpoint covers seq {seq}"),
        );
    } else {
        let mut at_seq = records.iter().filter(|record| record.seq == seq).peekable();
        if at_seq.peek().is_none() {
            bad.add(chain_id, seq, format!("missing: a checkpoint covers seq {seq}"));
        } else if !at_seq.any(|record| record.hash == checkpoint.hash) {
            bad.add(chain_id, seq, "the hash differs from the checkpoint's hash".into());
        }
    }
}

/// Attempts that no outcome links to, in chain then seq order, without repeats.
fn outcome_unknown(chains: &BTreeMap<String, Vec<AuditRecord>>) -> Vec<Uuid> {
    let answered: BTreeSet<Uuid> = chains
        .values()
        .flatten()
        .filter(|record| record.record_type == RecordType::Outcome)
        .filter_map(|record| record.attempt_id)
        .collect();
    let mut listed = BTreeSet::new();
    chains
        .values()
        .flatten()
        .filter(|record| record.record_type == RecordType::Attempt)
        .map(|record| record.id)
        .filter(|id| !answered.contains(id) && listed.insert(*id))
        .collect()
}
