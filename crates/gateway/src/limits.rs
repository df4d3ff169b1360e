//! Per-agent limits (design §6.2, §6.4, §7 `[limits]`): a request rate and a concurrency cap,
//! keyed by agent id, in memory, per gateway process.
//!
//! - **Rate**: at most `requests_per_minute` units in any 60 consecutive seconds (a sliding
//!   window of one-second buckets, so at most 60 buckets per agent). A request costs one unit; a
//!   `$batch` costs one unit per part, change-set parts counted individually. A batch larger
//!   than the limit can never fit and is refused whatever the window holds.
//! - **Concurrency**: at most `concurrency` requests of one agent in flight at once (a `$batch`
//!   is one). A permit is taken with `try_acquire`, never queued, and released when the
//!   [`Admission`] is dropped, i.e. once the answer (and its outcome record) is ready.
//! - **Where**: after the policy checks, before the attempt record, so a request refused for a
//!   policy reason is refused for that reason and only a request that would be forwarded can
//!   get `rate_limited` (429).
//! - **What counts**: only admitted requests. A refused request (for policy or for a limit)
//!   consumes nothing, so `Retry-After` is exact: retrying then succeeds unless other requests
//!   of the same agent took the room. The concurrency check runs first, so a request refused
//!   for concurrency does not spend rate either.
//! - `0` turns a limit off. Time comes from the injectable [`Clock`] (whole seconds).

use crate::authenticate::Agent;
use crate::pipeline::api_message;
use crate::refusal::{Refusal, THROTTLING_CONCURRENCY};
use crate::token_cache::{Clock, SystemClock};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The rate window, in seconds.
const WINDOW: u64 = 60;

/// The upstream budget's window (Dataverse's service protection counts over 300 s).
const UPSTREAM_WINDOW: u64 = 300;

/// The gateway's budget towards the org (design §7 `[limits] upstream_*`), kept under
/// Dataverse's own service-protection limits (6,000 requests per 300 s and 52 at once per user).
#[derive(Debug, Clone)]
pub struct UpstreamBudget {
    /// Requests (a `$batch` is one) in any 300 s; 0 = no limit.
    pub requests_per_5min: u32,
    /// Requests in flight at once; 0 = no limit.
    pub concurrency: u32,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

impl Default for UpstreamBudget {
    /// Design §7: 5,000 per 5 minutes, 40 at once.
    fn default() -> Self {
        UpstreamBudget { requests_per_5min: 5000, concurrency: 40, clock: Arc::new(SystemClock) }
    }
}

/// The per-agent limits (`[limits] per_agent_requests_per_minute`, `per_agent_concurrency`)
/// and the clock the rate is measured with.
#[derive(Debug, Clone)]
pub struct AgentLimits {
    /// Requests (batch parts) per agent in any 60 s; 0 = no limit.
    pub requests_per_minute: u32,
    /// Requests per agent in flight at once; 0 = no limit.
    pub concurrency: u32,
    /// The clock (tests inject a manual one).
    pub clock: Arc<dyn Clock>,
}

impl Default for AgentLimits {
    /// Design §7: 600 per minute, 8 at once, the system clock.
    fn default() -> Self {
        AgentLimits { requests_per_minute: 600, concurrency: 8, clock: Arc::new(SystemClock) }
    }
}

/// Why a request was not admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Over {
    /// The window is full; room in `retry_after` seconds.
    Rate { limit: u32, cost: u32, retry_after: u64 },
    /// A batch of `cost` parts is larger than the whole limit.
    TooLarge { limit: u32, cost: u32 },
    /// `limit` requests are already in flight.
    Concurrency { limit: u32 },
}

/// An admitted request: holds its concurrency permit until dropped.
#[derive(Debug)]
pub(crate) struct Admission {
    _permit: Option<OwnedSemaphorePermit>,
}

#[derive(Debug, Default)]
struct Slot {
    /// `(second, units)` of admitted requests, oldest first, within the window.
    window: VecDeque<(u64, u32)>,
    /// The concurrency permits and the cap they were made for.
    running: Option<(u32, Arc<Semaphore>)>,
}

/// The limiter of one gateway process.
#[derive(Debug)]
pub(crate) struct Limiter {
    limits: AgentLimits,
    /// The rate window in seconds: 60 per agent, 300 for the upstream budget.
    window: u64,
    agents: Mutex<HashMap<String, Slot>>,
}

