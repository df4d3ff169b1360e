//! Lower-case hex encoding of 32-byte values (hashes, signatures, keys).

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Encodes bytes as lower-case hex.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// Decodes exactly 64 lower-case hex digits into 32 bytes.
pub(crate) fn decode32(text: &str) -> Option<[u8; 32]> {
    decode32_with(text, false)
}

/// Decodes exactly 64 hex digits of either case into 32 bytes.
pub(crate) fn decode32_any_case(text: &str) -> Option<[u8; 32]> {
    decode32_with(text, true)
}

fn decode32_with(text: &str, any_case: bool) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *slot = (nibble(pair[0], any_case)? << 4) | nibble(pair[1], any_case)?;
    }
    Some(out)
}

fn nibble(digit: u8, any_case: bool) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' if any_case => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Whether `text` is exactly 64 lower-case hex digits.
pub(crate) fn is_hash(text: &str) -> bool {
    decode32(text).is_some()
}
