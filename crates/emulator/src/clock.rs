//! The emulator's clock: the system clock, or a time a test froze it at.
//!
//! Each request reads the clock once ([`Clock::now`]); that instant stamps the rows it writes
//! (`createdon`, `modifiedon`) and is the "now" of the date query functions (spec §3.2.1:
//! `Today`, `LastXDays`…), so one request never sees two different times. Token lifetimes are
//! checked against the system clock whatever this clock says (a frozen clock must not expire
//! the tokens a test holds).

use chrono::{DateTime, TimeZone as _, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

/// `frozen` holds this when the clock follows the system clock.
const SYSTEM: i64 = i64::MIN;

/// The system clock, or a frozen instant (second precision, as timestamps are stored).
#[derive(Debug)]
pub(crate) struct Clock {
    /// Seconds since the epoch of the frozen instant, or [`SYSTEM`].
    frozen: AtomicI64,
}

impl Clock {
    /// A clock following the system clock.
    pub(crate) fn system() -> Clock {
        Clock { frozen: AtomicI64::new(SYSTEM) }
    }

    /// Freezes the clock at `at` (its fraction of a second dropped), or back to the system
    /// clock with `None`.
    pub(crate) fn set(&self, at: Option<DateTime<Utc>>) {
        self.frozen.store(at.map_or(SYSTEM, |t| t.timestamp()), Ordering::SeqCst);
    }

    /// Now, second precision.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        let frozen = self.frozen.load(Ordering::SeqCst);
        let seconds = if frozen == SYSTEM { Utc::now().timestamp() } else { frozen };
        // Seconds taken from a valid `DateTime` (or the system clock) are always in range; the
        // fallback is never used.
        Utc.timestamp_opt(seconds, 0).single().unwrap_or_else(Utc::now)
    }
}

/// An instant as stored (`2024-01-31T10:00:00Z`).
pub(crate) fn stored(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clocks_stay_put() {
        let clock = Clock::system();
        let at = Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 59).unwrap();
        clock.set(Some(at));
        assert_eq!(clock.now(), at);
        assert_eq!(stored(clock.now()), "2024-02-29T23:59:59Z");
        clock.set(None);
        assert!(clock.now() > at);
    }
}
