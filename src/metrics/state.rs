//! Gauges read from the state store: what is failing, deferred or waiting for a person, and
//! what the last passes achieved. The store is their source of truth, so they are right after
//! a restart and in the file a `--once` run writes, not only after a pass of this process.
//! The daemon reads them on each scrape, `--once` after its passes.

use super::{KindLabels, Metrics};
use crate::domain::{PassKind, PassResult};
use crate::store::{PassRow, Reader, StoreError};

/// Passes looked at, newest first, to find the last one that completed.
const PASSES_SEARCHED: u32 = 50;

/// What the state store says about one tenant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TenantState {
    pub needs_attention: usize,
    pub failing_opportunities: usize,
    /// Work the last completed full or incremental pass left for later; None before any.
    pub deferred_work: Option<usize>,
    /// None before any pass recorded the tenant's connection.
    pub connected: Option<bool>,
    /// When the last pass of each scheduled kind completed, ms since the epoch.
    pub last_success: Vec<(PassKind, i64)>,
}

/// A pass that read everything it meant to (with or without failed actions).
fn completed(p: &PassRow) -> bool {
    matches!(
        p.result,
        Some(
            PassResult::Converged
                | PassResult::ActionsFailed
                | PassResult::Deferred
                | PassResult::Partial
        )
    ) && p.finished_at.is_some()
}

/// The work the last completed full or incremental pass of `tenant` left for a later one;
/// None before any completed.
pub fn deferred_work(r: &Reader<'_>, tenant: &str) -> Result<Option<usize>, StoreError> {
    Ok(r.recent_passes_of(tenant, &SCHEDULED, PASSES_SEARCHED)?
        .into_iter()
        .find(completed)
        .map(|p| {
            p.counts["deferred"]
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(0)
        }))
}

const SCHEDULED: [PassKind; 2] = [PassKind::Full, PassKind::Incremental];

impl TenantState {
    pub fn read(r: &Reader<'_>, tenant: &str) -> Result<TenantState, StoreError> {
        let mut last_success = Vec::new();
        for kind in SCHEDULED {
            let last = r
                .recent_passes_of(tenant, &[kind], PASSES_SEARCHED)?
                .into_iter()
                .find(completed)
                .and_then(|p| p.finished_at);
            last_success.extend(last.map(|at| (kind, at)));
        }
        Ok(TenantState {
            needs_attention: usize::try_from(r.attention_count(tenant)?).unwrap_or(usize::MAX),
            failing_opportunities: usize::try_from(r.failing_count(tenant)?).unwrap_or(usize::MAX),
            deferred_work: deferred_work(r, tenant)?,
            connected: r.tenant(tenant)?.map(|t| t.connected),
            last_success,
        })
    }
}

impl Metrics {
    /// Sets the store-backed gauges of `tenant`. The connection and the last successes are
    /// only filled in when this process has not set them: its own passes know them first.
    pub fn observe_state(&self, tenant: &str, s: &TenantState) {
        let label = Metrics::tenant(tenant);
        self.set_needs_attention(tenant, s.needs_attention);
        super::set_count(&self.failing_opportunities, tenant, s.failing_opportunities);
        if let Some(n) = s.deferred_work {
            super::set_count(&self.deferred_work, tenant, n);
        }
        if let Some(c) = s.connected
            && self.connected.get(&label).is_none()
        {
            self.set_connected(tenant, c);
        }
        for (kind, at) in &s.last_success {
            let labels = KindLabels {
                tenant: tenant.to_owned(),
                kind: kind.as_str().to_owned(),
            };
            if self.last_success.get(&labels).is_none() {
                self.pass_completed(tenant, *kind, *at);
            }
        }
    }
}
