//! [`Number`]: a JSON number kept as its exact, validated text.

use std::fmt;

/// A JSON number, stored as the exact text it was received (or built) with.
///
/// The text always matches the RFC 8259 grammar
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` and is at most
/// [`Number::MAX_LEN`] bytes long: there is no way to build a `Number` that
/// skips that check.
///
/// Equality (and hashing) is **text** equality: `1.0`, `1`, `1e0` and `10e-1`
/// are four different numbers here, as are `0` and `-0`. That is deliberate:
/// the gateway re-emits what it received, and two texts that a downstream
/// parser might read differently must not be treated as the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number(pub(super) String);

impl Number {
    /// Longest accepted number text, in bytes (= characters, it is ASCII).
    pub const MAX_LEN: usize = 1000;

    /// Validates `text` as a JSON number and keeps it verbatim.
    ///
    /// Returns `None` unless the whole of `text` matches the RFC 8259 number
    /// grammar (no surrounding whitespace, no leading `+`, no leading zeros,
    /// no `NaN`/`Infinity`, no trailing `.`) and is at most
    /// [`Number::MAX_LEN`] bytes long.
    pub fn parse(text: &str) -> Option<Number> {
        if text.len() <= Self::MAX_LEN && scan_number(text.as_bytes()) == Some(text.len()) {
            Some(Number(text.to_owned()))
        } else {
            None
        }
    }

    /// The number's text, exactly as received.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `true` if the text is an integer literal: no fraction part and no
    /// exponent (`12`, `-0`; not `12.0` nor `1e3`). Says nothing about range.
    pub fn is_integer(&self) -> bool {
        !self.0.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
    }

    /// The value as an `i64`, if the text is an integer literal (see
    /// [`Number::is_integer`]) within `i64` range. `-0` gives `Some(0)`;
    /// `1.0`, `1e3` and out-of-range integers give `None`.
    pub fn as_i64(&self) -> Option<i64> {
        if self.is_integer() { self.0.parse().ok() } else { None }
    }

    /// The value as a `u64`, if the text is a non-negative integer literal
    /// within `u64` range (`-0` gives `Some(0)`).
    pub fn as_u64(&self) -> Option<u64> {
        if !self.is_integer() {
            return None;
        }
        match self.0.strip_prefix('-') {
            Some(digits) => digits.bytes().all(|b| b == b'0').then_some(0),
            None => self.0.parse().ok(),
        }
    }

    /// The value rounded to the nearest `f64`; `None` if its magnitude is too
    /// large for a finite `f64` (`1e400`). Tiny values round to zero.
    pub fn as_f64(&self) -> Option<f64> {
        // Rust's float grammar is a superset of JSON's, so this cannot fail
        // on a validated text; `.ok()` keeps that an Option regardless.
        self.0.parse::<f64>().ok().filter(|f| f.is_finite())
    }

    /// The number with the decimal text of `n`.
    pub fn from_i64(n: i64) -> Number {
        Number(n.to_string())
    }

    /// The number with the decimal text of `n`.
    pub fn from_u64(n: u64) -> Number {
        Number(n.to_string())
    }

    /// The number with Rust's shortest round-trip text of `f` (`1.5`, `1e300`,
    /// `1e-7`, and `1.0` for one); `None` for NaN and infinities, which JSON
    /// cannot represent.
    pub fn from_f64(f: f64) -> Option<Number> {
        if !f.is_finite() {
            return None;
        }
        // `{:?}` prints finite floats as `-?digits(.digits)?(e-?digits)?`,
        // which is JSON; validate anyway rather than rely on that.
        Number::parse(&format!("{f:?}"))
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Self {
        Number::from_i64(n)
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Self {
        Number::from_u64(n)
    }
}

impl From<i32> for Number {
    fn from(n: i32) -> Self {
        Number::from_i64(n.into())
    }
}

impl From<u32> for Number {
    fn from(n: u32) -> Self {
        Number::from_u64(n.into())
    }
}

/// Length of the longest prefix of `b` that is a complete JSON number, or
/// `None` if no prefix is (`-`, `1.`, `1e+`, `.5`, `x`). A leading `0` ends the
/// integer part, so `01` scans as `0`; callers decide what may follow.
pub(super) fn scan_number(b: &[u8]) -> Option<usize> {
    let digits_at = |i: usize| b.get(i..).map_or(0, |rest| rest.iter().take_while(|c| c.is_ascii_digit()).count());
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i += digits_at(i),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let n = digits_at(i);
        if n == 0 {
            return None;
        }
        i += n;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits_at(i);
        if n == 0 {
            return None;
        }
        i += n;
    }
    Some(i)
}