/// The key of the gateway's one upstream budget in its [`Limiter`].
pub(crate) const UPSTREAM: &str = "upstream";

impl Limiter {
    pub(crate) fn new(limits: AgentLimits) -> Self {
        Limiter { limits, window: WINDOW, agents: Mutex::new(HashMap::new()) }
    }

    /// The upstream budget (design §7 `[limits] upstream_*`): `per_5min` requests in any 300 s
    /// and `concurrency` in flight, for the whole process, keyed [`UPSTREAM`]; a `$batch` is one.
    pub(crate) fn upstream(budget: &UpstreamBudget) -> Self {
        let limits = AgentLimits {
            requests_per_minute: budget.requests_per_5min,
            concurrency: budget.concurrency,
            clock: budget.clock.clone(),
        };
        Limiter { limits, window: UPSTREAM_WINDOW, agents: Mutex::new(HashMap::new()) }
    }

    /// Admits a request of `cost` units for `agent_id`, or says which limit it is over.
    pub(crate) fn admit(&self, agent_id: &str, cost: u32, own: policy::Limits) -> Result<Admission, Over> {
        let limit = own.per_minute.unwrap_or(self.limits.requests_per_minute);
        let concurrency = own.concurrency.unwrap_or(self.limits.concurrency);
        if limit > 0 && cost > limit {
            return Err(Over::TooLarge { limit, cost });
        }
        let mut agents = self.agents.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = agents.entry(agent_id.to_owned()).or_default();
        let permit = if concurrency > 0 {
            // A changed cap starts a new set of permits; requests holding the old ones finish.
            if slot.running.as_ref().is_none_or(|(cap, _)| *cap != concurrency) {
                slot.running = Some((concurrency, Arc::new(Semaphore::new(concurrency as usize))));
            }
            let running =
                slot.running.as_ref().map(|(_, s)| s.clone()).ok_or(Over::Concurrency { limit: concurrency })?;
            match running.try_acquire_owned() {
                Ok(p) => Some(p),
                Err(_) => return Err(Over::Concurrency { limit: concurrency }),
            }
        } else {
            None
        };
        if limit > 0 {
            // Never move backwards (a system clock can): the buckets stay in order.
            let now = self.limits.clock.now().max(slot.window.back().map_or(0, |b| b.0));
            while slot.window.front().is_some_and(|b| b.0 + self.window <= now) {
                slot.window.pop_front();
            }
            let used: u64 = slot.window.iter().map(|b| u64::from(b.1)).sum();
            let room = u64::from(limit) - u64::from(cost);
            if used > room {
                // The oldest buckets leave the window first: wait until enough have.
                let mut left = used;
                let until = slot.window.iter().find_map(|b| {
                    left -= u64::from(b.1);
                    (left <= room).then_some(b.0 + self.window)
                });
                let retry_after = until.map_or(self.window, |t| t - now).max(1);
                return Err(Over::Rate { limit, cost, retry_after });
            }
            match slot.window.back_mut() {
                Some(b) if b.0 == now => b.1 += cost,
                _ => slot.window.push_back((now, cost)),
            }
        }
        Ok(Admission { _permit: permit })
    }
}

fn budget_reason(limit: u32, retry_after: u64) -> String {
    format!(
        "the gateway's budget of {limit} requests per 5 minutes to Dynamics 365 is used up; retry after {}",
        seconds(retry_after)
    )
}

fn seconds(n: u64) -> String {
    if n == 1 { "1 second".into() } else { format!("{n} seconds") }
}

impl Over {
    /// The 429 for the agent: Dataverse's service-protection code, `Retry-After` in seconds.
    pub(crate) fn refusal(&self, agent: &Agent) -> Refusal {
        let (reason, retry_after) = match *self {
            Over::Rate { limit, cost, retry_after } => {
                let counted = if cost > 1 { format!(" (this batch counts as {cost})") } else { String::new() };
                let reason = format!(
                    "it exceeded its limit of {limit} requests per minute{counted}; retry after {}",
                    seconds(retry_after)
                );
                (reason, retry_after)
            }
            Over::TooLarge { limit, cost } => {
                let reason = format!(
                    "this batch of {cost} requests is larger than its limit of {limit} requests per minute; \
                     send fewer parts per batch"
                );
                (reason, WINDOW)
            }
            Over::Concurrency { limit } => {
                (format!("it sent more than {limit} requests at once; retry after 1 second"), 1)
            }
        };
        self.with_code(Refusal::new("rate_limited", api_message(agent, &reason)).with_retry_after(retry_after))
    }

