//! Scheduled passes. Each [`Schedule`] only *requests* a pass when it fires; one runner per
//! tenant runs them one at a time, so passes of a tenant never overlap however long one takes.
//! A request that arrives while a pass runs is coalesced into one follow-up; a full pass covers
//! an incremental one.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Schedule;
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

/// Starts the schedules on `work`: for each tenant, `schedule` requests an incremental pass and
/// `full_schedule` a full one, until `cancel`. Schedules are evaluated in UTC.
pub fn start(
    work: &mut JoinSet<()>,
    schedule: &Schedule,
    full_schedule: &Schedule,
    tenants: &[(String, Arc<PassRequests>)],
    cancel: &CancellationToken,
) {
    for (s, kind) in [
        (schedule, PassKind::Incremental),
        (full_schedule, PassKind::Full),
    ] {
        work.spawn(fire(s.clone(), kind, tenants.to_vec(), cancel.clone()));
    }
}

/// The longest single sleep: the wall clock is read again at least this often, so a clock
/// that jumps (NTP, a suspended machine) delays a pass by at most this much.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// Requests a `kind` pass of every tenant each time `schedule` fires.
async fn fire(
    schedule: Schedule,
    kind: PassKind,
    tenants: Vec<(String, Arc<PassRequests>)>,
    cancel: CancellationToken,
) {
    let mut after = Utc::now();
    loop {
        let Some(due) = schedule.next_after(after) else {
            tracing::warn!(schedule = %schedule, kind = %kind, "the schedule has no further runs");
            return;
        };
        loop {
            let now = Utc::now();
            if now >= due {
                break;
            }
            let wait = (due - now).to_std().unwrap_or_default().min(MAX_SLEEP);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = cancel.cancelled() => return,
            }
        }
        for (tenant, requests) in &tenants {
            if requests.request(kind) == Requested::Coalesced {
                tracing::debug!(tenant = %tenant, kind = %kind, "pass due while one is pending; coalesced");
            }
        }
        // Runs missed while the machine slept are not made up one by one: one pass covers them.
        after = Utc::now().max(due);
    }
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

    #[tokio::test]
    async fn a_schedule_that_fires_requests_its_kind_of_pass_until_cancelled() {
        let every_second = Schedule::parse("* * * * * *").unwrap();
        let yearly = Schedule::parse("0 0 0 1 1 *").unwrap();
        let r = PassRequests::new();
        let cancel = CancellationToken::new();
        let mut work = JoinSet::new();
        start(
            &mut work,
            &every_second,
            &yearly,
            &[("acme".to_owned(), Arc::clone(&r))],
            &cancel,
        );
        let next = tokio::time::timeout(Duration::from_secs(10), r.next(&cancel)).await;
        assert_eq!(next.ok().flatten(), Some(PassKind::Incremental));
        cancel.cancel();
        let stopped = tokio::time::timeout(Duration::from_secs(10), async {
            while work.join_next().await.is_some() {}
        })
        .await;
        assert!(stopped.is_ok(), "the schedules did not stop on cancel");
    }
}
