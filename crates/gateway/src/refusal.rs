//! Refusals in Dataverse's shape (design §6.4): one place maps a reason code to its status and
//! message; the code rides in `x-stanchion-reason`.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use dataverse::error::codes;

/// Dataverse's service-protection code for "Number of concurrent requests exceeded the limit"
/// (`ThrottlingConcurrencyLimitExceededError`, spec §10.3); the request-count limit is
/// [`codes::THROTTLING_REQUESTS`].
pub(crate) const THROTTLING_CONCURRENCY: &str = codes::THROTTLING_CONCURRENCY;

/// A refusal to send to the agent.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// Reason code (`table_off`, `syntax`, …).
    pub code: &'static str,
    /// The status.
    pub status: u16,
    /// The Dataverse hex code.
    pub hex: &'static str,
    /// The message.
    pub message: String,
    /// `Retry-After`, in whole seconds (rate limits).
    pub retry_after: Option<u64>,
}

impl Refusal {
    /// The refusal for a reason code and message.
    pub fn new(code: &'static str, message: String) -> Self {
        let (status, hex) = match code {
            "malformed_key" | "unknown_key" | "key_revoked" | "key_expired" | "agent_disabled" => {
                (401, codes::UNAUTHORIZED)
            }
            "syntax" => (400, codes::ODATA_PARSE),
            "rate_limited" => (429, codes::THROTTLING_REQUESTS),
            "audit_unavailable" => (503, codes::UNEXPECTED),
            "upstream_unavailable" => (502, codes::UNEXPECTED),
            _ => (403, codes::PRIVILEGE_DENIED),
        };
        Refusal { code, status, hex, message, retry_after: None }
    }

    /// With another status and hex code (syntax errors keep Dataverse's own, e.g. 404 or 413).
    pub fn with_status(mut self, status: u16, hex: &'static str) -> Self {
        self.status = status;
        self.hex = hex;
        self
    }

    /// With a `Retry-After` header (whole seconds, at least 1).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// The HTTP response.
    pub fn into_response(self, request_id: &str) -> Response {
        let body = dataverse::DataverseError::new(self.status, self.hex, self.message).body();
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::FORBIDDEN);
        let mut resp = (status, body).into_response();
        let h = resp.headers_mut();
        h.insert("content-type", HeaderValue::from_static("application/json; odata.metadata=minimal"));
        h.insert("odata-version", HeaderValue::from_static("4.0"));
        h.insert("x-stanchion-reason", HeaderValue::from_static(self.code));
        if let Ok(v) = HeaderValue::from_str(request_id) {
            h.insert("x-stanchion-request-id", v);
        }
        if let Some(seconds) = self.retry_after {
            h.insert("retry-after", HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            h.insert(
                "www-authenticate",
                HeaderValue::from_static("Bearer realm=\"stanchion\", error=\"invalid_token\""),
            );
        }
        resp
    }
}
