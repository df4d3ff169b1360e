//! `$batch` multipart framing (spec §7, design §6.2): reading a client's `multipart/mixed` batch into
//! parts, re-printing a batch canonically, and the same two directions for batch responses.
//!
//! What it does:
//! * [`read_batch`] splits a request batch into top-level requests and change sets of requests, each
//!   [`Part`] holding the inner HTTP request as sent (method, target, headers, body) and its
//!   `Content-ID`. It refuses, with a [`BatchError`] naming the part and the problem, whatever two
//!   parsers could read two ways: a missing or malformed boundary, a missing close delimiter, unknown
//!   MIME headers, nested change sets, GET inside a change set, duplicate Content-IDs, an inner
//!   `Content-Length` that disagrees with the body, obsolete header folding, non-UTF-8 header text,
//!   more than [`BatchLimits::max_parts`] requests. It never panics.
//! * [`Batch::check_references`] checks every `$n` Content-ID reference (in targets, `@odata.bind`
//!   and `@odata.id` values) names a Content-ID declared earlier in the same change set.
//! * [`write_batch`] prints a [`Batch`] canonically (CRLF, `batch_`/`changeset_` boundaries that do
//!   not occur in the content, computed `Content-Length`); `read_batch` of its output gives the same
//!   batch back.
//! * [`read_batch_response`] and [`write_batch_response`] do the same for `batchresponse_` /
//!   `changesetresponse_` bodies, in the one shape both real clients are known to accept
//!   (`e2e/fixtures/batch/README.md` §1.3, §2.3, §3).
//!
//! What it does not do: no I/O; it does not interpret the inner requests. Checking an inner target
//! against the client-facing base (host, prefix, API version: design §6.1, §6.2), resolving `$n`
//! and turning a [`Part`] into a typed request is the caller's job with
//! [`parse_request`](crate::parse_request); deciding what it touches is
//! [`classify`](crate::classify())'s. The outer HTTP request (its headers,
//! `Prefer: odata.continue-on-error`) is the caller's too.
//!
//! An inner `Content-Length` is framing: readers check it against the delimited body and remove
//! it, the request writer computes it; it never appears in [`Part::headers`] or
//! [`PartResponse::headers`]. The MIME part headers (`Content-Type: application/http`,
//! `Content-Transfer-Encoding: binary`) are likewise checked on reading and written by the writers.

mod error;
mod frame;
mod read;
mod refs;
mod requests;
mod syntax;
mod write;

pub use error::{BatchError, PartProblem};
pub use read::{read_batch, read_batch_response};
pub use refs::content_id_ref;
pub use requests::{BatchRequests, TypedItem, TypedPart, parse_batch, print_batch};
pub use write::{Framed, reason_phrase, write_batch, write_batch_response};

/// Bounds applied while reading a batch (request or response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Most requests (or responses) in one batch, counting those inside change sets. Dataverse: 1000
    /// (spec §7.1).
    pub max_parts: usize,
    /// Largest accepted multipart body, in bytes.
    pub max_body: usize,
    /// Most header lines in one header block (a part's MIME headers or its inner HTTP headers).
    pub max_headers: usize,
    /// Most bytes in one header block, line endings not counted.
    pub max_header_bytes: usize,
    /// Longest inner request target, in bytes. Dataverse accepts GET URLs up to 64 KB inside a batch
    /// (spec §7.1), twice the limit of a direct request.
    pub max_target: usize,
}

impl BatchLimits {
    /// Dataverse's request count limit (spec §7.1).
    pub const DEFAULT_MAX_PARTS: usize = 1000;
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_parts: Self::DEFAULT_MAX_PARTS,
            max_body: 32 * 1024 * 1024,
            max_headers: 64,
            max_header_bytes: 64 * 1024,
            max_target: 64 * 1024,
        }
    }
}

/// A request batch: top-level requests and change sets, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Batch {
    /// The items in the order sent.
    pub items: Vec<Item>,
}

/// One item of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A request outside any change set.
    Request(Part),
    /// A change set: its requests run as one transaction (spec §7.1). Never empty, never a GET.
    ChangeSet(Vec<Part>),
}

/// One inner HTTP request of a batch, as sent. The HTTP version is always `HTTP/1.1` (anything else
/// is refused), so it is not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The part's `Content-ID`, trimmed and without surrounding `<>`: letters, digits, `-._~`.
    pub content_id: Option<String>,
    /// `GET`, `POST`, `PATCH`, `PUT` or `DELETE`.
    pub method: String,
    /// The request-target as sent: absolute URL, path-absolute, relative, or `$n[/…]`. Not
    /// percent-decoded; may contain raw spaces (the Python SDK sends
    /// `$filter=name eq 'O''Neil & Co'` unencoded, fixtures README §2.2), never control characters.
    pub target: String,
    /// Inner request headers in order, names as sent, values trimmed; without `Content-Length`.
    pub headers: Vec<(String, String)>,
    /// The body: the bytes between the empty line after the headers and the line break before the
    /// next delimiter (RFC 2046 §5.1.1: that line break belongs to the delimiter).
    pub body: Vec<u8>,
}

impl Batch {
    /// Every request in order, change sets flattened; the position (from 1) is the part number used
    /// in [`BatchError::Part`].
    pub fn parts(&self) -> impl Iterator<Item = &Part> {
        self.items.iter().flat_map(|item| match item {
            Item::Request(part) => std::slice::from_ref(part),
            Item::ChangeSet(parts) => parts.as_slice(),
        })
    }
}

/// One inner HTTP response of a batch response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartResponse {
    /// The echoed `Content-ID` (spec §7.3: on each change-set response part).
    pub content_id: Option<String>,
    /// Status code, 100 to 599. The reason phrase is not kept: [`write_batch_response`] writes its own
    /// ([`reason_phrase`]).
    pub status: u16,
    /// Response headers in order, names as sent, values trimmed; without `Content-Length`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// One item of a batch response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseItem {
    /// A response outside any change set (also a failed change set answered flat, spec §7.3).
    Response(PartResponse),
    /// A change-set response: one response per request, or only the failing one. Never empty.
    ChangeSet(Vec<PartResponse>),
}
