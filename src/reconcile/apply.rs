//! Applying a plan: bounded concurrency, never two actions on one opportunity at once, every
//! call paced by the clients' token buckets, and the invite journal kept step by step. Each
//! group of actions returns its own report; the reports are folded into the pass's.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::backoff::next_check_at;
use super::directory::Directory;
use super::group::{ActionFailure, GroupState, groups, keys_of};
use super::keys::Reader;
use super::outcome::{ActionError, Done, Wait};
use super::tenant::Tenant;
use crate::domain::OpportunityId;
use crate::domain::attention::AttentionReason;
use crate::error_chain::chain;
use crate::http::ApiError;
use crate::plan::{Action, Opportunity, Plan};
use crate::willo::NewParticipant;

/// Tags written per Lever call at most.
const TAGS_PER_CALL: usize = 50;

/// What applying did, for the pass summary.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Applied {
    pub invites_sent: u32,
    pub invites_adopted: u32,
    pub invites_ambiguous: u32,
    pub invites_failed: u32,
    pub tags_added: u32,
    pub tags_removed: u32,
    /// Completion notes posted (rule: completion note).
    pub notes_posted: u32,
    /// Completion notes whose POST may or may not have landed (settled next pass).
    pub notes_unknown: u32,
    pub attention_recorded: u32,
    pub attention_cleared: u32,
    /// Actions that failed (retried on a later pass, after the opportunity's backoff).
    pub failed: u32,
    /// Actions not started because of shutdown, a disconnect or a failed invite or tag.
    pub skipped: u32,
    /// Actions left for a later pass on purpose (their invite is not settled yet).
    pub deferred: u32,
}

impl Applied {
    /// Writes made to Lever or Willo.
    pub fn writes(&self) -> u32 {
        self.invites_sent
            + self.invites_adopted
            + self.tags_added
            + self.tags_removed
            + self.notes_posted
    }

    pub(crate) fn add(&mut self, o: &Applied) {
        self.invites_sent += o.invites_sent;
        self.invites_adopted += o.invites_adopted;
        self.invites_ambiguous += o.invites_ambiguous;
        self.invites_failed += o.invites_failed;
        self.tags_added += o.tags_added;
        self.tags_removed += o.tags_removed;
        self.notes_posted += o.notes_posted;
        self.notes_unknown += o.notes_unknown;
        self.attention_recorded += o.attention_recorded;
        self.attention_cleared += o.attention_cleared;
        self.failed += o.failed;
        self.skipped += o.skipped;
        self.deferred += o.deferred;
    }
}

/// What applying a plan (or one group of it) produced.
#[derive(Debug, Default)]
pub(crate) struct ApplyReport {
    pub applied: Applied,
    /// Tags of each opportunity whose tags were written, as they are after the writes.
    pub tags_after: BTreeMap<OpportunityId, BTreeSet<String>>,
    /// Opportunities that answered 404 to a write: deleted since they were read.
    pub vanished: BTreeSet<OpportunityId>,
    /// The credential rejection that stopped the run, if any.
    pub disconnect: Option<ApiError>,
    pub failures: Vec<ActionFailure>,
}

impl ApplyReport {
    fn merge(mut self, other: ApplyReport) -> ApplyReport {
        self.applied.add(&other.applied);
        self.tags_after.extend(other.tags_after);
        self.vanished.extend(other.vanished);
        self.disconnect = self.disconnect.or(other.disconnect);
        self.failures.extend(other.failures);
        self
    }
}

/// Runs one plan's actions. Shared by reference among the concurrent groups.
pub(crate) struct Applier<'p> {
    pub tenant: &'p Tenant,
    pub directory: &'p Directory,
    /// The pass's view of the tenant's writes: an opportunity written by another reconcile
    /// since the pass read it is left for a later read.
    reader: &'p Reader<'p>,
    pub now: i64,
    cancel: &'p CancellationToken,
    /// The opportunities as the pass read them (tags, the candidate's name).
    observed: BTreeMap<&'p str, &'p Opportunity>,
    /// Raised by the first rejected credential: every group stops taking actions and writes no
    /// backoff (the tenant's access is the problem, not its opportunities).
    disconnected: CancellationToken,
    /// Raised by the first failed store write: every group stops taking actions.
    store_failed: CancellationToken,
}

impl<'p> Applier<'p> {
    pub(crate) fn new(
        tenant: &'p Tenant,
        directory: &'p Directory,
        reader: &'p Reader<'p>,
        observed: &'p [Opportunity],
        cancel: &'p CancellationToken,
        now: i64,
    ) -> Self {
        Applier {
            tenant,
            directory,
            reader,
            now,
            cancel,
            observed: observed.iter().map(|o| (o.id.as_str(), o)).collect(),
            disconnected: CancellationToken::new(),
            store_failed: CancellationToken::new(),
        }
    }

