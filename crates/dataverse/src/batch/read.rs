//! Reading request batches and batch responses.

use std::collections::HashSet;

use super::error::{BatchError, PartProblem, quote};
use super::frame;
use super::syntax::{self, HeaderBlock};
use super::{Batch, BatchLimits, Item, Part, PartResponse, ResponseItem};

/// Reads a `$batch` request body. `content_type` is the outer request's `Content-Type` header.
///
/// Accepts both real clients' shapes (fixtures README §1.2, §2.2): `boundary=` quoted or not, any
/// case, spaces around `;`; CRLF or bare LF line endings; a preamble (DWA starts the body with CRLF);
/// inner header blocks not ended by an empty line (DWA's body-less GET/DELETE parts); bodies with
/// or without a trailing CRLF; Content-IDs repeated across change sets (DWA restarts its counter at
/// 100001 in every change set). Everything else that is not understood is refused (module docs).
///
/// References (`$n`) are not checked here: call [`Batch::check_references`].
pub fn read_batch(content_type: &str, body: &[u8], limits: &BatchLimits) -> Result<Batch, BatchError> {
    let mut seen = HashSet::new();
    let groups = read_groups(content_type, body, limits, |content_id, message, scope| {
        let part = request(content_id, message, scope != Scope::Top, limits)?;
        // Scopes follow OData 4.0 (Dataverse's version): one per change set, plus one for the
        // top-level parts, because DWA reuses 100001… in every change set of a batch (fixtures
        // README §1.2) and `$n` only resolves inside its change set.
        if let Some(id) = &part.content_id
            && !seen.insert((scope, id.clone()))
        {
            let scope = if scope == Scope::Top { "outside change sets" } else { "in the same change set" };
            return Err(PartProblem::DuplicateContentId { id: id.clone(), scope });
        }
        Ok(part)
    })?;
    let items = groups.into_iter().map(|group| match group {
        Group::One(part) => Item::Request(part),
        Group::ChangeSet(parts) => Item::ChangeSet(parts),
    });
    Ok(Batch { items: items.collect() })
}

/// Reads a batch response body (an upstream's, which the gateway filters part by part), with the
/// same framing rules as [`read_batch`]. The reason phrase of each status line is not kept.
pub fn read_batch_response(
    content_type: &str,
    body: &[u8],
    limits: &BatchLimits,
) -> Result<Vec<ResponseItem>, BatchError> {
    let groups =
        read_groups(content_type, body, limits, |content_id, message, _| response(content_id, message, limits))?;
    let items = groups.into_iter().map(|group| match group {
        Group::One(response) => ResponseItem::Response(response),
        Group::ChangeSet(responses) => ResponseItem::ChangeSet(responses),
    });
    Ok(items.collect())
}

/// A top-level part or a change set, before it becomes an [`Item`] or a [`ResponseItem`].
enum Group<P> {
    One(P),
    ChangeSet(Vec<P>),
}

/// Where a part sits: outside change sets, or in the n-th top-level item (a change set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Scope {
    Top,
    ChangeSet(usize),
}

/// The framing shared by requests and responses: outer boundary, MIME parts, change sets, part
/// numbers and count; `read_part` reads each HTTP message.
fn read_groups<P>(
    content_type: &str,
    body: &[u8],
    limits: &BatchLimits,
    mut read_part: impl FnMut(Option<String>, &[u8], Scope) -> Result<P, PartProblem>,
) -> Result<Vec<Group<P>>, BatchError> {
    let top = outer_parts(content_type, body, limits)?;
    let mut reader = Reader { limits, count: 0 };
    let mut groups = Vec::with_capacity(top.parts.len());
    for (index, raw) in top.parts.into_iter().enumerate() {
        match mime_part(raw, &top.boundary, limits).map_err(|p| BatchError::part(reader.count + 1, p))? {
            Mime::Http { content_id, message } => {
                let number = reader.next()?;
                let part = read_part(content_id, message, Scope::Top).map_err(|p| BatchError::part(number, p))?;
                groups.push(Group::One(part));
            }
            Mime::ChangeSet { boundary, content } => {
                let first = reader.count + 1;
                let inner = change_set_parts(content, &boundary).map_err(|p| BatchError::part(first, p))?;
                let mut parts = Vec::with_capacity(inner.len());
                for raw in inner {
                    let number = reader.next()?;
                    let at = |p| BatchError::part(number, p);
                    let Mime::Http { content_id, message } = mime_part(raw, &boundary, limits).map_err(at)? else {
                        return Err(at(PartProblem::NestedChangeSet));
                    };
                    parts.push(read_part(content_id, message, Scope::ChangeSet(index)).map_err(at)?);
                }
                groups.push(Group::ChangeSet(parts));
            }
        }
    }
    Ok(groups)
}

/// Counts parts against [`BatchLimits::max_parts`].
struct Reader<'l> {
    limits: &'l BatchLimits,
    count: usize,
}

impl Reader<'_> {
    fn next(&mut self) -> Result<usize, BatchError> {
        self.count += 1;
        if self.count > self.limits.max_parts {
            return Err(BatchError::TooManyParts(self.limits.max_parts));
        }
        Ok(self.count)
    }
}

struct Outer<'a> {
    boundary: String,
    parts: Vec<&'a [u8]>,
}

