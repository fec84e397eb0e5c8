//! Scheduled passes. The cron jobs (tokio-cron-scheduler) only *request* a pass when their
//! [`Schedule`] fires; one runner per tenant runs them one at a time, so passes of a tenant
//! never overlap however long one takes (the scheduler itself would start a job again while
//! the previous run still goes).
//! A request that arrives while a pass runs is coalesced into one follow-up; a full pass covers
//! an incremental one.

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use tokio_util::sync::CancellationToken;

use crate::config::Schedule;
use crate::domain::PassKind;

/// The pending pass of one tenant, if any.
#[derive(Default)]
pub struct PassRequests {
    pending: Mutex<Option<PassKind>>,
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

    pub fn request(&self, kind: PassKind) -> Requested {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let outcome = match *p {
            None => {
                *p = Some(kind);
                Requested::Pending
            }
            Some(PassKind::Incremental) if kind == PassKind::Full => {
                *p = Some(PassKind::Full);
                Requested::Coalesced
            }
            Some(_) => Requested::Coalesced,
        };
        drop(p);
        self.ready.notify_one();
        outcome
    }

    /// Waits for the next pass to run; None on shutdown.
    pub async fn next(&self, cancel: &CancellationToken) -> Option<PassKind> {
        loop {
            if cancel.is_cancelled() {
                return None;
            }
            if let Some(kind) = self
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
            {
                return Some(kind);
            }
            tokio::select! {
                _ = self.ready.notified() => {}
                _ = cancel.cancelled() => return None,
            }
        }
    }
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
        assert_eq!(r.next(&cancel).await, Some(PassKind::Full));
        assert_eq!(r.request(PassKind::Incremental), Requested::Pending);
        assert_eq!(r.next(&cancel).await, Some(PassKind::Incremental));
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
        assert_eq!(next.ok().flatten(), Some(PassKind::Incremental));
        scheduler.shutdown().await.unwrap();
    }
}
