//! Response building shared by every handler (spec §1.3 response headers, §10.1 error shape).
//!
//! JSON bodies are `application/json; odata.metadata=minimal`; every `/api/data` response also
//! carries `OData-Version: 4.0` (added by the server for all of them, errors included).

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use dataverse::error::{DataverseError, codes};
use dataverse::json::{Object, Value};

/// Content type of JSON answers (spec §1.3, §10.1).
pub(crate) const JSON: &str = "application/json; odata.metadata=minimal";

/// A response with a status, optional content type and body.
pub(crate) fn build(status: StatusCode, content_type: Option<&'static str>, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    if let Some(ct) = content_type {
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    response
}

/// A JSON object answer.
pub(crate) fn json(status: StatusCode, object: Object) -> Response {
    build(status, Some(JSON), Value::Object(object).to_json())
}

/// `204 No Content`.
pub(crate) fn no_content() -> Response {
    build(StatusCode::NO_CONTENT, None, Body::empty())
}

/// A Dataverse error: `{"error":{"code","message"}}` with its status (spec §10.1).
pub(crate) fn error(e: &DataverseError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    build(status, Some(JSON), e.body())
}

/// Adds a header whose value we built; a value that is not a valid header (impossible for the
/// URLs and tags we make, which are ASCII) is left out rather than panicking.
pub(crate) fn with_header(mut response: Response, name: &'static str, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().insert(HeaderName::from_static(name), v);
    }
    response
}

/// A database failure: logged (the error text names tables and columns, never values) and
/// answered 500 `0x80040216` "An unexpected error occurred." (spec §10.3).
pub(crate) fn db_error(e: sqlx::Error) -> DataverseError {
    tracing::error!(error = %e, "database error");
    DataverseError::new(500, codes::UNEXPECTED, "An unexpected error occurred.")
}

/// Suffix of 501 messages, so a client can tell the emulator's gaps from Dataverse's.
pub(crate) const UNSUPPORTED_SUFFIX: &str = " (Stanchion's emulator)";

/// Marks 501 answers as the emulator's (the parser's `Unsupported` maps to 501).
pub(crate) fn emulator_error(mut e: DataverseError) -> DataverseError {
    if e.status == 501 && !e.message.ends_with(UNSUPPORTED_SUFFIX) {
        e.message.push_str(UNSUPPORTED_SUFFIX);
    }
    e
}

/// 501: something Dataverse does that the emulator does not.
pub(crate) fn unsupported(reason: &str) -> DataverseError {
    emulator_error(DataverseError::new(501, codes::ODATA_PARSE, reason))
}

/// Links and contexts for one request: `{org}/api/data/{version the client used}` (spec §1.1).
#[derive(Debug, Clone)]
pub(crate) struct Base(pub(crate) String);

impl Base {
    /// `{base}/$metadata#{fragment}`.
    pub(crate) fn context(&self, fragment: &str) -> String {
        format!("{}/$metadata#{fragment}", self.0)
    }

    /// `{base}/{set}({id})`, the `OData-EntityId` of a row (spec §2.2).
    pub(crate) fn entity_id(&self, set: &str, id: &uuid::Uuid) -> String {
        format!("{}/{set}({id})", self.0)
    }
}
