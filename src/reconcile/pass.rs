//! One pass, end to end, as a pipeline of values:
//! resolve → observe → plan → apply → commit, then the pass log, the metrics and the summary.
//!
//! A [`Pass`] owns what one pass holds while it runs (its directory of participant listings and
//! what each stage produced); each stage is a method that returns its result. The summary is
//! built once, at the end, from those results.

use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::apply::Applied;
use super::directory::Directory;
use super::error::PassError;
use super::gap::Gap;
use super::group::ActionFailure;
use super::keys::Reader;
use super::memory;
use super::observe::{CURSOR_UPDATED_AT, Observation};
use super::resolve::Resolved;
use super::scheduled::Closing;
use super::summary::{ApiCounts, PassSummary};
use super::tenant::Tenant;
use crate::clock::now_ms;
use crate::domain::invite::InviteState;
use crate::domain::{PassKind, PassResult, Target};
use crate::error_chain::chain;
use crate::exit::ExitStatus;
use crate::plan::{Action, Memory, Plan, Warning};
use crate::store::PARTICIPANT_FILTER_IGNORED;

/// How a pass ended.
#[derive(Debug)]
pub struct PassOutcome {
    pub summary: PassSummary,
    pub result: PassResult,
    pub error: Option<PassError>,
}

impl PassOutcome {
    pub fn exit_status(&self) -> ExitStatus {
        match (&self.error, self.result) {
            (Some(e), _) => e.exit_status(),
            (None, PassResult::Converged) => ExitStatus::Converged,
            (None, _) => ExitStatus::ActionsFailed,
        }
    }
}

/// What a dry run would do: the plan of a full pass, applied nowhere.
#[derive(Debug)]
pub struct DryRun {
    pub tenant: String,
    pub opportunities_examined: usize,
    /// Journal rows whose outcome is unknown; a real pass resolves them first.
    pub unresolved_invites: usize,
    pub plan: Plan,
}

/// Passes kept in the log per tenant.
const PASSES_KEPT: u32 = 1000;

/// One running pass of one tenant.
pub(crate) struct Pass<'t> {
    pub tenant: &'t Tenant,
    pub kind: PassKind,
    /// The pass's one reading of the clock: every record it writes carries this time.
    pub now: i64,
    /// What the pass has listed and looked up, shared by resolve, the steps and apply.
    pub directory: Directory,
    /// This pass's view of the tenant's writes, taken before it reads anything.
    pub reader: Reader<'t>,
    /// Plan only (`--dry-run`): nothing is applied or committed (the store is a scratch copy).
    pub dry: bool,
    pub progress: Progress,
}

/// What the stages produced so far, so a pass stopped part-way still reports it.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    pub resolved: Resolved,
    pub examined: usize,
    /// Observed opportunities left for later (in backoff).
    pub deferred: usize,
    /// Actions planned so far (over all steps), for the progress line.
    pub planned_count: usize,
    pub warnings: Vec<String>,
    pub applied: Applied,
    pub failures: Vec<ActionFailure>,
    /// Parts refused for lack of permission.
    pub gaps: Vec<Gap>,
    /// A dry run's planned actions.
    pub planned: Vec<Action>,
    /// Each of them once (as `Debug` text): a full pass reads an invited opportunity again in
    /// its status-tag listing, and with nothing applied in between a dry run would plan the
    /// same actions twice.
    pub planned_seen: std::collections::HashSet<String>,
    pub planned_warnings: Vec<Warning>,
}

impl Progress {
    /// Work this pass knowingly left for a later one.
    fn deferred_work(&self) -> usize {
        self.deferred
            + self.applied.deferred as usize
            + self.resolved.inconclusive as usize
            + self.resolved.notes.undecided as usize
    }

    /// Notes refused parts, once each.
    pub fn note_gaps(&mut self, gaps: &[Gap]) {
        for g in gaps {
            if !self.gaps.contains(g) {
                self.gaps.push(g.clone());
            }
        }
    }
}

impl Tenant {
    /// Runs one full or incremental pass.
    pub async fn pass(&self, kind: PassKind, cancel: &CancellationToken) -> PassOutcome {
        self.run(kind, None, cancel).await
    }

    /// Re-reads one object named by a hint and reconciles what depends on it.
    pub async fn reconcile(&self, target: &Target, cancel: &CancellationToken) -> PassOutcome {
        self.run(PassKind::Targeted, Some(target), cancel).await
    }

