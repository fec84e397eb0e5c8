//! Reading Lever and Willo: the calls a pass's observation is made of, each turned into planner
//! input. Nothing here decides anything.

use std::collections::{BTreeMap, BTreeSet};

use super::convert;
use super::error::PassError;
use super::stages::TriggerStages;
use super::tenant::Tenant;
use crate::domain::tags::StatusTag;
use crate::domain::{InterviewKey, OpportunityId, ParticipantKey, PostingId, StageId};
use crate::error_chain::chain;
use crate::http::ApiError;
use crate::lever::{OpportunityQuery, PostingQuery};
use crate::plan;

/// Opportunities read in one pass, by id (a listing that repeats one keeps the last read), and
/// those found deleted.
#[derive(Debug, Default)]
pub(crate) struct Opportunities {
    read: BTreeMap<OpportunityId, plan::Opportunity>,
    pub deleted: BTreeSet<OpportunityId>,
    /// Opportunities Lever refused to show (403): skipped, each needs attention.
    pub no_access: BTreeSet<OpportunityId>,
}

impl Opportunities {
    /// How many were read (deleted and refused ones aside).
    pub fn len(&self) -> usize {
        self.read.len()
    }

    /// Every id met: read, deleted or refused.
    pub fn ids(&self) -> impl Iterator<Item = &OpportunityId> {
        self.read.keys().chain(&self.deleted).chain(&self.no_access)
    }

    pub fn insert(&mut self, o: plan::Opportunity) {
        self.read.insert(o.id.clone(), o);
    }

    /// Reads opportunities one by one; a 404 means deleted, a 403 that this one is not shown
    /// to the daemon (the others are read all the same).
    pub async fn read_each(
        &mut self,
        tenant: &Tenant,
        ids: impl IntoIterator<Item = OpportunityId>,
    ) -> Result<(), PassError> {
        for id in ids {
            match tenant.lever.opportunity(&id).await {
                Ok(o) => {
                    self.read.insert(o.id.clone(), convert::opportunity(&o));
                }
                Err(ApiError::NotFound { .. }) => {
                    self.deleted.insert(id);
                }
                Err(e @ ApiError::Forbidden { .. }) => {
                    tracing::warn!(tenant = %tenant.id, opportunity = %id, error = %chain(&e),
                        "Lever refuses to show this opportunity; it is skipped and needs attention");
                    self.no_access.insert(id);
                }
                Err(e) => return Err(tenant.api_err(e)),
            }
        }
        Ok(())
    }

    /// Adds what `GET /opportunities/deleted` reports since `since`.
    pub async fn deleted_since(&mut self, tenant: &Tenant, since: i64) -> Result<(), PassError> {
        let deleted = tenant
            .lever
            .deleted_opportunities(since)
            .await
            .map_err(|e| tenant.api_err(e))?;
        self.deleted.extend(deleted.into_iter().map(|d| d.id));
        Ok(())
    }

    /// The opportunities read, without the catalog placeholder (the planner gets it on its
    /// own), and the deleted ones.
    pub fn into_parts(
        mut self,
        catalog_id: Option<&OpportunityId>,
    ) -> (
        Vec<plan::Opportunity>,
        BTreeSet<OpportunityId>,
        BTreeSet<OpportunityId>,
    ) {
        if let Some(id) = catalog_id {
            self.read.remove(id);
        }
        (
            self.read.into_values().collect(),
            self.deleted,
            self.no_access,
        )
    }
}

/// Trigger-stage opportunities that are not archived, updated since `since` when given.
pub(crate) fn trigger_query(stage_ids: &BTreeSet<StageId>, since: Option<i64>) -> OpportunityQuery {
    OpportunityQuery {
        stage_ids: stage_ids.iter().cloned().collect(),
        archived: Some(false),
        expand_applications: true,
        updated_at_start: since,
        ..OpportunityQuery::default()
    }
}

