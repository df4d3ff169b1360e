//! Why a batch was refused. Each message names the problem precisely: it becomes the message of a
//! Dataverse 400 (design §6.2).

use crate::error::DataverseError;

/// A batch (or batch response) that cannot be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// The outer media type is not `multipart/mixed`.
    #[error("The batch Content-Type must be multipart/mixed, not '{0}'")]
    NotMultipart(String),
    /// The outer Content-Type cannot be parsed.
    #[error("The batch Content-Type is malformed: {0}")]
    ContentType(String),
    /// No `boundary` parameter.
    #[error("The batch boundary is missing from Content-Type")]
    MissingBoundary,
    /// A boundary outside RFC 2046's rules.
    #[error(
        "The batch boundary '{0}' is not a valid multipart boundary (1 to 70 letters, digits or '()+_,-./:=? characters, not ending in a space)"
    )]
    InvalidBoundary(String),
    /// The body exceeds [`BatchLimits::max_body`](super::BatchLimits::max_body).
    #[error("The batch body is larger than {0} bytes")]
    TooLarge(usize),
    /// No close delimiter `--boundary--` (a truncated body).
    #[error("The batch has no closing delimiter '--{0}--'")]
    NotClosed(String),
    /// More requests than [`BatchLimits::max_parts`](super::BatchLimits::max_parts).
    #[error("The batch has more than {0} requests")]
    TooManyParts(usize),
    /// A problem with one part; `part` counts requests from 1 in document order, change sets
    /// flattened (a problem with a change set itself names the number its first request has).
    #[error("part {part}: {problem}")]
    Part {
        /// The part number.
        part: usize,
        /// What is wrong with it.
        problem: PartProblem,
    },
    /// The writer found no boundary absent from the content (practically unreachable).
    #[error("No multipart boundary could be chosen that does not occur in the content")]
    BoundaryCollision,
}

impl BatchError {
    /// The Dataverse error a client gets: 400 with the OData parse code and this message.
    pub fn to_dataverse(&self) -> DataverseError {
        DataverseError::bad_request(self.to_string())
    }

    pub(super) fn part(part: usize, problem: PartProblem) -> Self {
        BatchError::Part { part, problem }
    }
}

