//! The invite protocol, as a small typed state machine over the journal rows of one invite:
//!
//! lookup (a participant with this email may exist: adopt it) → `planned` and `in_flight` in
//! one transaction, committed before anything leaves the process → POST → `done` |
//! `ambiguous` (may have taken effect: looked up next pass) | `failed` (refused) | back to
//! `planned` (provably never took effect). Two write transactions per invite sent.
//!
//! `InFlight` can only be made by committing those rows, so the POST cannot be reached without
//! an `in_flight` row on disk.

use super::apply::Applier;
use super::convert;
use super::directory::{Lookup, LookupError};
use super::outcome::{ActionError, Done};
use super::resolve::inconclusive_detail;
use crate::domain::attention::AttentionReason;
use crate::domain::invite::InviteState;
use crate::domain::status_map::Mapped;
use crate::domain::tags::StatusTag;
use crate::domain::{InterviewKey, OpportunityId};
use crate::error_chain::chain;
use crate::http::ApiError;
use crate::plan::Participant;
use crate::store::{StoreError, Tx};
use crate::willo::NewParticipant;

/// Journal rows committed `in_flight`: the POST may now be sent.
struct InFlight {
    ids: Vec<OpportunityId>,
}

impl Applier<'_> {
    /// Runs the protocol for one (email, interview) and the opportunities it is for.
    pub(crate) async fn invite(
        &self,
        new: &NewParticipant,
        ids: &[OpportunityId],
    ) -> Result<Done, ActionError> {
        let t = self.tenant;
        let lookup = self
            .directory
            .find(t, &new.interview, &new.email)
            .await
            .map_err(|e| match e {
                LookupError::Api(e) => ActionError::Api(e),
                LookupError::Store(e) => ActionError::Store(e),
            })?;
        match lookup {
            Lookup::Found(p) => return self.adopt_found(ids, new, &p),
            Lookup::Inconclusive { without_email } => {
                return self.inconclusive(ids, &new.interview, without_email);
            }
            Lookup::Absent => {}
        }
        let Some(in_flight) = self.mark_in_flight(new, ids)? else {
            return Ok(Done::NotOurs);
        };
        match t.willo.create_participant(new).await {
            Ok(created) => {
                let p = convert::participant_seen(t, &created, &new.interview);
                self.record_done(in_flight, &p)
            }
            Err(e) => self.not_created(in_flight, &new.interview, e),
        }
    }

    /// The lookup found the person already in the interview: adopt, send nothing.
    fn adopt_found(
        &self,
        ids: &[OpportunityId],
        new: &NewParticipant,
        p: &Participant,
    ) -> Result<Done, ActionError> {
        let (t, now) = (&self.tenant.id, self.now);
        self.journal(|tx| {
            for id in ids {
                tx.record_adopted_invite(t, id, &new.interview, &new.email, &p.key, now)?;
            }
            super::resolve::save_participant(tx, t, p, now)
        })?;
        // The status tags planned with this invite assumed a fresh participant; one found in
        // another state gets its tag from the next pass, which observes that state.
        let fresh = matches!(
            self.tenant
                .settings
                .willo
                .status_map
                .lookup(p.state.as_deref()),
            Mapped::Tag(StatusTag::Invited)
        );
        Ok(Done::Adopted {
            ids: ids.to_vec(),
            interview: new.interview.clone(),
            participant: p.key.clone(),
            found: true,
            retag: !fresh,
        })
    }

    /// The listing cannot prove the person absent: send nothing, ask a person to look. No
    /// journal row is written: nothing was sent.
    fn inconclusive(
        &self,
        ids: &[OpportunityId],
        interview: &str,
        without_email: usize,
    ) -> Result<Done, ActionError> {
        let (t, now) = (&self.tenant.id, self.now);
        let detail = inconclusive_detail(without_email);
        self.journal(|tx| {
            for id in ids {
                let reason = AttentionReason::LookupInconclusive.as_str();
                tx.record_attention(t, id, reason, Some(&detail), now)?;
            }
            Ok(())
        })?;
        Ok(Done::Inconclusive {
            ids: ids.to_vec(),
            interview: interview.to_owned(),
            without_email,
        })
    }

    /// The intent and `in_flight`, in one transaction, durably, before anything leaves the
    /// process. Rows another run already moved past `planned` are not ours: `None` when no
    /// row is.
    fn mark_in_flight(
        &self,
        new: &NewParticipant,
        ids: &[OpportunityId],
    ) -> Result<Option<InFlight>, ActionError> {
        let (t, now, interview) = (&self.tenant.id, self.now, &new.interview);
        let mine = self.journal(|tx| {
            let mut mine = Vec::new();
            for id in ids {
                let state = tx.plan_invite(t, id, interview, &new.email, now)?;
                if state == InviteState::Planned
                    && tx.mark_invite_in_flight(t, id, interview, now)?
                {
                    mine.push(id.clone());
                }
            }
            Ok(mine)
        })?;
        Ok((!mine.is_empty()).then_some(InFlight { ids: mine }))
    }

    /// Step 3a: Willo created the participant.
    fn record_done(&self, in_flight: InFlight, p: &Participant) -> Result<Done, ActionError> {
        let (t, now) = (&self.tenant.id, self.now);
        // If this fails, Willo has the participant and the rows stay `in_flight`: the next pass
        // finds it by lookup and adopts it, so nothing is sent twice.
        self.journal(|tx| {
            for id in &in_flight.ids {
                tx.mark_invite_done(t, id, &p.interview_key, &p.key, now)?;
            }
            // Seen first now, after this pass's listings began: a participant created since an
            // interview's listing must not count as one that listing vouched for.
            super::resolve::save_participant(tx, t, p, crate::clock::now_ms())
        })?;
        Ok(Done::Invited {
            ids: in_flight.ids,
            interview: p.interview_key.clone(),
            participant: p.key.clone(),
        })
    }

    /// Step 3b: the POST failed. What the journal says next depends on whether it may have
    /// taken effect. The journal writes here are tolerated when they fail: the rows then stay
    /// `in_flight`, which the next pass settles by the same lookup, reaching the same state
    /// (found → done; absent → planned and invited again, which is right for a request that
    /// was refused or never arrived).
    fn not_created(
        &self,
        in_flight: InFlight,
        interview: &InterviewKey,
        e: ApiError,
    ) -> Result<Done, ActionError> {
        let (t, now) = (&self.tenant.id, self.now);
        let ids = &in_flight.ids;
        match e {
            ApiError::Ambiguous { .. } | ApiError::Decode { .. } => {
                let text = chain(&e).to_string();
                self.tolerate(self.tenant.store.write(|tx| {
                    for id in ids {
                        tx.mark_invite_ambiguous(t, id, interview, &text, now)?;
                    }
                    Ok(())
                }));
                Err(ActionError::Ambiguous(e))
            }
            ApiError::Rejected {
                status, message, ..
            } => {
                let error = format!("Willo refused the invite (HTTP {status}): {message}");
                self.tolerate(self.tenant.store.write(|tx| {
                    ids.iter()
                        .try_for_each(|id| refuse(tx, t, id, interview, &error, now))
                }));
                Ok(Done::Refused {
                    ids: in_flight.ids,
                    interview: interview.clone(),
                    error,
                })
            }
            e => {
                // Throttled, refused credentials, connection never made, unknown route: the
                // request provably took no effect, so the intent goes back to `planned`.
                let text = chain(&e).to_string();
                self.tolerate(self.tenant.store.write(|tx| {
                    for id in ids {
                        tx.reset_invite_to_planned(t, id, interview, Some(&text), now)?;
                    }
                    Ok(())
                }));
                Err(ActionError::NotSent(e))
            }
        }
    }

    /// A journal write the protocol depends on: its failure fails the action.
    fn journal<T: Send>(
        &self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, StoreError> + Send,
    ) -> Result<T, ActionError> {
        self.tenant.store.write(f).map_err(ActionError::Store)
    }

    /// A journal write whose failure is safe (see the caller's why): logged, not fatal.
    fn tolerate(&self, written: Result<(), StoreError>) {
        if let Err(e) = written {
            tracing::warn!(tenant = %self.tenant.id, error = %chain(&e),
                "cannot record the invite's failure in the journal; its row stays in_flight and the next pass settles it by lookup");
        }
    }
}

/// Journals a refused invite and raises the needs-attention item that says why.
fn refuse(
    tx: &Tx<'_>,
    tenant: &str,
    id: &str,
    interview: &str,
    error: &str,
    now: i64,
) -> Result<(), StoreError> {
    tx.mark_invite_failed(tenant, id, interview, error, now)?;
    tx.record_attention(
        tenant,
        id,
        AttentionReason::InviteRejected.as_str(),
        Some(error),
        now,
    )
}
