//! Lexical rules shared by the readers and the writers: tokens, boundaries, media types, header
//! lines, request lines and Content-IDs. The writers run the same checks as the readers, so whatever
//! they print reads back unchanged.

use super::BatchLimits;
use super::error::{PartProblem, quote};

/// The methods a batch part may use (spec §7.1).
pub(super) const METHODS: [&str; 5] = ["GET", "POST", "PATCH", "PUT", "DELETE"];

/// The only inner HTTP version accepted and written.
pub(super) const VERSION: &str = "HTTP/1.1";

/// Longest accepted Content-ID.
const MAX_CONTENT_ID: usize = 128;

/// RFC 9110 `tchar`.
pub(super) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 9110 `token`.
pub(super) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// RFC 2046 `boundary`: 1 to 70 `bchars`, the last not a space.
pub(super) fn is_boundary(s: &str) -> bool {
    let bytes = s.as_bytes();
    (1..=70).contains(&bytes.len())
        && bytes.iter().all(|&b| b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b))
        && bytes.last() != Some(&b' ')
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// A parsed media type: lowercase `type/subtype` and the `boundary` parameter, if any.
pub(super) struct MediaType {
    pub essence: String,
    pub boundary: Option<String>,
}

/// Parses `type/subtype *( OWS ";" OWS [ name OWS "=" OWS ( token / quoted-string ) ] )` (RFC 9110
/// §8.3.1; whitespace around `=` and empty parameters tolerated). Names are case-insensitive
/// (`BOUNDARY=` works); a second `boundary` is refused. The error is a reason for a message.
pub(super) fn parse_media_type(value: &str) -> Result<MediaType, String> {
    let bytes = value.as_bytes();
    let end = bytes.iter().position(|&b| b == b';').unwrap_or(bytes.len());
    let essence = value[..end].trim_matches([' ', '\t']);
    let valid = essence.split_once('/').is_some_and(|(t, s)| is_token(t) && is_token(s));
    if !valid {
        return Err(format!("'{}' is not a media type", quote(essence)));
    }
    let mut boundary = None;
    let mut i = end;
    while i < bytes.len() {
        // At a ';'.
        i += 1;
        while i < bytes.len() && is_ows(bytes[i]) {
            i += 1;
        }
        if i == bytes.len() || bytes[i] == b';' {
            continue;
        }
        let name_start = i;
        while i < bytes.len() && is_tchar(bytes[i]) {
            i += 1;
        }
        let name = &value[name_start..i];
        while i < bytes.len() && is_ows(bytes[i]) {
            i += 1;
        }
        if name.is_empty() || i == bytes.len() || bytes[i] != b'=' {
            return Err(format!("parameter '{}' is not name=value", quote(&value[name_start..])));
        }
        i += 1;
        while i < bytes.len() && is_ows(bytes[i]) {
            i += 1;
        }
        let param = if bytes.get(i) == Some(&b'"') {
            let (text, next) = quoted_string(bytes, i + 1)
                .ok_or_else(|| format!("parameter {name} has an unterminated or invalid quoted value"))?;
            i = next;
            text
        } else {
            let start = i;
            while i < bytes.len() && is_tchar(bytes[i]) {
                i += 1;
            }
            if start == i {
                return Err(format!("parameter {name} has no value"));
            }
            value[start..i].to_owned()
        };
        while i < bytes.len() && is_ows(bytes[i]) {
            i += 1;
        }
        if i < bytes.len() && bytes[i] != b';' {
            return Err(format!("unexpected text after parameter {name}"));
        }
        if name.eq_ignore_ascii_case("boundary") {
            if boundary.is_some() {
                return Err("the boundary parameter appears twice".to_owned());
            }
            boundary = Some(param);
        }
    }
    Ok(MediaType { essence: essence.to_ascii_lowercase(), boundary })
}

/// The content of a quoted-string starting after its opening quote, and the index after the closing
/// quote. `None` when unterminated or holding control characters.
fn quoted_string(bytes: &[u8], mut i: usize) -> Option<(String, usize)> {
    let mut out = Vec::new();
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Some((String::from_utf8(out).ok()?, i + 1)),
            b'\\' => {
                let next = *bytes.get(i + 1)?;
                if next != b'\t' && (next < 0x20 || next == 0x7f) {
                    return None;
                }
                out.push(next);
                i += 2;
            }
            b if b != b'\t' && (b < 0x20 || b == 0x7f) => return None,
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}

