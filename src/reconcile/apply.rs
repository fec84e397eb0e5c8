//! Applying a plan: bounded concurrency, never two actions on one opportunity at once, every
//! call paced by the clients' token buckets, and the invite journal kept step by step.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::backoff::next_check_at;
use super::error::PassError;
use super::tenant::Tenant;
use crate::domain::attention::AttentionReason;
use crate::domain::email::same_email;
use crate::http::ApiError;
use crate::plan::{self, Action, Plan};
use crate::store::SeenParticipant;
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
}

/// Shared state of one apply run.
pub(crate) struct Run<'a> {
    tenant: &'a Tenant,
    now: i64,
    cancel: &'a CancellationToken,
    /// Participant listings per interview (from observation, extended on demand).
    listings: tokio::sync::Mutex<BTreeMap<String, Vec<plan::Participant>>>,
    /// Tags of each opportunity after our writes (for the mirror).
    pub(crate) tags_after: Mutex<BTreeMap<String, BTreeSet<String>>>,
    /// Opportunities that answered 404 to a write: deleted since they were read.
    pub(crate) vanished: Mutex<BTreeSet<String>>,
    stats: Mutex<Applied>,
    /// The first credential rejection: stops everything.
    disconnected: Mutex<Option<ApiError>>,
    stop: AtomicBool,
}

enum Step {
    Ok,
    /// The invite did not complete: skip the tag actions that depend on it.
    InviteIncomplete,
    Failed(String),
}

impl Tenant {
    pub(crate) fn apply_run<'a>(
        &'a self,
        observed: &'a [plan::Opportunity],
        listings: BTreeMap<String, Vec<plan::Participant>>,
        cancel: &'a CancellationToken,
        now: i64,
    ) -> Run<'a> {
        Run {
            tenant: self,
            now,
            cancel,
            listings: tokio::sync::Mutex::new(listings),
            tags_after: Mutex::new(
                observed
                    .iter()
                    .map(|o| (o.id.clone(), o.tags.clone()))
                    .collect(),
            ),
            vanished: Mutex::new(BTreeSet::new()),
            stats: Mutex::new(Applied::default()),
            disconnected: Mutex::new(None),
            stop: AtomicBool::new(false),
        }
    }
}