    /// Applies `plan`; the report says what was done and the disconnect that stopped it.
    pub(crate) async fn apply(&self, plan: &'p Plan) -> ApplyReport {
        let concurrency = self.tenant.options.concurrency.max(1);
        let actions = &plan.actions;
        futures::stream::iter(groups(actions))
            .map(|group| self.run_group(group.into_iter().map(|i| &actions[i]).collect()))
            .buffer_unordered(concurrency)
            .fold(ApplyReport::default(), |acc, r| async move { acc.merge(r) })
            .await
    }

    fn stopped(&self) -> bool {
        self.cancel.is_cancelled()
            || self.disconnected.is_cancelled()
            || self.store_failed.is_cancelled()
    }

    /// Runs one group's actions in plan order (invites before tags, adds before removes).
    async fn run_group(&self, group: Vec<&'p Action>) -> ApplyReport {
        let mut g = GroupState::default();
        // One reconcile at a time acts on these opportunities and people; a hint never waits
        // for more than the actions of the objects it shares with a pass.
        let _turn = self.tenant.keys.lock(keys_of(&group)).await;
        for action in group {
            let ids: Vec<&'p str> = action
                .opportunity_ids()
                .into_iter()
                .map(String::as_str)
                .collect();
            g.touched.extend(&ids);
            if self.stopped() {
                // Shutdown or a disconnect: nothing new starts; the next pass reads it again.
                g.report.applied.skipped += 1;
                g.recheck.extend(&ids);
                continue;
            }
            if ids.iter().any(|id| self.reader.is_stale(id)) {
                // Another reconcile wrote to it after this one read it: this plan is stale.
                g.report.applied.deferred += 1;
                g.recheck.extend(&ids);
                continue;
            }
            if let Some(wait) = g.waits(action, &ids) {
                match wait {
                    Wait::Failed => g.report.applied.skipped += 1,
                    Wait::Deferred => {
                        g.report.applied.deferred += 1;
                        g.recheck.extend(&ids);
                    }
                }
                continue;
            }
            match self.step(action).await {
                Ok(done) => {
                    if done.wrote() {
                        ids.iter().for_each(|id| self.reader.wrote(id));
                    }
                    if let Some(wait) = done.tags_wait() {
                        g.waiting.extend(ids.iter().map(|id| (*id, wait)));
                    }
                    done.record(self.tenant, &self.observed, &mut g.report.applied);
                    self.collect(done, &mut g.report);
                }
                Err(e) => self.failed(action, &ids, e, &mut g),
            }
        }
        if !self.disconnected.is_cancelled() {
            self.record_backoffs(&g);
        }
        g.report
    }

