//! The client-side token bucket (SPEC §4): the daemon paces itself instead of collecting 429s.
//!
//! One limiter per tenant and API; every attempt, each retry included, waits on it. It does not
//! know the server's budget, so 429 + `Retry-After` handling in the retry layer stays necessary.

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

pub struct Limiter {
    bucket: DefaultDirectRateLimiter,
}

impl Limiter {
    /// `requests_per_second` sustained, at most `burst` back to back.
    pub fn new(requests_per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        Limiter {
            bucket: RateLimiter::direct(Quota::per_second(requests_per_second).allow_burst(burst)),
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
