//! The planner's rules for one pass: the tenant's settings with its trigger stages resolved.

use std::collections::BTreeSet;

use crate::config::TenantSettings;
use crate::domain::StageId;
use crate::plan::Rules;

pub(crate) fn rules(settings: &TenantSettings, trigger_stage_ids: &BTreeSet<StageId>) -> Rules {
    Rules {
        account_name: settings.account_name.clone(),
        tag_template: settings.interview_tag_template.clone(),
        trigger_stage_ids: trigger_stage_ids.clone(),
        match_posting_tags: settings.match_posting_tags,
        status_map: settings.willo.status_map.clone(),
        catalog_opportunity_id: settings.catalog_opportunity_id.clone(),
        catalog_max_tags: settings.catalog_max_tags,
        completion_note: settings.lever.completion_note,
    }
}
