//! Bringing the store up to date with interviews' participants: each interview listed
//! completely, page by page, and what is new or changed saved as it comes. A pass over the
//! largest account holds one batch of participants in memory; afterwards the store holds every
//! participant of the interviews listed and answers every lookup (see `directory`).

use std::collections::{BTreeMap, BTreeSet};

use futures::TryStreamExt;

use super::convert;
use super::error::PassError;
use super::pass::Pass;
use crate::domain::status_map::Mapped;
use crate::domain::{InterviewKey, ParticipantKey};
use crate::plan::Participant;
use crate::store::SeenParticipant;

/// Participants saved per write transaction.
const BATCH: usize = 500;

impl Pass<'_> {
    /// Lists `interviews` completely (those this pass has not listed yet) and saves what is new
    /// or changed; returns the participants whose state changed or who are new. Each interview
    /// is marked listed once all of it is stored.
    pub(crate) async fn refresh(
        &mut self,
        interviews: &BTreeSet<InterviewKey>,
    ) -> Result<BTreeSet<ParticipantKey>, PassError> {
        let todo: BTreeSet<InterviewKey> = interviews
            .iter()
            .filter(|i| !self.directory.is_stored(i))
            .cloned()
            .collect();
        let mut changed = BTreeSet::new();
        if todo.is_empty() {
            return Ok(changed);
        }
        if !self.directory.shared() {
            let mut left = todo.clone();
            for interview in &todo {
                self.refresh_one(interview, &mut changed).await?;
                left.remove(interview);
                if self.directory.found_filter_ignored() {
                    let t = self.tenant;
                    tracing::warn!(tenant = %t.id, "Willo ignores the participant listing's interview filter; listing every participant once and splitting by interview instead");
                    self.directory.switch_to_shared();
                    break;
                }
            }
            if left.is_empty() {
                return Ok(changed);
            }
            self.refresh_shared(&left, &mut changed).await?;
        } else {
            self.refresh_shared(&todo, &mut changed).await?;
        }
        Ok(changed)
    }

    /// One interview through the `?interview=` filter.
    async fn refresh_one(
        &mut self,
        interview: &str,
        changed: &mut BTreeSet<ParticipantKey>,
    ) -> Result<(), PassError> {
        let t = self.tenant;
        let stream = t.willo.participants(interview);
        futures::pin_mut!(stream);
        let mut batch = Vec::with_capacity(BATCH);
        while let Some(p) = stream.try_next().await.map_err(|e| t.api_err(e))? {
            if p.interview_key.as_deref().is_some_and(|k| k != interview) {
                self.directory.note_filter_ignored();
                continue;
            }
            batch.push(convert::participant_seen(t, &p, interview));
            if batch.len() == BATCH {
                self.save_batch(&mut batch, changed)?;
            }
        }
        self.save_batch(&mut batch, changed)?;
        self.mark_listed([interview.to_owned()].into())
    }

    /// Every interview of `interviews` from one listing of the whole account.
    async fn refresh_shared(
        &mut self,
        interviews: &BTreeSet<InterviewKey>,
        changed: &mut BTreeSet<ParticipantKey>,
    ) -> Result<(), PassError> {
        let t = self.tenant;
        let stream = t.willo.all_participants();
        futures::pin_mut!(stream);
        let mut batch = Vec::with_capacity(BATCH);
        while let Some(p) = stream.try_next().await.map_err(|e| t.api_err(e))? {
            let Some(interview) = p
                .interview_key
                .as_deref()
                .filter(|k| interviews.contains(*k))
            else {
                continue;
            };
            batch.push(convert::participant_seen(t, &p, interview));
            if batch.len() == BATCH {
                self.save_batch(&mut batch, changed)?;
            }
        }
        self.save_batch(&mut batch, changed)?;
        self.mark_listed(interviews.clone())
    }

    /// Saves the new and changed participants of a batch, warns about states the status map
    /// does not know, and empties the batch.
    pub(super) fn save_batch(
        &mut self,
        batch: &mut Vec<Participant>,
        changed: &mut BTreeSet<ParticipantKey>,
    ) -> Result<(), PassError> {
        if batch.is_empty() {
            return Ok(());
        }
        let (t, now) = (self.tenant, self.now);
        let keys: Vec<String> = batch.iter().map(|p| p.key.clone()).collect();
        let stored: BTreeMap<String, (Option<String>, Option<String>)> = t
            .store
            .read(|r| r.participants_by_keys(&t.id, &keys))
            .map_err(|e| t.store_err(e))?
            .into_iter()
            .map(|p| (p.key, (p.state, p.response_link)))
            .collect();
        let fresh: Vec<&Participant> = batch
            .iter()
            .filter(|p| stored.get(&p.key).map(|s| &s.0) != Some(&p.state))
            .collect();
        // A link Willo shows for the first time (or changed) is remembered for the completion
        // note, without counting the participant as changed: its state is the same.
        let new_link: Vec<&Participant> = batch
            .iter()
            .filter(|p| {
                p.response_link.is_some()
                    && stored
                        .get(&p.key)
                        .is_some_and(|s| s.0 == p.state && s.1 != p.response_link)
            })
            .collect();
        for p in &fresh {
            self.note_state(p);
        }
        if !fresh.is_empty() || !new_link.is_empty() {
            t.store
                .write(|tx| {
                    for p in fresh.iter().chain(&new_link) {
                        let seen = SeenParticipant {
                            key: &p.key,
                            interview_key: &p.interview_key,
                            email: p.email.as_deref(),
                            state: p.state.as_deref(),
                            response_link: p.response_link.as_deref(),
                        };
                        tx.save_participant(&t.id, &seen, now, now)?;
                    }
                    Ok(())
                })
                .map_err(|e| t.store_err(e))?;
            changed.extend(fresh.iter().map(|p| p.key.clone()));
        }
        batch.clear();
        Ok(())
    }

    /// A state the status map does not know is warned about once per value, and counted.
    fn note_state(&mut self, p: &Participant) {
        let t = self.tenant;
        if let Mapped::Unknown(value) = t.settings.willo.status_map.lookup(p.state.as_deref()) {
            t.metrics.warning(&t.id, "unknown_state");
            if t.notices.first("unknown_state", &value) {
                let text = format!(
                    "participant {} is in Willo state {value:?}, which the status map does not know; its opportunities' status tags are left as they are",
                    p.key
                );
                tracing::warn!(tenant = %t.id, kind = "unknown_state", "{text}");
                self.note_warning(text);
            }
        }
    }

    /// Every participant of these interviews is stored now: lookups can rely on the store.
    fn mark_listed(&mut self, interviews: BTreeSet<InterviewKey>) -> Result<(), PassError> {
        let (t, now) = (self.tenant, self.now);
        t.store
            .write(|tx| {
                for interview in &interviews {
                    tx.set_interview_listed(&t.id, interview, now)?;
                }
                Ok(())
            })
            .map_err(|e| t.store_err(e))?;
        for interview in interviews {
            self.directory.mark_stored(interview);
        }
        Ok(())
    }
}