    /// The 429 when the gateway's upstream budget (not the agent) is used up.
    pub(crate) fn budget_refusal(&self, agent: &Agent) -> Refusal {
        let (reason, retry_after) = match *self {
            Over::Rate { limit, retry_after, .. } => (budget_reason(limit, retry_after), retry_after),
            Over::TooLarge { limit, .. } => (budget_reason(limit, UPSTREAM_WINDOW), UPSTREAM_WINDOW),
            Over::Concurrency { limit } => {
                (format!("the gateway already has {limit} requests in flight to Dynamics 365; retry after 1 second"), 1)
            }
        };
        self.with_code(Refusal::new("rate_limited", api_message(agent, &reason)).with_retry_after(retry_after))
    }

    fn with_code(&self, refusal: Refusal) -> Refusal {
        match self {
            Over::Concurrency { .. } => refusal.with_status(429, THROTTLING_CONCURRENCY),
            _ => refusal,
        }
    }
}

#[cfg(test)]
mod tests {
    /// No limits of the agent's own: the limiter's configured ones apply.
    const DEFAULTS: policy::Limits = policy::Limits { per_minute: None, concurrency: None };
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[derive(Debug)]
    struct ManualClock(AtomicU64);

    impl Clock for ManualClock {
        fn now(&self) -> u64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    fn limiter(per_minute: u32, concurrency: u32) -> (Limiter, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock(AtomicU64::new(1_000_000)));
        let limits = AgentLimits { requests_per_minute: per_minute, concurrency, clock: clock.clone() };
        (Limiter::new(limits), clock)
    }

    #[test]
    fn the_window_slides_per_second() {
        let (l, clock) = limiter(3, 0);
        l.admit("a", 1, DEFAULTS).unwrap();
        clock.0.fetch_add(10, Ordering::SeqCst);
        l.admit("a", 2, DEFAULTS).unwrap();
        // Full: the oldest unit leaves 60 s after it came, 50 s from now.
        assert_eq!(l.admit("a", 1, DEFAULTS).unwrap_err(), Over::Rate { limit: 3, cost: 1, retry_after: 50 });
        clock.0.fetch_add(49, Ordering::SeqCst);
        assert_eq!(l.admit("a", 1, DEFAULTS).unwrap_err(), Over::Rate { limit: 3, cost: 1, retry_after: 1 });
        clock.0.fetch_add(1, Ordering::SeqCst);
        l.admit("a", 1, DEFAULTS).unwrap();
        // Two units need both older buckets gone: the batch of 2 waits for the second one.
        assert_eq!(l.admit("a", 2, DEFAULTS).unwrap_err(), Over::Rate { limit: 3, cost: 2, retry_after: 10 });
    }

    #[test]
    fn refusals_consume_nothing_and_batches_larger_than_the_limit_never_fit() {
        let (l, clock) = limiter(4, 0);
        assert_eq!(l.admit("a", 5, DEFAULTS).unwrap_err(), Over::TooLarge { limit: 4, cost: 5 });
        l.admit("a", 4, DEFAULTS).unwrap();
        for _ in 0..10 {
            assert!(matches!(l.admit("a", 1, DEFAULTS), Err(Over::Rate { retry_after: 60, .. })));
        }
        clock.0.fetch_add(60, Ordering::SeqCst);
        l.admit("a", 4, DEFAULTS).unwrap();
        // Another agent has its own window.
        l.admit("b", 4, DEFAULTS).unwrap();
    }

    #[test]
    fn a_clock_going_back_keeps_the_window() {
        let (l, clock) = limiter(2, 0);
        l.admit("a", 2, DEFAULTS).unwrap();
        clock.0.fetch_sub(30, Ordering::SeqCst);
        assert!(matches!(l.admit("a", 1, DEFAULTS), Err(Over::Rate { retry_after: 60, .. })));
    }

