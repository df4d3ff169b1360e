//! Unauthenticated floods (design §5): requests without a valid agent key, counted per client IP
//! in fixed 60 s windows, so a flood cannot become a write load on the audit log.
//!
//! - The first refusal from an address in a window gets its own committed record, as every
//!   refusal does.
//! - Later ones in the same window are answered (401, or 429 once the address has sent more than
//!   `per_minute` in the window) without a record of their own, and counted.
//! - The count becomes one folded record ("An unknown caller (203.0.113.9) sent 57 more requests
//!   — denied: …") when the window is over: at the address's next refusal, or at the periodic
//!   flush ([`crate::spawn_checkpointer`]), whichever comes first, and at shutdown for windows
//!   still open.
//!
//! What it does not do: count requests with a valid key (those have the per-agent limits of
//! [`crate::limits`]) or keep anything on disk (a crash loses at most one window's count; the
//! first refusal of the window is recorded).

use crate::token_cache::Clock;
use audit::{Actor, AuditRecord, Decision, Kind, RecordType, Timestamp};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The window, in seconds.
pub(crate) const WINDOW: u64 = 60;

/// Most addresses tracked at once; beyond it, finished windows are flushed first and a new
/// address's refusals are all recorded (never folded into an untracked count).
const MAX_TRACKED: usize = 100_000;

/// What to do with one unauthenticated request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Record it as usual.
    Record,
    /// Answer without a record (it is counted); `retry_after` is set when the address is over
    /// the limit and gets 429.
    Fold { retry_after: Option<u64> },
}

/// A finished window with refusals that got no record of their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Folded {
    pub(crate) client_ip: String,
    pub(crate) count: u64,
    /// The window's first second and the last refusal's reason.
    pub(crate) since: u64,
    pub(crate) last_reason: String,
}

#[derive(Debug)]
struct Window {
    start: u64,
    seen: u64,
    folded: u64,
    last_reason: String,
}

/// The per-address windows of one gateway process.
#[derive(Debug)]
pub(crate) struct Floods {
    per_minute: u32,
    clock: Arc<dyn Clock>,
    by_ip: Mutex<HashMap<String, Window>>,
}

impl Floods {
    /// `per_minute` refusals per address and window before 429 (0: never 429, still folded).
    pub(crate) fn new(per_minute: u32, clock: Arc<dyn Clock>) -> Floods {
        Floods { per_minute, clock, by_ip: Mutex::new(HashMap::new()) }
    }

    /// Notes an unauthenticated request from `ip` refused for `reason`; returns what to do with
    /// it and, when its address's previous window is over, that window's folded count.
    pub(crate) fn note(&self, ip: &str, reason: &str) -> (Verdict, Option<Folded>) {
        let now = self.clock.now();
        let mut by_ip = self.by_ip.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut finished = None;
        if let Some(w) = by_ip.get(ip)
            && now >= w.start + WINDOW
        {
            finished = by_ip.remove(ip).and_then(|w| folded(ip, w));
        }
        if !by_ip.contains_key(ip) && by_ip.len() >= MAX_TRACKED {
            return (Verdict::Record, finished);
        }
        let w =
            by_ip.entry(ip.to_owned()).or_insert(Window { start: now, seen: 0, folded: 0, last_reason: String::new() });
        w.seen += 1;
        if w.seen == 1 {
            return (Verdict::Record, finished);
        }
        w.folded += 1;
        reason.clone_into(&mut w.last_reason);
        let over = self.per_minute > 0 && w.seen > u64::from(self.per_minute);
        let retry_after = over.then(|| (w.start + WINDOW).saturating_sub(now).max(1));
        (Verdict::Fold { retry_after }, finished)
    }

    /// Takes every window that folded refusals, finished or not (shutdown).
    pub(crate) fn take_all(&self) -> Vec<Folded> {
        let mut by_ip = self.by_ip.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        by_ip.drain().filter_map(|(ip, w)| folded(&ip, w)).collect()
    }

    /// Takes every finished window that folded refusals (the periodic flush).
    pub(crate) fn take_finished(&self) -> Vec<Folded> {
        let now = self.clock.now();
        let mut by_ip = self.by_ip.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let done: Vec<String> =
            by_ip.iter().filter(|(_, w)| now >= w.start + WINDOW).map(|(ip, _)| ip.clone()).collect();
        done.into_iter().filter_map(|ip| by_ip.remove(&ip).and_then(|w| folded(&ip, w))).collect()
    }
}

fn folded(ip: &str, w: Window) -> Option<Folded> {
    (w.folded > 0).then(|| Folded {
        client_ip: ip.to_owned(),
        count: w.folded,
        since: w.start,
        last_reason: w.last_reason,
    })
}

impl Folded {
    /// The one record of the folded refusals (kind `unauthenticated`, `rows` = how many).
    pub(crate) fn record(&self) -> AuditRecord {
        let now = Timestamp::from_datetime(chrono::Utc::now());
        let mut r =
            AuditRecord::new(uuid::Uuid::new_v4(), now, RecordType::Decision, Actor::Agent, Kind::Unauthenticated);
        r.client_ip = Some(self.client_ip.clone());
        r.rows = Some(self.count);
        r.decision = Some(Decision::Denied);
        r.reason_code = Some("unauthenticated_folded".into());
        let since = chrono::DateTime::from_timestamp(self.since as i64, 0).map(Timestamp::from_datetime);
        let since = since.map_or_else(String::new, |t| format!(" since {t}"));
        r.reason =
            Some(format!("repeats within {WINDOW} s{since} folded into one record; the last: {}", self.last_reason));
        r.reasons = vec![self.last_reason.clone()];
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[derive(Debug)]
    struct ManualClock(AtomicU64);

    impl Clock for ManualClock {
        fn now(&self) -> u64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    #[test]
    fn the_first_refusal_is_recorded_the_rest_folded_then_counted_once() {
        let clock = Arc::new(ManualClock(AtomicU64::new(1_000)));
        let f = Floods::new(3, clock.clone());
        assert_eq!(f.note("a", "no key"), (Verdict::Record, None));
        assert_eq!(f.note("a", "no key"), (Verdict::Fold { retry_after: None }, None));
        assert_eq!(f.note("b", "no key"), (Verdict::Record, None), "addresses are counted apart");
        assert_eq!(f.note("a", "no key").0, Verdict::Fold { retry_after: None });
        clock.0.fetch_add(10, Ordering::SeqCst);
        assert_eq!(f.note("a", "bad key").0, Verdict::Fold { retry_after: Some(50) }, "over 3: 429");
        assert!(f.take_finished().is_empty(), "the window is not over");
        clock.0.fetch_add(50, Ordering::SeqCst);
        let (verdict, done) = f.note("a", "no key");
        assert_eq!(verdict, Verdict::Record, "a new window starts with a record");
        let done = done.unwrap();
        assert_eq!((done.count, done.since, done.last_reason.as_str()), (3, 1_000, "bad key"));
        assert!(f.take_finished().is_empty(), "b had nothing folded; a's new window is open");
        f.note("a", "no key");
        clock.0.fetch_add(60, Ordering::SeqCst);
        let flushed = f.take_finished();
        assert_eq!(flushed.len(), 1);
        assert_eq!((flushed[0].client_ip.as_str(), flushed[0].count), ("a", 1));
        let record = flushed[0].record();
        assert_eq!(record.rows, Some(1));
        assert!(record.sentence().starts_with("An unknown caller (a) sent one more request"), "{}", record.sentence());
    }
}
