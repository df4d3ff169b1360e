//! Signed truncation records: the statement, made when old records are pruned (`stanchion audit
//! prune`), that chain `chain_id` now starts at `first_seq` and that its first kept record links
//! to `prev_hash`. Verification trusts a truncation only when its signature verifies under the
//! audit key, so records removed by anyone without the key are still detected.

use serde::{Deserialize, Serialize};

use crate::{AuditKey, Timestamp};

/// The domain separator at the start of every signed truncation message.
const DOMAIN: &str = "stanchion-truncation-v1";

/// A signed statement that records `1 ..< first_seq` of `chain_id` were pruned.
///
/// The signature is lower-case hex of HMAC-SHA256 under the audit key over
/// `"stanchion-truncation-v1\n" ‖ chain_id ‖ "\n" ‖ first_seq ‖ "\n" ‖ prev_hash ‖ "\n" ‖
/// before ‖ "\n" ‖ pruned ‖ "\n" ‖ time`, numbers in decimal, times as printed by [`Timestamp`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Truncation {
    /// The chain.
    pub chain_id: String,
    /// The first seq kept (every record before it was removed).
    pub first_seq: u64,
    /// The hash of record `first_seq - 1`: the `prev_hash` of the first kept record (hex).
    pub prev_hash: String,
    /// Records older than this were pruned.
    pub before: Timestamp,
    /// How many records this prune removed from the chain.
    pub pruned: u64,
    /// When the prune ran.
    pub time: Timestamp,
    /// The signature (hex).
    pub signature: String,
}

impl Truncation {
    /// A truncation signed with `key`.
    pub fn sign(
        key: &AuditKey,
        chain_id: impl Into<String>,
        first_seq: u64,
        prev_hash: impl Into<String>,
        before: Timestamp,
        pruned: u64,
        time: Timestamp,
    ) -> Self {
        let mut t = Self {
            chain_id: chain_id.into(),
            first_seq,
            prev_hash: prev_hash.into(),
            before,
            pruned,
            time,
            signature: String::new(),
        };
        t.signature = key.sign(&t.message());
        t
    }

    fn message(&self) -> String {
        format!(
            "{DOMAIN}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.chain_id, self.first_seq, self.prev_hash, self.before, self.pruned, self.time
        )
    }

    /// Whether the signature is `key`'s over the other fields (compared in constant time).
    pub fn verify_signature(&self, key: &AuditKey) -> bool {
        key.verify(&self.message(), &self.signature)
    }
}
