//! Retries with exponential backoff and full jitter, a per-call elapsed-time budget, and the
//! server's requested wait honoured.
//!
//! This is THE only file that uses the `backoff` crate. `backoff` is flagged unmaintained
//! (RUSTSEC-2025-0012, informational; no vulnerability). The product owner chose to keep it, so
//! it is confined here behind [`run`] and [`RetryPolicy`]: swapping it for `backon` (see
//! docs/advisories.md) touches this file only.
//!
//! Which errors are retried is decided by [`ApiError::is_retryable`]; non-idempotent requests
//! never produce a retryable error after they may have been sent (the transport turns those into
//! `Ambiguous`), so this module cannot repeat a write by accident.

use std::future::Future;
use std::time::Duration;

use backoff::backoff::Backoff;
use backoff::exponential::ExponentialBackoff;

use super::error::ApiError;

/// How a call is retried. Defaults suit production; tests shrink the intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// The first backoff ceiling (the actual wait is uniform in `[0, ceiling]`).
    pub initial_interval: Duration,
    /// The ceiling never grows past this.
    pub max_interval: Duration,
    /// Growth factor of the ceiling per retry.
    pub multiplier: f64,
    /// Give up once this much time has passed since the first attempt (waits included).
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial_interval: Duration::from_millis(500),
            max_interval: Duration::from_secs(30),
            multiplier: 2.0,
            max_elapsed: Duration::from_secs(120),
        }
    }
}

/// Reads tokio's clock, so a paused test clock drives the elapsed-time budget too.
#[derive(Debug, Default, Clone, Copy)]
struct TokioClock;

impl backoff::Clock for TokioClock {
    fn now(&self) -> std::time::Instant {
        tokio::time::Instant::now().into_std()
    }
}

/// Full jitter: each wait is uniform between zero and the exponential ceiling, so many clients
/// (or many concurrent calls) that failed together do not come back together.
struct FullJitter(ExponentialBackoff<TokioClock>);

impl Backoff for FullJitter {
    fn reset(&mut self) {
        self.0.reset();
    }

    fn next_backoff(&mut self) -> Option<Duration> {
        self.0
            .next_backoff()
            .map(|ceiling| ceiling.mul_f64(rand::random::<f64>()))
    }
}

impl RetryPolicy {
    fn backoff(&self) -> FullJitter {
        let mut b = backoff::exponential::ExponentialBackoffBuilder::<TokioClock>::new();
        b.with_initial_interval(self.initial_interval)
            .with_max_interval(self.max_interval)
            .with_multiplier(self.multiplier)
            // Jitter is applied by FullJitter; the ceiling itself is deterministic.
            .with_randomization_factor(0.0)
            .with_max_elapsed_time(Some(self.max_elapsed));
        FullJitter(b.build())
    }
}

/// The wait a retryable error asks for, if any (`Retry-After` on a 429 or 503).
fn requested_wait(err: &ApiError) -> Option<Duration> {
    match err {
        ApiError::RateLimited { retry_after, .. } | ApiError::Transient { retry_after, .. } => {
            *retry_after
        }
        _ => None,
    }
}

/// Runs `attempt` until it succeeds, fails permanently, or the budget is spent.
///
/// A server-requested wait replaces the computed backoff; if it would end past the budget the
/// call gives up at once and returns the error (whose `retry_after` tells the caller when to
/// come back) instead of sleeping for nothing.
pub async fn run<T, F, Fut>(policy: &RetryPolicy, mut attempt: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let started = tokio::time::Instant::now();
    let max_elapsed = policy.max_elapsed;
    let op = || {
        let fut = attempt();
        async move {
            match fut.await {
                Ok(v) => Ok(v),
                Err(e) if !e.is_retryable() => Err(backoff::Error::permanent(e)),
                Err(e) => match requested_wait(&e) {
                    Some(wait) if !wait.is_zero() => {
                        if started.elapsed() + wait > max_elapsed {
                            Err(backoff::Error::permanent(e))
                        } else {
                            Err(backoff::Error::retry_after(e, wait))
                        }
                    }
                    _ => Err(backoff::Error::transient(e)),
                },
            }
        }
    };
    backoff::future::retry_notify(policy.backoff(), op, |e: ApiError, wait: Duration| {
        tracing::debug!(error = %e, wait_ms = wait.as_millis() as u64, "retrying");
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::observer::Api;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn transient() -> ApiError {
        ApiError::Transient {
            api: Api::Lever,
            route: "/t",
            status: Some(503),
            reason: "503".into(),
            retry_after: None,
        }
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            initial_interval: Duration::from_millis(100),
            max_interval: Duration::from_secs(2),
            multiplier: 2.0,
            max_elapsed: Duration::from_secs(30),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn transient_errors_are_retried_until_success() {
        let calls = AtomicU32::new(0);
        let out = run(&policy(), || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 3 {
                Err(transient())
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(out.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_errors_are_not_retried() {
        let calls = AtomicU32::new(0);
        let out: Result<(), _> = run(&policy(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ApiError::Rejected {
                api: Api::Lever,
                route: "/t",
                status: 400,
                message: "bad".into(),
            })
        })
        .await;
        assert_eq!(out.unwrap_err().metric_label(), "rejected");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_max_elapsed_with_growing_waits() {
        let calls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let out: Result<(), _> = run(&policy(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(transient())
        })
        .await;
        assert_eq!(out.unwrap_err().metric_label(), "transient");
        // The budget bounds the total time, and backoff did not give up early.
        assert!(start.elapsed() <= Duration::from_secs(30));
        // With ceilings 0.1, 0.2, .. 2, 2, .. s and uniform jitter, 30 s hold well over 10 tries.
        assert!(
            calls.load(Ordering::SeqCst) > 10,
            "calls: {}",
            calls.load(Ordering::SeqCst)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured_exactly() {
        let calls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let out = run(&policy(), || async {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                Err(ApiError::RateLimited {
                    api: Api::Lever,
                    route: "/t",
                    retry_after: Some(Duration::from_secs(7)),
                })
            } else {
                Ok(())
            }
        })
        .await;
        assert!(out.is_ok());
        assert_eq!(start.elapsed(), Duration::from_secs(7));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_beyond_the_budget_gives_up_at_once() {
        let calls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let out: Result<(), _> = run(&policy(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ApiError::RateLimited {
                api: Api::Lever,
                route: "/t",
                retry_after: Some(Duration::from_secs(360)),
            })
        })
        .await;
        match out.unwrap_err() {
            ApiError::RateLimited { retry_after, .. } => {
                assert_eq!(retry_after, Some(Duration::from_secs(360)))
            }
            other => panic!("unexpected {other}"),
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[test]
    fn jitter_stays_within_the_exponential_ceiling() {
        let p = policy();
        let mut b = p.backoff();
        b.reset();
        let mut ceiling = p.initial_interval;
        for _ in 0..8 {
            let wait = b.next_backoff().unwrap();
            assert!(wait <= ceiling, "{wait:?} > {ceiling:?}");
            ceiling = (ceiling * 2).min(p.max_interval);
        }
    }
}
