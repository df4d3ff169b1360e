//! Retries upstream (design §6.5), decided per answer by a [`Budget`]; waits go through an
//! injectable [`Sleeper`] so tests never sleep.
//!
//! - **429** (service protection): Dataverse rejects a throttled request without executing it
//!   (spec §11), so any method is retried, a `$batch` included, after the answer's
//!   `Retry-After` (whole seconds), when that fits in what is left of `max_wait`. Otherwise —
//!   too long, no `Retry-After` in seconds, or three 429 retries already — the 429 goes to the
//!   agent with its `Retry-After`.
//! - **502/503/504 and connection errors**: retried only when sending the request again cannot
//!   do something twice — GET, and PUT/PATCH/DELETE whose `If-Match` names specific ETags
//!   (not `*`: a repeat of an applied write then fails with 412). Never POST or `$batch`. Up
//!   to three retries, waiting 100, 200 then 400 ms, each only when it fits in what is left of
//!   `max_wait`.
//! - **Bounds**: every wait of one request, of either kind, comes out of one `max_wait`
//!   (`[upstream] max_retry_wait`, default 5 s; `0s` turns retries off), so an agent never
//!   waits longer than that for retries. Token failures are not retried (the token cache
//!   renews on the next request).

use crate::upstream::{UpstreamError, UpstreamResponse};
use dataverse::request::EtagCondition;
use dataverse::{Method, Request};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Waits between attempts (injectable: tests record the waits and return at once).
pub trait Sleeper: Send + Sync + std::fmt::Debug {
    /// Waits `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// Waits on the tokio timer.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// The retry settings of an upstream client.
#[derive(Debug, Clone)]
pub struct Retries {
    /// `[upstream] max_retry_wait`: the most one request waits in all for retries.
    pub max_wait: Duration,
    /// How waits are made.
    pub sleeper: Arc<dyn Sleeper>,
}

impl Default for Retries {
    /// Design §7: `max_retry_wait = "5s"`, on the tokio timer.
    fn default() -> Self {
        Retries { max_wait: Duration::from_secs(5), sleeper: Arc::new(TokioSleeper) }
    }
}

/// Waits before the 1st, 2nd and 3rd retry after a 502/503/504 or a connection error.
pub(crate) const BACKOFF: [Duration; 3] =
    [Duration::from_millis(100), Duration::from_millis(200), Duration::from_millis(400)];

/// Most retries after 429s for one request.
pub(crate) const MAX_THROTTLED_RETRIES: u32 = 3;

/// Whether sending `request` again after a 5xx or a lost connection cannot apply it twice:
/// GET, or PUT/PATCH/DELETE conditional on specific ETags.
pub(crate) fn replayable(request: &Request) -> bool {
    match request.method {
        Method::Get => true,
        Method::Put | Method::Patch | Method::Delete => {
            matches!(&request.headers.if_match, Some(EtagCondition::Tags(tags)) if !tags.is_empty())
        }
        Method::Post => false,
    }
}

/// Why a request is sent again (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
    /// Dataverse answered 429 (service protection).
    Throttled,
    /// Dataverse answered 502, 503 or 504.
    Unavailable(u16),
    /// No answer (connection refused, reset, timed out).
    Unreachable,
}

impl Why {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Why::Throttled => "throttled (429)",
            Why::Unavailable(502) => "bad gateway (502)",
            Why::Unavailable(503) => "unavailable (503)",
            Why::Unavailable(_) => "gateway timeout (504)",
            Why::Unreachable => "unreachable",
        }
    }
}

/// What one request has spent on retries so far.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    waited: Duration,
    throttled: u32,
    transient: usize,
}