/// The next line of `bytes` from `pos`: its text without the line break (`\n` or `\r\n`), and the
/// index after the break (or `bytes.len()`).
pub(super) fn next_line(bytes: &[u8], pos: usize) -> (&[u8], usize) {
    let rest = &bytes[pos..];
    match rest.iter().position(|&b| b == b'\n') {
        Some(i) => {
            let line = &rest[..i];
            (line.strip_suffix(b"\r").unwrap_or(line), pos + i + 1)
        }
        None => (rest, bytes.len()),
    }
}

/// A header block read from `pos`: the headers, the index after it, and whether it ended with an
/// empty line (`false`: it ran to the end of the part).
pub(super) struct HeaderBlock {
    pub headers: Vec<(String, String)>,
    pub end: usize,
    pub blank_line: bool,
}

/// Reads `Name: value` lines up to an empty line or the end of `bytes`.
pub(super) fn read_headers(bytes: &[u8], mut pos: usize, limits: &BatchLimits) -> Result<HeaderBlock, PartProblem> {
    let mut headers = Vec::new();
    let mut size = 0usize;
    while pos < bytes.len() {
        let (line, next) = next_line(bytes, pos);
        if line.is_empty() {
            return Ok(HeaderBlock { headers, end: next, blank_line: true });
        }
        size = size.saturating_add(line.len());
        if size > limits.max_header_bytes {
            return Err(PartProblem::HeadersTooLarge(limits.max_header_bytes));
        }
        if headers.len() >= limits.max_headers {
            return Err(PartProblem::TooManyHeaders(limits.max_headers));
        }
        headers.push(header_line(line)?);
        pos = next;
    }
    Ok(HeaderBlock { headers, end: bytes.len(), blank_line: false })
}

/// One `Name: value` line: the name a token right before the colon, the value trimmed of spaces
/// and tabs, no control characters; continuation lines (obs-fold) are refused.
fn header_line(line: &[u8]) -> Result<(String, String), PartProblem> {
    if line.first().is_some_and(|&b| is_ows(b)) {
        return Err(PartProblem::ObsFold);
    }
    let text = std::str::from_utf8(line).map_err(|_| PartProblem::NotUtf8("header line"))?;
    let (name, value) = text.split_once(':').ok_or_else(|| PartProblem::HeaderWithoutColon(quote(text)))?;
    let value = value.trim_matches([' ', '\t']);
    check_header(name, value)?;
    Ok((name.to_owned(), value.to_owned()))
}

/// A header a reader accepts and a writer prints.
pub(super) fn check_header(name: &str, value: &str) -> Result<(), PartProblem> {
    if !is_token(name) {
        return Err(PartProblem::InvalidHeaderName(quote(name)));
    }
    let bad = |c: char| c != '\t' && c.is_control();
    if value.contains(bad) || value.starts_with([' ', '\t']) || value.ends_with([' ', '\t']) {
        return Err(PartProblem::InvalidHeaderValue(name.to_owned()));
    }
    if name.eq_ignore_ascii_case("transfer-encoding") {
        return Err(PartProblem::InnerTransferEncoding);
    }
    Ok(())
}

/// `METHOD SP target SP HTTP/1.1`, split at the first and the last space because the Python SDK
/// sends targets with raw spaces (fixtures README §2.2). Returns method and target.
pub(super) fn request_line(line: &[u8], limits: &BatchLimits) -> Result<(String, String), PartProblem> {
    let text = std::str::from_utf8(line).map_err(|_| PartProblem::NotUtf8("request line"))?;
    let (Some(first), Some(last)) = (text.find(' '), text.rfind(' ')) else {
        return Err(PartProblem::RequestLine(quote(text)));
    };
    let method = &text[..first];
    check_method(method).map_err(|p| if is_token(method) { p } else { PartProblem::RequestLine(quote(text)) })?;
    if first == last {
        return Err(PartProblem::MissingVersion(quote(text)));
    }
    let version = &text[last + 1..];
    if version != VERSION {
        return Err(PartProblem::Version(quote(version)));
    }
    let target = &text[first + 1..last];
    check_target(target, limits.max_target)?;
    Ok((method.to_owned(), target.to_owned()))
}