    /// Observes like a full pass and plans, in one step, applying nothing: run over a scratch
    /// copy of the state (it lists participants into it), so nothing is written anywhere.
    pub async fn dry_run(&self) -> Result<DryRun, PassError> {
        let mut pass = Pass::new(self, PassKind::Full, now_ms());
        pass.dry = true;
        let unresolved_invites = self
            .store
            .read(|r| {
                r.invites_in_states(&self.id, &[InviteState::InFlight, InviteState::Ambiguous])
            })
            .map_err(|e| self.store_err(e))?
            .len();
        pass.scheduled(&CancellationToken::new(), usize::MAX)
            .await?;
        let p = pass.progress;
        Ok(DryRun {
            tenant: self.id.clone(),
            opportunities_examined: p.examined,
            unresolved_invites,
            plan: Plan {
                actions: p.planned,
                warnings: p.planned_warnings,
                ..Plan::default()
            },
        })
    }

    async fn run(
        &self,
        kind: PassKind,
        target: Option<&Target>,
        cancel: &CancellationToken,
    ) -> PassOutcome {
        let (started, clock, calls) = (now_ms(), Instant::now(), self.api_counts());
        let (pass_id, progress, ran) = match self
            .store
            .write(|tx| tx.begin_pass(&self.id, kind, started))
        {
            Err(e) => (None, Progress::default(), Err(self.store_err(e))),
            Ok(id) => {
                let mut pass = Pass::new(self, kind, started);
                let ran = pass.run(target, cancel).await;
                (Some(id), pass.progress, ran)
            }
        };
        let clean = progress.applied.failed + progress.applied.skipped == 0;
        let (result, error) = match ran {
            Ok(()) if cancel.is_cancelled() && !clean => (PassResult::Interrupted, None),
            Ok(()) if !clean => (PassResult::ActionsFailed, None),
            Ok(()) if !progress.gaps.is_empty() => (PassResult::Partial, None),
            Ok(()) if progress.deferred_work() > 0 => (PassResult::Deferred, None),
            Ok(()) => (PassResult::Converged, None),
            Err(e @ PassError::Disconnected { .. }) => (PassResult::Disconnected, Some(e)),
            Err(e @ PassError::Interrupted { .. }) => (PassResult::Interrupted, Some(e)),
            Err(e) => (PassResult::Failed, Some(e)),
        };
        let summary = PassSummary {
            tenant: self.id.clone(),
            kind: kind.as_str(),
            result: result.as_str(),
            opportunities_examined: progress.examined,
            deferred: progress.deferred_work(),
            resolved: progress.resolved,
            applied: progress.applied,
            needs_attention: self.attention_count(),
            api: self.api_counts().since(&calls),
            duration_ms: i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX),
            warnings: progress.warnings,
            failures: progress.failures,
            missing: progress.gaps,
            error: error.as_ref().map(|e| chain(e).to_string()),
        };
        let outcome = PassOutcome {
            summary,
            result,
            error,
        };
        let finished = now_ms();
        if let Some(id) = pass_id {
            self.record(id, &outcome, finished);
        }
        self.report(kind, &outcome, finished);
        outcome
    }

    fn attention_count(&self) -> usize {
        self.store
            .read(|r| r.attention_count(&self.id))
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
            .unwrap_or(0)
    }

    /// Finishes the pass row (and marks the tenant disconnected when that is how it ended).
    fn record(&self, id: i64, outcome: &PassOutcome, finished: i64) {
        let s = &outcome.summary;
        let counts = s.counts_json();
        let recorded = self.store.write(|tx| {
            if let Some(PassError::Disconnected { source, .. }) = &outcome.error {
                tx.set_tenant_connected(
                    &self.id,
                    false,
                    Some(&chain(source).to_string()),
                    finished,
                )?;
            }
            tx.finish_pass(id, outcome.result, &counts, s.error.as_deref(), finished)?;
            tx.prune_passes(&self.id, PASSES_KEPT)
        });
        if let Err(e) = recorded {
            tracing::error!(tenant = %self.id, error = %chain(&e), "cannot record the pass");
        }
    }

    /// Metrics and the log line of a finished pass.
    fn report(&self, kind: PassKind, outcome: &PassOutcome, finished: i64) {
        let (m, s) = (&self.metrics, &outcome.summary);
        m.pass(&self.id, kind, outcome.result, s.duration_ms);
        if let Some(e) = &outcome.error {
            m.pass_failed(&self.id, e.metric_label());
        }
        match &outcome.error {
            Some(PassError::Disconnected { source, .. }) => {
                m.set_connected(&self.id, false);
                tracing::error!(tenant = %self.id, error = %chain(source),
                    "credentials rejected: the tenant is disconnected; its passes stop writing until access is restored");
            }
            Some(e) => {
                tracing::error!(tenant = %self.id, kind = %kind, error = %chain(e), "pass failed")
            }
            None => {
                m.set_connected(&self.id, true);
                m.pass_completed(&self.id, kind, finished);
            }
        }
        m.set_needs_attention(&self.id, s.needs_attention);
        if kind != PassKind::Targeted || s.applied.writes() > 0 || outcome.error.is_some() {
            let a = &s.applied;
            tracing::info!(tenant = %self.id, kind = %kind, result = %outcome.result,
                examined = s.opportunities_examined,
                invites_sent = a.invites_sent,
                invites_adopted = a.invites_adopted,
                tags_added = a.tags_added,
                tags_removed = a.tags_removed,
                failed = a.failed,
                skipped = a.skipped,
                deferred = s.deferred,
                needs_attention = s.needs_attention,
                lever_calls = s.api.lever_calls,
                lever_429 = s.api.lever_rate_limited,
                willo_calls = s.api.willo_calls,
                willo_429 = s.api.willo_rate_limited,
                duration_ms = s.duration_ms,
                "{}", crate::logging::progress::PASS_FINISHED);
        }
        // Only scheduled passes move the cursor; a hint's reconcile need not read it.
        if kind != PassKind::Targeted
            && let Ok(Some(cursor)) = self.store.read(|r| r.cursor(&self.id, CURSOR_UPDATED_AT))
        {
            m.set_cursor_lag(&self.id, finished - cursor);
        }
    }
}

