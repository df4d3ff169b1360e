//! RFC 2046 §5.1.1 splitting of a multipart body at its delimiter lines.
//!
//! A delimiter line is `--boundary`, optionally `--` (the close delimiter), then only spaces or tabs
//! (transport padding), then a line break (`\r\n` or a bare `\n`) or, for the close delimiter, the
//! end of the body. A line that merely starts with `--boundary` followed by anything else is content.
//! The line break before a delimiter belongs to the delimiter, so a part ends right before it. Text
//! before the first delimiter (preamble) and after the close delimiter (epilogue) is ignored.

/// The parts between delimiters, and whether a close delimiter ended them.
pub(super) struct Split<'a> {
    pub parts: Vec<&'a [u8]>,
    pub closed: bool,
}

/// Splits `body` at the delimiter lines of `boundary`.
pub(super) fn split<'a>(body: &'a [u8], boundary: &str) -> Split<'a> {
    let mut delimiter = Vec::with_capacity(boundary.len() + 2);
    delimiter.extend_from_slice(b"--");
    delimiter.extend_from_slice(boundary.as_bytes());
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    // Only where the delimiter text occurs can a delimiter line start: jump between those.
    for line_start in memchr::memmem::find_iter(body, &delimiter) {
        if line_start > 0 && body[line_start - 1] != b'\n' {
            continue;
        }
        let (line_end, next) = match memchr::memchr(b'\n', &body[line_start..]) {
            Some(i) => (line_start + i, line_start + i + 1),
            None => (body.len(), body.len()),
        };
        let mut line = &body[line_start..line_end];
        if let Some(stripped) = line.strip_suffix(b"\r") {
            line = stripped;
        }
        if let Some(close) = delimiter_kind(line, &delimiter) {
            if let Some(part_start) = start {
                parts.push(&body[part_start..content_end(body, part_start, line_start)]);
            }
            if close {
                return Split { parts, closed: true };
            }
            start = Some(next);
        }
    }
    Split { parts, closed: false }
}

/// `Some(true)` for a close delimiter line, `Some(false)` for a delimiter line, `None` for content.
fn delimiter_kind(line: &[u8], delimiter: &[u8]) -> Option<bool> {
    let rest = line.strip_prefix(delimiter)?;
    let (close, padding) = match rest.strip_prefix(b"--") {
        Some(after) => (true, after),
        None => (false, rest),
    };
    padding.iter().all(|&b| b == b' ' || b == b'\t').then_some(close)
}

/// Where the part that started at `start` ends, given the next delimiter line at `delimiter_start`:
/// before the line break preceding the delimiter, unless that break is the previous delimiter's own.
fn content_end(body: &[u8], start: usize, delimiter_start: usize) -> usize {
    let mut end = delimiter_start;
    if end > start && body[end - 1] == b'\n' {
        end -= 1;
        if end > start && body[end - 1] == b'\r' {
            end -= 1;
        }
    }
    end
}
