//! The `$filter` lexer and literal recognisers (also used for keys and alias values).

use super::FilterError;
use crate::query::Literal;
use std::borrow::Cow;
use uuid::Uuid;

/// A token, borrowing from the text lexed (only a string literal with `''` escapes owns its
/// unescaped text).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok<'t> {
    Ident(&'t str),
    Str(Cow<'t, str>),
    Number(&'t str),
    Guid(Uuid),
    DateTime(&'t str),
    Date(&'t str),
    Open,
    Close,
    Comma,
    Slash,
    Colon,
    Equals,
    LBracket,
    RBracket,
}

pub(super) fn lex(text: &str) -> Result<Vec<(usize, Tok<'_>)>, FilterError> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(text.len() / 4);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' => i += 1,
            b'(' => {
                out.push((start, Tok::Open));
                i += 1;
            }
            b'=' | b'[' | b']' => {
                let tok = match c {
                    b'=' => Tok::Equals,
                    b'[' => Tok::LBracket,
                    _ => Tok::RBracket,
                };
                out.push((start, tok));
                i += 1;
            }
            b'"' => {
                // Double-quoted strings appear only in query-function value lists (["a","b"]).
                let end = text[i + 1..]
                    .find('"')
                    .map(|e| i + 1 + e)
                    .ok_or_else(|| FilterError::Syntax(format!("unterminated string literal at position {start}")))?;
                let inner = &text[i + 1..end];
                if inner.contains('\\') {
                    return Err(FilterError::Syntax(format!(
                        "escapes are not supported in \"…\" strings (position {start})"
                    )));
                }
                out.push((start, Tok::Str(Cow::Borrowed(inner))));
                i = end + 1;
            }
            b')' => {
                out.push((start, Tok::Close));
                i += 1;
            }
            b',' => {
                out.push((start, Tok::Comma));
                i += 1;
            }
            b'/' => {
                out.push((start, Tok::Slash));
                i += 1;
            }
            b':' => {
                out.push((start, Tok::Colon));
                i += 1;
            }
            b'\'' => {
                // `'…'` with `''` for a quote; a quote byte never occurs inside a UTF-8 sequence.
                let content = i + 1;
                let mut escaped = false;
                i = content;
                loop {
                    let Some(q) = b[i..].iter().position(|&c| c == b'\'') else {
                        return Err(FilterError::Syntax(format!("unterminated string literal at position {start}")));
                    };
                    i += q;
                    if b.get(i + 1) == Some(&b'\'') {
                        escaped = true;
                        i += 2;
                        continue;
                    }
                    break;
                }
                let inner = &text[content..i];
                i += 1;
                let s = if escaped { Cow::Owned(inner.replace("''", "'")) } else { Cow::Borrowed(inner) };
                out.push((start, Tok::Str(s)));
            }
            _ if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'@' || c == b'$' => {
                let word_end = scan(b, i, |x| x.is_ascii_alphanumeric() || matches!(x, b'_' | b'.' | b'@' | b'$'));
                let literal_end = scan(b, i, |x| x.is_ascii_alphanumeric() || matches!(x, b'-' | b'.' | b':' | b'+'));
                let literal = &text[i..literal_end];
                if let Some(tok) = literal_token(literal) {
                    out.push((start, tok));
                    i = literal_end;
                } else if c == b'-' || c.is_ascii_digit() {
                    return Err(FilterError::Syntax(format!("invalid literal '{literal}' at position {start}")));
                } else {
                    out.push((start, Tok::Ident(&text[i..word_end])));
                    i = word_end;
                }
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(FilterError::Syntax(format!("unexpected character '{ch}' at position {start}")));
            }
        }
    }
    Ok(out)
}

/// Replaces each parameter alias (`@p1`) by the tokens of its value (spec §3.5); an alias given
/// no value is `null`. Values may not refer to other aliases.
pub(super) fn substitute_aliases<'t>(
    toks: Vec<(usize, Tok<'t>)>,
    aliases: &[(&'t str, &'t str)],
) -> Result<Vec<(usize, Tok<'t>)>, FilterError> {
    if !toks.iter().any(|(_, t)| matches!(t, Tok::Ident(n) if n.starts_with('@'))) {
        return Ok(toks);
    }
    let mut out = Vec::with_capacity(toks.len());
    for (pos, tok) in toks {
        let Tok::Ident(name) = &tok else {
            out.push((pos, tok));
            continue;
        };
        if !name.starts_with('@') {
            out.push((pos, tok));
            continue;
        }
        match aliases.iter().find(|(n, _)| n == name) {
            None => out.push((pos, Tok::Ident("null"))),
            Some((_, value)) => {
                let value_toks = lex(value)?;
                if value_toks.is_empty() {
                    out.push((pos, Tok::Ident("null")));
                }
                for (_, t) in value_toks {
                    if matches!(&t, Tok::Ident(n) if n.starts_with('@')) {
                        return Err(FilterError::Syntax(format!("The value of {name} refers to another alias")));
                    }
                    out.push((pos, t));
                }
            }
        }
    }
    Ok(out)
}

fn scan(b: &[u8], mut i: usize, ok: impl Fn(u8) -> bool) -> usize {
    while i < b.len() && ok(b[i]) {
        i += 1;
    }
    i
}

/// A literal as it appears in a key or an alias value: `'text'` (with `''`), a GUID, a date,
/// a date-time, a number, `true`, `false` or `null`.
pub(crate) fn parse_literal(text: &str) -> Option<Literal> {
    if let Some(inner) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        if text.len() < 2 || inner.replace("''", "").contains('\'') {
            return None;
        }
        return Some(Literal::String(inner.replace("''", "'")));
    }
    match text {
        "null" => return Some(Literal::Null),
        "true" => return Some(Literal::Boolean(true)),
        "false" => return Some(Literal::Boolean(false)),
        _ => {}
    }
    Some(match literal_token(text)? {
        Tok::Guid(g) => Literal::Guid(g),
        Tok::Date(d) => Literal::Date(d.to_owned()),
        Tok::DateTime(d) => Literal::DateTime(d.to_owned()),
        Tok::Number(n) => match n.parse::<i64>() {
            Ok(v) if !n.contains(['.', 'e', 'E']) => Literal::Integer(v),
            _ => Literal::Decimal(n.to_owned()),
        },
        _ => return None,
    })
}

/// Recognises GUID, date, date-time and number literals.
fn literal_token(s: &str) -> Option<Tok<'_>> {
    if s.len() == 36
        && let Ok(g) = Uuid::try_parse(s)
    {
        return s.chars().nth(8).filter(|c| *c == '-').map(|_| Tok::Guid(g));
    }
    if is_date(s) {
        return Some(Tok::Date(s));
    }
    if is_datetime(s) {
        return Some(Tok::DateTime(s));
    }
    if is_number(s) {
        return Some(Tok::Number(s));
    }
    None
}

