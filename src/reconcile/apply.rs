//! Applying a plan: bounded concurrency, never two actions on one opportunity at once, every
//! call paced by the clients' token buckets, and the invite journal kept step by step. Each
//! group of actions returns its own report; the reports are folded into the pass's.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::backoff::next_check_at;
use super::directory::Directory;
use super::outcome::{ActionError, Done};
use super::tenant::Tenant;
use crate::domain::OpportunityId;
use crate::domain::attention::AttentionReason;
use crate::error_chain::chain;
use crate::http::ApiError;
use crate::plan::{Action, Opportunity, Plan};
use crate::willo::NewParticipant;

/// What applying did, for the pass summary.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Applied {
    pub invites_sent: u32,
    pub invites_adopted: u32,
    pub invites_ambiguous: u32,
    pub invites_failed: u32,
    pub tags_added: u32,
    pub tags_removed: u32,
    pub attention_recorded: u32,
    pub attention_cleared: u32,
    /// Actions that failed (retried on a later pass, after the opportunity's backoff).
    pub failed: u32,
    /// Actions not started because of shutdown or a disconnect.
    pub skipped: u32,
}

impl Applied {
    /// Writes made to Lever or Willo.
    pub fn writes(&self) -> u32 {
        self.invites_sent + self.invites_adopted + self.tags_added + self.tags_removed
    }

