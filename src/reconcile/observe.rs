//! What a pass reads, by kind: a full pass reads everything, an incremental pass what changed
//! since the cursor, a targeted reconcile the one object a hint names. Each returns an
//! [`Observation`]; listed participants land in the pass's directory, where invites find them.

use std::collections::BTreeSet;

use super::error::PassError;
use super::pass::Pass;
use super::reads::{self, Opportunities, status_tag_query, trigger_query};
use super::stages::{TriggerStages, trigger_stages};
use crate::domain::InterviewKey;
use crate::domain::invite::InviteState;
use crate::domain::status_map::Mapped;
use crate::plan::{Interview, Memory, Observed, Scope};

/// What one pass read: the planner's input, plus what the shells need besides it.
#[derive(Debug)]
pub(crate) struct Observation {
    pub observed: Observed,
    /// The trigger stages the rules are built from.
    pub stages: TriggerStages,
    /// The largest `updatedAt` among the trigger-stage listing (the incremental cursor).
    pub max_updated_at: Option<i64>,
    /// Interviews whose complete participant listing is in `observed.participants`.
    pub listed: BTreeSet<InterviewKey>,
}

/// Cursor names in the store.
pub const CURSOR_UPDATED_AT: &str = "opportunities.updated_at";
pub const CURSOR_DELETED_AT: &str = "opportunities.deleted_at";

impl Pass<'_> {
    /// A full pass: stages, interviews, postings, every trigger-stage opportunity, every one
    /// carrying a status tag, the deleted ones, and the participants of every interview with a
    /// recorded invite.
    pub(crate) async fn observe_full(&mut self, memory: &Memory) -> Result<Observation, PassError> {
        let t = self.tenant;
        let stages = trigger_stages(t, true).await?;
        let interviews = reads::interviews(t).await?;
        let postings = reads::posting_tags(t).await?;
        let mut opps = Opportunities::default();
        let max_updated_at = opps.list(t, trigger_query(&stages.ids, None)).await?;
        opps.list(t, status_tag_query()).await?;
        let since = self.cursor(CURSOR_DELETED_AT)?.unwrap_or(0);
        opps.deleted_since(t, since).await?;
        // Invited opportunities not seen above (no status tag, no longer in a trigger stage):
        // someone removed the tag by hand, or a write was lost. Re-read them one by one.
        let missing: BTreeSet<String> = done_invites(memory)
            .map(|i| i.opportunity_id.clone())
            .filter(|id| !opps.contains(id))
            .collect();
        opps.read_each(t, missing).await?;
        let catalog = reads::catalog(t).await?;
        let listed = keys(&interviews);
        let with_invites: BTreeSet<InterviewKey> = done_invites(memory)
            .filter(|i| listed.contains(i.interview_key.as_str()))
            .map(|i| i.interview_key.clone())
            .collect();
        let participants = self.participants_of(&with_invites).await?;
        let (opportunities, deleted) = opps.into_parts(t.settings.catalog_opportunity_id.as_ref());
        Ok(Observation {
            listed: with_invites,
            observed: Observed {
                scope: Scope::Full,
                interviews: Some(interviews),
                postings: Some(postings),
                opportunities,
                deleted,
                participants,
                catalog,
            },
            stages,
            max_updated_at,
        })
    }

    /// An incremental pass: trigger-stage opportunities changed since the cursor, the
    /// participants of interviews with open invites, and the opportunities whose participant
    /// changed state or whose retry is due.
    pub(crate) async fn observe_incremental(
        &mut self,
        memory: &Memory,
    ) -> Result<Observation, PassError> {
        let t = self.tenant;
        let stages = trigger_stages(t, false).await?;
        let interviews = reads::interviews(t).await?;
        let overlap = i64::try_from(t.options.overlap.as_millis()).unwrap_or(i64::MAX);
        let since = self
            .cursor(CURSOR_UPDATED_AT)?
            .map(|c| c.saturating_sub(overlap).max(0));
        let mut opps = Opportunities::default();
        let max_updated_at = opps.list(t, trigger_query(&stages.ids, since)).await?;
        let open = self.open_interviews(memory, &keys(&interviews));
        let participants = self.participants_of(&open).await?;
        // Opportunities whose participant changed state, and those due a retry: re-read them.
        let changed: BTreeSet<&String> = participants
            .iter()
            .filter(|p| memory.participants.get(&p.key).map(|k| &k.state) != Some(&p.state))
            .map(|p| &p.key)
            .collect();
        let mut reread: BTreeSet<String> = memory
            .invites
            .iter()
            .filter(|i| {
                i.participant_key
                    .as_ref()
                    .is_some_and(|k| changed.contains(k))
            })
            .map(|i| i.opportunity_id.clone())
            .collect();
        reread.extend(self.due_for_retry()?);
        reread.retain(|id| !opps.contains(id));
        opps.read_each(t, reread).await?;
        let (opportunities, deleted) = opps.into_parts(t.settings.catalog_opportunity_id.as_ref());
        Ok(Observation {
            listed: open,
            observed: Observed {
                scope: Scope::Incremental,
                interviews: Some(interviews),
                postings: None,
                opportunities,
                deleted,
                participants,
                catalog: None,
            },
            stages,
            max_updated_at,
        })
    }

    /// Interviews with open invites: a done invite whose participant has not reached a decision
    /// (accepted or rejected) as far as the store knows, in an interview Willo still lists.
    fn open_interviews(&self, memory: &Memory, listed: &BTreeSet<&str>) -> BTreeSet<InterviewKey> {
        let status_map = &self.tenant.settings.willo.status_map;
        done_invites(memory)
            .filter(|i| listed.contains(i.interview_key.as_str()))
            .filter(|i| {
                let state = i
                    .participant_key
                    .as_ref()
                    .and_then(|k| memory.participants.get(k))
                    .and_then(|p| p.state.as_deref());
                !matches!(status_map.lookup(state), Mapped::Tag(t) if t.is_decision())
            })
            .map(|i| i.interview_key.clone())
            .collect()
    }

    /// The complete participant listings of `interviews`, through the directory.
    pub(crate) async fn participants_of(
        &mut self,
        interviews: &BTreeSet<InterviewKey>,
    ) -> Result<Vec<crate::plan::Participant>, PassError> {
        let t = self.tenant;
        self.directory
            .list_all(t, interviews)
            .await
            .map_err(|e| t.api_err(e))?;
        Ok(self.directory.listed_of(interviews).cloned().collect())
    }

    /// Opportunities whose per-opportunity backoff has run out, and those an earlier pass left
    /// work undone on (skipped at shutdown, deferred): the cursor has moved past them.
    fn due_for_retry(&self) -> Result<Vec<String>, PassError> {
        let t = self.tenant;
        t.store
            .read(|r| r.due_opportunities(&t.id, self.now))
            .map_err(|e| t.store_err(e))
    }

    fn cursor(&self, name: &str) -> Result<Option<i64>, PassError> {
        let t = self.tenant;
        t.store
            .read(|r| r.cursor(&t.id, name))
            .map_err(|e| t.store_err(e))
    }
}

fn done_invites(memory: &Memory) -> impl Iterator<Item = &crate::plan::InviteRecord> {
    memory
        .invites
        .iter()
        .filter(|i| i.state == InviteState::Done)
}

fn keys(interviews: &[Interview]) -> BTreeSet<&str> {
    interviews.iter().map(|i| i.key.as_str()).collect()
}