impl<'t> Pass<'t> {
    fn new(tenant: &'t Tenant, kind: PassKind, now: i64) -> Pass<'t> {
        Pass {
            tenant,
            kind,
            now,
            directory: Directory::new(filter_ignored(tenant)),
            reader: tenant.keys.reader(),
            dry: false,
            progress: Progress::default(),
        }
    }

    /// The pipeline. Each stage's result is kept in `progress` as soon as it exists.
    async fn run(
        &mut self,
        target: Option<&Target>,
        cancel: &CancellationToken,
    ) -> Result<(), PassError> {
        // Unknown outcomes first: nothing may be planned on top of an invite that may exist.
        let only = match target {
            Some(Target::Participant(_)) => None,
            Some(Target::Opportunity(id)) => Some(Some(id.as_str())),
            None => Some(None),
        };
        if let Some(only) = only {
            self.progress.resolved = self.resolve(only, cancel).await?;
            self.progress.resolved.notes = self.resolve_notes(only).await?;
        }
        let closing = match (self.kind, target) {
            (PassKind::Targeted, Some(target)) => {
                // A hint reads its object first, then only what the store holds about it.
                let obs = match target {
                    Target::Opportunity(id) => self.observe_opportunity(id).await?,
                    Target::Participant(key) => self.observe_participant(key).await?,
                };
                let memory = self.memory_around(&obs)?;
                self.step(obs, memory, cancel).await?;
                Closing::default()
            }
            (PassKind::Targeted, None) => return Ok(()),
            _ => self.scheduled(cancel, self.tenant.options.chunk).await?,
        };
        self.close(&closing)
    }

    /// What the store remembers about an observation's objects.
    pub(crate) fn memory_around(&self, obs: &Observation) -> Result<Memory, PassError> {
        let t = self.tenant;
        t.store
            .read(|r| memory::load_around(r, &t.id, &obs.observed, self.now))
            .map_err(|e| t.store_err(e))
    }

    /// Notes a warning for the summary (and a dry run's report), once per text.
    pub(crate) fn note_warning(&mut self, text: String) {
        if !self.progress.warnings.contains(&text) {
            self.progress.warnings.push(text);
        }
    }
}

/// Whether an earlier pass found that Willo ignores the participant filter. A store that cannot
/// say costs only efficiency: the directory finds out again.
fn filter_ignored(tenant: &Tenant) -> bool {
    match tenant
        .store
        .read(|r| r.fact(&tenant.id, PARTICIPANT_FILTER_IGNORED))
    {
        Ok(fact) => fact.as_deref() == Some("true"),
        Err(e) => {
            tracing::warn!(tenant = %tenant.id, error = %chain(&e), "cannot read what earlier passes learned about Willo");
            false
        }
    }
}

impl ApiCounts {
    /// The calls made since `before`.
    fn since(&self, before: &ApiCounts) -> ApiCounts {
        ApiCounts {
            lever_calls: self.lever_calls - before.lever_calls,
            lever_rate_limited: self.lever_rate_limited - before.lever_rate_limited,
            willo_calls: self.willo_calls - before.willo_calls,
            willo_rate_limited: self.willo_rate_limited - before.willo_rate_limited,
        }
    }
}