/// The opportunities carrying a status tag that the trigger-stage listing does not return
/// (drift repair), so that a full pass reads each invited opportunity once: those in the other
/// stages, archived or not, and the archived ones of the trigger stages. Without the account's
/// stage list, every status-tagged opportunity (the overlap is read twice).
pub(crate) fn status_tag_queries(stages: &TriggerStages) -> Vec<OpportunityQuery> {
    let tagged = OpportunityQuery {
        tags: StatusTag::ALL
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect(),
        expand_applications: true,
        ..OpportunityQuery::default()
    };
    let Some(all) = &stages.all else {
        return vec![tagged];
    };
    let other: Vec<StageId> = all.difference(&stages.ids).cloned().collect();
    let mut queries = vec![OpportunityQuery {
        stage_ids: stages.ids.iter().cloned().collect(),
        archived: Some(true),
        ..tagged.clone()
    }];
    if !other.is_empty() {
        queries.push(OpportunityQuery {
            stage_ids: other,
            ..tagged
        });
    }
    queries
}

/// The interviews Willo lists now that are in the tenant's interview scope (an interview out
/// of scope is as good as not listed: it connects nothing and has no catalog tag).
pub(crate) async fn interviews(tenant: &Tenant) -> Result<Vec<plan::Interview>, PassError> {
    let listed = tenant
        .willo
        .interviews()
        .await
        .map_err(|e| tenant.api_err(e))?;
    let scope = &tenant.settings.willo.interview_scope;
    Ok(listed
        .iter()
        .filter(|i| scope.contains(i))
        .map(convert::interview)
        .collect())
}

/// Every posting's tags.
pub(crate) async fn posting_tags(
    tenant: &Tenant,
) -> Result<BTreeMap<PostingId, BTreeSet<String>>, PassError> {
    let postings = tenant
        .lever
        .postings(&PostingQuery::default())
        .await
        .map_err(|e| tenant.api_err(e))?;
    Ok(postings
        .into_iter()
        .map(|p| (p.id, p.tags.into_iter().collect()))
        .collect())
}

/// The catalog opportunity, when one is configured and exists.
pub(crate) async fn catalog(tenant: &Tenant) -> Result<Option<plan::Opportunity>, PassError> {
    let Some(id) = &tenant.settings.catalog_opportunity_id else {
        return Ok(None);
    };
    match tenant.lever.opportunity(id).await {
        Ok(o) => Ok(Some(convert::opportunity(&o))),
        Err(ApiError::NotFound { .. }) => {
            tracing::warn!(tenant = %tenant.id, catalog_opportunity_id = %id,
                "the catalog opportunity does not exist in Lever; the tag catalog is not kept");
            tenant.metrics.warning(&tenant.id, "catalog_missing");
            Ok(None)
        }
        Err(e @ ApiError::Forbidden { .. }) => {
            tracing::warn!(tenant = %tenant.id, catalog_opportunity_id = %id, error = %chain(&e),
                "Lever refuses to show the catalog opportunity; the tag catalog is not kept");
            tenant.metrics.warning(&tenant.id, "catalog_forbidden");
            Ok(None)
        }
        Err(e) => Err(tenant.api_err(e)),
    }
}

/// Participants read one by one as (key, interview); one that answers 404 was deleted in Willo
/// and is left out.
pub(crate) async fn participants(
    tenant: &Tenant,
    keys: Vec<(ParticipantKey, InterviewKey)>,
) -> Result<Vec<plan::Participant>, PassError> {
    let mut out = Vec::new();
    for (key, interview) in keys {
        match tenant.willo.participant(&key).await {
            Ok(p) => out.push(convert::participant_seen(tenant, &p, &interview)),
            Err(ApiError::NotFound { .. }) => {
                tracing::warn!(tenant = %tenant.id, participant = %key,
                    "a participant the daemon recorded no longer exists in Willo");
            }
            Err(e) => return Err(tenant.api_err(e)),
        }
    }
    Ok(out)
}
