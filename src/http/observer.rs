//! Per-attempt hooks: every HTTP attempt (each retry included) is reported once.
//!
//! The metrics module implements [`ApiObserver`] on its registry; [`CountingObserver`] is the
//! small in-process tally the `--once` summary and the tests read; [`FanOut`] feeds several.
//! Calls that fail for good are reported once more, with their [`ApiError`], so their kinds
//! (`metric_label()`) can be counted.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::error::ApiError;

/// Which remote API an attempt or error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Api {
    Lever,
    Willo,
}

impl Api {
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Lever => "lever",
            Api::Willo => "willo",
        }
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of one attempt, coarse enough to be a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusClass {
    Success,
    Redirect,
    /// 401: credentials rejected (the tenant is disconnected).
    Unauthorized,
    /// 403: a permission is missing.
    Forbidden,
    /// Any other 4xx.
    ClientError,
    RateLimited,
    ServerError,
    /// No HTTP status: timeout, connection failure, body cut short.
    Error,
}

impl StatusClass {
    pub fn from_status(status: u16) -> StatusClass {
        match status {
            401 => StatusClass::Unauthorized,
            403 => StatusClass::Forbidden,
            429 => StatusClass::RateLimited,
            200..=299 => StatusClass::Success,
            300..=399 => StatusClass::Redirect,
            400..=499 => StatusClass::ClientError,
            500..=599 => StatusClass::ServerError,
            _ => StatusClass::Error,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StatusClass::Success => "2xx",
            StatusClass::Redirect => "3xx",
            StatusClass::Unauthorized => "401",
            StatusClass::Forbidden => "403",
            StatusClass::ClientError => "4xx",
            StatusClass::RateLimited => "429",
            StatusClass::ServerError => "5xx",
            StatusClass::Error => "error",
        }
    }
}

/// One HTTP attempt, as reported to observers.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub api: Api,
    /// Route template such as `"/opportunities/{id}/addTags"` (never a concrete URL).
    pub route: &'a str,
    pub method: &'a str,
    pub status: StatusClass,
    pub latency: Duration,
}

/// Receives one call per HTTP attempt. Implementations must be cheap and must not block.
pub trait ApiObserver: Send + Sync {
    fn on_attempt(&self, attempt: &Attempt<'_>);

    /// A call failed for good (after its retries) with `error`, on the route template
    /// `route`. Errors a client finds later in a successful reply (an unreadable body, a
    /// broken paging contract) are not reported here.
    fn on_call_failed(&self, _api: Api, _route: &str, _error: &ApiError) {}
}

/// Ignores everything (for one-off clients such as `connect`).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopObserver;

impl ApiObserver for NoopObserver {
    fn on_attempt(&self, _: &Attempt<'_>) {}
}

/// Calls and 429s per API, read by the `--once` summary and by tests.
#[derive(Debug, Default)]
pub struct CountingObserver {
    lever_calls: AtomicU64,
    lever_429: AtomicU64,
    willo_calls: AtomicU64,
    willo_429: AtomicU64,
}

impl CountingObserver {
    pub fn new() -> Self {
        Self::default()
    }

    fn counters(&self, api: Api) -> (&AtomicU64, &AtomicU64) {
        match api {
            Api::Lever => (&self.lever_calls, &self.lever_429),
            Api::Willo => (&self.willo_calls, &self.willo_429),
        }
    }

    /// HTTP attempts made to `api` (retries included).
    pub fn calls(&self, api: Api) -> u64 {
        self.counters(api).0.load(Ordering::Relaxed)
    }

    /// Attempts to `api` answered with 429.
    pub fn rate_limited(&self, api: Api) -> u64 {
        self.counters(api).1.load(Ordering::Relaxed)
    }
}

impl ApiObserver for CountingObserver {
    fn on_attempt(&self, attempt: &Attempt<'_>) {
        let (calls, limited) = self.counters(attempt.api);
        calls.fetch_add(1, Ordering::Relaxed);
        if attempt.status == StatusClass::RateLimited {
            limited.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Forwards each attempt to several observers (e.g. metrics and counting).
#[derive(Clone, Default)]
pub struct FanOut(Vec<Arc<dyn ApiObserver>>);

impl FanOut {
    pub fn new(observers: Vec<Arc<dyn ApiObserver>>) -> Self {
        FanOut(observers)
    }
}

impl ApiObserver for FanOut {
    fn on_attempt(&self, attempt: &Attempt<'_>) {
        for o in &self.0 {
            o.on_attempt(attempt);
        }
    }

    fn on_call_failed(&self, api: Api, route: &str, error: &ApiError) {
        for o in &self.0 {
            o.on_call_failed(api, route, error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(api: Api, status: u16) -> Attempt<'static> {
        Attempt {
            api,
            route: "/x",
            method: "GET",
            status: StatusClass::from_status(status),
            latency: Duration::ZERO,
        }
    }

    #[test]
    fn status_classes_keep_401_403_and_429_apart_from_other_4xx() {
        let classes: Vec<_> = [200, 204, 301, 400, 401, 403, 404, 429, 500, 503]
            .map(|s| StatusClass::from_status(s).as_str())
            .to_vec();
        assert_eq!(
            classes,
            [
                "2xx", "2xx", "3xx", "4xx", "401", "403", "4xx", "429", "5xx", "5xx"
            ]
        );
    }

    #[test]
    fn fan_out_feeds_every_counter_per_api() {
        let a = Arc::new(CountingObserver::new());
        let b = Arc::new(CountingObserver::new());
        let fan = FanOut::new(vec![a.clone(), b.clone()]);
        fan.on_attempt(&attempt(Api::Lever, 200));
        fan.on_attempt(&attempt(Api::Lever, 429));
        fan.on_attempt(&attempt(Api::Willo, 500));
        for c in [&a, &b] {
            assert_eq!(c.calls(Api::Lever), 2);
            assert_eq!(c.rate_limited(Api::Lever), 1);
            assert_eq!(c.calls(Api::Willo), 1);
            assert_eq!(c.rate_limited(Api::Willo), 0);
        }
    }
}
