//! Signed checkpoints: a chain's head, written to a separate file so that
//! removing records from the end of a chain is detectable.

use serde::{Deserialize, Serialize};

use crate::{AuditKey, Error, Timestamp, hex};

/// The domain separator at the start of every signed checkpoint message.
const DOMAIN: &str = "stanchion-checkpoint-v1";

/// A signed statement that chain `chain_id` had record `seq` with `hash` at `time`.
///
/// The signature is lower-case hex of HMAC-SHA256 under the audit key over
/// `"stanchion-checkpoint-v1\n" ‖ chain_id ‖ "\n" ‖ seq ‖ "\n" ‖ hash ‖ "\n" ‖ time`,
/// with `seq` in decimal and `time` as printed by [`Timestamp`]. One checkpoint file line is
/// the checkpoint as compact JSON with the fields in declaration order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The chain.
    pub chain_id: String,
    /// The seq of the checkpointed record.
    pub seq: u64,
    /// That record's hash (hex).
    pub hash: String,
    /// When the checkpoint was made.
    pub time: Timestamp,
    /// The signature (hex).
    pub signature: String,
}

impl Checkpoint {
    /// A checkpoint signed with `key`.
    pub fn sign(
        key: &AuditKey,
        chain_id: impl Into<String>,
        seq: u64,
        hash: impl Into<String>,
        time: Timestamp,
    ) -> Self {
        let mut checkpoint = Self { chain_id: chain_id.into(), seq, hash: hash.into(), time, signature: String::new() };
        checkpoint.signature = key.sign(&checkpoint.message());
        checkpoint
    }

    /// The exact bytes the signature covers.
    fn message(&self) -> String {
        format!("{DOMAIN}\n{}\n{}\n{}\n{}", self.chain_id, self.seq, self.hash, self.time)
    }

    /// Whether the signature is `key`'s signature over the other fields
    /// (compared in constant time).
    pub fn verify_signature(&self, key: &AuditKey) -> bool {
        key.verify(&self.message(), &self.signature)
    }

    /// The checkpoint as one checkpoint-file line: compact JSON, fields in the
    /// order `chain_id, seq, hash, time, signature`, without a newline.
    pub fn to_line(&self) -> String {
        // A struct of strings, an integer and a timestamp always serializes.
        serde_json::to_string(self).expect("checkpoints always serialize")
    }

    /// Parses one checkpoint-file line (surrounding whitespace, including the
    /// newline, is ignored). `hash` and `signature` must be 64 lower-case hex
    /// digits. The signature is not checked here; see
    /// [`Checkpoint::verify_signature`].
    pub fn parse_line(line: &str) -> Result<Self, Error> {
        let checkpoint: Self =
            serde_json::from_str(line.trim()).map_err(|error| Error::CheckpointLine(error.to_string()))?;
        if !hex::is_hash(&checkpoint.hash) {
            return Err(Error::Hex { field: "hash" });
        }
        if !hex::is_hash(&checkpoint.signature) {
            return Err(Error::Hex { field: "signature" });
        }
        Ok(checkpoint)
    }
}
