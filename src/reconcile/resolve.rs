//! Settling invites whose outcome is unknown (`in_flight` after a crash, `ambiguous` after a
//! timeout) before anything else in a pass: look the email up among the interview's
//! participants; adopt if found, back to `planned` only if provably absent.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::bounded::{self, Unbounded};
use super::directory::{Lookup, LookupError};
use super::error::PassError;
use super::pass::Pass;
use super::tenant::Tenant;
use crate::clock::now_ms;
use crate::domain::PassKind;
use crate::domain::attention::AttentionReason;
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
    /// Neither proven: left as they are, with a needs-attention item (work deferred).
    pub inconclusive: u32,
    /// Completion notes of unknown outcome, settled by their marker (rule: completion note).
    pub notes: super::note::NotesResolved,
}

/// Added to the request timeout: how long after a request was given up on Willo might still
/// apply it (a request queued behind a slow one, a clock a little apart). At most this, and
/// never more than the timeout itself.
const LANDING_MARGIN_MS: i64 = 5_000;

impl Pass<'_> {
    /// Resolves the tenant's unresolved journal rows, or only those of one opportunity. The
    /// interviews listed to do so stay in the pass's directory for the rest of the pass.
    pub(crate) async fn resolve(
        &mut self,
        only: Option<&str>,
        cancel: &CancellationToken,
    ) -> Result<Resolved, PassError> {
        let t = self.tenant;
        let rows: Vec<InviteRow> = t
            .store
            .read(|r| r.invites_in_states(&t.id, &[InviteState::InFlight, InviteState::Ambiguous]))
            .map_err(|e| t.store_err(e))?
            .into_iter()
            .filter(|r| only.is_none_or(|o| o == r.opportunity_id))
            .collect();
        let mut done = Resolved::default();
        for row in rows {
            let lookup = self.look_up(&row, cancel).await?;
            self.settle(&row, &lookup)?;
            match lookup {
                Lookup::Found(_) => done.adopted += 1,
                Lookup::Absent => done.reset += 1,
                Lookup::Inconclusive { .. } => done.inconclusive += 1,
            }
        }
        Ok(done)
    }

    /// Looks the row's email up. Absence only counts once no request sent for the row could
    /// still land: a POST given up on by a process that then died may be applied by Willo
    /// after a restarted process looked, so a young row is looked up again after the wait.
    async fn look_up(
        &mut self,
        row: &InviteRow,
        cancel: &CancellationToken,
    ) -> Result<Lookup, PassError> {
        let t = self.tenant;
        let lookup = self.first_look(row).await?;
        if lookup != Lookup::Absent {
            return Ok(lookup);
        }
        let timeout = i64::try_from(t.settings.willo.client.http.request_timeout.as_millis())
            .unwrap_or(i64::MAX);
        let settled_at = row
            .updated_at
            .saturating_add(timeout)
            .saturating_add(LANDING_MARGIN_MS.min(timeout));
        let wait = settled_at.saturating_sub(now_ms());
        if wait <= 0 {
            return Ok(lookup);
        }
        tracing::info!(tenant = %t.id, opportunity = %row.opportunity_id, interview = %row.interview_key,
            wait_ms = wait, "an unresolved invite is too recent to call absent; looking again after the wait");
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(wait.unsigned_abs())) => {}
            _ = cancel.cancelled() => return Err(PassError::Interrupted { tenant: t.id.clone() }),
        }
        self.directory
            .find_fresh(t, &row.interview_key, &row.email)
            .await
            .map_err(|e| lookup_err(t, e))
    }

    /// A hint looks the one address up (two Willo requests at most, or a listing when nothing
    /// bounds it); a scheduled pass lists the interview into the store, as it would anyway.
    async fn first_look(&mut self, row: &InviteRow) -> Result<Lookup, PassError> {
        let t = self.tenant;
        let (interview, email) = (&row.interview_key, &row.email);
        if self.kind == PassKind::Targeted && !self.directory.shared() {
            match bounded::look_up(t, interview, email).await {
                Ok(lookup) => return Ok(lookup),
                Err(Unbounded::Api(e)) => return Err(t.api_err(e)),
                Err(Unbounded::Store(e)) => return Err(t.store_err(e)),
                Err(Unbounded::Open(_)) => {}
            }
        } else {
            self.refresh(&[interview.clone()].into()).await?;
        }
        self.directory
            .find(t, interview, email)
            .await
            .map_err(|e| lookup_err(t, e))
    }

    /// Records what the lookup proved about one row.
    fn settle(&self, row: &InviteRow, lookup: &Lookup) -> Result<(), PassError> {
        let (t, now) = (self.tenant, self.now);
        let (opportunity, interview) = (&row.opportunity_id, &row.interview_key);
        t.store
            .write(|tx| match lookup {
                Lookup::Found(p) => {
                    tx.mark_invite_done(&t.id, opportunity, interview, &p.key, now)?;
                    save_participant(tx, &t.id, p, now)?;
                    // The failure that put it in backoff was the unknown outcome; now known.
                    tx.record_opportunity_success(&t.id, opportunity)
                }
                Lookup::Absent => {
                    tx.reset_invite_to_planned(
                        &t.id,
                        opportunity,
                        interview,
                        Some("no participant found after an unknown outcome"),
                        now,
                    )?;
                    tx.record_opportunity_success(&t.id, opportunity)
                }
                Lookup::Inconclusive { without_email } => tx.record_attention(
                    &t.id,
                    opportunity,
                    AttentionReason::LookupInconclusive.as_str(),
                    Some(&inconclusive_detail(*without_email)),
                    now,
                ),
            })
            .map_err(|e| t.store_err(e))?;
        let was = row.state;
        match lookup {
            Lookup::Found(p) => {
                tracing::info!(tenant = %t.id, opportunity = %opportunity, interview = %interview,
                    participant = %p.key, was = %was, "unresolved invite found in Willo; recorded as done");
                t.metrics.invite(&t.id, "resolved_found");
            }
            Lookup::Absent => {
                tracing::info!(tenant = %t.id, opportunity = %opportunity, interview = %interview,
                    was = %was, "unresolved invite not in Willo; it never happened and may be sent again");
                t.metrics.invite(&t.id, "resolved_absent");
            }
            Lookup::Inconclusive { without_email } => {
                tracing::warn!(tenant = %t.id, opportunity = %opportunity, interview = %interview,
                    was = %was, without_email, "unresolved invite cannot be settled: the interview lists participants without an email; needs attention");
                t.metrics.invite(&t.id, "resolved_inconclusive");
            }
        }
        Ok(())
    }
}

fn lookup_err(tenant: &Tenant, e: LookupError) -> PassError {
    match e {
        LookupError::Api(e) => tenant.api_err(e),
        LookupError::Store(e) => tenant.store_err(e),
    }
}

/// The needs-attention detail of an inconclusive lookup.
pub(crate) fn inconclusive_detail(without_email: usize) -> String {
    format!(
        "Willo lists {without_email} participant(s) without an email in this interview; check whether one of them is this candidate, then give them an email in Willo"
    )
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
            response_link: p.response_link.as_deref(),
        },
        now,
        now,
    )
}
