//! Settling invites whose outcome is unknown (`in_flight` after a crash, `ambiguous` after a
//! timeout) before anything else in a pass: look the email up among the interview's
//! participants; adopt if found, back to `planned` only if provably absent.

use std::collections::BTreeMap;

use super::apply::save_participant;
use super::error::PassError;
use super::tenant::Tenant;
use crate::domain::email::same_email;
use crate::domain::invite::InviteState;
use crate::plan;
use crate::store::InviteRow;

/// What resolution did, for the pass summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Resolved {
    /// Found in Willo: the invite did happen; recorded as done.
    pub adopted: u32,
    /// Provably absent: the invite never happened; it may be planned again.
    pub reset: u32,
}

impl Tenant {
    /// Resolves the tenant's unresolved journal rows, optionally only those of one opportunity.
    /// Listings are cached in `listings` for the rest of the pass.
    pub(crate) async fn resolve_unresolved(
        &self,
        only_opportunity: Option<&str>,
        listings: &mut BTreeMap<String, Vec<plan::Participant>>,
        now: i64,
    ) -> Result<Resolved, PassError> {
        let rows: Vec<InviteRow> = self
            .store
            .read(|r| {
                r.invites_in_states(&self.id, &[InviteState::InFlight, InviteState::Ambiguous])
            })
            .map_err(|e| PassError::store(&self.id, e))?
            .into_iter()
            .filter(|r| only_opportunity.is_none_or(|o| o == r.opportunity_id))
            .collect();
        let mut done = Resolved::default();
        for row in rows {
            if !listings.contains_key(&row.interview_key) {
                let list = self.list_participants_of(&row.interview_key).await?;
                listings.insert(row.interview_key.clone(), list);
            }
            let found = listings.get(&row.interview_key).and_then(|ps| {
                ps.iter().find(|p| {
                    p.email
                        .as_deref()
                        .is_some_and(|e| same_email(e, &row.email))
                })
            });
            self.store
                .write(|tx| {
                    match found {
                        Some(p) => {
                            tx.mark_invite_done(
                                &self.id,
                                &row.opportunity_id,
                                &row.interview_key,
                                &p.key,
                                now,
                            )?;
                            save_participant(tx, &self.id, p, now)?;
                        }
                        None => {
                            tx.reset_invite_to_planned(
                                &self.id,
                                &row.opportunity_id,
                                &row.interview_key,
                                Some("no participant found after an unknown outcome"),
                                now,
                            )?;
                        }
                    }
                    // The failure that put it in backoff was the unknown outcome; now known.
                    tx.record_opportunity_success(&self.id, &row.opportunity_id)
                })
                .map_err(|e| PassError::store(&self.id, e))?;
            match found {
                Some(p) => {
                    done.adopted += 1;
                    tracing::info!(tenant = %self.id, opportunity = %row.opportunity_id,
                        interview = %row.interview_key, participant = %p.key, was = %row.state,
                        "unresolved invite found in Willo; recorded as done");
                    self.metrics.invite(&self.id, "resolved_found");
                }
                None => {
                    done.reset += 1;
                    tracing::info!(tenant = %self.id, opportunity = %row.opportunity_id,
                        interview = %row.interview_key, was = %row.state,
                        "unresolved invite not in Willo; it never happened and may be sent again");
                    self.metrics.invite(&self.id, "resolved_absent");
                }
            }
        }
        Ok(done)
    }
}