    #[test]
    fn concurrency_permits_are_released_on_drop_and_never_queue() {
        let (l, _) = limiter(0, 2);
        let first = l.admit("a", 1, DEFAULTS).unwrap();
        let second = l.admit("a", 500, DEFAULTS).unwrap();
        assert_eq!(l.admit("a", 1, DEFAULTS).unwrap_err(), Over::Concurrency { limit: 2 });
        // Another agent is not affected.
        let _other = l.admit("b", 1, DEFAULTS).unwrap();
        drop(first);
        let third = l.admit("a", 1, DEFAULTS).unwrap();
        assert_eq!(l.admit("a", 1, DEFAULTS).unwrap_err(), Over::Concurrency { limit: 2 });
        drop((second, third));
        let _again = l.admit("a", 1, DEFAULTS).unwrap();
    }

    #[test]
    fn a_request_refused_for_concurrency_spends_no_rate() {
        let (l, _) = limiter(2, 1);
        let held = l.admit("a", 1, DEFAULTS).unwrap();
        for _ in 0..5 {
            assert_eq!(l.admit("a", 1, DEFAULTS).unwrap_err(), Over::Concurrency { limit: 1 });
        }
        drop(held);
        l.admit("a", 1, DEFAULTS).unwrap();
    }

    #[test]
    fn zero_turns_limits_off() {
        let (l, _) = limiter(0, 0);
        let held: Vec<_> = (0..1000).map(|_| l.admit("a", 1000, DEFAULTS).unwrap()).collect();
        assert_eq!(held.len(), 1000);
    }

    #[test]
    fn refusals_are_429_with_retry_after_and_the_service_protection_codes() {
        let agent = Agent { id: "x".into(), name: "Sales Ops Agent".into(), key_id: "K".into() };
        let r = Over::Rate { limit: 600, cost: 1, retry_after: 3 }.refusal(&agent);
        assert_eq!((r.status, r.hex, r.code, r.retry_after), (429, "0x80072322", "rate_limited", Some(3)));
        assert_eq!(
            r.message,
            "Stanchion denied this request for Sales Ops Agent: it exceeded its limit of 600 requests per minute; \
             retry after 3 seconds."
        );
        let r = Over::Concurrency { limit: 8 }.refusal(&agent);
        assert_eq!((r.status, r.hex, r.retry_after), (429, "0x80072326", Some(1)));
        assert!(r.message.contains("more than 8 requests at once"), "{}", r.message);
        let r = Over::TooLarge { limit: 4, cost: 5 }.refusal(&agent);
        assert_eq!((r.status, r.hex, r.retry_after), (429, "0x80072322", Some(60)));
    }

    #[test]
    fn an_agents_own_limits_replace_the_defaults() {
        let (l, _clock) = limiter(3, 1);
        let own = policy::Limits { per_minute: Some(1), concurrency: Some(0) };
        let first = l.admit("a", 1, own).unwrap();
        assert_eq!(l.admit("a", 1, own).unwrap_err(), Over::Rate { limit: 1, cost: 1, retry_after: 60 });
        // Without its own cap the default of one at once applies again, with fresh permits.
        let unlimited_rate = policy::Limits { per_minute: Some(0), concurrency: None };
        let second = l.admit("a", 1, unlimited_rate).unwrap();
        assert_eq!(l.admit("a", 1, unlimited_rate).unwrap_err(), Over::Concurrency { limit: 1 });
        drop((first, second));
        l.admit("a", 1, unlimited_rate).unwrap();
    }

    #[test]
    fn the_upstream_budget_counts_over_five_minutes_for_everyone() {
        let clock = Arc::new(ManualClock(AtomicU64::new(1_000_000)));
        let budget = UpstreamBudget { requests_per_5min: 2, concurrency: 0, clock: clock.clone() };
        let l = Limiter::upstream(&budget);
        l.admit(UPSTREAM, 1, DEFAULTS).unwrap();
        clock.0.fetch_add(100, Ordering::SeqCst);
        l.admit(UPSTREAM, 1, DEFAULTS).unwrap();
        assert_eq!(l.admit(UPSTREAM, 1, DEFAULTS).unwrap_err(), Over::Rate { limit: 2, cost: 1, retry_after: 200 });
        clock.0.fetch_add(200, Ordering::SeqCst);
        l.admit(UPSTREAM, 1, DEFAULTS).unwrap();
        let agent = Agent { id: "a".into(), name: "Sales Ops Agent".into(), key_id: "K".into() };
        let refusal = Over::Rate { limit: 2, cost: 1, retry_after: 200 }.budget_refusal(&agent);
        assert!(refusal.message.contains("budget of 2 requests per 5 minutes"), "{}", refusal.message);
    }
}
