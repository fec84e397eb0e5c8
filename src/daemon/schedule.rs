//! Scheduled passes. The cron jobs only *request* a pass; one runner per tenant runs them one
//! at a time, so passes of a tenant never overlap (tokio-cron-scheduler itself would start a
//! job again while the previous run is still going). A request that arrives while a pass runs
//! is coalesced into one follow-up; a full pass covers an incremental one.

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use tokio_util::sync::CancellationToken;

use crate::store::PassKind;

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

/// Starts the cron jobs: for each tenant, `schedule` requests an incremental pass and
/// `full_schedule` a full one. Schedules are evaluated in UTC.
pub async fn start(
    schedule: &str,
    full_schedule: &str,
    tenants: &[(String, Arc<PassRequests>)],
) -> Result<JobScheduler, JobSchedulerError> {
    let scheduler = JobScheduler::new().await?;
    for (tenant, requests) in tenants {
        for (expr, kind) in [
            (schedule, PassKind::Incremental),
            (full_schedule, PassKind::Full),
        ] {
            let requests = Arc::clone(requests);
            let tenant = tenant.clone();
            let job = Job::new_async(expr, move |_id, _lock| {
                if requests.request(kind) == Requested::Coalesced {
                    tracing::debug!(tenant = %tenant, kind = %kind, "pass due while one is pending; coalesced");
                }
                Box::pin(async {})
            })?;
            scheduler.add(job).await?;
        }
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
}
