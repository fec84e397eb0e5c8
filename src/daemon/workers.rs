//! The daemon's long-lived tasks: one pass runner per tenant and a few hint workers.
//!
//! A tenant's runtime can be replaced by a reload while they run: each pass and each hint's
//! reconcile takes the tenant as it is when it starts, so one in flight finishes with the
//! settings it started with and the next one uses the new.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use tokio_util::sync::CancellationToken;

use super::hints::HintQueue;
use super::notify;
use super::ownership::Ownership;
use super::readiness::Readiness;
use super::schedule::PassRequests;
use super::server::Shared;
use crate::clock::now_ms;
use crate::domain::{PassKind, PassResult};
use crate::error_chain::chain;
use crate::logging::progress::PASS_STARTED;
use crate::reconcile::{PassError, PassOutcome, PassSummary, Tenant};

/// A tenant with what the daemon runs it with.
pub(super) struct Slot {
    /// The tenant's runtime and the fingerprint of the settings it was built from.
    tenant: RwLock<(Arc<Tenant>, [u8; 32])>,
    pub requests: Arc<PassRequests>,
    /// Cancelled when a reload removes the tenant: its runner ends after the pass in flight.
    pub removed: CancellationToken,
}

/// Every tenant the daemon runs, by id; a reload adds, replaces and removes entries.
pub(super) type Slots = Arc<RwLock<BTreeMap<String, Arc<Slot>>>>;

impl Slot {
    pub fn new(tenant: Arc<Tenant>) -> Slot {
        let fingerprint = tenant.settings().fingerprint();
        Slot {
            tenant: RwLock::new((tenant, fingerprint)),
            requests: PassRequests::new(),
            removed: CancellationToken::new(),
        }
    }

    /// The tenant as configured now.
    pub fn tenant(&self) -> Arc<Tenant> {
        Arc::clone(&self.tenant.read().unwrap_or_else(|p| p.into_inner()).0)
    }

    /// The fingerprint of the settings the tenant runs with.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.tenant.read().unwrap_or_else(|p| p.into_inner()).1
    }

    /// Runs the next pass and hint with `tenant` (a reload changed its settings).
    pub fn replace(&self, tenant: Arc<Tenant>) {
        let fingerprint = tenant.settings().fingerprint();
        *self.tenant.write().unwrap_or_else(|p| p.into_inner()) = (tenant, fingerprint);
    }
}

/// The slot of `tenant`, if the daemon runs it now.
pub(super) fn slot(slots: &Slots, tenant: &str) -> Option<Arc<Slot>> {
    slots
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(tenant)
        .cloned()
}

/// Runs the passes the schedules request for one tenant, one at a time, until shutdown or
/// until a reload removes the tenant.
pub(super) async fn pass_runner(
    slot: Arc<Slot>,
    readiness: Arc<Readiness>,
    shutdown: CancellationToken,
    owner: Option<Arc<Ownership>>,
) {
    // The first full pass catches up by design; later ones should find nothing, so what they
    // change is a repair of something a hint or an incremental pass missed.
    let mut had_full_pass = false;
    loop {
        let next = tokio::select! {
            kind = slot.requests.next(&shutdown) => kind,
            _ = slot.removed.cancelled() => None,
        };
        let Some((kind, offset)) = next else { break };
        if !offset.is_zero() {
            // The tenant's place in the spread of scheduled passes (schedule::spread_offset).
            tokio::select! {
                () = tokio::time::sleep(offset) => {}
                () = shutdown.cancelled() => break,
                () = slot.removed.cancelled() => break,
            }
        }
        if shutdown.is_cancelled() || slot.removed.is_cancelled() {
            break;
        }
        let tenant = slot.tenant();
        // Several instances: only the lease holder runs the tenant's passes, and its pass
        // stops when the lease is lost.
        let Some(cancel) = Ownership::token_of(owner.as_deref(), tenant.id(), &shutdown) else {
            continue;
        };
        tracing::info!(tenant = %tenant.id(), kind = %kind, "{PASS_STARTED}");
        let outcome = tenant.pass(kind, &cancel).await;
        // What the pass freed goes back to the system, off the async workers.
        if super::heap::claim_release() {
            let store = Arc::clone(&tenant.store);
            drop(tokio::task::spawn_blocking(move || {
                if let Err(e) = store.release_memory() {
                    tracing::debug!(error = %chain(&e), "SQLite kept its cache");
                }
                super::heap::trim();
            }));
        }
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
    slots: Slots,
    queue: Arc<HintQueue>,
    readiness: Arc<Readiness>,
    shutdown: CancellationToken,
    shared: Arc<Shared>,
) {
    while let Some(running) = queue.next().await {
        let key = running.key().clone();
        // A tenant removed by a reload since the hint was queued: the hint goes with it.
        let Some(slot) = slot(&slots, &key.tenant) else {
            continue;
        };
        if shutdown.is_cancelled() {
            break;
        }
        let owner = shared.ownership.as_deref();
        let Some(cancel) = Ownership::token_of(owner, &key.tenant, &shutdown) else {
            // The lease moved since the hint was queued: its new owner gets it.
            shared.hint_for_owner(&key.tenant, &key.target);
            continue;
        };
        // A hint never waits for a pass of its tenant (they share per-object turns only), and
        // its API calls go ahead of the pass's.
        let outcome = crate::http::urgent(slot.tenant().reconcile(&key.target, &cancel)).await;
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