/// `Retry-After` as delta-seconds (an HTTP date is not used: Dataverse sends seconds).
fn retry_after(response: &UpstreamResponse) -> Option<Duration> {
    let v = response.header("retry-after")?.trim();
    (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .then(|| v.parse::<u64>().ok().map(Duration::from_secs))
        .flatten()
}

impl Budget {
    /// Retries made so far.
    pub(crate) fn retries(&self) -> u32 {
        self.throttled + u32::try_from(self.transient).unwrap_or(u32::MAX)
    }

    /// How long to wait before sending again after `result`, or `None` to answer with it.
    /// `replayable`: see [`replayable`]; `max_wait`: [`Retries::max_wait`].
    pub(crate) fn next(
        &mut self,
        result: &Result<UpstreamResponse, UpstreamError>,
        replayable: bool,
        max_wait: Duration,
    ) -> Option<(Duration, Why)> {
        if max_wait.is_zero() {
            return None;
        }
        let (wait, why) = match result {
            Ok(r) if r.status == 429 => {
                if self.throttled >= MAX_THROTTLED_RETRIES {
                    return None;
                }
                (retry_after(r)?, Why::Throttled)
            }
            Ok(r) if matches!(r.status, 502..=504) && replayable => {
                (*BACKOFF.get(self.transient)?, Why::Unavailable(r.status))
            }
            Err(UpstreamError::Unreachable(_)) if replayable => (*BACKOFF.get(self.transient)?, Why::Unreachable),
            _ => return None,
        };
        let total = self.waited.checked_add(wait)?;
        if total > max_wait {
            return None;
        }
        self.waited = total;
        match why {
            Why::Throttled => self.throttled += 1,
            _ => self.transient += 1,
        }
        Some((wait, why))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataverse::{ParseLimits, RawRequest, Schema, parse_request};

    fn answer(status: u16, retry_after: Option<&str>) -> Result<UpstreamResponse, UpstreamError> {
        let headers = retry_after.map(|v| vec![("retry-after".to_owned(), v.to_owned())]).unwrap_or_default();
        Ok(UpstreamResponse { status, headers, body: bytes::Bytes::new(), retries: 0 })
    }

    fn unreachable() -> Result<UpstreamResponse, UpstreamError> {
        Err(UpstreamError::Unreachable("connection refused".into()))
    }

    const FIVE: Duration = Duration::from_secs(5);

    #[test]
    fn a_429_is_waited_out_when_its_retry_after_fits_in_max_wait() {
        let mut b = Budget::default();
        assert_eq!(b.next(&answer(429, Some("2")), false, FIVE), Some((Duration::from_secs(2), Why::Throttled)));
        assert_eq!(b.next(&answer(429, Some("3")), false, FIVE), Some((Duration::from_secs(3), Why::Throttled)));
        // 5 s spent: nothing more fits, not even 1 s.
        assert_eq!(b.next(&answer(429, Some("1")), false, FIVE), None);
        assert_eq!(b.retries(), 2);
        // Longer than max_wait, missing, or not in seconds: passed through.
        for after in [Some("6"), None, Some("Wed, 21 Oct 2015 07:28:00 GMT"), Some("-1"), Some("1.5")] {
            assert_eq!(Budget::default().next(&answer(429, after), true, FIVE), None, "{after:?}");
        }
        // At most three 429 retries, even at Retry-After: 0.
        let mut b = Budget::default();
        for _ in 0..MAX_THROTTLED_RETRIES {
            assert!(b.next(&answer(429, Some("0")), false, FIVE).is_some());
        }
        assert_eq!(b.next(&answer(429, Some("0")), false, FIVE), None);
    }

    #[test]
    fn unavailable_and_unreachable_are_retried_with_backoff_only_when_replayable() {
        let mut b = Budget::default();
        assert_eq!(b.next(&answer(503, None), true, FIVE), Some((BACKOFF[0], Why::Unavailable(503))));
        assert_eq!(b.next(&unreachable(), true, FIVE), Some((BACKOFF[1], Why::Unreachable)));
        assert_eq!(b.next(&answer(504, None), true, FIVE), Some((BACKOFF[2], Why::Unavailable(504))));
        assert_eq!(b.next(&answer(502, None), true, FIVE), None, "three retries at most");
        for r in [answer(502, None), answer(503, Some("1")), unreachable()] {
            assert_eq!(Budget::default().next(&r, false, FIVE), None, "not replayable: answered as is");
        }
        for status in [200, 201, 204, 400, 404, 412, 500, 501] {
            assert_eq!(Budget::default().next(&answer(status, None), true, FIVE), None, "{status}");
        }
        let token = Err(UpstreamError::Token(crate::TokenError::Malformed));
        assert_eq!(Budget::default().next(&token, true, FIVE), None);
    }

    #[test]
    fn every_wait_comes_out_of_one_max_wait() {
        let quarter = Duration::from_millis(250);
        let mut b = Budget::default();
        assert!(b.next(&answer(503, None), true, quarter).is_some());
        assert_eq!(b.next(&answer(503, None), true, quarter), None, "100 + 200 ms > 250 ms");
        let max = Duration::from_millis(4250);
        let mut b = Budget::default();
        assert!(b.next(&answer(429, Some("4")), true, max).is_some());
        assert!(b.next(&answer(503, None), true, max).is_some());
        assert_eq!(b.next(&answer(503, None), true, max), None, "4.1 s + 200 ms > 4.25 s");
        assert_eq!(b.retries(), 2);
        // 0 turns retries off, even after a 429 with `Retry-After: 0`.
        assert_eq!(Budget::default().next(&answer(429, Some("0")), true, Duration::ZERO), None);
        assert_eq!(Budget::default().next(&answer(503, None), true, Duration::ZERO), None);
    }

    fn request(method: &str, if_match: Option<&str>) -> Request {
        let id = "00000000-0000-0000-0000-000000000001";
        let path = format!("/api/data/v9.2/accounts({id})");
        let headers: Vec<(&str, &str)> = if_match.map(|v| vec![("If-Match", v)]).unwrap_or_default();
        let body: &[u8] = if matches!(method, "PATCH" | "PUT") { br#"{"name":"x"}"# } else { b"" };
        let mut all = headers.clone();
        if !body.is_empty() {
            all.push(("Content-Type", "application/json"));
        }
        let raw = RawRequest { method, path: &path, query: None, headers: &all, body };
        parse_request(&Schema::standard(), &raw, &ParseLimits::default()).unwrap()
    }

    #[test]
    fn only_get_and_writes_on_a_specific_etag_are_replayable() {
        assert!(replayable(&request("GET", None)));
        for method in ["PATCH", "DELETE"] {
            assert!(replayable(&request(method, Some("W/\"123\""))), "{method}");
            assert!(!replayable(&request(method, Some("*"))), "{method} If-Match: *");
            assert!(!replayable(&request(method, None)), "{method} without If-Match");
        }
        let create = RawRequest {
            method: "POST",
            path: "/api/data/v9.2/accounts",
            query: None,
            headers: &[("Content-Type", "application/json")],
            body: br#"{"name":"x"}"#,
        };
        assert!(!replayable(&parse_request(&Schema::standard(), &create, &ParseLimits::default()).unwrap()));
    }
}