/// One of [`METHODS`], case-sensitive.
pub(super) fn check_method(method: &str) -> Result<(), PartProblem> {
    if METHODS.contains(&method) { Ok(()) } else { Err(PartProblem::MethodNotAllowed(quote(method))) }
}

/// A non-empty target without control characters or surrounding whitespace, at most `max` bytes.
pub(super) fn check_target(target: &str, max: usize) -> Result<(), PartProblem> {
    if target.len() > max {
        return Err(PartProblem::TargetTooLong(max));
    }
    if target.is_empty() || target.contains(char::is_control) || target.starts_with(' ') || target.ends_with(' ') {
        return Err(PartProblem::InvalidTarget(quote(target)));
    }
    Ok(())
}

/// `HTTP/1.1 SP 3DIGIT [SP reason]`; returns the status.
pub(super) fn status_line(line: &[u8]) -> Result<u16, PartProblem> {
    let text = std::str::from_utf8(line).map_err(|_| PartProblem::NotUtf8("status line"))?;
    let bad = || PartProblem::StatusLine(quote(text));
    let rest = text.strip_prefix(VERSION).and_then(|r| r.strip_prefix(' ')).ok_or_else(bad)?;
    let (code, reason) = rest.split_at_checked(3).ok_or_else(bad)?;
    if !code.bytes().all(|b| b.is_ascii_digit()) || !(reason.is_empty() || reason.starts_with(' ')) {
        return Err(bad());
    }
    if reason.contains(|c: char| c != '\t' && c.is_control()) {
        return Err(bad());
    }
    let status: u16 = code.parse().map_err(|_| bad())?;
    check_status(status).map_err(|_| bad())?;
    Ok(status)
}

/// 100 to 599.
pub(super) fn check_status(status: u16) -> Result<(), PartProblem> {
    if (100..=599).contains(&status) { Ok(()) } else { Err(PartProblem::Status(status)) }
}

/// A MIME `Content-ID` value: trimmed, surrounding `<>` removed, then checked.
pub(super) fn content_id_value(raw: &str) -> Result<String, PartProblem> {
    let id = raw.trim_matches([' ', '\t']);
    let id = id.strip_prefix('<').and_then(|i| i.strip_suffix('>')).unwrap_or(id);
    check_content_id(id)?;
    Ok(id.to_owned())
}

/// 1 to 128 letters, digits or `-._~` (URL-unreserved, so `$id/…` needs no escaping).
pub(super) fn check_content_id(id: &str) -> Result<(), PartProblem> {
    let ok = (1..=MAX_CONTENT_ID).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if ok { Ok(()) } else { Err(PartProblem::InvalidContentId(quote(id))) }
}

/// Handles `Content-Length` in an inner header list: at most one, decimal, equal to the body length
/// (or to it minus one trailing line break, which is then dropped from the body: a client that
/// counts its body and still ends it with CRLF before the delimiter is unambiguous). Removes it.
pub(super) fn take_content_length(headers: &mut Vec<(String, String)>, body: &mut &[u8]) -> Result<(), PartProblem> {
    let mut declared = None;
    for (name, value) in headers.iter() {
        if name.eq_ignore_ascii_case("content-length") {
            if declared.is_some() {
                return Err(PartProblem::DuplicateContentLength);
            }
            let valid = !value.is_empty() && value.len() <= 19 && value.bytes().all(|b| b.is_ascii_digit());
            let n: u64 =
                value.parse().ok().filter(|_| valid).ok_or_else(|| PartProblem::InvalidContentLength(quote(value)))?;
            declared = Some(n);
        }
    }
    let Some(n) = declared else { return Ok(()) };
    headers.retain(|(name, _)| !name.eq_ignore_ascii_case("content-length"));
    let actual = body.len();
    let mismatch = PartProblem::ContentLengthMismatch { declared: n, actual };
    let n = usize::try_from(n).map_err(|_| mismatch.clone())?;
    if n == actual {
        return Ok(());
    }
    let rest = body.get(n..).ok_or_else(|| mismatch.clone())?;
    if rest == b"\r\n" || rest == b"\n" {
        *body = &body[..n];
        return Ok(());
    }
    Err(mismatch)
}
