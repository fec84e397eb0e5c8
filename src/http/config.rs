//! Pacing, timeouts and retry settings of one API client: the one shape these settings have
//! from the configuration file to the limiter. `lever()` and `willo()` are the only defaults.

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use super::retry::RetryPolicy;

/// Settings shared by both clients. `lever()` and `willo()` are the default pacing and retries (rule:
/// paced and retried calls, docs/behaviour.md), and the
/// configuration starts from them.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    /// Token-bucket rate (sustained requests per second).
    pub requests_per_second: RequestsPerSecond,
    /// Token-bucket burst (requests allowed back to back).
    pub burst: NonZeroU32,
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one whole attempt (connect, send, headers and body).
    pub request_timeout: Duration,
    /// Backoff intervals and the per-call elapsed-time budget (`max_elapsed`).
    pub retry: RetryPolicy,
}

/// A token-bucket rate: positive, finite, and small enough that one request's share of a
/// second is at least a nanosecond. Checked once, where the number enters the program.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct RequestsPerSecond(f64);

impl RequestsPerSecond {
    /// The fastest rate the limiter can express (one request per nanosecond).
    pub const MAX: f64 = 1e9;

    /// `None` unless `0 < per_second <= MAX`.
    pub const fn new(per_second: f64) -> Option<RequestsPerSecond> {
        if per_second.is_finite() && per_second > 0.0 && per_second <= Self::MAX {
            Some(RequestsPerSecond(per_second))
        } else {
            None
        }
    }

    pub const fn get(self) -> f64 {
        self.0
    }

    /// The time one request uses up; never zero.
    pub fn period(self) -> Duration {
        Duration::from_secs_f64(1.0 / self.0).max(Duration::from_nanos(1))
    }
}

impl fmt::Display for RequestsPerSecond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

const fn nz(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(v) => v,
        None => panic!("zero"),
    }
}

const fn rps(n: f64) -> RequestsPerSecond {
    match RequestsPerSecond::new(n) {
        Some(v) => v,
        None => panic!("not a rate"),
    }
}

// Evaluated at compile time, so the panics above can never happen at run time.
const LEVER_RPS: RequestsPerSecond = rps(8.0);
const LEVER_BURST: NonZeroU32 = nz(16);
const WILLO_RPS: RequestsPerSecond = rps(2.0);
const WILLO_BURST: NonZeroU32 = nz(4);

impl HttpConfig {
    /// Lever allows 10/s with bursts of 20; stay under it (8/s, burst 16; rule: paced and retried calls).
    pub fn lever() -> Self {
        HttpConfig {
            requests_per_second: LEVER_RPS,
            burst: LEVER_BURST,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        }
    }

    /// Willo's limit is unpublished; be gentle (2/s, burst 4; rule: paced and retried calls).
    pub fn willo() -> Self {
        HttpConfig {
            requests_per_second: WILLO_RPS,
            burst: WILLO_BURST,
            ..HttpConfig::lever()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_spec_s() {
        let (l, w) = (HttpConfig::lever(), HttpConfig::willo());
        assert_eq!((l.requests_per_second.get(), l.burst.get()), (8.0, 16));
        assert_eq!((w.requests_per_second.get(), w.burst.get()), (2.0, 4));
        assert_eq!(l.connect_timeout, Duration::from_secs(10));
        assert_eq!(l.request_timeout, Duration::from_secs(30));
        assert_eq!(l.retry.max_elapsed, Duration::from_secs(120));
    }

    #[test]
    fn a_rate_is_positive_finite_and_expressible() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 2e9] {
            assert_eq!(RequestsPerSecond::new(bad), None, "{bad}");
        }
        let half = RequestsPerSecond::new(0.5).unwrap();
        assert_eq!(half.period(), Duration::from_secs(2));
        let fastest = RequestsPerSecond::new(RequestsPerSecond::MAX).unwrap();
        assert_eq!(fastest.period(), Duration::from_nanos(1));
    }
}
