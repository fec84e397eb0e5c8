//! What a pass reads, as the planner's input plus what the shells need besides it: built by
//! `targeted` for a hint's one object, and by `scheduled` for each step of a full or
//! incremental pass.

use std::collections::BTreeSet;

use super::gap::Gap;
use super::reads::Opportunities;
use super::stages::TriggerStages;
use crate::domain::OpportunityId;
use crate::plan::{Observed, Scope};

/// What one pass read: the planner's input, plus what the shells need besides it.
#[derive(Debug)]
pub(crate) struct Observation {
    pub observed: Observed,
    /// The trigger stages the rules are built from.
    pub stages: TriggerStages,
    /// Opportunities Lever refused to show (403): each needs attention.
    pub no_access: BTreeSet<OpportunityId>,
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
            no_access: BTreeSet::new(),
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
