//! Settling invites whose outcome is unknown (`in_flight` after a crash, `ambiguous` after a
//! timeout) before anything else in a pass: look the email up among the interview's
//! participants; adopt if found, back to `planned` only if provably absent.

use super::error::PassError;
use super::pass::Pass;
use crate::domain::invite::InviteState;
use crate::plan::Participant;
use crate::store::{InviteRow, SeenParticipant, StoreError, Tx};

/// What resolution did, for the pass summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Resolved {
    /// Found in Willo: the invite did happen; recorded as done.
    pub adopted: u32,
    /// Provably absent: the invite never happened; it may be planned again.
    pub reset: u32,
}

impl Pass<'_> {
    /// Resolves the tenant's unresolved journal rows, or only those of one opportunity. The
    /// interviews listed to do so stay in the pass's directory for the rest of the pass.
    pub(crate) async fn resolve(&mut self, only: Option<&str>) -> Result<Resolved, PassError> {
        let t = self.tenant;
        let rows: Vec<InviteRow> = t
            .store
            .read(|r| r.invites_in_states(&t.id, &[InviteState::InFlight, InviteState::Ambiguous]))
            .map_err(|e| t.store_err(e))?
            .into_iter()
            .filter(|r| only.is_none_or(|o| o == r.opportunity_id))
            .collect();
        self.directory
            .reserve(rows.iter().map(|r| r.interview_key.clone()));
        let mut done = Resolved::default();
        for row in rows {
            let found = self
                .directory
                .find(t, &row.interview_key, &row.email)
                .await
                .map_err(|e| t.api_err(e))?;
            self.settle(&row, found.as_ref())?;
            if found.is_some() {
                done.adopted += 1;
            } else {
                done.reset += 1;
            }
        }
        Ok(done)
    }

    /// Records what the lookup proved about one row.
    fn settle(&self, row: &InviteRow, found: Option<&Participant>) -> Result<(), PassError> {
        let (t, now) = (self.tenant, self.now);
        let (opportunity, interview) = (&row.opportunity_id, &row.interview_key);
        t.store
            .write(|tx| {
                match found {
                    Some(p) => {
                        tx.mark_invite_done(&t.id, opportunity, interview, &p.key, now)?;
                        save_participant(tx, &t.id, p, now)?;
                    }
                    None => {
                        tx.reset_invite_to_planned(
                            &t.id,
                            opportunity,
                            interview,
                            Some("no participant found after an unknown outcome"),
                            now,
                        )?;
                    }
                }
                // The failure that put it in backoff was the unknown outcome; now known.
                tx.record_opportunity_success(&t.id, opportunity)
            })
            .map_err(|e| t.store_err(e))?;
        match found {
            Some(p) => {
                tracing::info!(tenant = %t.id, opportunity = %opportunity, interview = %interview,
                    participant = %p.key, was = %row.state,
                    "unresolved invite found in Willo; recorded as done");
                t.metrics.invite(&t.id, "resolved_found");
            }
            None => {
                tracing::info!(tenant = %t.id, opportunity = %opportunity, interview = %interview,
                    was = %row.state,
                    "unresolved invite not in Willo; it never happened and may be sent again");
                t.metrics.invite(&t.id, "resolved_absent");
            }
        }
        Ok(())
    }
}

/// Records a participant just seen, with `now` as the time its state was first seen.
pub(crate) fn save_participant(
    tx: &Tx<'_>,
    tenant: &str,
    p: &Participant,
    now: i64,
) -> Result<(), StoreError> {
    tx.save_participant(
        tenant,
        &SeenParticipant {
            key: &p.key,
            interview_key: &p.interview_key,
            email: p.email.as_deref(),
            state: p.state.as_deref(),
        },
        now,
        now,
    )
}
