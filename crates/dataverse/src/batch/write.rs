//! Printing request batches and batch responses canonically.
//!
//! Shape (spec §7.2/§7.3, fixtures README §3 "Shape accepted by both clients"): CRLF everywhere; no
//! preamble; each part `Content-Type: application/http`, `Content-Transfer-Encoding: binary`, the
//! `Content-ID` if any, an empty line, the start line, the headers, an empty line, the body, CRLF;
//! a change set is a part whose ONLY header line is `Content-Type: multipart/mixed; boundary=…`
//! (DWA's response parser drops exactly one line there, README §1.3), closed by `--cs--` and CRLF;
//! the batch ends `--b--` CRLF.
//!
//! Boundaries are `batch_<id>`/`changeset_<id>_<k>` (requests) and
//! `batchresponse_<id>`/`changesetresponse_<id>_<k>` (responses; DWA needs these prefixes), `<k>`
//! counting change sets from 1. Each is checked against the content it encloses and gets a `_<n>`
//! suffix if its delimiter text occurs there, so any body can be framed.
//!
//! The writers run the readers' checks first, so `read_batch(write_batch(b))` gives `b` back and
//! `read_batch_response(write_batch_response(r))` gives `r` (a caller's `Content-Length` header is
//! dropped: it is recomputed for request bodies and left out of responses, as in the accepted shape).

use std::collections::HashSet;

use super::error::{BatchError, PartProblem};
use super::syntax;
use super::{Batch, Item, Part, PartResponse, ResponseItem};

/// A printed multipart body and the `Content-Type` (with its boundary) to send it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framed {
    /// `multipart/mixed; boundary=…`.
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
}

/// Prints a request batch. `id` (e.g. a UUID) makes the boundaries unique; characters other than
/// ASCII letters, digits, `-` and `_` are dropped and it is cut to 36 characters.
///
/// Refused like [`read_batch`](super::read_batch) would refuse the output: invalid methods, targets,
/// headers or Content-IDs, an inner `Transfer-Encoding`, GET in a change set, an empty change set,
/// a Content-ID used twice in one scope.
pub fn write_batch(batch: &Batch, id: &str) -> Result<Framed, BatchError> {
    let id = clean_id(id);
    let mut number = 0;
    let mut top_ids = HashSet::new();
    let mut top = Vec::with_capacity(batch.items.len());
    for (k, item) in batch.items.iter().enumerate() {
        match item {
            Item::Request(part) => {
                number += 1;
                let at = |p| BatchError::part(number, p);
                unique(&mut top_ids, &part.content_id, "outside change sets").map_err(at)?;
                top.push(request_part(part, false).map_err(at)?);
            }
            Item::ChangeSet(parts) => {
                if parts.is_empty() {
                    return Err(BatchError::part(number + 1, PartProblem::EmptyChangeSet));
                }
                let mut ids = HashSet::new();
                let mut inner = Vec::with_capacity(parts.len());
                for part in parts {
                    number += 1;
                    let at = |p| BatchError::part(number, p);
                    unique(&mut ids, &part.content_id, "in the same change set").map_err(at)?;
                    inner.push(request_part(part, true).map_err(at)?);
                }
                top.push(change_set(&format!("changeset_{id}_{}", k + 1), &inner)?);
            }
        }
    }
    framed(&format!("batch_{id}"), &top)
}

/// Prints a batch response (spec §7.3) in the shape both real clients parse: status lines carry
/// [`reason_phrase`]s (letters, digits and spaces only: DWA's status regex fails on
/// `Pre-condition Failed`, README §1.3), change-set parts echo their Content-ID.
pub fn write_batch_response(items: &[ResponseItem], id: &str) -> Result<Framed, BatchError> {
    let id = clean_id(id);
    let mut number = 0;
    let mut top = Vec::with_capacity(items.len());
    for (k, item) in items.iter().enumerate() {
        match item {
            ResponseItem::Response(response) => {
                number += 1;
                top.push(response_part(response).map_err(|p| BatchError::part(number, p))?);
            }
            ResponseItem::ChangeSet(responses) => {
                if responses.is_empty() {
                    return Err(BatchError::part(number + 1, PartProblem::EmptyChangeSet));
                }
                let mut inner = Vec::with_capacity(responses.len());
                for response in responses {
                    number += 1;
                    inner.push(response_part(response).map_err(|p| BatchError::part(number, p))?);
                }
                top.push(change_set(&format!("changesetresponse_{id}_{}", k + 1), &inner)?);
            }
        }
    }
    framed(&format!("batchresponse_{id}"), &top)
}

