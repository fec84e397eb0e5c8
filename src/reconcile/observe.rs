//! Reading Lever and Willo for a pass. Everything read becomes planner input; nothing here
//! decides anything.

use std::collections::{BTreeMap, BTreeSet};

use futures::TryStreamExt;

use super::convert;
use super::error::PassError;
use super::tenant::Tenant;
use crate::domain::invite::InviteState;
use crate::domain::status_map::Mapped;
use crate::domain::tags::StatusTag;
use crate::http::ApiError;
use crate::lever::{OpportunityQuery, PostingQuery};
use crate::plan::{self, Memory, Observed, Scope};

/// What one pass read, plus what the shells need besides the planner's input.
pub struct Observation {
    pub observed: Observed,
    /// The largest `updatedAt` among the trigger-stage listing (the incremental cursor).
    pub max_updated_at: Option<i64>,
    /// Complete participant listings per interview, read this pass (the invite lookup reuses
    /// them instead of listing again).
    pub listings: BTreeMap<String, Vec<plan::Participant>>,
}

/// Cursor names in the store.
pub const CURSOR_UPDATED_AT: &str = "opportunities.updated_at";
pub const CURSOR_DELETED_AT: &str = "opportunities.deleted_at";

impl Tenant {
    /// Resolves the configured trigger stages (names or ids) through `GET /stages`. An unknown
    /// name is a configuration error that lists the account's stages.
    pub(crate) async fn resolve_stages(
        &self,
        refresh: bool,
    ) -> Result<BTreeSet<String>, PassError> {
        if !refresh && let Some(ids) = self.cached_stage_ids() {
            return Ok(ids);
        }
        let stages = self
            .lever
            .stages()
            .await
            .map_err(|e| PassError::api(&self.id, e))?;
        let mut ids = BTreeSet::new();
        let mut unknown = Vec::new();
        for wanted in &self.settings.trigger_stages {
            let wanted = wanted.trim();
            match stages
                .iter()
                .find(|s| s.id == wanted || s.text.trim() == wanted)
            {
                Some(s) => {
                    ids.insert(s.id.clone());
                }
                None => unknown.push(wanted.to_owned()),
            }
        }
        if !unknown.is_empty() {
            let names: Vec<String> = stages.iter().map(|s| format!("{:?}", s.text)).collect();
            return Err(PassError::Config {
                tenant: self.id.clone(),
                message: format!(
                    "trigger_stages names {} that the Lever account does not have; its stages are: {}",
                    unknown
                        .iter()
                        .map(|u| format!("{u:?}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    names.join(", ")
                ),
            });
        }
        *self.stage_ids.lock().unwrap_or_else(|p| p.into_inner()) = Some(ids.clone());
        Ok(ids)
    }

    fn cached_stage_ids(&self) -> Option<BTreeSet<String>> {
        self.stage_ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A full pass: everything (SPEC §3).
    pub(crate) async fn observe_full(&self, memory: &Memory) -> Result<Observation, PassError> {
        let stage_ids = self.resolve_stages(true).await?;
        let interviews = self.list_interviews().await?;
        let postings = self
            .lever
            .postings(&PostingQuery::default())
            .await
            .map_err(|e| self.err(e))?
            .into_iter()
            .map(|p| (p.id, p.tags.into_iter().collect::<BTreeSet<_>>()))
            .collect();
        let mut opps = BTreeMap::new();
        let max_updated_at = self
            .list_into(&mut opps, trigger_query(&stage_ids, None))
            .await?;
        // Every opportunity carrying a status tag, archived or not: drift repair.
        let status_query = OpportunityQuery {
            tags: StatusTag::ALL
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            expand_applications: true,
            ..OpportunityQuery::default()
        };
        self.list_into(&mut opps, status_query).await?;
        let mut deleted = BTreeSet::new();
        let since = self
            .store
            .read(|r| r.cursor(&self.id, CURSOR_DELETED_AT))
            .map_err(|e| PassError::store(&self.id, e))?
            .unwrap_or(0);
        for d in self
            .lever
            .deleted_opportunities(since)
            .await
            .map_err(|e| self.err(e))?
        {
            deleted.insert(d.id);
        }
        // Invited opportunities not seen above (no status tag, no longer in a trigger stage):
        // someone removed the tag by hand, or a write was lost. Re-read them one by one.
        let invited: BTreeSet<&String> = memory
            .invites
            .iter()
            .filter(|i| i.state == InviteState::Done)
            .map(|i| &i.opportunity_id)
            .collect();
        let missing: Vec<String> = invited
            .into_iter()
            .filter(|id| !opps.contains_key(*id) && !deleted.contains(*id))
            .cloned()
            .collect();
        self.read_each(&mut opps, &mut deleted, missing).await?;
        let catalog = self.read_catalog().await?;
        // Participants of every interview with a recorded invite, while Willo still lists it.
        let listed: BTreeSet<&str> = interviews.iter().map(|i| i.key.as_str()).collect();
        let with_invites: BTreeSet<String> = memory
            .invites
            .iter()
            .filter(|i| i.state == InviteState::Done && listed.contains(i.interview_key.as_str()))
            .map(|i| i.interview_key.clone())
            .collect();
        let listings = self.list_participants(with_invites).await?;
        Ok(Observation {
            observed: Observed {
                scope: Scope::Full,
                interviews: Some(interviews),
                postings: Some(postings),
                opportunities: self.ordinary(opps),
                deleted,
                participants: listings.values().flatten().cloned().collect(),
                catalog,
            },
            max_updated_at,
            listings,
        })
    }

    /// An incremental pass: trigger-stage opportunities changed since the cursor, participants
    /// of interviews with open invites, and the opportunities those participants decide.
    pub(crate) async fn observe_incremental(
        &self,
        memory: &Memory,
        now: i64,
    ) -> Result<Observation, PassError> {
        let stage_ids = self.resolve_stages(false).await?;
        let interviews = self.list_interviews().await?;
        let cursor = self
            .store
            .read(|r| r.cursor(&self.id, CURSOR_UPDATED_AT))
            .map_err(|e| PassError::store(&self.id, e))?;
        let overlap = i64::try_from(self.options.overlap.as_millis()).unwrap_or(i64::MAX);
        let since = cursor.map(|c| c.saturating_sub(overlap).max(0));
        let mut opps = BTreeMap::new();
        let max_updated_at = self
            .list_into(&mut opps, trigger_query(&stage_ids, since))
            .await?;
        // Interviews with open invites: a done invite whose participant has not reached a
        // decision (accepted or rejected) as far as we know.
        let listed: BTreeSet<&str> = interviews.iter().map(|i| i.key.as_str()).collect();
        let open: BTreeSet<String> = memory
            .invites
            .iter()
            .filter(|i| i.state == InviteState::Done && listed.contains(i.interview_key.as_str()))
            .filter(|i| {
                let state = i
                    .participant_key
                    .as_ref()
                    .and_then(|k| memory.participants.get(k))
                    .and_then(|p| p.state.as_deref());
                !matches!(
                    self.settings.willo.status_map.lookup(state),
                    Mapped::Tag(t) if t.is_decision()
                )
            })
            .map(|i| i.interview_key.clone())
            .collect();
        let listings = self.list_participants(open).await?;
        // Opportunities whose participant changed state, and those due a retry: re-read them.
        let changed: BTreeSet<&String> = listings
            .values()
            .flatten()
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
        let due = self
            .store
            .read(|r| r.failing_opportunities(&self.id))
            .map_err(|e| PassError::store(&self.id, e))?;
        reread.extend(
            due.into_iter()
                .filter(|o| o.next_check_at <= now && !o.deleted)
                .map(|o| o.id),
        );
        let reread: Vec<String> = reread
            .into_iter()
            .filter(|id| !opps.contains_key(id))
            .collect();
        let mut deleted = BTreeSet::new();
        self.read_each(&mut opps, &mut deleted, reread).await?;
        Ok(Observation {
            observed: Observed {
                scope: Scope::Incremental,
                interviews: Some(interviews),
                postings: None,
                opportunities: self.ordinary(opps),
                deleted,
                participants: listings.values().flatten().cloned().collect(),
                catalog: None,
            },
            max_updated_at,
            listings,
        })
    }

    /// One opportunity, re-read for a hint, with the participants of its invites.
    pub(crate) async fn observe_opportunity(
        &self,
        id: &str,
        memory: &Memory,
    ) -> Result<Observation, PassError> {
        self.resolve_stages(false).await?;
        let mut opps = BTreeMap::new();
        let mut deleted = BTreeSet::new();
        self.read_each(&mut opps, &mut deleted, vec![id.to_owned()])
            .await?;
        let keys: Vec<(String, String)> = memory
            .invites
            .iter()
            .filter(|i| i.opportunity_id == id)
            .filter_map(|i| Some((i.participant_key.clone()?, i.interview_key.clone())))
            .collect();
        let participants = self.read_participants(keys).await?;
        Ok(self.targeted(opps, deleted, participants))
    }

    /// One participant, re-read for a hint, with the opportunities it was recorded for.
    pub(crate) async fn observe_participant(
        &self,
        key: &str,
        memory: &Memory,
    ) -> Result<Observation, PassError> {
        self.resolve_stages(false).await?;
        let rows: Vec<&plan::InviteRecord> = memory
            .invites
            .iter()
            .filter(|i| i.participant_key.as_deref() == Some(key))
            .collect();
        let mut opps = BTreeMap::new();
        let mut deleted = BTreeSet::new();
        let mut participants = Vec::new();
        if let Some(first) = rows.first() {
            participants = self
                .read_participants(vec![(key.to_owned(), first.interview_key.clone())])
                .await?;
            let ids = rows.iter().map(|i| i.opportunity_id.clone()).collect();
            self.read_each(&mut opps, &mut deleted, ids).await?;
        }
        Ok(self.targeted(opps, deleted, participants))
    }

    pub(crate) fn err(&self, e: ApiError) -> PassError {
        PassError::api(&self.id, e)
    }

    async fn list_interviews(&self) -> Result<Vec<plan::Interview>, PassError> {
        Ok(self
            .willo
            .interviews()
            .await
            .map_err(|e| self.err(e))?
            .iter()
            .map(convert::interview)
            .collect())
    }

    /// Streams a listing into `into`; returns the largest `updatedAt` seen.
    async fn list_into(
        &self,
        into: &mut BTreeMap<String, plan::Opportunity>,
        query: OpportunityQuery,
    ) -> Result<Option<i64>, PassError> {
        let mut max = None;
        let stream = self.lever.opportunities(&query);
        futures::pin_mut!(stream);
        while let Some(o) = stream.try_next().await.map_err(|e| self.err(e))? {
            max = max.max(o.updated_at);
            into.insert(o.id.clone(), convert::opportunity(&o));
        }
        Ok(max)
    }

    /// Reads opportunities one by one; a 404 means deleted.
    async fn read_each(
        &self,
        into: &mut BTreeMap<String, plan::Opportunity>,
        deleted: &mut BTreeSet<String>,
        ids: Vec<String>,
    ) -> Result<(), PassError> {
        for id in ids {
            match self.lever.opportunity(&id).await {
                Ok(o) => {
                    into.insert(o.id.clone(), convert::opportunity(&o));
                }
                Err(ApiError::NotFound { .. }) => {
                    deleted.insert(id);
                }
                Err(e) => return Err(self.err(e)),
            }
        }
        Ok(())
    }

    async fn read_catalog(&self) -> Result<Option<plan::Opportunity>, PassError> {
        let Some(id) = &self.settings.catalog_opportunity_id else {
            return Ok(None);
        };
        match self.lever.opportunity(id).await {
            Ok(o) => Ok(Some(convert::opportunity(&o))),
            Err(ApiError::NotFound { .. }) => {
                tracing::warn!(tenant = %self.id, catalog_opportunity_id = %id,
                    "the catalog opportunity does not exist in Lever; the tag catalog is not kept");
                self.metrics.warning(&self.id, "catalog_missing");
                Ok(None)
            }
            Err(e) => Err(self.err(e)),
        }
    }

    /// Complete participant listings of `interviews`.
    pub(crate) async fn list_participants(
        &self,
        interviews: BTreeSet<String>,
    ) -> Result<BTreeMap<String, Vec<plan::Participant>>, PassError> {
        let mut out = BTreeMap::new();
        for key in interviews {
            let rows = self.list_participants_of(&key).await?;
            out.insert(key, rows);
        }
        Ok(out)
    }

    pub(crate) async fn list_participants_of(
        &self,
        interview: &str,
    ) -> Result<Vec<plan::Participant>, PassError> {
        let stream = self.willo.participants(interview);
        futures::pin_mut!(stream);
        let mut rows = Vec::new();
        while let Some(p) = stream.try_next().await.map_err(|e| self.err(e))? {
            rows.push(convert::participant(&p, interview));
        }
        Ok(rows)
    }

    /// Reads participants one by one (key, interview); a 404 drops it (deleted in Willo).
    async fn read_participants(
        &self,
        keys: Vec<(String, String)>,
    ) -> Result<Vec<plan::Participant>, PassError> {
        let mut out = Vec::new();
        for (key, interview) in keys {
            match self.willo.participant(&key).await {
                Ok(p) => out.push(convert::participant(&p, &interview)),
                Err(ApiError::NotFound { .. }) => {
                    tracing::warn!(tenant = %self.id, participant = %key,
                        "a participant the daemon recorded no longer exists in Willo");
                }
                Err(e) => return Err(self.err(e)),
            }
        }
        Ok(out)
    }

    /// The observed opportunities without the catalog placeholder, which the planner gets
    /// on its own.
    fn ordinary(&self, mut opps: BTreeMap<String, plan::Opportunity>) -> Vec<plan::Opportunity> {
        if let Some(id) = &self.settings.catalog_opportunity_id {
            opps.remove(id);
        }
        opps.into_values().collect()
    }

    /// What a targeted reconcile read: objects one by one, no listings, no cursor.
    fn targeted(
        &self,
        opps: BTreeMap<String, plan::Opportunity>,
        deleted: BTreeSet<String>,
        participants: Vec<plan::Participant>,
    ) -> Observation {
        Observation {
            observed: Observed {
                scope: Scope::Targeted,
                interviews: None,
                postings: None,
                opportunities: self.ordinary(opps),
                deleted,
                participants,
                catalog: None,
            },
            max_updated_at: None,
            listings: BTreeMap::new(),
        }
    }
}

fn trigger_query(stage_ids: &BTreeSet<String>, since: Option<i64>) -> OpportunityQuery {
    OpportunityQuery {
        stage_ids: stage_ids.iter().cloned().collect(),
        archived: Some(false),
        expand_applications: true,
        updated_at_start: since,
        ..OpportunityQuery::default()
    }
}
