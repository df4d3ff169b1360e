//! The crate's error type.

/// Everything that can go wrong in this crate's fallible functions.
///
/// Verification never fails with an error: damage is reported in a
/// [`VerifyReport`](crate::VerifyReport) instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An audit key was built from a byte string that is not 32 bytes long.
    #[error("an audit key must be exactly 32 bytes, got {0}")]
    KeyLength(usize),
    /// An audit key file did not hold exactly 64 hex digits (plus an optional newline).
    #[error("an audit key file must hold exactly 64 hex digits and an optional trailing newline")]
    KeyHex,
    /// A hash or signature field was not 64 lower-case hex digits.
    #[error("{field} must be 64 lower-case hex digits")]
    Hex {
        /// The name of the offending field.
        field: &'static str,
    },
    /// Canonical JSON met a number that is not an integer.
    #[error("canonical JSON only admits integers, got {0}")]
    NonInteger(String),
    /// A timestamp was not valid RFC 3339.
    #[error("invalid timestamp {0:?}: expected RFC 3339, e.g. 2026-11-26T10:31:02.123Z")]
    Timestamp(String),
    /// A checkpoint file line could not be parsed.
    #[error("invalid checkpoint line: {0}")]
    CheckpointLine(String),
}
