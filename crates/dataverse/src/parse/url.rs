//! Percent-decoding of path segments and query strings (design §6.1): in query names and values a
//! raw `+` is a space and `%2B` a plus; everything is decoded exactly once; the result must be
//! UTF-8. Path segments must not decode to `/`, `.` or `..`.

use super::ParseError;
use std::borrow::Cow;

/// Decodes `%XX` escapes once; `plus_is_space` applies form encoding (query strings only).
pub(crate) fn decode(raw: &str, plus_is_space: bool) -> Result<Cow<'_, str>, ParseError> {
    let bytes = raw.as_bytes();
    if !bytes.iter().any(|&b| b == b'%' || (plus_is_space && b == b'+')) {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let value = match bytes.get(i + 1..i + 3) {
                    Some(&[hi, lo]) => nibble(hi).zip(nibble(lo)).map(|(h, l)| (h << 4) | l),
                    _ => None,
                };
                let value = value.ok_or_else(|| {
                    ParseError::Syntax(format!("Invalid percent-encoding at '{}'", truncate(&raw[i..])))
                })?;
                out.push(value);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| ParseError::Syntax("The URL does not decode to valid UTF-8".into()))
}

/// The value of one hex digit.
fn nibble(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(3) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Splits a raw path into decoded segments, refusing empty, `.` and `..` segments and encoded
/// slashes. A single trailing slash is allowed and dropped.
pub(crate) fn path_segments(raw_path: &str) -> Result<Vec<Cow<'_, str>>, ParseError> {
    let trimmed =
        raw_path.strip_prefix('/').ok_or_else(|| ParseError::Syntax("The path must start with '/'".into()))?;
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let mut out = Vec::new();
    for raw in trimmed.split('/') {
        if raw.is_empty() {
            return Err(ParseError::Syntax("The path contains an empty segment ('//')".into()));
        }
        let seg = decode(raw, false)?;
        if seg == "." || seg == ".." {
            return Err(ParseError::Syntax("The path contains a '.' or '..' segment".into()));
        }
        if seg.contains('/') || seg.contains('\\') {
            return Err(ParseError::Syntax(format!("The path segment '{seg}' contains an encoded slash")));
        }
        if seg.chars().any(char::is_control) {
            return Err(ParseError::Syntax("The path contains a control character".into()));
        }
        out.push(seg);
    }
    Ok(out)
}

/// One query option: decoded name and value, and the value exactly as received (opaque tokens
/// such as `$skiptoken` are forwarded byte for byte).
#[derive(Debug)]
pub(crate) struct Pair<'a> {
    pub name: Cow<'a, str>,
    pub value: Cow<'a, str>,
    pub raw_value: &'a str,
}

/// Splits a raw query string into decoded pairs in order. Empty pieces (`&&`) are skipped; a
/// piece without `=` has an empty value.
pub(crate) fn query_pairs(raw_query: &str) -> Result<Vec<Pair<'_>>, ParseError> {
    let mut out = Vec::with_capacity(raw_query.bytes().filter(|&b| b == b'&').count() + 1);
    for piece in raw_query.split('&') {
        if piece.is_empty() {
            continue;
        }
        let (n, v) = piece.split_once('=').unwrap_or((piece, ""));
        out.push(Pair { name: decode(n, true)?, value: decode(v, true)?, raw_value: v });
    }
    Ok(out)
}

/// Splits on `sep` outside `quote`-delimited runs (Prefer values, key lists).
pub(crate) fn split_unquoted(s: &str, sep: char, quote: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        if c == quote {
            quoted = !quoted;
        } else if c == sep && !quoted {
            out.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}
