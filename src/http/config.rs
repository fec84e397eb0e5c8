//! Pacing, timeouts and retry settings of one API client.

use std::num::NonZeroU32;
use std::time::Duration;

use super::retry::RetryPolicy;

/// Settings shared by both clients. `lever()` and `willo()` are the SPEC §4 defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    /// Token-bucket rate (sustained requests per second).
    pub requests_per_second: NonZeroU32,
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

impl HttpConfig {
    /// Lever allows 10/s with bursts of 20; stay under it (SPEC §4: 8/s, burst 16).
    pub fn lever() -> Self {
        HttpConfig {
            requests_per_second: nz(8),
            burst: nz(16),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        }
    }

    /// Willo's limit is unpublished; be gentle (SPEC §4: 2/s, burst 4).
    pub fn willo() -> Self {
        HttpConfig {
            requests_per_second: nz(2),
            burst: nz(4),
            ..HttpConfig::lever()
        }
    }
}
