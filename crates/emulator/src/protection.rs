//! Service protection limits (spec §11), off unless [`EmulatorConfig::protection`] is set
//! (`stanchion emulator --protect requests=N,window=300s,concurrency=M`).
//!
//! Per caller (the application user a token names), on the Web API only (the token endpoint
//! is never throttled):
//! - **Requests**: at most `requests` in any `window` seconds, a sliding window of one-second
//!   buckets on the emulator's clock ([`crate::RunningEmulator::set_clock`]), so tests move time
//!   instead of sleeping. A `$batch` is one request (spec §11).
//! - **Concurrency**: at most `concurrency` requests in flight at once; one more is refused at
//!   once, never queued.
//!
//! Over a limit: `429 Too Many Requests`, `Retry-After` in whole seconds (until the oldest
//! request leaves the window; 1 for concurrency) and Dataverse's error JSON with the codes and
//! messages of spec §10.3 (`0x80072322` "Number of requests exceeded the limit of {N} over time
//! window of {W} seconds.", `0x80072326` "Number of concurrent requests exceeded the limit of
//! {M}."). A throttled request is not executed.
//!
//! Choices where the spec is silent or where Dataverse is not deterministic: Dataverse counts
//! after the fact and may let a burst through before it throttles, and repeated abuse extends
//! its `Retry-After`; the emulator refuses exactly the request over the limit and counts only
//! admitted requests, so `Retry-After` is exact. Every admitted answer carries
//! `x-ms-ratelimit-burst-remaining-xrm-requests` (requests left in the window). The execution-time
//! limit (`0x80072321`) is not emulated.
//!
//! [`EmulatorConfig::protection`]: crate::EmulatorConfig::protection

use dataverse::error::{DataverseError, codes};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

/// The limits (spec §11 defaults: 6,000 requests per 300 s, 52 at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protection {
    /// Requests per caller in any `window`; at least 1.
    pub requests: u32,
    /// The sliding window, whole seconds, at least 1 s.
    pub window: Duration,
    /// Requests per caller in flight at once; at least 1.
    pub concurrency: u32,
}

impl Default for Protection {
    fn default() -> Self {
        Protection { requests: 6000, window: Duration::from_secs(300), concurrency: 52 }
    }
}

impl std::fmt::Display for Protection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "requests={},window={}s,concurrency={}", self.requests, self.window.as_secs(), self.concurrency)
    }
}

/// Why a `--protect` text is not a [`Protection`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} (expected requests=N,window=300s,concurrency=M; each key optional)")]
pub struct ProtectionSyntax(String);

/// Digits only (no sign, no spaces), at least 1, within `u32`/`u64`.
fn count<T: std::str::FromStr + PartialEq + From<u8>>(key: &str, text: &str) -> Result<T, ProtectionSyntax> {
    let bad = || ProtectionSyntax(format!("{key} must be a whole number of at least 1, not '{text}'"));
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: T = text.parse().map_err(|_| bad())?;
    if n == T::from(0) { Err(bad()) } else { Ok(n) }
}

impl std::str::FromStr for Protection {
    type Err = ProtectionSyntax;

    /// `requests=N,window=Ws|Wm,concurrency=M` in any order, each key at most once; a key left
    /// out keeps Dataverse's default.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(ProtectionSyntax("no limits given".into()));
        }
        let mut p = Protection::default();
        let mut seen: Vec<&str> = Vec::new();
        for item in s.split(',') {
            let Some((key, value)) = item.split_once('=') else {
                return Err(ProtectionSyntax(format!("'{item}' is not KEY=VALUE")));
            };
            if seen.contains(&key) {
                return Err(ProtectionSyntax(format!("{key} is given twice")));
            }
            match key {
                "requests" => p.requests = count("requests", value)?,
                "concurrency" => p.concurrency = count("concurrency", value)?,
                "window" => {
                    let bad = || {
                        ProtectionSyntax(format!("window must be seconds or minutes like 300s or 5m, not '{value}'"))
                    };
                    let seconds = if let Some(digits) = value.strip_suffix('s') {
                        count::<u64>("window", digits).ok()
                    } else if let Some(digits) = value.strip_suffix('m') {
                        count::<u64>("window", digits).ok().and_then(|n| n.checked_mul(60))
                    } else {
                        None
                    };
                    p.window = Duration::from_secs(seconds.ok_or_else(bad)?);
                }
                other => {
                    return Err(ProtectionSyntax(format!(
                        "unknown key '{other}': the keys are requests, window and concurrency"
                    )));
                }
            }
            seen.push(key);
        }
        Ok(p)
    }
}

