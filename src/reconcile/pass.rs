//! One pass, end to end: resolve → observe → plan → apply → commit, recorded in the pass log.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::apply::Applied;
use super::clock::now_ms;
use super::error::PassError;
use super::memory;
use super::observe::{CURSOR_DELETED_AT, CURSOR_UPDATED_AT, Observation};
use super::summary::{ApiCounts, PassSummary};
use super::tenant::Tenant;
use crate::exit::ExitStatus;
use crate::http::Api;
use crate::plan::{self, Plan, Rules, Warning};
use crate::store::{PassKind, PassResult, PostingRow, SeenOpportunity, SeenParticipant};

/// What a hint names: re-read this one object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Opportunity(String),
    Participant(String),
}

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

/// A dry run's plan, for printing.
#[derive(Debug, Serialize)]
pub struct DryRun {
    pub tenant: String,
    pub opportunities_examined: usize,
    /// Journal rows whose outcome is unknown; a real pass resolves them first.
    pub unresolved_invites: usize,
    pub plan: Plan,
}

/// Passes kept in the log per tenant.
const PASSES_KEPT: u32 = 1000;

impl Tenant {
    /// Runs one full or incremental pass.
    pub async fn pass(&self, kind: PassKind, cancel: &CancellationToken) -> PassOutcome {
        self.run(kind, None, cancel).await
    }

    /// Re-reads one object named by a hint and reconciles what depends on it.
    pub async fn reconcile(&self, target: &Target, cancel: &CancellationToken) -> PassOutcome {
        self.run(PassKind::Targeted, Some(target), cancel).await
    }

    /// Observes like a full pass and plans, writing nothing anywhere.
    pub async fn dry_run(&self) -> Result<DryRun, PassError> {
        let now = now_ms();
        let memory = self
            .store
            .read(|r| memory::load(r, &self.id, now))
            .map_err(|e| PassError::store(&self.id, e))?;
        let unresolved = memory
            .invites
            .iter()
            .filter(|i| i.state.needs_resolution())
            .count();
        let obs = self.observe_full(&memory).await?;
        let rules = self.rules()?;
        Ok(DryRun {
            tenant: self.id.clone(),
            opportunities_examined: obs.observed.opportunities.len(),
            unresolved_invites: unresolved,
            plan: plan::plan(&rules, &obs.observed, &memory, now),
        })
    }

