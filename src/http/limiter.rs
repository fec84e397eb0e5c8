//! The client-side token bucket (rule: paced and retried calls, docs/behaviour.md): the daemon paces itself instead of collecting 429s.
//!
//! One limiter per tenant and API; every attempt, each retry included, waits on it. It does not
//! know the server's budget, so 429 + `Retry-After` handling in the retry layer stays necessary.

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::config::RequestsPerSecond;

pub struct Limiter {
    bucket: DefaultDirectRateLimiter,
}

impl Limiter {
    /// `requests_per_second` sustained (fractions allowed: 0.5 is one request every two
    /// seconds), at most `burst` back to back.
    pub fn new(requests_per_second: RequestsPerSecond, burst: NonZeroU32) -> Self {
        // `period()` is never zero, the only period `with_period` refuses, so the fallback
        // is never taken; it exists because the type system cannot see that.
        let quota = Quota::with_period(requests_per_second.period())
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN));
        Limiter {
            bucket: RateLimiter::direct(quota.allow_burst(burst)),
        }
    }

    /// Waits until one request may be sent. Uses governor's own (real-time) clock.
    pub async fn wait(&self) {
        self.bucket.until_ready().await;
    }
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter").finish_non_exhaustive()
    }
}