impl Run<'_> {
    /// Applies `plan`. Returns what was done, and the disconnect that stopped it, if any.
    pub(crate) async fn apply(&self, plan: &Plan) -> (Applied, Option<PassError>) {
        let groups = groups(&plan.actions);
        let concurrency = self.tenant.options.concurrency.max(1);
        let actions = &plan.actions;
        futures::stream::iter(groups)
            .map(|group: Vec<usize>| {
                self.run_group(group.into_iter().map(|i| &actions[i]).collect())
            })
            .buffer_unordered(concurrency)
            .collect::<Vec<()>>()
            .await;
        let stats = self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let stopped_by = self
            .disconnected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .map(|e| PassError::api(&self.tenant.id, e));
        (stats, stopped_by)
    }

    fn stats(&self) -> std::sync::MutexGuard<'_, Applied> {
        self.stats.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst) || self.cancel.is_cancelled()
    }

    /// Runs one group's actions in plan order (invites before tags, adds before removes).
    async fn run_group(&self, group: Vec<&Action>) {
        let mut incomplete: BTreeSet<&str> = BTreeSet::new();
        let mut failures: BTreeMap<String, String> = BTreeMap::new();
        let mut touched: BTreeSet<&str> = BTreeSet::new();
        for action in group {
            if self.stopped() {
                self.stats().skipped += 1;
                continue;
            }
            let ids: Vec<&str> = action
                .opportunity_ids()
                .into_iter()
                .map(String::as_str)
                .collect();
            touched.extend(ids.iter().copied());
            if action.tags().is_some() && ids.iter().any(|id| incomplete.contains(id)) {
                // Its invite did not complete: the status tag would claim something untrue.
                self.stats().skipped += 1;
                continue;
            }
            match self.step(action).await {
                Step::Ok => {}
                Step::InviteIncomplete => incomplete.extend(ids),
                Step::Failed(error) => {
                    self.stats().failed += 1;
                    if matches!(action, Action::Invite { .. } | Action::Adopt { .. }) {
                        incomplete.extend(ids.iter().copied());
                    }
                    for id in ids {
                        failures.insert(id.to_owned(), error.clone());
                    }
                }
            }
        }
        // Rejected credentials are the tenant's problem, not these opportunities': no backoff,
        // so everything goes again as soon as access is restored.
        if self
            .disconnected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
        {
            return;
        }
        // Per-opportunity backoff: grows with each failure, resets on success.
        let tenant = &self.tenant.id;
        let result = self.tenant.store.write(|tx| {
            for id in &touched {
                match failures.get(*id) {
                    Some(error) => {
                        let n = tx.opportunity_failures(tenant, id)?;
                        let next = next_check_at(self.now, n + 1);
                        tx.record_opportunity_failure(tenant, id, error, next, self.now)?;
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
            tracing::error!(tenant = %tenant, error = %e, "cannot record action outcomes");
        }
    }

    async fn step(&self, action: &Action) -> Step {
        let result = match action {
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
                return self.invite(new, opportunity_ids).await;
            }
            Action::Adopt {
                interview_key,
                participant_key,
                opportunity_id,
                email,
            } => return self.adopt(interview_key, participant_key, opportunity_id, email),
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
            } => self.attention(opportunity_id, *reason, None, true),
            Action::ClearAttention {
                opportunity_id,
                reason,
            } => self.attention(opportunity_id, *reason, None, false),
        };
        match result {
            Ok(()) => Step::Ok,
            Err(e) => Step::Failed(e),
        }
    }

    /// Notes an API error: a disconnect stops the whole run; anything else fails the action.
    fn api_error(&self, e: ApiError) -> String {
        let text = e.to_string();
        if e.is_disconnect() {
            self.stop.store(true, Ordering::SeqCst);
            let mut d = self.disconnected.lock().unwrap_or_else(|p| p.into_inner());
            if d.is_none() {
                *d = Some(e);
            }
        }
        text
    }

    fn store_error(&self, e: crate::store::StoreError) -> String {
        // The journal is what makes invites happen once: without it, stop writing anything.
        tracing::error!(tenant = %self.tenant.id, error = %e, "state store write failed; stopping this pass's actions");
        self.stop.store(true, Ordering::SeqCst);
        e.to_string()
    }

    async fn write_tags(&self, id: &str, tags: &BTreeSet<String>, add: bool) -> Result<(), String> {
        let list: Vec<String> = tags.iter().cloned().collect();
        let lever = &self.tenant.lever;
        let result = if add {
            lever.add_tags(id, &list).await
        } else {
            lever.remove_tags(id, &list).await
        };
        match result {
            Ok(after) => {
                let mut map = self.tags_after.lock().unwrap_or_else(|p| p.into_inner());
                let entry = map.entry(id.to_owned()).or_default();
                match after {
                    Some(o) => *entry = o.tags.into_iter().collect(),
                    None if add => entry.extend(list.iter().cloned()),
                    None => entry.retain(|t| !tags.contains(t)),
                }
                let n = u32::try_from(list.len()).unwrap_or(u32::MAX);
                let op = if add { "add" } else { "remove" };
                if add {
                    self.stats().tags_added += n;
                } else {
                    self.stats().tags_removed += n;
                }
                self.tenant
                    .metrics
                    .tag_write(&self.tenant.id, op, u64::from(n));
                tracing::info!(tenant = %self.tenant.id, opportunity = %id, tags = ?list,
                    "{} tags", if add { "added" } else { "removed" });
                Ok(())
            }
            Err(ApiError::NotFound { .. }) => {
                // Deleted between reading and writing: nothing left to tag.
                tracing::info!(tenant = %self.tenant.id, opportunity = %id, "opportunity vanished before its tags were written");
                self.vanished
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(id.to_owned());
                Ok(())
            }
            Err(e) => Err(self.api_error(e)),
        }
    }

    fn attention(
        &self,
        id: &str,
        reason: AttentionReason,
        detail: Option<&str>,
        record: bool,
    ) -> Result<(), String> {
        let tenant = &self.tenant.id;
        let now = self.now;
        self.tenant
            .store
            .write(|tx| {
                if record {
                    tx.record_attention(tenant, id, reason.as_str(), detail, now)
                } else {
                    tx.clear_attention(tenant, id, reason.as_str())
                }
            })
            .map_err(|e| self.store_error(e))?;
        if record {
            self.stats().attention_recorded += 1;
            tracing::warn!(tenant = %tenant, opportunity = %id, reason = %reason, detail = detail.unwrap_or(""),
                "needs attention");
        } else {
            self.stats().attention_cleared += 1;
        }
        Ok(())
    }

    fn adopt(&self, interview: &str, participant: &str, id: &str, email: &str) -> Step {
        let (tenant, now) = (&self.tenant.id, self.now);
        let recorded = self
            .tenant
            .store
            .write(|tx| tx.record_adopted_invite(tenant, id, interview, email, participant, now));
        match recorded {
            Ok(_) => {
                self.stats().invites_adopted += 1;
                self.tenant.metrics.invite(tenant, "adopted");
                tracing::info!(tenant = %tenant, opportunity = %id, interview = %interview,
                    participant = %participant, "adopted an existing participant (no invite email sent)");
                Step::Ok
            }
            Err(e) => Step::Failed(self.store_error(e)),
        }
    }

    /// The invite protocol: journal `planned`, look the email up, journal `in_flight` (committed
    /// before the POST), POST, then `done` / `ambiguous` / `failed`, or back to `planned` when
    /// the request provably never took effect.
    async fn invite(&self, new: NewParticipant, ids: &[String]) -> Step {
        let (tenant, now) = (&self.tenant.id, self.now);
        let interview = new.interview.clone();
        // 1. Intent. Rows someone else already moved past `planned` are not ours to send.
        let planned = self.tenant.store.write(|tx| {
            let mut mine = Vec::new();
            for id in ids {
                if tx.plan_invite(tenant, id, &interview, &new.email, now)?
                    == crate::domain::invite::InviteState::Planned
                {
                    mine.push(id.clone());
                }
            }
            Ok(mine)
        });
        let ids = match planned {
            Ok(ids) if ids.is_empty() => return Step::InviteIncomplete,
            Ok(ids) => ids,
            Err(e) => return Step::Failed(self.store_error(e)),
        };
        // 2. Look before creating: a participant with this email may exist already.
        let existing = match self.lookup(&interview, &new.email).await {
            Ok(found) => found,
            Err(e) => return Step::Failed(e),
        };
        if let Some(p) = existing {
            let recorded = self.tenant.store.write(|tx| {
                for id in &ids {
                    tx.record_adopted_invite(tenant, id, &interview, &new.email, &p.key, now)?;
                }
                save_participant(tx, tenant, &p, now)
            });
            return match recorded {
                Ok(()) => {
                    self.stats().invites_adopted += u32::try_from(ids.len()).unwrap_or(u32::MAX);
                    self.tenant.metrics.invite(tenant, "adopted");
                    tracing::info!(tenant = %tenant, opportunities = ?ids, interview = %interview,
                        participant = %p.key, "participant already in Willo; adopted (no second invite email)");
                    Step::Ok
                }
                Err(e) => Step::Failed(self.store_error(e)),
            };
        }
        // 3. In flight, durably, before anything leaves the process.
        let marked = self.tenant.store.write(|tx| {
            for id in &ids {
                tx.mark_invite_in_flight(tenant, id, &interview, now)?;
            }
            Ok(())
        });
        if let Err(e) = marked {
            return Step::Failed(self.store_error(e));
        }
        // 4. The POST: never retried blindly.
        match self.tenant.willo.create_participant(&new).await {
            Ok(created) => {
                let p = super::convert::participant(&created, &interview);
                let recorded = self.tenant.store.write(|tx| {
                    for id in &ids {
                        tx.mark_invite_done(tenant, id, &interview, &p.key, now)?;
                    }
                    save_participant(tx, tenant, &p, now)
                });
                self.listings
                    .lock()
                    .await
                    .entry(interview.clone())
                    .or_default()
                    .push(p.clone());
                if let Err(e) = recorded {
                    // Willo has the participant; the row stays in_flight and the next pass
                    // adopts it by lookup.
                    return Step::Failed(self.store_error(e));
                }
                self.stats().invites_sent += 1;
                self.tenant.metrics.invite(tenant, "sent");
                tracing::info!(tenant = %tenant, opportunities = ?ids, interview = %interview,
                    participant = %p.key, "invited");
                Step::Ok
            }
            Err(e @ (ApiError::Ambiguous { .. } | ApiError::Decode { .. })) => {
                let text = e.to_string();
                let _ = self.tenant.store.write(|tx| {
                    for id in &ids {
                        tx.mark_invite_ambiguous(tenant, id, &interview, &text, now)?;
                    }
                    Ok(())
                });
                self.stats().invites_ambiguous += 1;
                self.tenant.metrics.invite(tenant, "ambiguous");
                tracing::warn!(tenant = %tenant, opportunities = ?ids, interview = %interview, error = %text,
                    "invite outcome unknown; the next pass looks it up before anything else");
                Step::Failed(text)
            }
            Err(ApiError::Rejected {
                status, message, ..
            }) => {
                let text = format!("Willo refused the invite (HTTP {status}): {message}");
                let _ = self.tenant.store.write(|tx| {
                    for id in &ids {
                        tx.mark_invite_failed(tenant, id, &interview, &text, now)?;
                        tx.record_attention(
                            tenant,
                            id,
                            AttentionReason::InviteRejected.as_str(),
                            Some(&text),
                            now,
                        )?;
                    }
                    Ok(())
                });
                self.stats().invites_failed += 1;
                self.tenant.metrics.invite(tenant, "rejected");
                tracing::warn!(tenant = %tenant, opportunities = ?ids, interview = %interview, error = %text,
                    "invite refused; needs attention");
                Step::InviteIncomplete
            }
            Err(e) => {
                // Throttled, refused credentials, connection never made, unknown route: the
                // request provably took no effect, so the intent goes back to `planned`.
                let text = e.to_string();
                let _ = self.tenant.store.write(|tx| {
                    for id in &ids {
                        tx.reset_invite_to_planned(tenant, id, &interview, Some(&text), now)?;
                    }
                    Ok(())
                });
                self.tenant.metrics.invite(tenant, "not_sent");
                Step::Failed(self.api_error(e))
            }
        }
    }

    /// Finds a participant with `email` in `interview`, listing the interview once per pass.
    async fn lookup(
        &self,
        interview: &str,
        email: &str,
    ) -> Result<Option<plan::Participant>, String> {
        let mut listings = self.listings.lock().await;
        if !listings.contains_key(interview) {
            let rows = self
                .tenant
                .list_participants_of(interview)
                .await
                .map_err(|e| match e {
                    PassError::Api { source, .. } | PassError::Disconnected { source, .. } => {
                        self.api_error(source)
                    }
                    other => other.to_string(),
                })?;
            listings.insert(interview.to_owned(), rows);
        }
        Ok(listings
            .get(interview)
            .and_then(|rows| {
                rows.iter()
                    .find(|p| p.email.as_deref().is_some_and(|e| same_email(e, email)))
            })
            .cloned())
    }
}

/// Records a participant just seen, with `now` as the time its state was first seen.
pub(crate) fn save_participant(
    tx: &crate::store::Tx<'_>,
    tenant: &str,
    p: &plan::Participant,
    now: i64,
) -> Result<(), crate::store::StoreError> {
    tx.save_participant(
        tenant,
        &SeenParticipant {
            key: &p.key,
            interview_key: &p.interview_key,
            email: p.email.as_deref(),
            state: p.state.as_deref(),
        },
        now,
        now,
    )
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
