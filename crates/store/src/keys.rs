//! Agent keys (design §7): `stn_` + 12-character key id (Crockford base32, public) + `_` + 43
//! characters of base64url (32 random bytes). Stored as `HMAC-SHA256(key_secret, key)`;
//! compared in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The secret that keys are hashed with (`[store] key_secret_file`).
#[derive(Clone)]
pub struct KeySecret([u8; 32]);

impl std::fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeySecret(…)")
    }
}

impl KeySecret {
    /// From exactly 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        KeySecret(bytes)
    }

    /// From 64 hex characters (the key file format).
    pub fn from_hex(text: &str) -> Option<Self> {
        let t = text.trim();
        if t.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(t.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(KeySecret(out))
    }

    /// As 64 lower-case hex characters.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// `HMAC-SHA256(secret, key)`.
    pub fn digest(&self, key: &AgentKey) -> [u8; 32] {
        // HMAC-SHA256 accepts keys of any length, so this cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(key.expose().as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Whether `key` hashes to `stored`, in constant time.
    pub fn matches(&self, key: &AgentKey, stored: &[u8]) -> bool {
        self.digest(key).ct_eq(stored).into()
    }
}

/// A full agent key. `Debug` never shows the secret part.
#[derive(Clone, PartialEq, Eq)]
pub struct AgentKey {
    text: String,
}

impl std::fmt::Debug for AgentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AgentKey(stn_{}_…)", self.key_id())
    }
}

impl AgentKey {
    /// A new random key.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut id = [0u8; 8];
        let mut secret = [0u8; 32];
        getrandom::fill(&mut id)?;
        getrandom::fill(&mut secret)?;
        let bits = u64::from_le_bytes(id);
        let key_id: String = (0..12).map(|i| CROCKFORD[((bits >> (i * 5)) & 31) as usize] as char).collect();
        Ok(AgentKey { text: format!("stn_{key_id}_{}", URL_SAFE_NO_PAD.encode(secret)) })
    }

    /// Parses a bearer token; `None` unless it matches the key grammar exactly.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix("stn_")?;
        let (id, secret) = rest.split_at_checked(12)?;
        let secret = secret.strip_prefix('_')?;
        let id_ok = id.bytes().all(|b| CROCKFORD.contains(&b));
        let secret_ok = secret.len() == 43
            && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && URL_SAFE_NO_PAD.decode(secret).is_ok_and(|d| d.len() == 32);
        (id_ok && secret_ok).then(|| AgentKey { text: text.to_owned() })
    }

    /// The public key id (12 characters).
    pub fn key_id(&self) -> &str {
        &self.text[4..16]
    }

    /// The full key text, to show once.
    pub fn expose(&self) -> &str {
        &self.text
    }
}
