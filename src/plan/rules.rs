//! The tenant's settings as the planner needs them, already resolved by the caller (stage names
//! to ids, the status map merged with its defaults, the tag template parsed).

use std::collections::BTreeSet;

use crate::domain::status_map::StatusMap;
use crate::domain::tags::TagTemplate;
use crate::domain::{OpportunityId, StageId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// The `{account}` of the tag template.
    pub account_name: String,
    pub tag_template: TagTemplate,
    /// Stage ids whose opportunities are invited (rule: trigger stages, docs/behaviour.md).
    pub trigger_stage_ids: BTreeSet<StageId>,
    /// Also connect an opportunity through its posting's tags (rule: posting tags).
    pub match_posting_tags: bool,
    pub status_map: StatusMap,
    /// The placeholder opportunity that carries the tag catalog (rule: tag catalog), if any.
    pub catalog_opportunity_id: Option<OpportunityId>,
    /// The most tags the catalog may carry; beyond it the catalog is not written.
    pub catalog_max_tags: usize,
    /// Post one note on the opportunity when its participant completes (rule: completion note).
    pub completion_note: bool,
}

impl Rules {
    /// The rendered interview tag for a title.
    pub fn interview_tag(&self, title: &str) -> String {
        self.tag_template.render(title, &self.account_name)
    }
}
