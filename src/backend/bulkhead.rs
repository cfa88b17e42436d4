//! A bulkhead and a circuit breaker in front of one back-end, so a slow or broken
//! system costs only the turns that need it, and those quickly.
//!
//! - **Bulkhead**: at most `max_concurrent` look-ups wait on the back-end at once;
//!   one more fails at once with [`BackendError::Busy`] instead of queueing.
//! - **Breaker**: after `breaker_failures` failures in a row (timeouts, transport
//!   errors, 5xx) the back-end is not called for `breaker_open_ms`; look-ups fail at
//!   once with [`BackendError::Unavailable`]. Then one trial look-up goes through:
//!   success closes the breaker, failure opens it again.
//!
//! The breaker's rule is the pure [`Breaker`]; [`Guarded`] applies it around a
//! [`Backend`] with a clock.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{Backend, BackendError};

/// The breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breaker {
    /// Calls go through; `failures` in a row so far.
    Closed {
        /// Consecutive failures.
        failures: u32,
    },
    /// Calls fail at once until `until`.
    Open {
        /// When a trial call may go through.
        until: Instant,
    },
    /// One trial call is out since `since`; others fail at once. A trial that
    /// never reports (its thread died) lets another through after the pause.
    Trial {
        /// When the trial went out.
        since: Instant,
    },
}

/// What the breaker says about a call about to be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Make the call.
    Call,
    /// Fail at once.
    Refuse,
}

/// The breaker's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Failures in a row that open the breaker (0 = never opens).
    pub failures: u32,
    /// How long it stays open.
    pub open_for: Duration,
}

impl Breaker {
    /// Whether a call may go out at `now`, and the state after that decision.
    pub fn admit(self, now: Instant, policy: BreakerPolicy) -> (Admission, Self) {
        match self {
            Self::Closed { .. } => (Admission::Call, self),
            Self::Open { until } if now >= until => (Admission::Call, Self::Trial { since: now }),
            Self::Trial { since } if now >= since + policy.open_for => (Admission::Call, Self::Trial { since: now }),
            Self::Open { .. } | Self::Trial { .. } => (Admission::Refuse, self),
        }
    }

    /// The state after a call that went out ended, well (`ok`) or not, at `now`.
    pub fn record(self, ok: bool, now: Instant, policy: BreakerPolicy) -> Self {
        match (self, ok) {
            (_, true) => Self::Closed { failures: 0 },
            (Self::Trial { .. } | Self::Open { .. }, false) => Self::Open { until: now + policy.open_for },
            (Self::Closed { failures }, false) => {
                let failures = failures + 1;
                if policy.failures > 0 && failures >= policy.failures {
                    Self::Open { until: now + policy.open_for }
                } else {
                    Self::Closed { failures }
                }
            }
        }
    }
}

/// Whether an error says the back-end itself is in trouble (and so counts toward
/// opening the breaker): a 404 for an unknown order is the back-end working.
fn is_outage(error: &BackendError) -> bool {
    match error {
        BackendError::Timeout { .. } | BackendError::Transport { .. } => true,
        BackendError::Status { status, .. } => *status >= 500 || *status == 429,
        BackendError::InvalidJson { .. }
        | BackendError::Unknown { .. }
        | BackendError::MissingEnv { .. }
        | BackendError::Busy { .. }
        | BackendError::Unavailable { .. } => false,
    }
}

/// A back-end behind a bulkhead and a breaker.
#[derive(Debug)]
pub struct Guarded<B> {
    name: String,
    inner: B,
    max_concurrent: usize,
    in_flight: AtomicUsize,
    policy: BreakerPolicy,
    breaker: Mutex<Breaker>,
}

impl<B: Backend> Guarded<B> {
    /// Guard `inner` (registered as `name`).
    pub fn new(name: &str, inner: B, max_concurrent: usize, policy: BreakerPolicy) -> Self {
        Self {
            name: name.to_owned(),
            inner,
            max_concurrent: max_concurrent.max(1),
            in_flight: AtomicUsize::new(0),
            policy,
            breaker: Mutex::new(Breaker::Closed { failures: 0 }),
        }
    }

