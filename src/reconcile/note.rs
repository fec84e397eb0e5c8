//! The completion-note protocol (rule: completion note, docs/behaviour.md), the invite's
//! journal pattern applied to a Lever note: `in_flight` committed before the POST → `done`
//! with Lever's note id | `failed` (refused: no note exists) | `planned` (provably not sent) |
//! still `in_flight` (outcome unknown). Lever has no idempotency key, so an `in_flight` row is
//! settled at the start of a later pass by listing the opportunity's notes and looking for the
//! note's marker line: found → `done`; absent (once nothing sent can still land) → `planned`,
//! and the planner plans it again. A note is never posted twice on a guess.

use super::apply::Applier;
use super::error::PassError;
use super::outcome::{ActionError, Done};
use super::pass::Pass;
use crate::clock::now_ms;
use crate::domain::note::{NoteState, completion_marker};
use crate::error_chain::chain;
use crate::http::ApiError;
use crate::store::NoteRow;

/// Added to Lever's request timeout before an absent marker counts as proof: a POST given up
/// on may still be applied that long after (the same margin the invite journal uses).
const LANDING_MARGIN_MS: i64 = 5_000;

/// What settling unknown note outcomes did, for the pass summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct NotesResolved {
    /// The marker was found: the note exists; recorded as done.
    pub found: u32,
    /// The marker was absent: no note exists; planned again.
    pub reset: u32,
    /// Too recent to call absent, or the listing failed: left for a later pass.
    pub undecided: u32,
}

impl Applier<'_> {
    /// Posts one completion note through the journal.
    pub(crate) async fn post_note(
        &self,
        id: &str,
        interview: &str,
        text: &str,
    ) -> Result<Done, ActionError> {
        let (t, now) = (&self.tenant.id, self.now);
        let first = self
            .tenant
            .store
            .read(|r| r.note(t, id, interview))
            .map_err(ActionError::Store)?
            .is_none();
        let mine = self
            .tenant
            .store
            .write(|tx| tx.mark_note_in_flight(t, id, interview, now))
            .map_err(ActionError::Store)?;
        if !mine {
            // Another run moved the row past `planned` since this plan was made.
            return Ok(Done::NotOurs);
        }
        if first && let Some(found) = self.find_note(id, interview).await? {
            return Ok(found);
        }
        match self.tenant.lever.add_note(id, text).await {
            Ok(note_id) => {
                // If this write fails the row stays `in_flight`; the next pass finds the note
                // by its marker, so nothing is posted twice.
                self.tenant
                    .store
                    .write(|tx| tx.mark_note_done(t, id, interview, note_id.as_deref(), now))
                    .map_err(ActionError::Store)?;
                Ok(Done::NotePosted {
                    id: id.to_owned(),
                    interview: interview.to_owned(),
                    note_id,
                })
            }
            Err(e) => self.note_not_posted(id, interview, e),
        }
    }

    /// Before the first POST of a pair the journal has never seen, the opportunity's notes are
    /// read for the marker: a lost or restored state file must not post a second note. One
    /// read per completion, so cheap. `Some` when the note is already there (recorded done).
    async fn find_note(&self, id: &str, interview: &str) -> Result<Option<Done>, ActionError> {
        let (t, now) = (&self.tenant.id, self.now);
        let marker = completion_marker(interview);
        let notes = match self.tenant.lever.notes(id).await {
            Ok(notes) => notes,
            Err(e) => {
                // Nothing was posted: the row goes back to `planned`, tried after the backoff.
                if let Err(se) = self.tenant.store.write(|tx| {
                    tx.reset_note_to_planned(t, id, interview, Some(&chain(&e).to_string()), now)
                }) {
                    tracing::warn!(tenant = %t, opportunity = %id, error = %chain(&se),
                        "cannot record the note's failed lookup; the next pass settles it by its marker");
                }
                return match e {
                    ApiError::NotFound { .. } => Ok(Some(Done::Vanished { id: id.to_owned() })),
                    e => Err(ActionError::Api(e)),
                };
            }
        };
        let Some(note) = notes.iter().find(|n| !n.deleted && n.contains(&marker)) else {
            return Ok(None);
        };
        self.tenant
            .store
            .write(|tx| tx.mark_note_done(t, id, interview, Some(&note.id), now))
            .map_err(ActionError::Store)?;
        tracing::info!(tenant = %t, opportunity = %id, interview = %interview, note = %note.id,
            "completion note already in Lever (the state was lost or restored); recorded as done");
        Ok(Some(Done::NoteFound))
    }

    /// The POST failed; the journal says next what is known about whether the note exists.
    /// These writes are tolerated when they fail: the row then stays `in_flight` and the next
    /// pass settles it by the marker, which reaches the same state.
    fn note_not_posted(&self, id: &str, interview: &str, e: ApiError) -> Result<Done, ActionError> {
        let (t, now) = (&self.tenant.id, self.now);
        let text = chain(&e).to_string();
        let store = &self.tenant.store;
        let written = match &e {
            // May have been applied: stays `in_flight` until the marker is looked for.
            ApiError::Ambiguous { .. } | ApiError::Decode { .. } | ApiError::Protocol { .. } => {
                store.write(|tx| tx.note_outcome_unknown(t, id, interview, &text, now))
            }
            // Deleted since it was read: no note was made, and none is due any more.
            ApiError::NotFound { .. } => {
                store.write(|tx| tx.reset_note_to_planned(t, id, interview, Some(&text), now))
            }
            // Refused outright: no note exists; tried again after the opportunity's backoff.
            ApiError::Rejected { .. } | ApiError::Forbidden { .. } => {
                store.write(|tx| tx.mark_note_failed(t, id, interview, &text, now))
            }
            // Throttled, credentials refused, never connected: provably not sent.
            _ => store.write(|tx| tx.reset_note_to_planned(t, id, interview, Some(&text), now)),
        };
        if let Err(se) = written {
            tracing::warn!(tenant = %t, opportunity = %id, interview = %interview, error = %chain(&se),
                "cannot record the note's failure; its row stays in_flight and the next pass settles it by its marker");
        }
        match e {
            ApiError::NotFound { .. } => Ok(Done::Vanished { id: id.to_owned() }),
            ApiError::Ambiguous { .. } | ApiError::Decode { .. } | ApiError::Protocol { .. } => {
                Err(ActionError::NoteUnknown(e))
            }
            e => Err(ActionError::Api(e)),
        }
    }
}

