//! The strict RFC 8259 parser behind [`parse_with`](super::parse_with).
//!
//! Recursive descent over the validated `&str`, one Rust frame per nested
//! array or object; the depth is checked before each descent, so the stack
//! use is bounded by [`Limits::max_depth`].

use std::collections::HashSet;

use super::number::scan_number;
use super::{JsonError, JsonErrorKind, Limits, Number, Object, Value};

/// Objects with more members than this track names in a hash set, so that
/// duplicate detection stays linear on hostile input with many members.
const LINEAR_DUPLICATE_SCAN: usize = 16;

pub(super) fn parse_document(bytes: &[u8], limits: &Limits) -> Result<Value, JsonError> {
    if bytes.len() > limits.max_bytes {
        return Err(JsonError::new(limits.max_bytes, JsonErrorKind::TooLarge));
    }
    let src = std::str::from_utf8(bytes).map_err(|e| JsonError::new(e.valid_up_to(), JsonErrorKind::InvalidUtf8))?;
    let mut parser = Parser { src, bytes: src.as_bytes(), pos: 0, max_depth: limits.max_depth };
    let value = parser.value(0)?;
    parser.skip_whitespace();
    if parser.pos < parser.bytes.len() {
        return Err(JsonError::new(parser.pos, JsonErrorKind::TrailingCharacters));
    }
    Ok(value)
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    max_depth: usize,
}