    fn breaker(&self) -> std::sync::MutexGuard<'_, Breaker> {
        self.breaker.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Gives a bulkhead slot back however the call ends.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl<B: Backend> Backend for Guarded<B> {
    fn get(&self, path: &str) -> Result<serde_json::Value, BackendError> {
        let (backend, path_owned) = (self.name.clone(), path.to_owned());
        if self.in_flight.fetch_add(1, Ordering::SeqCst) >= self.max_concurrent {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            return Err(BackendError::Busy { backend, path: path_owned });
        }
        let _slot = Slot(&self.in_flight);
        {
            let mut breaker = self.breaker();
            let (admission, next) = breaker.admit(Instant::now(), self.policy);
            *breaker = next;
            if admission == Admission::Refuse {
                return Err(BackendError::Unavailable { backend, path: path_owned });
            }
        }
        let result = self.inner.get(path);
        let ok = !result.as_ref().is_err_and(is_outage);
        let mut breaker = self.breaker();
        *breaker = breaker.record(ok, Instant::now(), self.policy);
        result
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicU32;

    use super::*;

    const POLICY: BreakerPolicy = BreakerPolicy { failures: 3, open_for: Duration::from_secs(10) };

    #[test]
    fn the_breaker_opens_after_failures_in_a_row_and_tries_once_after_the_pause() {
        let t0 = Instant::now();
        let mut b = Breaker::Closed { failures: 0 };
        b = b.record(false, t0, POLICY);
        b = b.record(true, t0, POLICY);
        assert_eq!(b, Breaker::Closed { failures: 0 }, "a success resets the count");
        for _ in 0..3 {
            assert_eq!(b.admit(t0, POLICY).0, Admission::Call);
            b = b.record(false, t0, POLICY);
        }
        assert_eq!(b, Breaker::Open { until: t0 + POLICY.open_for });
        assert_eq!(b.admit(t0 + Duration::from_secs(9), POLICY).0, Admission::Refuse);
        let t10 = t0 + Duration::from_secs(10);
        let (admission, trial) = b.admit(t10, POLICY);
        assert_eq!((admission, trial), (Admission::Call, Breaker::Trial { since: t10 }));
        assert_eq!(trial.admit(t10, POLICY).0, Admission::Refuse, "one trial at a time");
        let later = t10 + POLICY.open_for;
        assert_eq!(trial.admit(later, POLICY).0, Admission::Call, "a silent trial is given up");
        let t1 = t0 + Duration::from_secs(11);
        assert_eq!(trial.record(false, t1, POLICY), Breaker::Open { until: t1 + POLICY.open_for });
        assert_eq!(trial.record(true, t1, POLICY), Breaker::Closed { failures: 0 });
    }

    #[test]
    fn a_breaker_with_no_failure_limit_never_opens() {
        let policy = BreakerPolicy { failures: 0, ..POLICY };
        let mut b = Breaker::Closed { failures: 0 };
        for _ in 0..100 {
            b = b.record(false, Instant::now(), policy);
        }
        assert_eq!(b.admit(Instant::now(), POLICY).0, Admission::Call);
    }

    /// Fails with `error` (or answers `{}`), counting calls, after `delay`.
    #[derive(Debug)]
    struct Fake {
        calls: Arc<AtomicU32>,
        error: Option<BackendError>,
        delay: Duration,
    }

    impl Backend for Fake {
        fn get(&self, _: &str) -> Result<serde_json::Value, BackendError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(self.delay);
            self.error.clone().map_or(Ok(serde_json::json!({})), Err)
        }
    }

    fn fake(error: Option<BackendError>, delay: Duration) -> (Arc<AtomicU32>, Fake) {
        let calls = Arc::new(AtomicU32::new(0));
        (Arc::clone(&calls), Fake { calls, error, delay })
    }

    #[test]
    fn an_open_breaker_stops_calling_the_back_end() {
        let timeout = BackendError::Timeout { backend: "shop".into(), path: "/o".into() };
        let (calls, inner) = fake(Some(timeout), Duration::ZERO);
        let guarded = Guarded::new("shop", inner, 4, POLICY);
        for _ in 0..10 {
            let _ = guarded.get("/o");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert!(matches!(guarded.get("/o"), Err(BackendError::Unavailable { .. })));
    }

    #[test]
    fn not_found_is_the_back_end_working_and_never_opens_the_breaker() {
        let missing = BackendError::Status { backend: "shop".into(), path: "/o".into(), status: 404 };
        let (calls, inner) = fake(Some(missing), Duration::ZERO);
        let guarded = Guarded::new("shop", inner, 4, POLICY);
        for _ in 0..10 {
            let _ = guarded.get("/o");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 10);
    }

    #[test]
    fn lookups_beyond_the_bulkhead_fail_at_once() {
        let (calls, inner) = fake(None, Duration::from_millis(300));
        let guarded = Arc::new(Guarded::new("crm", inner, 2, POLICY));
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let g = Arc::clone(&guarded);
                std::thread::spawn(move || g.get("/c"))
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let busy = results.iter().filter(|r| matches!(r, Err(BackendError::Busy { .. }))).count();
        assert_eq!(calls.load(Ordering::SeqCst) as usize, 6 - busy);
        assert!(busy >= 3, "at most 2 wait at once (plus one that may start after a slot frees): {busy} busy");
        assert!(guarded.get("/c").is_ok(), "slots are given back");
    }
}
