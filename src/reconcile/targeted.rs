//! What a hint's reconcile reads: the one object the hint names and what depends on it, one by
//! one: no listings, no cursor.

use std::collections::BTreeSet;

use super::error::PassError;
use super::observe::Observation;
use super::pass::Pass;
use super::reads::{self, Opportunities};
use super::stages::trigger_stages;
use crate::plan::{Memory, Observed, Participant, Scope};

impl Pass<'_> {
    /// One opportunity, with the participants of its invites.
    pub(crate) async fn observe_opportunity(
        &mut self,
        id: &str,
        memory: &Memory,
    ) -> Result<Observation, PassError> {
        let t = self.tenant;
        let stages = trigger_stages(t, false).await?;
        let mut opps = Opportunities::default();
        opps.read_each(t, [id.to_owned()]).await?;
        let keys = memory
            .invites
            .iter()
            .filter(|i| i.opportunity_id == id)
            .filter_map(|i| Some((i.participant_key.clone()?, i.interview_key.clone())))
            .collect();
        let participants = reads::participants(t, keys).await?;
        Ok(self.targeted(opps, participants, stages))
    }

    /// One participant, with the opportunities it was recorded for.
    pub(crate) async fn observe_participant(
        &mut self,
        key: &str,
        memory: &Memory,
    ) -> Result<Observation, PassError> {
        let t = self.tenant;
        let stages = trigger_stages(t, false).await?;
        let rows: Vec<_> = memory
            .invites
            .iter()
            .filter(|i| i.participant_key.as_deref() == Some(key))
            .collect();
        let mut opps = Opportunities::default();
        let mut participants = Vec::new();
        if let Some(first) = rows.first() {
            participants =
                reads::participants(t, vec![(key.to_owned(), first.interview_key.clone())]).await?;
            let ids: BTreeSet<String> = rows.iter().map(|i| i.opportunity_id.clone()).collect();
            opps.read_each(t, ids).await?;
        }
        Ok(self.targeted(opps, participants, stages))
    }

    fn targeted(
        &self,
        opps: Opportunities,
        participants: Vec<Participant>,
        stages: super::stages::TriggerStages,
    ) -> Observation {
        let (opportunities, deleted) =
            opps.into_parts(self.tenant.settings.catalog_opportunity_id.as_ref());
        Observation {
            observed: Observed {
                scope: Scope::Targeted,
                interviews: None,
                postings: None,
                opportunities,
                deleted,
                participants,
                catalog: None,
            },
            stages,
            max_updated_at: None,
            listed: BTreeSet::new(),
        }
    }
}
