//! The client-side token bucket (rule: paced and retried calls, docs/behaviour.md): the daemon paces itself instead of collecting 429s.
//!
//! One limiter per tenant and API; every attempt, each retry included, waits on it. It does not
//! know the server's budget, so 429 + `Retry-After` handling in the retry layer stays necessary.

use std::future::Future;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};

use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::Notify;

use super::config::RequestsPerSecond;

tokio::task_local! {
    /// Set around a hint's reconcile: its calls go ahead of a pass's.
    static URGENT: ();
}

/// Runs `work` with its API calls ahead of those of passes in every limiter it waits on: a
/// webhook's reconcile must not queue behind a pass's hundreds of calls.
pub async fn urgent<F: Future>(work: F) -> F::Output {
    URGENT.scope((), work).await
}

fn is_urgent() -> bool {
    URGENT.try_with(|_| ()).is_ok()
}

pub struct Limiter {
    bucket: DefaultDirectRateLimiter,
    /// Urgent callers waiting for a token; ordinary ones wait while there are any.
    urgent_waiting: AtomicUsize,
    urgent_served: Notify,
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
            urgent_waiting: AtomicUsize::new(0),
            urgent_served: Notify::new(),
        }
    }

    /// Waits until one request may be sent. Uses governor's own (real-time) clock. Inside
    /// [`urgent`], the caller goes ahead of every ordinary caller: ordinary callers do not sit
    /// in the bucket's queue but look at it between waits, and step back while an urgent
    /// caller waits.
    pub async fn wait(&self) {
        if is_urgent() {
            self.urgent_waiting.fetch_add(1, Ordering::SeqCst);
            let _served = Served(self);
            self.bucket.until_ready().await;
            return;
        }
        // The bucket's own clock: a new `DefaultClock` per call reads the CPU's features
        // (`cpuid`, which traps to the hypervisor on a virtual machine) every time.
        let clock = self.bucket.clock();
        loop {
            let served = self.urgent_served.notified();
            if self.urgent_waiting.load(Ordering::SeqCst) > 0 {
                served.await;
                continue;
            }
            match self.bucket.check() {
                Ok(()) => return,
                Err(not_until) => {
                    tokio::time::sleep(not_until.wait_time_from(clock.now())).await;
                }
            }
        }
    }
}

/// One urgent caller done (or gone): ordinary callers look again.
struct Served<'l>(&'l Limiter);

impl Drop for Served<'_> {
    fn drop(&mut self) {
        self.0.urgent_waiting.fetch_sub(1, Ordering::SeqCst);
        self.0.urgent_served.notify_waiters();
    }
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_urgent_caller_goes_ahead_of_ordinary_callers_waiting() {
        let rate = RequestsPerSecond::new(20.0).unwrap();
        let limiter = std::sync::Arc::new(Limiter::new(rate, NonZeroU32::MIN));
        limiter.wait().await; // the burst of one is spent
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..3 {
            let (l, o) = (limiter.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                l.wait().await;
                o.lock().unwrap().push(format!("pass {i}"));
            }));
        }
        tokio::task::yield_now().await;
        let (l, o) = (limiter.clone(), order.clone());
        let hint = tokio::spawn(urgent(async move {
            l.wait().await;
            o.lock().unwrap().push("hint".to_owned());
        }));
        hint.await.unwrap();
        for t in tasks {
            t.await.unwrap();
        }
        let order = order.lock().unwrap().clone();
        let hint_at = order.iter().position(|e| e == "hint").unwrap();
        // At most the ordinary callers already at the bucket go first.
        assert!(hint_at <= 1, "{order:?}");
    }
}