    /// Counts, logs and remembers a failed action; a rejected credential or a failed store
    /// write stops every group.
    fn failed(&self, action: &'p Action, ids: &[&'p str], e: ActionError, g: &mut GroupState<'p>) {
        e.record(self.tenant, &mut g.report.applied);
        let error = chain(&e).to_string();
        for id in ids {
            let candidate = self.observed.get(id).map_or("", |o| o.name.as_str());
            tracing::warn!(tenant = %self.tenant.id, opportunity = %id, candidate,
                action = action.kind(), error_kind = e.kind(), error = %error,
                "action failed; the opportunity is retried after its backoff");
            g.report.failures.push(ActionFailure {
                opportunity_id: (*id).to_owned(),
                candidate: candidate.to_owned(),
                action: action.kind(),
                error_kind: e.kind(),
                error: error.clone(),
            });
        }
        match action {
            Action::Invite { .. } | Action::Adopt { .. } => {
                g.waiting.extend(ids.iter().map(|id| (*id, Wait::Failed)));
            }
            // The old status tag stays until the new one is on: never none in between.
            Action::AddTags { .. } => g.add_failed.extend(ids),
            _ => {}
        }
        match e {
            ActionError::Store(_) => {
                // A local failure says nothing about the opportunity: no API backoff for it.
                g.local_failures.extend(ids);
                self.store_failed.cancel();
            }
            ActionError::Api(e)
            | ActionError::NotSent(e)
            | ActionError::Ambiguous(e)
            | ActionError::NoteUnknown(e)
                if e.is_disconnect() =>
            {
                self.disconnected.cancel();
                g.report.disconnect.get_or_insert(e);
            }
            _ => {
                let message = format!("{}: {error}", action.kind());
                g.failures
                    .extend(ids.iter().map(|id| (*id, message.clone())));
            }
        }
    }

    /// Keeps what later stages need from a completed action.
    fn collect(&self, done: Done, report: &mut ApplyReport) {
        match done {
            Done::TagsWritten {
                id,
                tags,
                add,
                after,
            } => {
                let read = self.observed.get(id.as_str()).map(|o| &o.tags);
                let entry = report
                    .tags_after
                    .entry(id)
                    .or_insert_with(|| read.cloned().unwrap_or_default());
                match after {
                    Some(after) => *entry = after,
                    None if add => entry.extend(tags),
                    None => entry.retain(|t| !tags.contains(t)),
                }
            }
            Done::Vanished { id } => {
                report.vanished.insert(id);
            }
            _ => {}
        }
    }

    /// Per-opportunity backoff: grows with each API failure, resets on success.
    fn record_backoffs(&self, g: &GroupState<'_>) {
        let (tenant, now) = (&self.tenant.id, self.now);
        let result = self.tenant.store.write(|tx| {
            for id in &g.touched {
                if let Some(error) = g.failures.get(id) {
                    let n = tx.opportunity_failures(tenant, id)?;
                    let next = next_check_at(now, n + 1);
                    tx.record_opportunity_failure(tenant, id, error, next, now)?;
                } else if g.recheck.contains(id) {
                    tx.schedule_recheck(tenant, id, now)?;
                } else if !g.waiting.contains_key(id) && !g.local_failures.contains(id) {
                    tx.record_opportunity_success(tenant, id)?;
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            tracing::error!(tenant = %tenant, error = %chain(&e), "cannot record action outcomes");
        }
    }

    async fn step(&self, action: &Action) -> Result<Done, ActionError> {
        match action {
            Action::Invite {
                interview_key,
                email,
                name,
                first_name,
                last_name,
                opportunity_ids,
            } => {
                let new = NewParticipant {
                    interview: interview_key.clone(),
                    name: name.clone(),
                    first_name: first_name.clone(),
                    last_name: last_name.clone(),
                    email: email.clone(),
                    phone: None,
                    external_id: opportunity_ids.first().cloned(),
                };
                self.invite(&new, opportunity_ids).await
            }
            Action::Adopt {
                interview_key,
                participant_key,
                opportunity_id,
                email,
            } => self.adopt(interview_key, participant_key, opportunity_id, email),

            Action::AddTags {
                opportunity_id,
                tags,
            } => self.write_tags(opportunity_id, tags, true).await,
            Action::RemoveTags {
                opportunity_id,
                tags,
            } => self.write_tags(opportunity_id, tags, false).await,
            Action::PostNote {
                opportunity_id,
                interview_key,
                text,
            } => self.post_note(opportunity_id, interview_key, text).await,
            Action::RecordAttention {
                opportunity_id,
                reason,
            } => self.attention(opportunity_id, *reason, true),
            Action::ClearAttention {
                opportunity_id,
                reason,
            } => self.attention(opportunity_id, *reason, false),
        }
    }

    async fn write_tags(
        &self,
        id: &str,
        tags: &BTreeSet<String>,
        add: bool,
    ) -> Result<Done, ActionError> {
        let list: Vec<String> = tags.iter().cloned().collect();
        let lever = &self.tenant.lever;
        let mut after = None;
        // Lever documents no limit on the tags of one call; a catalog of hundreds of
        // interviews is written a batch at a time so no single request is outlandish.
        for batch in list.chunks(TAGS_PER_CALL) {
            let written = if add {
                lever.add_tags(id, batch).await
            } else {
                lever.remove_tags(id, batch).await
            };
            match written {
                Ok(o) => after = o,
                // Deleted between reading and writing: nothing left to tag.
                Err(ApiError::NotFound { .. }) => return Ok(Done::Vanished { id: id.to_owned() }),
                Err(e) => return Err(ActionError::Api(e)),
            }
        }
        Ok(Done::TagsWritten {
            id: id.to_owned(),
            tags: tags.clone(),
            add,
            after: after.map(|o| o.tags.into_iter().collect()),
        })
    }

    fn attention(
        &self,
        id: &str,
        reason: AttentionReason,
        record: bool,
    ) -> Result<Done, ActionError> {
        let (tenant, now) = (&self.tenant.id, self.now);
        self.tenant
            .store
            .write(|tx| {
                if record {
                    tx.record_attention(tenant, id, reason.as_str(), None, now)
                } else {
                    tx.clear_attention(tenant, id, reason.as_str())
                }
            })
            .map_err(ActionError::Store)?;
        Ok(Done::Attention {
            id: id.to_owned(),
            reason,
            recorded: record,
        })
    }

    /// A planned adoption: the planner saw the participant in this pass's listing.
    fn adopt(
        &self,
        interview: &str,
        participant: &str,
        id: &str,
        email: &str,
    ) -> Result<Done, ActionError> {
        let (tenant, now) = (&self.tenant.id, self.now);
        self.tenant
            .store
            .write(|tx| tx.record_adopted_invite(tenant, id, interview, email, participant, now))
            .map_err(ActionError::Store)?;
        Ok(Done::Adopted {
            ids: vec![id.to_owned()],
            interview: interview.to_owned(),
            participant: participant.to_owned(),
            found: false,
            retag: false,
        })
    }
}