/// What is wrong with one part of a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartProblem {
    /// Two delimiters with nothing between them.
    #[error("the part is empty")]
    Empty,
    /// MIME headers not followed by an empty line.
    #[error("the part headers are not followed by an empty line")]
    MimeHeadersNotEnded,
    /// No MIME `Content-Type`.
    #[error("the part has no Content-Type header (expected application/http or multipart/mixed)")]
    MissingContentType,
    /// A MIME Content-Type other than `application/http` or `multipart/mixed`.
    #[error("Content-Type '{0}' is not application/http or multipart/mixed")]
    UnsupportedContentType(String),
    /// A malformed MIME Content-Type.
    #[error("the part Content-Type is malformed: {0}")]
    ContentType(String),
    /// `Content-Transfer-Encoding` other than `binary`.
    #[error("Content-Transfer-Encoding '{0}' is not supported (only binary)")]
    TransferEncoding(String),
    /// A MIME header this layer does not understand.
    #[error("header '{name}' is not allowed on {on}")]
    UnexpectedMimeHeader {
        /// The header name as sent.
        name: String,
        /// `a batch part` or `a change set part`.
        on: &'static str,
    },
    /// The same MIME header twice.
    #[error("header '{0}' appears twice in the part headers")]
    DuplicateMimeHeader(String),
    /// A change set inside a change set (design §6.2).
    #[error("a change set cannot contain another change set")]
    NestedChangeSet,
    /// A change set without a boundary parameter.
    #[error("the change set boundary is missing from Content-Type")]
    ChangeSetBoundaryMissing,
    /// A change set boundary outside RFC 2046's rules.
    #[error("the change set boundary '{0}' is not a valid multipart boundary")]
    ChangeSetBoundaryInvalid(String),
    /// A change set boundary equal to, or a prefix of, the batch boundary (or the reverse).
    #[error("the change set boundary '{0}' must differ from the batch boundary and neither may start with the other")]
    ChangeSetBoundaryClash(String),
    /// A change set without its close delimiter.
    #[error("the change set has no closing delimiter '--{0}--'")]
    ChangeSetNotClosed(String),
    /// A change set with no requests.
    #[error("the change set contains no requests")]
    EmptyChangeSet,
    /// A Content-ID that is not 1 to 128 letters, digits or `-._~`.
    #[error("Content-ID '{0}' is not valid (1 to 128 letters, digits or -._~ characters)")]
    InvalidContentId(String),
    /// The same Content-ID twice in one scope.
    #[error("Content-ID {id} is used twice {scope}")]
    DuplicateContentId {
        /// The Content-ID.
        id: String,
        /// `in the same change set` or `outside change sets`.
        scope: &'static str,
    },
    /// `$n` naming no Content-ID declared earlier in the same change set (spec §7.1 wording).
    #[error("Content-ID Reference: '${0}' does not exist in the batch context.")]
    UnknownReference(String),
    /// Nothing after the MIME headers.
    #[error("the part has no HTTP request line")]
    MissingRequestLine,
    /// A request line that is not `METHOD target HTTP/1.1`.
    #[error("the request line '{0}' is not 'METHOD target HTTP/1.1'")]
    RequestLine(String),
    /// A request line with only two words.
    #[error("the request line '{0}' has no HTTP version")]
    MissingVersion(String),
    /// A version other than `HTTP/1.1`.
    #[error("HTTP version '{0}' is not supported (expected HTTP/1.1)")]
    Version(String),
    /// A method other than GET, POST, PATCH, PUT, DELETE.
    #[error("method {0} is not allowed in a batch (GET, POST, PATCH, PUT or DELETE)")]
    MethodNotAllowed(String),
    /// An empty target, one with control characters or surrounding whitespace.
    #[error("the request target '{0}' is not valid (empty, surrounded by whitespace or with control characters)")]
    InvalidTarget(String),
    /// A target over [`BatchLimits::max_target`](super::BatchLimits::max_target).
    #[error("the request target is longer than {0} bytes")]
    TargetTooLong(usize),
    /// GET inside a change set (spec §7.1, design §6.2).
    #[error("a GET request cannot be part of a change set")]
    GetInChangeSet,
    /// A response part whose first line is not `HTTP/1.1 <code> [reason]`.
    #[error("the status line '{0}' is not 'HTTP/1.1 <3-digit code> [reason]'")]
    StatusLine(String),
    /// Header or request-line text that is not UTF-8.
    #[error("the {0} is not valid UTF-8")]
    NotUtf8(&'static str),
    /// A header line without `:`.
    #[error("header line '{0}' has no colon")]
    HeaderWithoutColon(String),
    /// A header name that is not an RFC 9110 token (also `Name :` with a space).
    #[error("header name '{0}' is not a valid token")]
    InvalidHeaderName(String),
    /// A header value with control characters or surrounding whitespace.
    #[error("header '{0}' has a control character (or surrounding whitespace) in its value")]
    InvalidHeaderValue(String),
    /// A header line starting with whitespace.
    #[error("a header line starts with whitespace (obsolete line folding is not accepted)")]
    ObsFold,
    /// More than [`BatchLimits::max_headers`](super::BatchLimits::max_headers) header lines.
    #[error("the part has more than {0} header lines in one block")]
    TooManyHeaders(usize),
    /// More than [`BatchLimits::max_header_bytes`](super::BatchLimits::max_header_bytes).
    #[error("the part headers are larger than {0} bytes")]
    HeadersTooLarge(usize),
    /// `Content-Length` twice.
    #[error("the part has more than one Content-Length header")]
    DuplicateContentLength,
    /// `Content-Length` that is not a decimal number.
    #[error("Content-Length '{0}' is not a number")]
    InvalidContentLength(String),
    /// `Content-Length` that disagrees with the delimited body.
    #[error("Content-Length {declared} does not match the body length {actual}")]
    ContentLengthMismatch {
        /// The declared length.
        declared: u64,
        /// The delimited body's length.
        actual: usize,
    },
    /// An inner `Transfer-Encoding` (chunked bodies are not accepted inside a batch).
    #[error("the Transfer-Encoding header is not accepted inside a batch")]
    InnerTransferEncoding,
    /// A response status outside 100..=599 (writer).
    #[error("status {0} is not between 100 and 599")]
    Status(u16),
}

/// Client text quoted in a message: at most 100 characters, control characters as `?`.
pub(super) fn quote(text: &str) -> String {
    let mut out: String = text.chars().take(100).map(|c| if c.is_control() { '?' } else { c }).collect();
    if text.chars().nth(100).is_some() {
        out.push('…');
    }
    out
}
