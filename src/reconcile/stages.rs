//! The tenant's trigger stages as Lever stage ids. A full pass resolves the configured names or
//! ids through `GET /stages`; other passes use what the store remembers from the last
//! resolution of the same configured list, and resolve afresh when there is none.

use std::collections::BTreeSet;

use super::error::PassError;
use super::gap::Gap;
use super::tenant::Tenant;
use crate::domain::StageId;
use crate::http::ApiError;
use crate::lever::Stage;
use crate::store::TriggerStagesRow;

/// The trigger stage ids a pass works with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TriggerStages {
    pub ids: BTreeSet<StageId>,
    /// Resolved from Lever in this pass: the pass's commit remembers them.
    pub fresh: bool,
    /// Every stage of the account, when read in this pass (the other stages let a full pass
    /// read status-tagged opportunities without reading the trigger stages' ones twice).
    pub all: Option<BTreeSet<StageId>>,
}

impl TriggerStages {
    /// The row the commit stores for a fresh resolution.
    pub fn row(&self, configured: &[String], now: i64) -> Option<TriggerStagesRow> {
        self.fresh.then(|| TriggerStagesRow {
            configured: configured.to_vec(),
            stage_ids: self.ids.iter().cloned().collect(),
            resolved_at: now,
        })
    }
}

/// Resolves the trigger stages: from Lever when `refresh`, else from the store when it
/// remembers a resolution of the same configured list. When Lever refuses `GET /stages` (403),
/// a remembered resolution still serves, and the gap is named.
pub(crate) async fn trigger_stages(
    tenant: &Tenant,
    refresh: bool,
    gaps: &mut Vec<Gap>,
) -> Result<TriggerStages, PassError> {
    if !refresh && let Some(stored) = stored(tenant)? {
        return Ok(stored);
    }
    let stages = match tenant.lever.stages().await {
        Ok(stages) => stages,
        Err(e @ ApiError::Forbidden { .. }) => match stored(tenant)? {
            Some(stored) => {
                gaps.extend(Gap::of(&e, NO_STAGES));
                return Ok(stored);
            }
            None => return Err(tenant.api_err(e)),
        },
        Err(e) => return Err(tenant.api_err(e)),
    };
    let ids = match_stages(&tenant.settings.trigger_stages, &stages).map_err(|message| {
        PassError::Config {
            tenant: tenant.id.clone(),
            message,
        }
    })?;
    Ok(TriggerStages {
        ids,
        fresh: true,
        all: Some(stages.into_iter().map(|s| s.id).collect()),
    })
}

const NO_STAGES: &str = "stages not read: the trigger stage ids resolved earlier are used";

/// The resolution the store remembers for the configured list, if any.
fn stored(tenant: &Tenant) -> Result<Option<TriggerStages>, PassError> {
    let row = tenant
        .store
        .read(|r| r.trigger_stages(&tenant.id))
        .map_err(|e| tenant.store_err(e))?;
    Ok(row
        .filter(|r| r.configured == tenant.settings.trigger_stages)
        .map(|row| TriggerStages {
            ids: row.stage_ids.into_iter().collect(),
            fresh: false,
            all: None,
        }))
}

/// The ids of the configured stages (each given by id or by name). An unknown one is a
/// configuration error that lists the stages the account has.
pub(crate) fn match_stages(
    configured: &[String],
    stages: &[Stage],
) -> Result<BTreeSet<StageId>, String> {
    let mut ids = BTreeSet::new();
    let mut unknown = Vec::new();
    for wanted in configured {
        let wanted = wanted.trim();
        match stages
            .iter()
            .find(|s| s.id == wanted || s.text.trim() == wanted)
        {
            Some(s) => {
                ids.insert(s.id.clone());
            }
            None => unknown.push(format!("{wanted:?}")),
        }
    }
    if unknown.is_empty() {
        return Ok(ids);
    }
    let names: Vec<String> = stages.iter().map(|s| format!("{:?}", s.text)).collect();
    Err(format!(
        "trigger_stages names {} that the Lever account does not have; its stages are: {}",
        unknown.join(", "),
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(id: &str, text: &str) -> Stage {
        Stage {
            id: id.into(),
            text: text.into(),
        }
    }

    #[test]
    fn stages_match_by_id_or_trimmed_name() {
        let stages = [
            stage("s1", "Phone Screen"),
            stage("s2", " Video Interview "),
        ];
        let ids = match_stages(&["Video Interview".into(), "s1".into()], &stages).unwrap();
        assert_eq!(ids, BTreeSet::from(["s1".to_owned(), "s2".to_owned()]));
    }

    #[test]
    fn an_unknown_stage_names_itself_and_lists_the_accounts_stages() {
        let err = match_stages(&["Nope".into()], &[stage("s1", "Phone Screen")]).unwrap_err();
        assert!(err.contains("\"Nope\""), "{err}");
        assert!(err.contains("\"Phone Screen\""), "{err}");
    }
}
