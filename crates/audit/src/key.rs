//! The audit key: the HMAC-SHA256 key behind the chain and the checkpoints.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{Error, hex};

/// HMAC-SHA256, the only MAC this crate uses.
pub(crate) type HmacSha256 = Hmac<Sha256>;

/// The 32-byte secret that keys the audit chain and signs checkpoints.
///
/// `Debug` never prints the bytes. The key file format is 64 hex digits with an
/// optional trailing newline ([`AuditKey::from_hex`], [`AuditKey::to_hex`]).
/// This crate never generates keys: the caller supplies 32 random bytes.
#[derive(Clone)]
pub struct AuditKey([u8; 32]);

impl AuditKey {
    /// Builds a key from exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| Error::KeyLength(bytes.len()))?;
        Ok(Self(bytes))
    }

    /// Parses the key file format: 64 hex digits (either case), optionally
    /// followed by one `\n` or `\r\n`. Nothing else is accepted.
    pub fn from_hex(text: &str) -> Result<Self, Error> {
        let digits = text.strip_suffix("\r\n").or_else(|| text.strip_suffix('\n')).unwrap_or(text);
        hex::decode32_any_case(digits).map(Self).ok_or(Error::KeyHex)
    }

    /// The key as 64 lower-case hex digits, without a newline.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// A fresh HMAC-SHA256 instance keyed with this key.
    pub(crate) fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
        <HmacSha256 as Mac>::new_from_slice(&self.0).expect("HMAC accepts a key of any length")
    }

    /// HMAC-SHA256 of the concatenation of `parts`.
    pub(crate) fn hmac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = self.mac();
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// The signature of a signed statement (checkpoints, truncations): lower-case hex of the
    /// HMAC of `message`.
    pub(crate) fn sign(&self, message: &str) -> String {
        crate::hex::encode(&self.hmac(&[message.as_bytes()]))
    }

    /// Whether `signature` is [`AuditKey::sign`]'s for `message` (compared in constant time).
    pub(crate) fn verify(&self, message: &str, signature: &str) -> bool {
        let Some(signature) = crate::hex::decode32(signature) else {
            return false;
        };
        let mut mac = self.mac();
        mac.update(message.as_bytes());
        mac.verify_slice(&signature).is_ok()
    }
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditKey(<redacted>)")
    }
}
