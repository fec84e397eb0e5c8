//! Full and incremental passes, as a stream of steps over bounded chunks: what concerns the
//! whole account first (stages, interviews, postings, deleted opportunities, the catalog), then
//! the participants of the interviews that matter (listed into the store page by page), then
//! the opportunities, a chunk at a time, straight from Lever's listing pages. Memory stays flat
//! however large the account: nothing holds more than a chunk of opportunities or a batch of
//! participants, and the store answers the rest by index.

use std::collections::BTreeSet;

use futures::TryStreamExt;
use tokio_util::sync::CancellationToken;

use super::error::PassError;
use super::gap::optional;
use super::memory;
use super::observe::{CURSOR_DELETED_AT, CURSOR_UPDATED_AT, Observation};
use super::pass::Pass;
use super::reads::{self, Opportunities, status_tag_queries, trigger_query};
use super::seen::Seen;
use super::stages::{TriggerStages, trigger_stages};
use crate::domain::status_map::Mapped;
use crate::domain::{InterviewKey, OpportunityId, PassKind, PostingId};
use crate::lever::OpportunityQuery;
use crate::plan::{Interview, Memory, Scope};

const NO_POSTINGS: &str =
    "posting tags not read: candidates connected only through their posting's tag wait";
const NO_DELETED: &str = "deleted opportunities not listed: their invites stay recorded as live";
const NO_PARTICIPANTS: &str =
    "participants not listed: status tags wait, and invites into these interviews fail";

/// What every chunk of a scheduled pass shares.
struct Context {
    scope: Scope,
    stages: TriggerStages,
    interviews: Vec<Interview>,
    postings: Option<std::collections::BTreeMap<PostingId, BTreeSet<String>>>,
    deleted: BTreeSet<OpportunityId>,
    /// The opportunities met so far (an incremental pass reads the rest one by one).
    seen: Seen,
}

/// What the pass's closing transaction records.
#[derive(Debug, Default)]
pub(crate) struct Closing {
    pub stages: Option<TriggerStages>,
    pub max_updated_at: Option<i64>,
    pub deleted_listed: bool,
}