/// The outer boundary and the top-level parts.
fn outer_parts<'a>(content_type: &str, body: &'a [u8], limits: &BatchLimits) -> Result<Outer<'a>, BatchError> {
    let media = syntax::parse_media_type(content_type).map_err(BatchError::ContentType)?;
    if media.essence != "multipart/mixed" {
        return Err(BatchError::NotMultipart(quote(&media.essence)));
    }
    let boundary = media.boundary.ok_or(BatchError::MissingBoundary)?;
    if !syntax::is_boundary(&boundary) {
        return Err(BatchError::InvalidBoundary(quote(&boundary)));
    }
    if body.len() > limits.max_body {
        return Err(BatchError::TooLarge(limits.max_body));
    }
    let split = frame::split(body, &boundary);
    if !split.closed {
        return Err(BatchError::NotClosed(boundary));
    }
    if split.parts.len() > limits.max_parts {
        return Err(BatchError::TooManyParts(limits.max_parts));
    }
    Ok(Outer { boundary, parts: split.parts })
}

/// The parts of a change set's multipart content.
fn change_set_parts<'a>(content: &'a [u8], boundary: &str) -> Result<Vec<&'a [u8]>, PartProblem> {
    let split = frame::split(content, boundary);
    if !split.closed {
        return Err(PartProblem::ChangeSetNotClosed(boundary.to_owned()));
    }
    if split.parts.is_empty() {
        return Err(PartProblem::EmptyChangeSet);
    }
    Ok(split.parts)
}

/// A MIME part: an HTTP message or a change set.
enum Mime<'a> {
    Http { content_id: Option<String>, message: &'a [u8] },
    ChangeSet { boundary: String, content: &'a [u8] },
}

/// Reads a part's MIME headers (spec §7.1): `Content-Type: application/http` (parameters allowed),
/// `Content-Transfer-Encoding: binary` (may be missing), optional `Content-ID`; or
/// `Content-Type: multipart/mixed; boundary=…` for a change set. Any other header is refused.
fn mime_part<'a>(raw: &'a [u8], enclosing: &str, limits: &BatchLimits) -> Result<Mime<'a>, PartProblem> {
    if raw.is_empty() {
        return Err(PartProblem::Empty);
    }
    let HeaderBlock { headers, end, blank_line } = syntax::read_headers(raw, 0, limits)?;
    if !blank_line {
        return Err(PartProblem::MimeHeadersNotEnded);
    }
    let (mut content_type, mut encoding, mut content_id) = (None, None, None);
    for (name, value) in &headers {
        let slot = match name.to_ascii_lowercase().as_str() {
            "content-type" => &mut content_type,
            "content-transfer-encoding" => &mut encoding,
            "content-id" => &mut content_id,
            _ => return Err(PartProblem::UnexpectedMimeHeader { name: quote(name), on: "a batch part" }),
        };
        if slot.replace(value.as_str()).is_some() {
            return Err(PartProblem::DuplicateMimeHeader(quote(name)));
        }
    }
    if let Some(encoding) = encoding
        && !encoding.eq_ignore_ascii_case("binary")
    {
        return Err(PartProblem::TransferEncoding(quote(encoding)));
    }
    let media = syntax::parse_media_type(content_type.ok_or(PartProblem::MissingContentType)?)
        .map_err(PartProblem::ContentType)?;
    match media.essence.as_str() {
        "application/http" => {
            let content_id = content_id.map(syntax::content_id_value).transpose()?;
            Ok(Mime::Http { content_id, message: &raw[end..] })
        }
        "multipart/mixed" => {
            if content_id.is_some() {
                return Err(PartProblem::UnexpectedMimeHeader { name: "Content-ID".into(), on: "a change set part" });
            }
            let boundary = media.boundary.ok_or(PartProblem::ChangeSetBoundaryMissing)?;
            if !syntax::is_boundary(&boundary) {
                return Err(PartProblem::ChangeSetBoundaryInvalid(quote(&boundary)));
            }
            if boundary.starts_with(enclosing) || enclosing.starts_with(boundary.as_str()) {
                return Err(PartProblem::ChangeSetBoundaryClash(quote(&boundary)));
            }
            Ok(Mime::ChangeSet { boundary, content: &raw[end..] })
        }
        other => Err(PartProblem::UnsupportedContentType(quote(other))),
    }
}

/// The inner request: request line, headers (an empty line or the end of the part ends them),
/// body.
fn request(
    content_id: Option<String>,
    message: &[u8],
    in_change_set: bool,
    limits: &BatchLimits,
) -> Result<Part, PartProblem> {
    let (line, next) = syntax::next_line(message, 0);
    if line.is_empty() {
        return Err(PartProblem::MissingRequestLine);
    }
    let (method, target) = syntax::request_line(line, limits)?;
    if in_change_set && method == "GET" {
        return Err(PartProblem::GetInChangeSet);
    }
    let (headers, body) = headers_and_body(message, next, limits)?;
    Ok(Part { content_id, method, target, headers, body })
}

/// The inner response: status line, headers, body.
fn response(content_id: Option<String>, message: &[u8], limits: &BatchLimits) -> Result<PartResponse, PartProblem> {
    let (line, next) = syntax::next_line(message, 0);
    if line.is_empty() {
        return Err(PartProblem::StatusLine(String::new()));
    }
    let status = syntax::status_line(line)?;
    let (headers, body) = headers_and_body(message, next, limits)?;
    Ok(PartResponse { content_id, status, headers, body })
}

/// Header lines as `(name, value)`.
type Headers = Vec<(String, String)>;

fn headers_and_body(message: &[u8], from: usize, limits: &BatchLimits) -> Result<(Headers, Vec<u8>), PartProblem> {
    let HeaderBlock { mut headers, end, .. } = syntax::read_headers(message, from, limits)?;
    let mut body = &message[end..];
    syntax::take_content_length(&mut headers, &mut body)?;
    Ok((headers, body.to_vec()))
}
