//! Pacing, timeouts and retry settings of one API client.

use std::num::NonZeroU32;
use std::time::Duration;

use super::retry::RetryPolicy;

/// Settings shared by both clients. `lever()` and `willo()` are the SPEC §4 defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    /// Token-bucket rate (sustained requests per second).
    pub requests_per_second: f64,
    /// Token-bucket burst (requests allowed back to back).
    pub burst: NonZeroU32,
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one whole attempt (connect, send, headers and body).
    pub request_timeout: Duration,
    /// Backoff intervals and the per-call elapsed-time budget (`max_elapsed`).
    pub retry: RetryPolicy,
}

const fn nz(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(v) => v,
        None => panic!("zero"),
    }
}

// Evaluated at compile time, so the panic above can never happen at run time.
const LEVER_RPS: f64 = 8.0;
const LEVER_BURST: NonZeroU32 = nz(16);
const WILLO_RPS: f64 = 2.0;
const WILLO_BURST: NonZeroU32 = nz(4);

impl HttpConfig {
    /// Lever allows 10/s with bursts of 20; stay under it (SPEC §4: 8/s, burst 16).
    pub fn lever() -> Self {
        HttpConfig {
            requests_per_second: LEVER_RPS,
            burst: LEVER_BURST,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        }
    }

    /// Willo's limit is unpublished; be gentle (SPEC §4: 2/s, burst 4).
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
        assert_eq!((l.requests_per_second, l.burst.get()), (8.0, 16));
        assert_eq!((w.requests_per_second, w.burst.get()), (2.0, 4));
    }
}
