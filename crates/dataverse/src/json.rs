//! A small, strict JSON tree for the gateway.
//!
//! The gateway never forwards a client's raw bytes: it parses a body into a
//! [`Value`], inspects it, and re-serializes that tree. This module exists so
//! the re-serialized body stays faithful to what the client sent:
//!
//! * object members keep their order ([`Object`] is an ordered list of
//!   members, not a map);
//! * every number keeps its exact text (`1.50` stays `1.50`, `1e3` stays
//!   `1e3`, `-0` stays `-0`); see [`Number`].
//!
//! Parsing ([`parse`], [`parse_with`]) is strict RFC 8259 and refuses whatever
//! could be read two ways by two parsers: invalid UTF-8, a byte-order mark,
//! duplicate member names, unpaired surrogate escapes, raw control characters
//! in strings, non-RFC number forms (`+1`, `01`, `1.`, `NaN`, `Infinity`),
//! and trailing data. Input size and nesting depth are bounded by [`Limits`].
//! Every refusal is a [`JsonError`] carrying the byte offset where it was
//! detected. The parser never panics, whatever the input.
//!
//! What this module does **not** do:
//!
//! * no serde integration: there is no `Serialize`/`Deserialize` for these
//!   types, and no mapping onto Rust structs;
//! * no arbitrary-precision arithmetic: a [`Number`] is validated text, with
//!   lossy conveniences ([`Number::as_i64`], [`Number::as_f64`]) only;
//! * no pretty printing and no canonicalization: [`Value::to_json`] writes
//!   compact JSON, members in stored order, numbers as their stored text;
//! * no streaming: the whole document is held in memory (at most
//!   [`Limits::max_bytes`] of input).

mod number;
mod object;
mod parse;
mod value;
mod write;

use std::fmt;

pub use number::Number;
pub use object::{Object, ObjectIter};
pub use value::Value;
pub use write::write_string;

/// Bounds applied by [`parse_with`] before and during parsing.
///
/// The parser is recursive, one level per nested array or object, and checks
/// the depth before descending; dropping, comparing, cloning and printing a
/// [`Value`] are recursive too. Keep `max_depth` modest (the default, 64, is
/// far from any stack limit); a value in the tens of thousands may exhaust the
/// thread's stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Largest accepted input, in bytes. Longer input is refused with
    /// [`JsonErrorKind::TooLarge`] before any parsing.
    pub max_bytes: usize,
    /// Deepest accepted nesting of arrays and objects. A scalar at top level
    /// has depth 0, `[]` depth 1, `[[]]` depth 2, and so on. Deeper input is
    /// refused with [`JsonErrorKind::TooDeep`].
    pub max_depth: usize,
}

impl Limits {
    /// Default for [`Limits::max_bytes`]: 4 MiB.
    pub const DEFAULT_MAX_BYTES: usize = 4 * 1024 * 1024;
    /// Default for [`Limits::max_depth`]: 64.
    pub const DEFAULT_MAX_DEPTH: usize = 64;
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bytes: Self::DEFAULT_MAX_BYTES, max_depth: Self::DEFAULT_MAX_DEPTH }
    }
}

/// Why a document was refused, and where.
///
/// Displays as `"<message> at byte <offset>"`.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("{kind} at byte {offset}")]
pub struct JsonError {
    /// Byte offset into the input where the problem was detected. See
    /// [`JsonErrorKind`] for what the offset points at for each kind.
    pub offset: usize,
    /// What went wrong.
    pub kind: JsonErrorKind,
}

impl JsonError {
    pub(crate) fn new(offset: usize, kind: JsonErrorKind) -> Self {
        JsonError { offset, kind }
    }
}

/// The kinds of [`JsonError`]. Each variant documents what its offset means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonErrorKind {
    /// The input is not valid UTF-8; the offset is the first byte of the
    /// first invalid sequence.
    InvalidUtf8,
    /// The input ended inside a value (or was empty); the offset is the
    /// input length.
    UnexpectedEnd,
    /// A character that cannot start or continue the expected token, at the
    /// offset of that character. A leading byte-order mark is reported as
    /// `UnexpectedCharacter('\u{feff}')` at offset 0.
    UnexpectedCharacter(char),
    /// A number that does not match the RFC 8259 grammar, is followed
    /// directly by number characters (`01`, `1.2.3`, `1-2`), or is longer
    /// than [`Number::MAX_LEN`]; the offset is where the number starts.
    InvalidNumber,
    /// An unknown escape (`\x`, `\U`, `\'`) or a `\u` not followed by four
    /// hex digits; the offset is the backslash.
    InvalidEscape,
    /// A `\u` escape of a high surrogate not followed by a `\u` escape of a
    /// low surrogate, or a low surrogate on its own; the offset is the
    /// backslash of the offending (first) escape.
    LoneSurrogate,
    /// An unescaped character below U+0020 inside a string, at its offset.
    ControlCharacterInString,
    /// An object has two members with this name (compared exactly, after
    /// unescaping); the offset is the opening quote of the second one.
    DuplicateMember(String),
    /// Arrays and objects nest deeper than [`Limits::max_depth`]; the offset
    /// is the `[` or `{` that goes one level too deep.
    TooDeep,
    /// The input is longer than [`Limits::max_bytes`]; the offset is
    /// `max_bytes` (the first byte beyond the limit).
    TooLarge,
    /// Something other than whitespace follows the top-level value; the
    /// offset is its first byte.
    TrailingCharacters,
}

impl fmt::Display for JsonErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonErrorKind::InvalidUtf8 => f.write_str("invalid UTF-8"),
            JsonErrorKind::UnexpectedEnd => f.write_str("unexpected end of input"),
            JsonErrorKind::UnexpectedCharacter(c) => write!(f, "unexpected character {c:?}"),
            JsonErrorKind::InvalidNumber => f.write_str("invalid number"),
            JsonErrorKind::InvalidEscape => f.write_str("invalid escape sequence"),
            JsonErrorKind::LoneSurrogate => f.write_str("unpaired surrogate in \\u escape"),
            JsonErrorKind::ControlCharacterInString => f.write_str("unescaped control character in string"),
            JsonErrorKind::DuplicateMember(name) => {
                // The name is client-controlled: print it escaped (Debug) and
                // bounded, so it cannot forge or flood a log line.
                const SHOWN: usize = 64;
                let mut chars = name.chars();
                let head: String = chars.by_ref().take(SHOWN).collect();
                let more = if chars.next().is_some() { "..." } else { "" };
                write!(f, "duplicate member name {head:?}{more}")
            }
            JsonErrorKind::TooDeep => f.write_str("nesting too deep"),
            JsonErrorKind::TooLarge => f.write_str("input too large"),
            JsonErrorKind::TrailingCharacters => f.write_str("trailing characters after the JSON value"),
        }
    }
}

/// Parses one JSON document with [`Limits::default`] (4 MiB, depth 64).
///
/// # Errors
///
/// See [`parse_with`].
pub fn parse(bytes: &[u8]) -> Result<Value, JsonError> {
    parse_with(bytes, &Limits::default())
}

/// Parses one JSON document: a single value, optionally surrounded by
/// whitespace (space, tab, line feed, carriage return).
///
/// The input must be UTF-8 without a byte-order mark. Inputs longer than
/// `limits.max_bytes` are refused before anything else is looked at.
///
/// # Errors
///
/// A [`JsonError`] for the first problem found, with the byte offset where
/// it was detected; [`JsonErrorKind`] lists the cases.
pub fn parse_with(bytes: &[u8], limits: &Limits) -> Result<Value, JsonError> {
    parse::parse_document(bytes, limits)
}