    async fn run(
        &self,
        kind: PassKind,
        target: Option<&Target>,
        cancel: &CancellationToken,
    ) -> PassOutcome {
        let started_at = now_ms();
        let clock = Instant::now();
        let calls_before = self.api_counts();
        let mut summary = PassSummary::new(&self.id, kind);
        let (pass_id, outcome) = match self
            .store
            .write(|tx| tx.begin_pass(&self.id, kind, started_at))
        {
            Err(e) => (None, Err(PassError::store(&self.id, e))),
            Ok(id) => (
                Some(id),
                self.run_inner(kind, target, cancel, started_at, &mut summary)
                    .await,
            ),
        };
        let (result, error) = match outcome {
            Ok(applied) if applied.failed + applied.skipped == 0 => (PassResult::Converged, None),
            Ok(_) if cancel.is_cancelled() => (PassResult::Interrupted, None),
            Ok(_) => (PassResult::ActionsFailed, None),
            Err(e @ PassError::Disconnected { .. }) => (PassResult::Disconnected, Some(e)),
            Err(e @ PassError::Interrupted { .. }) => (PassResult::Interrupted, Some(e)),
            Err(e) => (PassResult::Failed, Some(e)),
        };
        let finished_at = now_ms();
        summary.result = result.as_str();
        summary.duration_ms = i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX);
        summary.api = diff(&calls_before, &self.api_counts());
        summary.error = error.as_ref().map(|e| e.to_string());
        summary.needs_attention = self
            .store
            .read(|r| r.attention(&self.id))
            .map(|a| a.len())
            .unwrap_or(summary.needs_attention);
        if let Some(id) = pass_id {
            let counts = summary.counts_json();
            let recorded = self.store.write(|tx| {
                if let Some(PassError::Disconnected { source, .. }) = &error {
                    tx.set_tenant_connected(
                        &self.id,
                        false,
                        Some(&source.to_string()),
                        finished_at,
                    )?;
                }
                tx.finish_pass(id, result, &counts, summary.error.as_deref(), finished_at)?;
                tx.prune_passes(&self.id, PASSES_KEPT)
            });
            if let Err(e) = recorded {
                tracing::error!(tenant = %self.id, error = %e, "cannot record the pass");
            }
        }
        self.report(kind, result, &summary, error.as_ref(), finished_at);
        PassOutcome {
            summary,
            result,
            error,
        }
    }

    async fn run_inner(
        &self,
        kind: PassKind,
        target: Option<&Target>,
        cancel: &CancellationToken,
        now: i64,
        summary: &mut PassSummary,
    ) -> Result<Applied, PassError> {
        // Unknown outcomes first: nothing may be planned on top of an invite that may exist.
        let mut listings = BTreeMap::new();
        let only = match target {
            Some(Target::Opportunity(id)) => Some(id.as_str()),
            _ => None,
        };
        if !matches!(target, Some(Target::Participant(_))) {
            summary.resolved = self.resolve_unresolved(only, &mut listings, now).await?;
        }
        let memory = self
            .store
            .read(|r| memory::load(r, &self.id, now))
            .map_err(|e| PassError::store(&self.id, e))?;
        let mut obs = match (kind, target) {
            (PassKind::Full, _) => self.observe_full(&memory).await?,
            (PassKind::Incremental, _) => self.observe_incremental(&memory, now).await?,
            (PassKind::Targeted, Some(Target::Opportunity(id))) => {
                self.observe_opportunity(id, &memory).await?
            }
            (PassKind::Targeted, Some(Target::Participant(key))) => {
                self.observe_participant(key, &memory).await?
            }
            (PassKind::Targeted, None) => return Ok(Applied::default()),
        };
        for (k, v) in listings {
            obs.listings.entry(k).or_insert(v);
        }
        if cancel.is_cancelled() {
            return Err(PassError::Interrupted {
                tenant: self.id.clone(),
            });
        }
        summary.opportunities_examined = obs.observed.opportunities.len();
        let rules = self.rules()?;
        let plan = plan::plan(&rules, &obs.observed, &memory, now);
        summary.warnings = self.warn(&plan.warnings);
        let listings = std::mem::take(&mut obs.listings);
        let run = self.apply_run(&obs.observed.opportunities, listings, cancel, now);
        let (applied, stopped_by) = run.apply(&plan).await;
        summary.applied = applied.clone();
        if let Some(e) = stopped_by {
            // Credentials rejected mid-apply: nothing further is written, not even the mirror.
            return Err(e);
        }
        let tags_after =
            std::mem::take(&mut *run.tags_after.lock().unwrap_or_else(|p| p.into_inner()));
        let vanished = std::mem::take(&mut *run.vanished.lock().unwrap_or_else(|p| p.into_inner()));
        drop(run);
        // Deleted between reading and writing: mirror them as deleted, not as seen.
        obs.observed
            .opportunities
            .retain(|o| !vanished.contains(&o.id));
        obs.observed.deleted.extend(vanished);
        self.commit(kind, &obs, &plan, &tags_after, now)?;
        if kind == PassKind::Full {
            // The first full pass after start-up catches up by design; later ones should find
            // nothing, so what they change is a repair (a missed hint or incremental pass).
            if self.had_full_pass.swap(true, Ordering::SeqCst) {
                let repairs = u64::from(applied.writes());
                if repairs > 0 {
                    self.metrics.repairs(&self.id, repairs);
                    tracing::warn!(tenant = %self.id, repairs, "the full pass repaired changes that hints and incremental passes missed");
                }
            }
        }
        Ok(applied)
    }

    /// Persists what the pass learned and moves the cursor, in one transaction.
    fn commit(
        &self,
        kind: PassKind,
        obs: &Observation,
        plan: &Plan,
        tags_after: &BTreeMap<String, std::collections::BTreeSet<String>>,
        now: i64,
    ) -> Result<(), PassError> {
        let tenant = &self.id;
        let observed_participants: BTreeMap<&str, &plan::Participant> = obs
            .observed
            .participants
            .iter()
            .map(|p| (p.key.as_str(), p))
            .collect();
        self.store
            .write(|tx| {
                for o in &obs.observed.opportunities {
                    let tags: Vec<String> = tags_after
                        .get(&o.id)
                        .unwrap_or(&o.tags)
                        .iter()
                        .cloned()
                        .collect();
                    let email = o
                        .emails
                        .iter()
                        .find(|e| !e.trim().is_empty())
                        .map(|e| e.trim());
                    tx.save_opportunity(
                        tenant,
                        &SeenOpportunity {
                            id: &o.id,
                            stage_id: o.stage_id.as_deref(),
                            tags: &tags,
                            email,
                            posting_id: o.posting_id.as_deref(),
                            updated_at: o.updated_at,
                        },
                        now,
                    )?;
                }
                for id in plan
                    .remember
                    .deleted
                    .iter()
                    .chain(obs.observed.deleted.iter())
                {
                    tx.mark_opportunity_deleted(tenant, id, now)?;
                    tx.clear_attention_for(tenant, id)?;
                }
                for i in &plan.remember.interviews {
                    tx.save_interview(tenant, &i.key, &i.title, &i.current_tag, i.open, now)?;
                    for alias in &i.issued_tags {
                        if *alias != i.current_tag {
                            tx.issue_interview_tag(tenant, &i.key, alias, now)?;
                        }
                    }
                }
                for (key, known) in &plan.remember.participants {
                    let Some(p) = observed_participants.get(key.as_str()) else {
                        continue;
                    };
                    tx.save_participant(
                        tenant,
                        &SeenParticipant {
                            key,
                            interview_key: &p.interview_key,
                            email: p.email.as_deref(),
                            state: known.state.as_deref(),
                        },
                        known.changed_at,
                        now,
                    )?;
                }
                if let Some(postings) = &plan.remember.posting_tags {
                    let rows: Vec<PostingRow> = postings
                        .iter()
                        .map(|(id, tags)| PostingRow {
                            id: id.clone(),
                            title: None,
                            tags: tags.iter().cloned().collect(),
                        })
                        .collect();
                    tx.replace_postings(tenant, &rows, now)?;
                }
                // The cursor moves here, with what it covers, and only forwards.
                if matches!(kind, PassKind::Full | PassKind::Incremental)
                    && let Some(max) = obs.max_updated_at
                {
                    let old = tx.cursor(tenant, CURSOR_UPDATED_AT)?.unwrap_or(i64::MIN);
                    tx.set_cursor(tenant, CURSOR_UPDATED_AT, old.max(max), now)?;
                }
                if kind == PassKind::Full {
                    let overlap = i64::try_from(self.options.overlap.as_millis()).unwrap_or(0);
                    tx.set_cursor(tenant, CURSOR_DELETED_AT, (now - overlap).max(0), now)?;
                }
                tx.set_tenant_connected(tenant, true, None, now)
            })
            .map_err(|e| PassError::store(tenant, e))
    }

    pub(crate) fn rules(&self) -> Result<Rules, PassError> {
        let stage_ids = self
            .stage_ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| PassError::Config {
                tenant: self.id.clone(),
                message: "trigger stages are not resolved yet".into(),
            })?;
        Ok(Rules {
            account_name: self.settings.account_name.clone(),
            tag_template: self.settings.interview_tag_template.clone(),
            trigger_stage_ids: stage_ids,
            match_posting_tags: self.settings.match_posting_tags,
            status_map: self.settings.willo.status_map.clone(),
            catalog_opportunity_id: self.settings.catalog_opportunity_id.clone(),
        })
    }

    /// Logs each warning (unknown states once per value) and counts them; returns their text.
    fn warn(&self, warnings: &[Warning]) -> Vec<String> {
        let mut out = Vec::new();
        for w in warnings {
            self.metrics.warning(&self.id, w.kind());
            if let Warning::UnknownState { value, .. } = w {
                let first = self
                    .warned_states
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(value.clone());
                if !first {
                    continue;
                }
            }
            tracing::warn!(tenant = %self.id, kind = w.kind(), "{w}");
            out.push(w.to_string());
        }
        out
    }

    /// API calls and 429s of this tenant so far.
    pub fn api_counts(&self) -> ApiCounts {
        ApiCounts {
            lever_calls: self.calls.calls(Api::Lever),
            lever_rate_limited: self.calls.rate_limited(Api::Lever),
            willo_calls: self.calls.calls(Api::Willo),
            willo_rate_limited: self.calls.rate_limited(Api::Willo),
        }
    }

    fn report(
        &self,
        kind: PassKind,
        result: PassResult,
        summary: &PassSummary,
        error: Option<&PassError>,
        finished_at: i64,
    ) {
        let m = &self.metrics;
        m.pass(&self.id, kind, result, summary.duration_ms);
        match error {
            Some(PassError::Disconnected { source, .. }) => {
                m.set_connected(&self.id, false);
                tracing::error!(tenant = %self.id, error = %source,
                    "credentials rejected: the tenant is disconnected; its passes stop writing until access is restored");
            }
            Some(e) => tracing::error!(tenant = %self.id, kind = %kind, error = %e, "pass failed"),
            None => {
                m.set_connected(&self.id, true);
                m.pass_completed(&self.id, kind, finished_at);
            }
        }
        m.set_needs_attention(&self.id, summary.needs_attention);
        if kind != PassKind::Targeted || summary.applied.writes() > 0 || error.is_some() {
            tracing::info!(tenant = %self.id, kind = %kind, result = %result,
                examined = summary.opportunities_examined,
                invites_sent = summary.applied.invites_sent,
                invites_adopted = summary.applied.invites_adopted,
                tags_added = summary.applied.tags_added,
                tags_removed = summary.applied.tags_removed,
                needs_attention = summary.needs_attention,
                duration_ms = summary.duration_ms,
                "pass finished");
        }
        // Only scheduled passes move the cursor; a hint's reconcile need not read it.
        if kind != PassKind::Targeted
            && let Ok(Some(cursor)) = self.store.read(|r| r.cursor(&self.id, CURSOR_UPDATED_AT))
        {
            m.set_cursor_lag(&self.id, finished_at - cursor);
        }
    }
}

fn diff(before: &ApiCounts, after: &ApiCounts) -> ApiCounts {
    ApiCounts {
        lever_calls: after.lever_calls - before.lever_calls,
        lever_rate_limited: after.lever_rate_limited - before.lever_rate_limited,
        willo_calls: after.willo_calls - before.willo_calls,
        willo_rate_limited: after.willo_rate_limited - before.willo_rate_limited,
    }
}
