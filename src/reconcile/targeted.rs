//! What a hint's reconcile reads: the one object the hint names and what depends on it, one by
//! one: no listings, no cursor.

use std::collections::BTreeSet;

use super::error::PassError;
use super::gap::optional;
use super::observe::Observation;
use super::pass::Pass;
use super::reads::{self, Opportunities};
use super::stages::trigger_stages;
use crate::plan::Scope;
use crate::store::{InviteRow, StoreError};

const NO_PARTICIPANT: &str = "participant not read: its status tag waits";

impl Pass<'_> {
    /// One opportunity, with the participants of its invites.
    pub(crate) async fn observe_opportunity(&mut self, id: &str) -> Result<Observation, PassError> {
        let t = self.tenant;
        let mut gaps = Vec::new();
        let mut obs = Observation::new(Scope::Targeted, trigger_stages(t, false, &mut gaps).await?);
        obs.gaps = gaps;
        let mut opps = Opportunities::default();
        opps.read_each(t, [id.to_owned()]).await?;
        let rows =
            self.journal(|r, tenant| r.invites_of_opportunities(tenant, &[id.to_owned()]))?;
        let keys = rows
            .into_iter()
            .filter_map(|i| Some((i.participant_key?, i.interview_key)))
            .collect();
        let read = reads::participants(t, keys).await;
        obs.observed.participants =
            optional(read, NO_PARTICIPANT, &mut obs.gaps)?.unwrap_or_default();
        obs.take(opps, t.settings.catalog_opportunity_id.as_ref());
        Ok(obs)
    }

    /// One participant, with the opportunities it was recorded for.
    pub(crate) async fn observe_participant(
        &mut self,
        key: &str,
    ) -> Result<Observation, PassError> {
        let t = self.tenant;
        let mut gaps = Vec::new();
        let mut obs = Observation::new(Scope::Targeted, trigger_stages(t, false, &mut gaps).await?);
        obs.gaps = gaps;
        let rows = self.journal(|r, tenant| r.invites_of_participant(tenant, key))?;
        let mut opps = Opportunities::default();
        if let Some(first) = rows.first() {
            let read =
                reads::participants(t, vec![(key.to_owned(), first.interview_key.clone())]).await;
            obs.observed.participants =
                optional(read, NO_PARTICIPANT, &mut obs.gaps)?.unwrap_or_default();
            if !obs.observed.participants.is_empty() {
                // Just read: scheduled status checks leave it for later (rule: status-check
                // budget).
                let (keys, now) = (vec![key.to_owned()], self.now);
                t.store
                    .write(|tx| tx.mark_checked(&t.id, &keys, now))
                    .map_err(|e| t.store_err(e))?;
            }
            let ids: BTreeSet<String> = rows.iter().map(|i| i.opportunity_id.clone()).collect();
            opps.read_each(t, ids).await?;
        }
        obs.take(opps, t.settings.catalog_opportunity_id.as_ref());
        Ok(obs)
    }

    /// Journal rows read by index (a hint never loads the whole journal).
    fn journal(
        &self,
        read: impl FnOnce(&crate::store::Reader<'_>, &str) -> Result<Vec<InviteRow>, StoreError> + Send,
    ) -> Result<Vec<InviteRow>, PassError> {
        let t = self.tenant;
        t.store.read(|r| read(r, &t.id)).map_err(|e| t.store_err(e))
    }
}