/// Why a request was throttled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Throttled {
    /// The window is full; room in `retry_after` seconds.
    Requests { limit: u32, window: u64, retry_after: u64 },
    /// `limit` requests of the caller are in flight.
    Concurrency { limit: u32 },
}

impl Throttled {
    /// `Retry-After`, whole seconds.
    pub(crate) fn retry_after(&self) -> u64 {
        match self {
            Throttled::Requests { retry_after, .. } => *retry_after,
            Throttled::Concurrency { .. } => 1,
        }
    }

    /// The 429 error, with the code and message of spec §10.3.
    pub(crate) fn error(&self) -> DataverseError {
        match self {
            Throttled::Requests { limit, window, .. } => DataverseError::new(
                429,
                codes::THROTTLING_REQUESTS,
                format!("Number of requests exceeded the limit of {limit} over time window of {window} seconds."),
            ),
            Throttled::Concurrency { limit } => DataverseError::new(
                429,
                codes::THROTTLING_CONCURRENCY,
                format!("Number of concurrent requests exceeded the limit of {limit}."),
            ),
        }
    }
}

/// An admitted request: holds its concurrency permit until dropped.
#[derive(Debug)]
pub(crate) struct Admission {
    _permit: OwnedSemaphorePermit,
    /// Requests the caller has left in the window after this one.
    pub(crate) remaining: u32,
}

#[derive(Debug)]
struct Slot {
    /// `(second, requests)` admitted, oldest first, within the window.
    window: VecDeque<(i64, u32)>,
    running: Arc<Semaphore>,
}

/// The limits' state, per caller, in memory.
#[derive(Debug)]
pub(crate) struct Protector {
    limits: Protection,
    callers: Mutex<HashMap<Uuid, Slot>>,
}

impl Protector {
    pub(crate) fn new(limits: Protection) -> Self {
        Protector { limits, callers: Mutex::new(HashMap::new()) }
    }

