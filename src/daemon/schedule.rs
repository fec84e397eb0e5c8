//! Scheduled passes. The cron jobs (tokio-cron-scheduler) only *request* a pass when their
//! [`Schedule`] fires; one runner per tenant runs them one at a time, so passes of a tenant
//! never overlap however long one takes (the scheduler itself would start a job again while
//! the previous run still goes).
//! A request that arrives while a pass runs is coalesced into one follow-up; a full pass covers
//! an incremental one.
//!
//! With several tenants, a scheduled pass of each starts at its own offset after the schedule
//! fires (within half an interval, fixed per tenant id), so a thousand tenants do not all call
//! their APIs and write the store in the same second.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

use tokio::sync::Notify;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use tokio_util::sync::CancellationToken;

use crate::config::Schedule;
use crate::domain::PassKind;

/// The pending pass of one tenant, if any.
#[derive(Default)]
pub struct PassRequests {
    /// The pass to run and how long after it is taken up it should start.
    pending: Mutex<Option<(PassKind, Duration)>>,
    ready: Notify,
}

/// What a request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    Pending,
    /// Merged into a pass already pending.
    Coalesced,
}

impl PassRequests {
    pub fn new() -> Arc<PassRequests> {
        Arc::new(PassRequests::default())
    }

    /// Asks for a pass at once.
    pub fn request(&self, kind: PassKind) -> Requested {
        self.request_after(kind, Duration::ZERO)
    }

    /// Asks for a pass that starts `delay` after the runner takes it up (a scheduled pass at
    /// the tenant's offset). Merged into a pending pass, the sooner start and the fuller kind
    /// win.
    pub fn request_after(&self, kind: PassKind, delay: Duration) -> Requested {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let outcome = match *p {
            None => {
                *p = Some((kind, delay));
                Requested::Pending
            }
            Some((pending, d)) => {
                let kind = if kind == PassKind::Full {
                    kind
                } else {
                    pending
                };
                *p = Some((kind, d.min(delay)));
                Requested::Coalesced
            }
        };
        drop(p);
        self.ready.notify_one();
        outcome
    }

    /// Waits for the next pass to run and how long to wait before starting it; None on
    /// shutdown.
    pub async fn next(&self, cancel: &CancellationToken) -> Option<(PassKind, Duration)> {
        loop {
            if cancel.is_cancelled() {
                return None;
            }
            if let Some(next) = self
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
            {
                return Some(next);
            }
            tokio::select! {
                _ = self.ready.notified() => {}
                _ = cancel.cancelled() => return None,
            }
        }
    }
}

/// How long after its schedule fires a tenant's scheduled pass starts: none when the daemon
/// runs one tenant; otherwise a point within the first half of `interval` fixed by the tenant
/// id (a hash, so it stays put across restarts and reloads, and tenants spread evenly).
pub fn spread_offset(tenant: &str, tenants: usize, interval: Duration) -> Duration {
    let window = u64::try_from(interval.as_millis() / 2).unwrap_or(u64::MAX);
    if tenants <= 1 || window == 0 {
        return Duration::ZERO;
    }
    let digest = Sha256::digest(tenant.as_bytes());
    let mut head = [0_u8; 8];
    head.copy_from_slice(&digest[..8]);
    Duration::from_millis(u64::from_be_bytes(head) % window)
}

/// Starts the cron jobs: `schedule` requests an incremental pass and `full_schedule` a full
/// one, through `request`, which asks every tenant the daemon runs at that moment (so a reload
/// that adds or removes tenants needs no new jobs). Schedules are evaluated in UTC.
pub async fn start(
    schedule: &Schedule,
    full_schedule: &Schedule,
    request: Arc<dyn Fn(PassKind) + Send + Sync>,
) -> Result<JobScheduler, JobSchedulerError> {
    let scheduler = JobScheduler::new().await?;
    for (s, kind) in [
        (schedule, PassKind::Incremental),
        (full_schedule, PassKind::Full),
    ] {
        let request = Arc::clone(&request);
        // The expression was validated with the same parser settings the scheduler uses
        // (`Schedule::parse`), so what the configuration accepted is what fires.
        let job = Job::new_async(s.as_str(), move |_id, _lock| {
            request(kind);
            Box::pin(async {})
        })?;
        scheduler.add(job).await?;
    }
    scheduler.start().await?;
    Ok(scheduler)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_coalesce_and_full_wins() {
        let r = PassRequests::new();
        let cancel = CancellationToken::new();
        assert_eq!(r.request(PassKind::Incremental), Requested::Pending);
        assert_eq!(r.request(PassKind::Incremental), Requested::Coalesced);
        assert_eq!(r.request(PassKind::Full), Requested::Coalesced);
        assert_eq!(
            r.next(&cancel).await,
            Some((PassKind::Full, Duration::ZERO))
        );
        assert_eq!(r.request(PassKind::Incremental), Requested::Pending);
        assert_eq!(
            r.next(&cancel).await,
            Some((PassKind::Incremental, Duration::ZERO))
        );
        cancel.cancel();
        assert_eq!(r.next(&cancel).await, None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_schedule_that_fires_requests_its_kind_of_pass() {
        let every_second = Schedule::parse("* * * * * *").unwrap();
        let yearly = Schedule::parse("0 0 0 1 1 *").unwrap();
        let r = PassRequests::new();
        let cancel = CancellationToken::new();
        let requests = Arc::clone(&r);
        let mut scheduler = start(
            &every_second,
            &yearly,
            Arc::new(move |kind| {
                requests.request(kind);
            }),
        )
        .await
        .unwrap();
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), r.next(&cancel)).await;
        assert_eq!(
            next.ok().flatten(),
            Some((PassKind::Incremental, Duration::ZERO))
        );
        scheduler.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn a_scheduled_request_keeps_its_offset_unless_a_sooner_one_joins_it() {
        let r = PassRequests::new();
        let cancel = CancellationToken::new();
        let later = Duration::from_secs(40);
        r.request_after(PassKind::Incremental, later);
        assert_eq!(r.next(&cancel).await, Some((PassKind::Incremental, later)));
        r.request_after(PassKind::Incremental, later);
        r.request(PassKind::Full);
        assert_eq!(
            r.next(&cancel).await,
            Some((PassKind::Full, Duration::ZERO))
        );
    }

    /// Issue 12 (target 6): a thousand tenants' scheduled passes spread over the first half of
    /// the interval instead of starting in the same second; one tenant starts at once.
    #[test]
    fn issue12_tenants_passes_spread_over_half_the_interval() {
        let interval = Duration::from_secs(300);
        assert_eq!(spread_offset("acme", 1, interval), Duration::ZERO);
        let offsets: Vec<Duration> = (0..1000)
            .map(|i| spread_offset(&format!("tenant-{i}"), 1000, interval))
            .collect();
        assert!(offsets.iter().all(|o| *o < interval / 2));
        assert_eq!(
            spread_offset("tenant-7", 1000, interval),
            offsets[7],
            "an offset is fixed by the tenant id"
        );
        // Ten-second buckets over the 150 s window: none empty, none with more than twice its
        // share (1000 / 15 ≈ 67).
        let mut buckets = [0_u32; 15];
        for o in &offsets {
            buckets[usize::try_from(o.as_secs() / 10).unwrap()] += 1;
        }
        assert!(buckets.iter().all(|&n| n > 0 && n < 134), "{buckets:?}");
    }
}