impl Pass<'_> {
    /// Settles the tenant's `in_flight` notes (or one opportunity's) by their marker, before
    /// anything is planned: a note that may exist must not be planned again.
    pub(crate) async fn resolve_notes(
        &mut self,
        only: Option<&str>,
    ) -> Result<NotesResolved, PassError> {
        let t = self.tenant;
        let rows: Vec<NoteRow> = t
            .store
            .read(|r| r.notes_in_state(&t.id, NoteState::InFlight))
            .map_err(|e| t.store_err(e))?
            .into_iter()
            .filter(|r| only.is_none_or(|o| o == r.opportunity_id))
            .collect();
        let mut done = NotesResolved::default();
        for row in rows {
            match self.settle_note(&row).await? {
                Settled::Found => done.found += 1,
                Settled::Reset => done.reset += 1,
                Settled::Undecided => done.undecided += 1,
            }
        }
        Ok(done)
    }

    async fn settle_note(&self, row: &NoteRow) -> Result<Settled, PassError> {
        let (t, now) = (self.tenant, self.now);
        let (id, interview) = (&row.opportunity_id, &row.interview_key);
        let marker = completion_marker(interview);
        let notes = match t.lever.notes(id).await {
            Ok(notes) => notes,
            Err(e) if e.is_disconnect() => return Err(t.api_err(e)),
            Err(ApiError::NotFound { .. }) => {
                // The opportunity is gone, and with it any note: nothing is due any more.
                t.store
                    .write(|tx| {
                        tx.mark_note_failed(&t.id, id, interview, "opportunity deleted", now)
                    })
                    .map_err(|e| t.store_err(e))?;
                return Ok(Settled::Reset);
            }
            Err(e) => {
                // Unknown stays unknown: the row keeps blocking a second note until a listing
                // answers.
                tracing::warn!(tenant = %t.id, opportunity = %id, interview = %interview,
                    error = %chain(&e), "cannot list the opportunity's notes to settle a completion note; trying again next pass");
                return Ok(Settled::Undecided);
            }
        };
        if let Some(note) = notes.iter().find(|n| !n.deleted && n.contains(&marker)) {
            t.store
                .write(|tx| {
                    tx.mark_note_done(&t.id, id, interview, Some(&note.id), now)?;
                    // The failure that put it in backoff was the unknown outcome; now known.
                    tx.record_opportunity_success(&t.id, id)
                })
                .map_err(|e| t.store_err(e))?;
            tracing::info!(tenant = %t.id, opportunity = %id, interview = %interview,
                note = %note.id, "completion note of unknown outcome found in Lever; recorded as done");
            return Ok(Settled::Found);
        }
        let timeout = i64::try_from(t.settings.lever.client.http.request_timeout.as_millis())
            .unwrap_or(i64::MAX);
        let settled_at = row
            .updated_at
            .saturating_add(timeout)
            .saturating_add(LANDING_MARGIN_MS.min(timeout));
        if settled_at > now_ms() {
            // A POST given up on moments ago may still land: absence proves nothing yet.
            tracing::info!(tenant = %t.id, opportunity = %id, interview = %interview,
                "completion note of unknown outcome not found yet, but too recent to call absent; looking again next pass");
            return Ok(Settled::Undecided);
        }
        t.store
            .write(|tx| {
                tx.reset_note_to_planned(
                    &t.id,
                    id,
                    interview,
                    Some("no note with the marker found after an unknown outcome"),
                    now,
                )?;
                tx.record_opportunity_success(&t.id, id)
            })
            .map_err(|e| t.store_err(e))?;
        tracing::info!(tenant = %t.id, opportunity = %id, interview = %interview,
            "completion note of unknown outcome not in Lever; it may be posted again");
        Ok(Settled::Reset)
    }
}

enum Settled {
    Found,
    Reset,
    Undecided,
}