    /// Admits one request of `caller` at `now` (seconds since the epoch), or says which limit
    /// it is over. The concurrency cap is checked first, so a request refused for it spends no
    /// room in the window.
    pub(crate) fn admit(&self, caller: Uuid, now: i64) -> Result<Admission, Throttled> {
        let Protection { requests, window, concurrency } = self.limits;
        let window = i64::try_from(window.as_secs()).unwrap_or(i64::MAX).max(1);
        let mut callers = self.callers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = callers.entry(caller).or_insert_with(|| Slot {
            window: VecDeque::new(),
            running: Arc::new(Semaphore::new(concurrency as usize)),
        });
        let permit =
            slot.running.clone().try_acquire_owned().map_err(|_| Throttled::Concurrency { limit: concurrency })?;
        // Never move backwards (a clock set back): the buckets stay in order.
        let now = now.max(slot.window.back().map_or(i64::MIN, |b| b.0));
        while slot.window.front().is_some_and(|b| b.0.saturating_add(window) <= now) {
            slot.window.pop_front();
        }
        let used: u64 = slot.window.iter().map(|b| u64::from(b.1)).sum();
        if used >= u64::from(requests) {
            // Room comes when the oldest bucket leaves the window.
            let oldest = slot.window.front().map_or(now, |b| b.0);
            let retry_after = u64::try_from(oldest.saturating_add(window) - now).unwrap_or(1).max(1);
            return Err(Throttled::Requests {
                limit: requests,
                window: u64::try_from(window).unwrap_or(u64::MAX),
                retry_after,
            });
        }
        match slot.window.back_mut() {
            Some(b) if b.0 == now => b.1 += 1,
            _ => slot.window.push_back((now, 1)),
        }
        let remaining = u32::try_from(u64::from(requests) - used - 1).unwrap_or(u32::MAX);
        Ok(Admission { _permit: permit, remaining })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Protection, String> {
        s.parse::<Protection>().map_err(|e| e.to_string())
    }

    #[test]
    fn every_key_is_optional_and_keeps_dataverse_defaults() {
        let d = Protection::default();
        assert_eq!(p("requests=10").unwrap(), Protection { requests: 10, ..d });
        assert_eq!(p("window=5m").unwrap(), Protection { window: Duration::from_secs(300), ..d });
        assert_eq!(
            p("concurrency=2,window=30s,requests=7").unwrap(),
            Protection { requests: 7, window: Duration::from_secs(30), concurrency: 2 }
        );
        assert_eq!(
            p("requests=7,window=30s,concurrency=2").unwrap().to_string(),
            "requests=7,window=30s,concurrency=2"
        );
    }

    #[test]
    fn bad_text_is_refused_with_a_clear_message() {
        for (text, says) in [
            ("", "no limits given"),
            ("requests", "'requests' is not KEY=VALUE"),
            ("requests=", "requests must be a whole number of at least 1, not ''"),
            ("requests=0", "not '0'"),
            ("requests=-1", "not '-1'"),
            ("requests=+5", "not '+5'"),
            ("requests=99999999999", "not '99999999999'"),
            ("concurrency=x", "concurrency must be a whole number"),
            ("window=300", "window must be seconds or minutes like 300s or 5m, not '300'"),
            ("window=0s", "not '0s'"),
            ("window=5h", "not '5h'"),
            ("window=s", "not 's'"),
            ("window=5é", "not '5é'"),
            ("requests=1,requests=2", "requests is given twice"),
            ("requests=1,", "'' is not KEY=VALUE"),
            ("requests=1, window=5s", "unknown key ' window'"),
            ("burst=3", "unknown key 'burst': the keys are requests, window and concurrency"),
        ] {
            let err = p(text).unwrap_err();
            assert!(err.contains(says), "{text:?}: {err}");
            assert!(err.ends_with("(expected requests=N,window=300s,concurrency=M; each key optional)"), "{err}");
        }
    }

    fn protector(requests: u32, window: u64, concurrency: u32) -> Protector {
        Protector::new(Protection { requests, window: Duration::from_secs(window), concurrency })
    }

    #[test]
    fn the_window_slides_per_second_and_per_caller() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let l = protector(3, 60, 10);
        assert_eq!(l.admit(a, 1000).unwrap().remaining, 2);
        assert_eq!(l.admit(a, 1010).unwrap().remaining, 1);
        assert_eq!(l.admit(a, 1010).unwrap().remaining, 0);
        let over = l.admit(a, 1020).unwrap_err();
        assert_eq!(over, Throttled::Requests { limit: 3, window: 60, retry_after: 40 });
        assert_eq!(over.error().code, "0x80072322");
        assert_eq!(over.error().message, "Number of requests exceeded the limit of 3 over time window of 60 seconds.");
        // Another caller has its own window; a refusal spent nothing.
        l.admit(b, 1020).unwrap();
        assert_eq!(l.admit(a, 1059).unwrap_err().retry_after(), 1);
        assert_eq!(l.admit(a, 1060).unwrap().remaining, 0);
        // A clock set back keeps the window.
        assert!(l.admit(a, 900).is_err());
    }

    #[test]
    fn concurrency_is_capped_at_once_and_released_on_drop() {
        let a = Uuid::from_u128(1);
        let l = protector(100, 60, 2);
        let first = l.admit(a, 0).unwrap();
        let _second = l.admit(a, 0).unwrap();
        let over = l.admit(a, 0).unwrap_err();
        assert_eq!(over, Throttled::Concurrency { limit: 2 });
        assert_eq!(over.retry_after(), 1);
        assert_eq!((over.error().status, over.error().code.as_str()), (429, "0x80072326"));
        assert_eq!(over.error().message, "Number of concurrent requests exceeded the limit of 2.");
        drop(first);
        // Refused for concurrency: no room was spent (2 admitted, 98 left after the third).
        assert_eq!(l.admit(a, 0).unwrap().remaining, 97);
    }
}
