//! The daemon's long-lived tasks: one pass runner per tenant and a few hint workers.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::hints::HintQueue;
use super::notify;
use super::readiness::Readiness;
use super::schedule::PassRequests;
use crate::clock::now_ms;
use crate::domain::{PassKind, PassResult};
use crate::error_chain::chain;
use crate::reconcile::{PassError, PassOutcome, PassSummary, Tenant};

/// A tenant with what the daemon runs it with.
pub(super) struct Slot {
    pub tenant: Arc<Tenant>,
    pub requests: Arc<PassRequests>,
}

impl Slot {
    pub fn new(tenant: &Arc<Tenant>) -> Slot {
        Slot {
            tenant: Arc::clone(tenant),
            requests: PassRequests::new(),
        }
    }
}

/// Runs the passes the schedules request for one tenant, one at a time.
pub(super) async fn pass_runner(
    tenant: Arc<Tenant>,
    requests: Arc<PassRequests>,
    readiness: Arc<Readiness>,
    shutdown: CancellationToken,
) {
    // The first full pass catches up by design; later ones should find nothing, so what they
    // change is a repair of something a hint or an incremental pass missed.
    let mut had_full_pass = false;
    while let Some(kind) = requests.next(&shutdown).await {
        if shutdown.is_cancelled() {
            break;
        }
        let outcome = tenant.pass(kind, &shutdown).await;
        if kind == PassKind::Full {
            if had_full_pass {
                count_repairs(&tenant, &outcome.summary);
            }
            had_full_pass |= outcome.error.is_none();
        }
        if matches!(
            (&outcome.error, outcome.result),
            (
                None,
                PassResult::Converged
                    | PassResult::ActionsFailed
                    | PassResult::Deferred
                    | PassResult::Partial
            )
        ) {
            let missing = outcome
                .summary
                .missing
                .iter()
                .map(|g| g.to_string())
                .collect();
            readiness.pass_completed(tenant.id(), now_ms(), missing);
        }
        if let Some(e @ PassError::Permission { .. }) = &outcome.error {
            readiness.lacks(tenant.id(), vec![chain(e).to_string()]);
        }
        note_disconnect(&readiness, tenant.id(), &outcome);
        notify::status(&outcome.summary.status_line());
    }
}

/// Runs targeted reconciles for the hints in the queue.
pub(super) async fn hint_worker(
    slots: Arc<BTreeMap<String, Slot>>,
    queue: Arc<HintQueue>,
    readiness: Arc<Readiness>,
    shutdown: CancellationToken,
) {
    while let Some(running) = queue.next().await {
        let key = running.key().clone();
        let Some(slot) = slots.get(&key.tenant) else {
            continue;
        };
        if shutdown.is_cancelled() {
            break;
        }
        // A hint never waits for a pass of its tenant (they share per-object turns only), and
        // its API calls go ahead of the pass's.
        let outcome = crate::http::urgent(slot.tenant.reconcile(&key.target, &shutdown)).await;
        note_disconnect(&readiness, &key.tenant, &outcome);
        drop(running);
    }
}

fn note_disconnect(readiness: &Readiness, tenant: &str, outcome: &PassOutcome) {
    if let Some(PassError::Disconnected { source, .. }) = &outcome.error {
        readiness.disconnected(tenant, &chain(source).to_string());
    }
}

/// Counts and reports the writes of a full pass that was not the first (the lost-hint signal).
fn count_repairs(tenant: &Tenant, summary: &PassSummary) {
    let repairs = u64::from(summary.applied.writes());
    if repairs > 0 {
        tenant.metrics().repairs(tenant.id(), repairs);
        tracing::warn!(tenant = %tenant.id(), repairs,
            "the full pass repaired changes that hints and incremental passes missed");
    }
}