    fn add(&mut self, o: &Applied) {
        self.invites_sent += o.invites_sent;
        self.invites_adopted += o.invites_adopted;
        self.invites_ambiguous += o.invites_ambiguous;
        self.invites_failed += o.invites_failed;
        self.tags_added += o.tags_added;
        self.tags_removed += o.tags_removed;
        self.attention_recorded += o.attention_recorded;
        self.attention_cleared += o.attention_cleared;
        self.failed += o.failed;
        self.skipped += o.skipped;
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
}

impl ApplyReport {
    fn merge(mut self, other: ApplyReport) -> ApplyReport {
        self.applied.add(&other.applied);
        self.tags_after.extend(other.tags_after);
        self.vanished.extend(other.vanished);
        self.disconnect = self.disconnect.or(other.disconnect);
        self
    }
}

/// Runs one plan's actions. Shared by reference among the concurrent groups.
pub(crate) struct Applier<'p> {
    pub tenant: &'p Tenant,
    pub directory: &'p Directory,
    pub now: i64,
    cancel: &'p CancellationToken,
    /// The tags each opportunity had when the pass read it.
    read_tags: BTreeMap<&'p str, &'p BTreeSet<String>>,
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
        observed: &'p [Opportunity],
        cancel: &'p CancellationToken,
        now: i64,
    ) -> Self {
        Applier {
            tenant,
            directory,
            now,
            cancel,
            read_tags: observed.iter().map(|o| (o.id.as_str(), &o.tags)).collect(),
            disconnected: CancellationToken::new(),
            store_failed: CancellationToken::new(),
        }
    }

    /// Applies `plan`; the report says what was done and the disconnect that stopped it.
    pub(crate) async fn apply(&self, plan: &Plan) -> ApplyReport {
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
    async fn run_group(&self, group: Vec<&Action>) -> ApplyReport {
        let mut report = ApplyReport::default();
        let mut incomplete: BTreeSet<&str> = BTreeSet::new();
        let mut failures: BTreeMap<&str, String> = BTreeMap::new();
        let mut touched: BTreeSet<&str> = BTreeSet::new();
        for action in group {
            let ids: Vec<&str> = action
                .opportunity_ids()
                .into_iter()
                .map(String::as_str)
                .collect();
            touched.extend(&ids);
            let waits_for_invite =
                action.tags().is_some() && ids.iter().any(|id| incomplete.contains(id));
            if self.stopped() || waits_for_invite {
                // Not started: shutdown or a disconnect, or its invite did not complete and the
                // status tag would claim something untrue.
                report.applied.skipped += 1;
                continue;
            }
            let is_invite = matches!(action, Action::Invite { .. } | Action::Adopt { .. });
            match self.step(action).await {
                Ok(done) => {
                    if done.leaves_invite_incomplete() {
                        incomplete.extend(&ids);
                    }
                    done.record(self.tenant, &mut report.applied);
                    self.collect(done, &mut report);
                }
                Err(e) => {
                    e.record(self.tenant, &mut report.applied);
                    if is_invite {
                        incomplete.extend(&ids);
                    }
                    failures.extend(ids.iter().map(|id| (*id, chain(&e).to_string())));
                    self.raise(e, &mut report);
                }
            }
        }
        if !self.disconnected.is_cancelled() {
            self.record_backoffs(&touched, &failures, &incomplete);
        }
        report
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
                let read = self.read_tags.get(id.as_str()).copied();
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

    /// A rejected credential or a failed store write stops every group.
    fn raise(&self, e: ActionError, report: &mut ApplyReport) {
        match e {
            ActionError::Store(_) => self.store_failed.cancel(),
            ActionError::Api(e) | ActionError::NotSent(e) | ActionError::Ambiguous(e)
                if e.is_disconnect() =>
            {
                self.disconnected.cancel();
                report.disconnect.get_or_insert(e);
            }
            _ => {}
        }
    }

    /// Per-opportunity backoff: grows with each failure, resets on success.
    fn record_backoffs(
        &self,
        touched: &BTreeSet<&str>,
        failures: &BTreeMap<&str, String>,
        incomplete: &BTreeSet<&str>,
    ) {
        let (tenant, now) = (&self.tenant.id, self.now);
        let result = self.tenant.store.write(|tx| {
            for id in touched {
                match failures.get(id) {
                    Some(error) => {
                        let n = tx.opportunity_failures(tenant, id)?;
                        let next = next_check_at(now, n + 1);
                        tx.record_opportunity_failure(tenant, id, error, next, now)?;
                    }
                    None if !incomplete.contains(id) => {
                        tx.record_opportunity_success(tenant, id)?
                    }
                    None => {}
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
        let written = if add {
            lever.add_tags(id, &list).await
        } else {
            lever.remove_tags(id, &list).await
        };
        match written {
            Ok(after) => Ok(Done::TagsWritten {
                id: id.to_owned(),
                tags: tags.clone(),
                add,
                after: after.map(|o| o.tags.into_iter().collect()),
            }),
            // Deleted between reading and writing: nothing left to tag.
            Err(ApiError::NotFound { .. }) => Ok(Done::Vanished { id: id.to_owned() }),
            Err(e) => Err(ActionError::Api(e)),
        }
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
        })
    }
}

/// Groups actions that share an opportunity (transitively), keeping plan order inside each
/// group, so no two actions on one opportunity ever run at once.
fn groups(actions: &[Action]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..actions.len()).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut owner: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, a) in actions.iter().enumerate() {
        for id in a.opportunity_ids() {
            match owner.get(id.as_str()) {
                Some(&j) => {
                    let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                    parent[ri] = rj;
                }
                None => {
                    owner.insert(id.as_str(), i);
                }
            }
        }
    }
    let mut out: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..actions.len() {
        let root = find(&mut parent, i);
        out.entry(root).or_default().push(i);
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(id: &str) -> Action {
        Action::AddTags {
            opportunity_id: id.into(),
            tags: BTreeSet::from(["Willo:Invited".to_owned()]),
        }
    }

    #[test]
    fn actions_sharing_an_opportunity_land_in_one_group_in_order() {
        let invite = Action::Invite {
            interview_key: "iv".into(),
            email: "a@x.io".into(),
            name: "A".into(),
            first_name: None,
            last_name: None,
            opportunity_ids: vec!["o1".into(), "o2".into()],
        };
        let actions = vec![invite.clone(), tags("o2"), tags("o3"), tags("o1")];
        let g = groups(&actions);
        assert_eq!(g, vec![vec![0, 1, 3], vec![2]]);
    }
}
