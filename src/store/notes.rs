//! The completion-note journal (rule: completion note, docs/behaviour.md). One row per
//! (opportunity, interview), ever: with the marker it is what makes a note exactly once across
//! crashes, retries and unknown outcomes.
//!
//! Transitions (each function changes a row only from the states it names):
//! `planned | failed | (none) → in_flight` (committed before the POST) `→ done | failed |
//! planned`; `in_flight → done` (marker found) or `→ planned` (marker absent).

use std::str::FromStr;

use super::db::{DbResult, Row, Value, params};

use super::{Ctx, Reader, StoreError, Tx};
use crate::domain::note::NoteState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRow {
    pub opportunity_id: String,
    pub interview_key: String,
    pub state: NoteState,
    /// Lever's id of the note, once known.
    pub note_id: Option<String>,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "opportunity_id, interview_key, state, note_id, attempts, last_error, created_at, updated_at";

fn row(r: &Row<'_>) -> DbResult<(NoteRow, String)> {
    Ok((
        NoteRow {
            opportunity_id: r.get(0)?,
            interview_key: r.get(1)?,
            state: NoteState::Planned,
            note_id: r.get(3)?,
            attempts: r.get(4)?,
            last_error: r.get(5)?,
            created_at: r.get(6)?,
            updated_at: r.get(7)?,
        },
        r.get(2)?,
    ))
}

fn finish((mut n, state): (NoteRow, String)) -> Result<NoteRow, StoreError> {
    n.state = NoteState::from_str(&state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(n)
}

impl Reader<'_> {
    /// The note rows of these opportunities.
    pub fn notes_of_opportunities(
        &self,
        tenant: &str,
        ids: &[String],
    ) -> Result<Vec<NoteRow>, StoreError> {
        self.query_notes(
            &format!(
                "SELECT {COLUMNS} FROM notes
                 WHERE tenant = ?1 AND opportunity_id IN (SELECT value FROM json_each(?2))
                 ORDER BY opportunity_id, interview_key"
            ),
            params![tenant, super::to_json_list(ids)],
        )
    }

    /// The note rows in `state`, by the `(tenant, state)` index (run at the start of passes).
    pub fn notes_in_state(
        &self,
        tenant: &str,
        state: NoteState,
    ) -> Result<Vec<NoteRow>, StoreError> {
        self.query_notes(
            &format!(
                "SELECT {COLUMNS} FROM notes WHERE tenant = ?1 AND state = ?2
                 ORDER BY opportunity_id, interview_key"
            ),
            params![tenant, state.as_str()],
        )
    }

    /// The row of one (opportunity, interview), if any.
    pub fn note(
        &self,
        tenant: &str,
        opportunity_id: &str,
        interview_key: &str,
    ) -> Result<Option<NoteRow>, StoreError> {
        Ok(self
            .query_notes(
                &format!(
                    "SELECT {COLUMNS} FROM notes
                     WHERE tenant = ?1 AND opportunity_id = ?2 AND interview_key = ?3"
                ),
                params![tenant, opportunity_id, interview_key],
            )?
            .pop())
    }

    /// Every note row of the tenant.
    pub fn notes(&self, tenant: &str) -> Result<Vec<NoteRow>, StoreError> {
        self.query_notes(
            &format!(
                "SELECT {COLUMNS} FROM notes WHERE tenant = ?1 ORDER BY opportunity_id, interview_key"
            ),
            params![tenant],
        )
    }

    fn query_notes(&self, sql: &str, p: &[Value<'_>]) -> Result<Vec<NoteRow>, StoreError> {
        let mut st = self.conn.prepare_cached(sql).ctx("prepare notes")?;
        let rows = st.query_map(p, row).ctx("read notes")?;
        rows.map(|r| r.ctx("read notes").and_then(finish)).collect()
    }
}

impl Tx<'_> {
    /// `(none) | planned | failed → in_flight`, counting the attempt. False when the row is
    /// already `in_flight` or `done`: another run owns it, and nothing may be posted.
    pub fn mark_note_in_flight(
        &self,
        tenant: &str,
        opportunity_id: &str,
        interview_key: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.note_transition(
            "INSERT INTO notes (tenant, opportunity_id, interview_key, state, attempts, created_at,
                                updated_at)
             VALUES (?1, ?2, ?3, 'in_flight', 1, ?4, ?4)
             ON CONFLICT (tenant, opportunity_id, interview_key) DO UPDATE SET
               state = 'in_flight', attempts = notes.attempts + 1, updated_at = excluded.updated_at
             WHERE notes.state IN ('planned', 'failed')",
            params![tenant, opportunity_id, interview_key, now],
        )
    }

    /// `in_flight → done`: the note exists (posted now, or found by its marker).
    pub fn mark_note_done(
        &self,
        tenant: &str,
        opportunity_id: &str,
        interview_key: &str,
        note_id: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.note_transition(
            "UPDATE notes SET state = 'done', note_id = ?4, last_error = NULL, updated_at = ?5
             WHERE tenant = ?1 AND opportunity_id = ?2 AND interview_key = ?3 AND state = 'in_flight'",
            params![tenant, opportunity_id, interview_key, note_id, now],
        )
    }

    /// `in_flight → failed`: Lever refused the POST, so no note exists.
    pub fn mark_note_failed(
        &self,
        tenant: &str,
        opportunity_id: &str,
        interview_key: &str,
        error: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.note_transition(
            "UPDATE notes SET state = 'failed', last_error = ?4, updated_at = ?5
             WHERE tenant = ?1 AND opportunity_id = ?2 AND interview_key = ?3 AND state = 'in_flight'",
            params![tenant, opportunity_id, interview_key, error, now],
        )
    }

    /// `in_flight → planned`: the POST provably took no effect, or the marker is absent.
    pub fn reset_note_to_planned(
        &self,
        tenant: &str,
        opportunity_id: &str,
        interview_key: &str,
        error: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.note_transition(
            "UPDATE notes SET state = 'planned', last_error = ?4, updated_at = ?5
             WHERE tenant = ?1 AND opportunity_id = ?2 AND interview_key = ?3 AND state = 'in_flight'",
            params![tenant, opportunity_id, interview_key, error, now],
        )
    }

    /// Records the last error of an `in_flight` row whose outcome is unknown; it stays
    /// `in_flight` for the next pass to settle by the marker.
    pub fn note_outcome_unknown(
        &self,
        tenant: &str,
        opportunity_id: &str,
        interview_key: &str,
        error: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.note_transition(
            "UPDATE notes SET last_error = ?4, updated_at = ?5
             WHERE tenant = ?1 AND opportunity_id = ?2 AND interview_key = ?3 AND state = 'in_flight'",
            params![tenant, opportunity_id, interview_key, error, now],
        )
    }

    /// Moves every note row of `tenant` `by` milliseconds into the past: what tests use to
    /// stand for time passing between passes (the landing window of an unknown outcome).
    #[doc(hidden)]
    pub fn backdate_notes(&self, tenant: &str, by: i64) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE notes SET updated_at = updated_at - ?2 WHERE tenant = ?1",
                params![tenant, by],
            )
            .ctx("backdate notes")?;
        Ok(())
    }

    fn note_transition(&self, sql: &str, p: &[Value<'_>]) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .prepare_cached(sql)
            .ctx("prepare note transition")?
            .execute(p)
            .ctx("note transition")?;
        Ok(n > 0)
    }
}