/// `YYYY-MM-DD`, a real calendar day (leap years included).
pub(crate) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if !(b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9].iter().all(|&i| b[i].is_ascii_digit()))
    {
        return false;
    }
    let (y, m, d) = (num(&s[0..4]), num(&s[5..7]), num(&s[8..10]));
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// The value of an all-digit string (checked by the caller).
fn num(s: &str) -> u32 {
    s.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0'))
}

/// `YYYY-MM-DDThh:mm[:ss[.f+]](Z|±hh:mm)`
pub(crate) fn is_datetime(s: &str) -> bool {
    let Some((date, time)) = s.split_once('T') else { return false };
    if !is_date(date) {
        return false;
    }
    let (clock, zone_ok) = if let Some(c) = time.strip_suffix('Z') {
        (c, true)
    } else if time.len() > 6 {
        let (c, z) = time.split_at(time.len() - 6);
        let zb = z.as_bytes();
        let ok =
            (zb[0] == b'+' || zb[0] == b'-') && zb[3] == b':' && [1, 2, 4, 5].iter().all(|&i| zb[i].is_ascii_digit());
        (c, ok)
    } else {
        return false;
    };
    if !zone_ok {
        return false;
    }
    let (hms, frac) = clock.split_once('.').map_or((clock, None), |(a, f)| (a, Some(f)));
    if let Some(f) = frac
        && (f.is_empty() || f.len() > 7 || !f.bytes().all(|x| x.is_ascii_digit()))
    {
        return false;
    }
    let parts: Vec<&str> = hms.split(':').collect();
    if !(parts.len() == 2 || parts.len() == 3) || (frac.is_some() && parts.len() != 3) {
        return false;
    }
    let limits = [23, 59, 59];
    parts.iter().zip(limits).all(|(p, max)| p.len() == 2 && p.parse::<u32>().is_ok_and(|v| v <= max))
}

/// JSON-style number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
pub(crate) fn is_number(s: &str) -> bool {
    let b = s.strip_prefix('-').unwrap_or(s).as_bytes();
    let mut i = scan(b, 0, |x| x.is_ascii_digit());
    if i == 0 || (b[0] == b'0' && i > 1) {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        let j = scan(b, i + 1, |x| x.is_ascii_digit());
        if j == i + 1 {
            return false;
        }
        i = j;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let j = scan(b, i, |x| x.is_ascii_digit());
        if j == i {
            return false;
        }
        i = j;
    }
    i == b.len()
}