/// The reason phrase written after `code`: the standard phrase, with `Multi-Status` as
/// `Multi Status`, or the class name (`Success`, `Client Error`, …) for codes not in the table.
/// Only letters and spaces (fixtures README §1.3).
pub fn reason_phrase(code: u16) -> &'static str {
    standard_reason(code).unwrap_or(match code {
        100..=199 => "Informational",
        200..=299 => "Success",
        300..=399 => "Redirection",
        400..=499 => "Client Error",
        _ => "Server Error",
    })
}

fn standard_reason(code: u16) -> Option<&'static str> {
    Some(match code {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        207 => "Multi Status",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => return None,
    })
}

fn clean_id(id: &str) -> String {
    let id: String = id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').take(36).collect();
    if id.is_empty() { "0".to_owned() } else { id }
}

fn unique(seen: &mut HashSet<String>, id: &Option<String>, scope: &'static str) -> Result<(), PartProblem> {
    match id {
        Some(id) if !seen.insert(id.clone()) => Err(PartProblem::DuplicateContentId { id: id.clone(), scope }),
        _ => Ok(()),
    }
}

/// The MIME headers and the empty line of an `application/http` part.
fn mime_headers(out: &mut Vec<u8>, content_id: &Option<String>) -> Result<(), PartProblem> {
    out.extend_from_slice(b"Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
    if let Some(id) = content_id {
        syntax::check_content_id(id)?;
        push_line(out, &format!("Content-ID: {id}"));
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

fn request_part(part: &Part, in_change_set: bool) -> Result<Vec<u8>, PartProblem> {
    syntax::check_method(&part.method)?;
    syntax::check_target(&part.target, usize::MAX)?;
    if in_change_set && part.method == "GET" {
        return Err(PartProblem::GetInChangeSet);
    }
    let mut out = Vec::with_capacity(part.body.len() + part.target.len() + 256);
    mime_headers(&mut out, &part.content_id)?;
    push_line(&mut out, &format!("{} {} {}", part.method, part.target, syntax::VERSION));
    headers(&mut out, &part.headers)?;
    if !part.body.is_empty() {
        push_line(&mut out, &format!("Content-Length: {}", part.body.len()));
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&part.body);
    Ok(out)
}

fn response_part(response: &PartResponse) -> Result<Vec<u8>, PartProblem> {
    syntax::check_status(response.status)?;
    let mut out = Vec::with_capacity(response.body.len() + 256);
    mime_headers(&mut out, &response.content_id)?;
    push_line(&mut out, &format!("{} {} {}", syntax::VERSION, response.status, reason_phrase(response.status)));
    headers(&mut out, &response.headers)?;
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&response.body);
    Ok(out)
}

fn headers(out: &mut Vec<u8>, headers: &[(String, String)]) -> Result<(), PartProblem> {
    for (name, value) in headers {
        syntax::check_header(name, value)?;
        if !name.eq_ignore_ascii_case("content-length") {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            push_line(out, value);
        }
    }
    Ok(())
}

fn push_line(out: &mut Vec<u8>, line: &str) {
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// A change-set part: its one header line, then the nested multipart with its close delimiter.
fn change_set(base: &str, parts: &[Vec<u8>]) -> Result<Vec<u8>, BatchError> {
    let boundary = choose_boundary(base, parts)?;
    let mut out = format!("Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n").into_bytes();
    multipart(&mut out, &boundary, parts);
    Ok(out)
}

fn framed(base: &str, parts: &[Vec<u8>]) -> Result<Framed, BatchError> {
    let boundary = choose_boundary(base, parts)?;
    let mut body = Vec::with_capacity(parts.iter().map(|p| p.len() + boundary.len() + 8).sum::<usize>() + 64);
    multipart(&mut body, &boundary, parts);
    Ok(Framed { content_type: format!("multipart/mixed; boundary={boundary}"), body })
}

/// `--b CRLF part CRLF` for each part, then `--b-- CRLF`.
fn multipart(out: &mut Vec<u8>, boundary: &str, parts: &[Vec<u8>]) {
    for part in parts {
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--\r\n");
}

/// `base`, or `base_1`, `base_2`, … : the first whose `--boundary` occurs in no part.
fn choose_boundary(base: &str, parts: &[Vec<u8>]) -> Result<String, BatchError> {
    for n in 0..1000u32 {
        let candidate = if n == 0 { base.to_owned() } else { format!("{base}_{n}") };
        let delimiter = format!("--{candidate}");
        let finder = memchr::memmem::Finder::new(delimiter.as_bytes());
        if !parts.iter().any(|part| finder.find(part).is_some()) {
            return Ok(candidate);
        }
    }
    Err(BatchError::BoundaryCollision)
}