impl Parser<'_> {
    fn end(&self) -> JsonError {
        JsonError::new(self.bytes.len(), JsonErrorKind::UnexpectedEnd)
    }

    /// The error for whatever is at `at`: the character there, or the end.
    fn unexpected(&self, at: usize) -> JsonError {
        if at >= self.bytes.len() {
            return self.end();
        }
        // `at` always follows ASCII bytes or a complete token, so it is a
        // char boundary; the replacement character covers the impossible case.
        let c = self.src.get(at..).and_then(|rest| rest.chars().next()).unwrap_or(char::REPLACEMENT_CHARACTER);
        JsonError::new(at, JsonErrorKind::UnexpectedCharacter(c))
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Parses one value at `depth` open containers (whitespace first).
    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.end()),
            Some(b'{') => self.object(depth).map(Value::Object),
            Some(b'[') => self.array(depth).map(Value::Array),
            Some(b'"') => self.string().map(Value::String),
            Some(b'-' | b'0'..=b'9') => self.number().map(Value::Number),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(_) => Err(self.unexpected(self.pos)),
        }
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Result<Value, JsonError> {
        for (i, &expected) in word.iter().enumerate() {
            match self.bytes.get(self.pos + i) {
                Some(&b) if b == expected => {}
                _ => return Err(self.unexpected(self.pos + i)),
            }
        }
        self.pos += word.len();
        Ok(value)
    }

    /// Enters a container at `self.pos` (its `[` or `{`), checking depth.
    fn open(&mut self, depth: usize) -> Result<(), JsonError> {
        if depth >= self.max_depth {
            return Err(JsonError::new(self.pos, JsonErrorKind::TooDeep));
        }
        self.pos += 1;
        self.skip_whitespace();
        Ok(())
    }

    /// After an element or member: consumes `,` (returns `true`, more
    /// follow) or `close` (returns `false`, done).
    fn separator(&mut self, close: u8) -> Result<bool, JsonError> {
        self.skip_whitespace();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(b) if b == close => {
                self.pos += 1;
                Ok(false)
            }
            _ => Err(self.unexpected(self.pos)),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Vec<Value>, JsonError> {
        self.open(depth)?;
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            items.push(self.value(depth + 1)?);
            if !self.separator(b']')? {
                return Ok(items);
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Object, JsonError> {
        self.open(depth)?;
        let mut members: Vec<(String, Value)> = Vec::new();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Object(members));
        }
        // Names are checked for duplicates as they come while the object is small; a larger
        // one is checked once at its end with a hash set of the names (linear on hostile input
        // with many members, and no copy of any name).
        let mut offsets: Vec<usize> = Vec::new();
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected(self.pos));
            }
            let name_at = self.pos;
            let name = self.string()?;
            if members.len() < LINEAR_DUPLICATE_SCAN {
                if members.iter().any(|(k, _)| *k == name) {
                    return Err(JsonError::new(name_at, JsonErrorKind::DuplicateMember(name)));
                }
            } else {
                if offsets.is_empty() {
                    offsets.resize(members.len(), 0);
                }
                offsets.push(name_at);
            }
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.unexpected(self.pos));
            }
            self.pos += 1;
            let value = self.value(depth + 1)?;
            members.push((name, value));
            if !self.separator(b'}')? {
                if members.len() > LINEAR_DUPLICATE_SCAN {
                    let mut seen: HashSet<&str, foldhash::fast::RandomState> =
                        HashSet::with_capacity_and_hasher(members.len(), foldhash::fast::RandomState::default());
                    if let Some(i) = members.iter().position(|(k, _)| !seen.insert(k.as_str())) {
                        let name = members[i].0.clone();
                        return Err(JsonError::new(offsets[i], JsonErrorKind::DuplicateMember(name)));
                    }
                }
                return Ok(Object(members));
            }
        }
    }

    fn number(&mut self) -> Result<Number, JsonError> {
        let start = self.pos;
        let invalid = JsonError::new(start, JsonErrorKind::InvalidNumber);
        let rest = self.bytes.get(start..).unwrap_or_default();
        let len = scan_number(rest).ok_or_else(|| invalid.clone())?;
        let end = start + len;
        // A complete number glued to more number characters (`01`, `1.2.3`,
        // `1e5e`, `1-2`) is one malformed number, not two tokens.
        let glued = matches!(self.bytes.get(end), Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'));
        if glued || len > Number::MAX_LEN {
            return Err(invalid);
        }
        self.pos = end;
        // The number is ASCII, so `start..end` lies on char boundaries.
        Ok(Number(self.src[start..end].to_owned()))
    }

    /// Parses a string literal at `self.pos` (its opening quote).
    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let run = self.pos;
            // Up to the next quote or backslash (a vectorised search), then a branch-free check
            // that the run holds no control character; only if it does is it walked byte by byte.
            let rest = self.bytes.get(run..).unwrap_or_default();
            let stop = memchr::memchr2(b'"', b'\\', rest).map_or(self.bytes.len(), |i| run + i);
            let span = self.bytes.get(run..stop).unwrap_or_default();
            self.pos = if span.iter().fold(false, |any, &b| any | (b < 0x20)) {
                run + span.iter().position(|&b| b < 0x20).unwrap_or(span.len())
            } else {
                stop
            };
            if out.capacity() == 0 {
                out.reserve_exact(self.pos - run);
            }
            // `run` and `self.pos` each sit just after an ASCII byte (the
            // quote or an escape) or on one (a delimiter), or at the end of
            // the input: all char boundaries, so the slice is valid.
            out.push_str(&self.src[run..self.pos]);
            match self.peek() {
                None => return Err(self.end()),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => out.push(self.escape()?),
                Some(_) => {
                    return Err(JsonError::new(self.pos, JsonErrorKind::ControlCharacterInString));
                }
            }
        }
    }

    /// Decodes the escape at `self.pos` (its backslash).
    fn escape(&mut self) -> Result<char, JsonError> {
        let at = self.pos;
        let Some(&kind) = self.bytes.get(at + 1) else {
            return Err(self.end());
        };
        self.pos = at + 2;
        let c = match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(at),
            _ => return Err(JsonError::new(at, JsonErrorKind::InvalidEscape)),
        };
        Ok(c)
    }

    /// Decodes `\uXXXX` (and a following low surrogate escape if the first
    /// is a high surrogate); `at` is the backslash, `self.pos` the first hex
    /// digit.
    fn unicode_escape(&mut self, at: usize) -> Result<char, JsonError> {
        let lone = JsonError::new(at, JsonErrorKind::LoneSurrogate);
        let unit = self.hex4(at)?;
        let code = match unit {
            0xD800..=0xDBFF => {
                if self.peek().is_none() {
                    return Err(self.end());
                }
                if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u".as_slice()) {
                    return Err(lone);
                }
                let low_at = self.pos;
                self.pos += 2;
                let low = self.hex4(low_at)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(lone);
                }
                0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(lone),
            _ => unit,
        };
        // Surrogates are excluded above and a pair gives at most U+10FFFF,
        // so this is always `Some`; the error arm only avoids a panic path.
        char::from_u32(code).ok_or(lone)
    }

    /// Reads four hex digits at `self.pos`; `at` is the escape's backslash.
    fn hex4(&mut self, at: usize) -> Result<u32, JsonError> {
        let mut unit: u32 = 0;
        for i in 0..4 {
            let digit = match self.bytes.get(self.pos + i) {
                None => return Err(self.end()),
                Some(&b) => char::from(b).to_digit(16),
            };
            let Some(digit) = digit else {
                return Err(JsonError::new(at, JsonErrorKind::InvalidEscape));
            };
            unit = (unit << 4) | digit;
        }
        self.pos += 4;
        Ok(unit)
    }
}
