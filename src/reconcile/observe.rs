//! What a pass reads, by kind: a full pass reads everything, an incremental pass what changed
//! since the cursor, a targeted reconcile the one object a hint names. Each returns an
//! [`Observation`]; listed participants land in the pass's directory, where invites find them.

use std::collections::BTreeSet;

use super::error::PassError;
use super::gap::{Gap, optional};
use super::pass::Pass;
use super::reads::{self, Opportunities, status_tag_queries, trigger_query};
use super::stages::{TriggerStages, trigger_stages};
use crate::domain::invite::InviteState;
use crate::domain::status_map::Mapped;
use crate::domain::{InterviewKey, OpportunityId};
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
    /// Opportunities Lever refused to show (403): each needs attention.
    pub no_access: BTreeSet<OpportunityId>,
    /// Whether `GET /opportunities/deleted` was read (its cursor moves only then).
    pub deleted_listed: bool,
    /// Parts refused for lack of permission; the pass went on without them.
    pub gaps: Vec<Gap>,
}

impl Observation {
    pub fn new(scope: Scope, stages: TriggerStages) -> Observation {
        Observation {
            observed: Observed {
                scope,
                interviews: None,
                postings: None,
                opportunities: Vec::new(),
                deleted: BTreeSet::new(),
                participants: Vec::new(),
                catalog: None,
            },
            stages,
            max_updated_at: None,
            listed: BTreeSet::new(),
            no_access: BTreeSet::new(),
            deleted_listed: false,
            gaps: Vec::new(),
        }
    }

    /// Takes in the opportunities read (the catalog placeholder apart: the planner gets it on
    /// its own).
    pub fn take(&mut self, opps: Opportunities, catalog_id: Option<&OpportunityId>) {
        let (read, deleted, no_access) = opps.into_parts(catalog_id);
        self.observed.opportunities = read;
        self.observed.deleted = deleted;
        self.no_access = no_access;
    }
}

/// Cursor names in the store.
pub const CURSOR_UPDATED_AT: &str = "opportunities.updated_at";
pub const CURSOR_DELETED_AT: &str = "opportunities.deleted_at";

const NO_POSTINGS: &str =
    "posting tags not read: candidates connected only through their posting's tag wait";
const NO_DELETED: &str = "deleted opportunities not listed: their invites stay recorded as live";
const NO_PARTICIPANTS: &str =
    "participants not listed: status tags wait, and invites into these interviews fail";

impl Pass<'_> {
    /// A full pass: stages, interviews, postings, every trigger-stage opportunity, every one
    /// carrying a status tag, the deleted ones, and the participants of every interview with a
    /// recorded invite. A refused part that the rest can do without is left out and named.
    pub(crate) async fn observe_full(&mut self, memory: &Memory) -> Result<Observation, PassError> {
        let t = self.tenant;
        let mut gaps = Vec::new();
        let stages = trigger_stages(t, true, &mut gaps).await?;
        let mut obs = Observation::new(Scope::Full, stages);
        obs.gaps = gaps;
        let interviews = reads::interviews(t).await?;
        obs.observed.postings = optional(reads::posting_tags(t).await, NO_POSTINGS, &mut obs.gaps)?;
        let mut opps = Opportunities::default();
        obs.max_updated_at = opps.list(t, trigger_query(&obs.stages.ids, None)).await?;
        for query in status_tag_queries(&obs.stages) {
            opps.list(t, query).await?;
        }
        let since = self.cursor(CURSOR_DELETED_AT)?.unwrap_or(0);
        obs.deleted_listed = optional(
            opps.deleted_since(t, since).await,
            NO_DELETED,
            &mut obs.gaps,
        )?
        .is_some();
        // Invited opportunities not seen above (no status tag, no longer in a trigger stage):
        // someone removed the tag by hand, or a write was lost. Re-read them one by one.
        let missing: BTreeSet<String> = done_invites(memory)
            .map(|i| i.opportunity_id.clone())
            .filter(|id| !opps.contains(id))
            .collect();
        opps.read_each(t, missing).await?;
        obs.observed.catalog = reads::catalog(t).await?;
        let listed = keys(&interviews);
        let with_invites: BTreeSet<InterviewKey> = done_invites(memory)
            .filter(|i| listed.contains(i.interview_key.as_str()))
            .map(|i| i.interview_key.clone())
            .collect();
        self.observe_participants(&mut obs, with_invites).await?;
        obs.observed.interviews = Some(interviews);
        obs.take(opps, t.settings.catalog_opportunity_id.as_ref());
        Ok(obs)
    }

    /// An incremental pass: trigger-stage opportunities changed since the cursor, the
    /// participants of interviews with open invites, and the opportunities whose participant
    /// changed state or whose retry is due.
    pub(crate) async fn observe_incremental(
        &mut self,
        memory: &Memory,
    ) -> Result<Observation, PassError> {
        let t = self.tenant;
        let mut gaps = Vec::new();
        let stages = trigger_stages(t, false, &mut gaps).await?;
        let mut obs = Observation::new(Scope::Incremental, stages);
        obs.gaps = gaps;
        let interviews = reads::interviews(t).await?;
        let overlap = i64::try_from(t.options.overlap.as_millis()).unwrap_or(i64::MAX);
        let since = self
            .cursor(CURSOR_UPDATED_AT)?
            .map(|c| c.saturating_sub(overlap).max(0));
        let mut opps = Opportunities::default();
        obs.max_updated_at = opps.list(t, trigger_query(&obs.stages.ids, since)).await?;
        let open = self.open_interviews(memory, &keys(&interviews));
        self.observe_participants(&mut obs, open).await?;
        // Opportunities whose participant changed state, and those due a retry: re-read them.
        let changed: BTreeSet<&String> = obs
            .observed
            .participants
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
        obs.observed.interviews = Some(interviews);
        obs.take(opps, t.settings.catalog_opportunity_id.as_ref());
        Ok(obs)
    }

    /// Lists the participants of `interviews` into the observation; a refused listing leaves
    /// them out and names the gap.
    pub(crate) async fn observe_participants(
        &mut self,
        obs: &mut Observation,
        interviews: BTreeSet<InterviewKey>,
    ) -> Result<(), PassError> {
        let listed = self.participants_of(&interviews).await;
        if let Some(participants) = optional(listed, NO_PARTICIPANTS, &mut obs.gaps)? {
            obs.observed.participants.extend(participants);
            obs.listed.extend(interviews);
        }
        Ok(())
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
