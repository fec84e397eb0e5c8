//! Per-credential token buckets, as Lever documents ("token bucket per API key").

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// A token bucket: one token every `replenish_every`, at most `burst` saved up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Time to earn one token back.
    pub replenish_every: Duration,
    /// Bucket size (requests that may go back to back).
    pub burst: u32,
}

impl RateLimit {
    /// `rate` requests per second steady, bursts of `burst` (Lever: 10/s, bursts of 20).
    pub fn per_second(rate: u32, burst: u32) -> Self {
        RateLimit {
            replenish_every: Duration::from_secs(1) / rate.max(1),
            burst,
        }
    }

    /// One token per `period`, bursts of `burst`. A long period makes "the (burst+1)-th
    /// request is refused" deterministic in tests.
    pub fn per_period(period: Duration, burst: u32) -> Self {
        RateLimit {
            replenish_every: period,
            burst,
        }
    }

    fn quota(self) -> Quota {
        let burst = NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(self.replenish_every.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(burst))
            .allow_burst(burst)
    }
}

/// The live buckets of one simulator, keyed by credential (or OAuth grant).
#[derive(Default)]
pub(crate) struct Throttle {
    limiter: Mutex<Option<Arc<DefaultKeyedRateLimiter<String>>>>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle").finish_non_exhaustive()
    }
}

impl Throttle {
    pub(crate) fn new(limit: Option<RateLimit>) -> Self {
        let t = Throttle::default();
        t.set(limit);
        t
    }

    /// Replaces the limit; every bucket starts full again.
    pub(crate) fn set(&self, limit: Option<RateLimit>) {
        let limiter = limit.map(|l| Arc::new(RateLimiter::keyed(l.quota())));
        *self.limiter.lock().unwrap_or_else(|e| e.into_inner()) = limiter;
    }

    /// Takes a token from `bucket`'s bucket; `false` = over the limit.
    pub(crate) fn admit(&self, bucket: &str) -> bool {
        let limiter = self
            .limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match limiter {
            None => true,
            Some(l) => l.check_key(&bucket.to_owned()).is_ok(),
        }
    }
}