impl Pass<'_> {
    /// A full or incremental pass; `chunk` opportunities are planned and applied at a time.
    pub(crate) async fn scheduled(
        &mut self,
        cancel: &CancellationToken,
        chunk: usize,
    ) -> Result<Closing, PassError> {
        let full = self.kind == PassKind::Full;
        let (mut ctx, mut closing) = self.account(full, cancel).await?;
        let listed: BTreeSet<&str> = ctx.interviews.iter().map(|i| i.key.as_str()).collect();
        let mut gaps = Vec::new();
        let changed = if full || self.directory.shared() {
            // A full pass lists every interview with invites; so does an incremental one where
            // Willo ignores the interview filter (one listing of the account covers them all).
            let wanted = if full {
                self.done_interviews()?
            } else {
                self.open_interviews()?
            };
            let to_list: BTreeSet<InterviewKey> = wanted
                .into_iter()
                .filter(|k| listed.contains(k.as_str()))
                .collect();
            optional(self.refresh(&to_list).await, NO_PARTICIPANTS, &mut gaps)?
        } else {
            optional(self.check_open(&listed).await, NO_PARTICIPANTS, &mut gaps)?
        };
        self.progress.note_gaps(&gaps);
        let since = if full { None } else { self.since()? };
        let trigger = trigger_query(&ctx.stages.ids, since);
        closing.max_updated_at = self.stream(trigger, &mut ctx, chunk, cancel).await?;
        let reread = if full {
            for query in status_tag_queries(&ctx.stages) {
                self.stream(query, &mut ctx, chunk, cancel).await?;
            }
            // Invited opportunities not seen above (no status tag, no longer in a trigger
            // stage): someone removed the tag by hand, or a write was lost.
            self.unseen_invited()?
        } else {
            // Opportunities whose participant changed state, and those due a retry.
            let changed: Vec<String> = changed.unwrap_or_default().into_iter().collect();
            let mut ids = self.opportunities_of(&changed)?;
            ids.extend(self.due_for_retry()?);
            ids.retain(|id| !ctx.seen.contains(id));
            ids
        };
        for ids in reread.chunks(chunk.max(1)) {
            let mut opps = Opportunities::default();
            opps.read_each(self.tenant, ids.iter().cloned()).await?;
            self.chunk_step(opps, &mut ctx, cancel).await?;
        }
        Ok(closing)
    }

    /// The account-wide step: stages, interviews, and for a full pass postings, deleted
    /// opportunities and the catalog.
    async fn account(
        &mut self,
        full: bool,
        cancel: &CancellationToken,
    ) -> Result<(Context, Closing), PassError> {
        let t = self.tenant;
        let mut gaps = Vec::new();
        let stages = trigger_stages(t, full, &mut gaps).await?;
        let scope = if full {
            Scope::Full
        } else {
            Scope::Incremental
        };
        let mut obs = Observation::new(scope, stages.clone());
        obs.gaps = gaps;
        let interviews = reads::interviews(t).await?;
        obs.observed.interviews = Some(interviews.clone());
        let mut closing = Closing {
            stages: Some(stages.clone()),
            ..Closing::default()
        };
        if full {
            obs.observed.postings =
                optional(reads::posting_tags(t).await, NO_POSTINGS, &mut obs.gaps)?;
            let since = self.cursor(CURSOR_DELETED_AT)?.unwrap_or(0);
            let mut deleted = Opportunities::default();
            closing.deleted_listed = optional(
                deleted.deleted_since(t, since).await,
                NO_DELETED,
                &mut obs.gaps,
            )?
            .is_some();
            obs.observed.deleted = deleted.deleted;
            obs.observed.catalog = reads::catalog(t).await?;
        }
        let ctx = Context {
            scope,
            stages: TriggerStages {
                fresh: false,
                ..stages
            },
            interviews,
            postings: obs.observed.postings.clone(),
            deleted: obs.observed.deleted.clone(),
            seen: Seen::default(),
        };
        let memory = self.account_memory()?;
        self.step(obs, memory, cancel).await?;
        Ok((ctx, closing))
    }

    /// Streams a listing, a chunk at a time; returns the largest `updatedAt` it held.
    async fn stream(
        &mut self,
        query: OpportunityQuery,
        ctx: &mut Context,
        chunk: usize,
        cancel: &CancellationToken,
    ) -> Result<Option<i64>, PassError> {
        let t = self.tenant;
        let mut max = None;
        let mut opps = Opportunities::default();
        let stream = t.lever.opportunities(&query);
        futures::pin_mut!(stream);
        while let Some(o) = stream.try_next().await.map_err(|e| t.api_err(e))? {
            max = max.max(o.updated_at);
            opps.insert(super::convert::opportunity(&o));
            if opps.len() >= chunk {
                self.chunk_step(std::mem::take(&mut opps), ctx, cancel)
                    .await?;
            }
        }
        if opps.len() > 0 {
            self.chunk_step(opps, ctx, cancel).await?;
        }
        Ok(max)
    }

    /// Plans, applies and commits one chunk of opportunities.
    async fn chunk_step(
        &mut self,
        opps: Opportunities,
        ctx: &mut Context,
        cancel: &CancellationToken,
    ) -> Result<(), PassError> {
        for id in opps.ids() {
            ctx.seen.insert(id);
        }
        let mut obs = Observation::new(ctx.scope, ctx.stages.clone());
        obs.observed.interviews = Some(ctx.interviews.clone());
        obs.observed.postings.clone_from(&ctx.postings);
        obs.take(opps, self.tenant.settings.catalog_opportunity_id.as_ref());
        let gone: Vec<OpportunityId> = obs
            .observed
            .opportunities
            .iter()
            .filter(|o| ctx.deleted.contains(&o.id))
            .map(|o| o.id.clone())
            .collect();
        obs.observed.deleted.extend(gone);
        // The people of this chunk as the store knows them (fresh for every interview this
        // pass listed): what adoption and the status tags are planned from.
        let emails: Vec<String> = obs
            .observed
            .opportunities
            .iter()
            .filter_map(crate::plan::first_email)
            .map(str::to_owned)
            .collect();
        obs.observed.participants = self.stored_participants(&emails)?;
        let memory = self.memory_around(&obs)?;
        self.step(obs, memory, cancel).await
    }

    /// What the account-wide step plans over: every interview, the postings' tags, and the
    /// catalog's backoff.
    fn account_memory(&self) -> Result<Memory, PassError> {
        let t = self.tenant;
        let catalog: Vec<String> = t.settings.catalog_opportunity_id.iter().cloned().collect();
        t.store
            .read(|r| memory::load_account(r, &t.id, &catalog, self.now))
            .map_err(|e| t.store_err(e))
    }

    /// The interviews with a `done` invite.
    fn done_interviews(&self) -> Result<BTreeSet<InterviewKey>, PassError> {
        let t = self.tenant;
        t.store
            .read(|r| r.done_interviews(&t.id))
            .map(|v| v.into_iter().collect())
            .map_err(|e| t.store_err(e))
    }

    /// Interviews with open invites: a done invite whose participant has not reached a
    /// decision (accepted or rejected) as far as the store knows.
    fn open_interviews(&self) -> Result<BTreeSet<InterviewKey>, PassError> {
        let t = self.tenant;
        let states = t
            .store
            .read(|r| r.done_invite_states(&t.id))
            .map_err(|e| t.store_err(e))?;
        let map = &t.settings.willo.status_map;
        Ok(states
            .into_iter()
            .filter(|(_, state)| {
                !matches!(map.lookup(state.as_deref()), Mapped::Tag(tag) if tag.is_decision())
            })
            .map(|(interview, _)| interview)
            .collect())
    }

    /// Where an incremental pass starts reading: the cursor minus the overlap.
    fn since(&self) -> Result<Option<i64>, PassError> {
        let overlap = i64::try_from(self.tenant.options.overlap.as_millis()).unwrap_or(i64::MAX);
        Ok(self
            .cursor(CURSOR_UPDATED_AT)?
            .map(|c| c.saturating_sub(overlap).max(0)))
    }

    fn unseen_invited(&self) -> Result<Vec<String>, PassError> {
        let t = self.tenant;
        t.store
            .read(|r| r.unseen_invited(&t.id, self.now))
            .map_err(|e| t.store_err(e))
    }

    fn opportunities_of(&self, participants: &[String]) -> Result<Vec<String>, PassError> {
        let t = self.tenant;
        t.store
            .read(|r| r.opportunities_of_participants(&t.id, participants))
            .map_err(|e| t.store_err(e))
    }

    /// Opportunities whose per-opportunity backoff has run out, and those an earlier pass left
    /// work undone on (skipped at shutdown, deferred): the cursor has moved past them.
    fn due_for_retry(&self) -> Result<Vec<String>, PassError> {
        let t = self.tenant;
        t.store
            .read(|r| r.due_opportunities(&t.id, self.now))
            .map_err(|e| t.store_err(e))
    }

    pub(crate) fn cursor(&self, name: &str) -> Result<Option<i64>, PassError> {
        let t = self.tenant;
        t.store
            .read(|r| r.cursor(&t.id, name))
            .map_err(|e| t.store_err(e))
    }
}
