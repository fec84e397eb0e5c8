//! The invite journal. One row per (opportunity, interview), ever: it is what makes an invite
//! happen exactly once across crashes, restarts and retries.
//!
//! Transitions (each function changes a row only from the states it names):
//! `planned → in_flight` (committed before the POST) `→ done | failed | ambiguous`;
//! `in_flight | ambiguous → done` (adopted after a lookup) or `→ planned` (provably absent).

use std::collections::BTreeMap;
use std::str::FromStr;

use super::db::{DbResult, Optional, Row, Value, params};

use super::{Ctx, Reader, StoreError, Tx};
use crate::domain::invite::InviteState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteRow {
    pub opportunity_id: String,
    pub interview_key: String,
    pub email: String,
    pub participant_key: Option<String>,
    pub state: InviteState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Number of journal rows per state.
pub type InviteCounts = BTreeMap<InviteState, u64>;

// The filters of the reads a hint's reconcile makes: `query_plans` checks SQLite finds their
// rows by index.
pub(super) const OF_OPPORTUNITIES: &str =
    "WHERE tenant = ?1 AND opportunity_id IN (SELECT value FROM json_each(?2))";
pub(super) const OF_PARTICIPANT: &str = "WHERE tenant = ?1 AND participant_key = ?2";
pub(super) const BY_EMAIL: &str =
    "WHERE tenant = ?1 AND email COLLATE NOCASE IN (SELECT trim(value) FROM json_each(?2))";
pub(super) const IN_STATE: &str = "WHERE tenant = ?1 AND state = ?2";

const COLUMNS: &str = "opportunity_id, interview_key, email, participant_key, state, attempts, \
                       last_error, created_at, updated_at";

fn row(r: &Row<'_>) -> DbResult<(InviteRow, String)> {
    Ok((
        InviteRow {
            opportunity_id: r.get(0)?,
            interview_key: r.get(1)?,
            email: r.get(2)?,
            participant_key: r.get(3)?,
            state: InviteState::Planned,
            attempts: r.get(5)?,
            last_error: r.get(6)?,
            created_at: r.get(7)?,
            updated_at: r.get(8)?,
        },
        r.get(4)?,
    ))
}

fn finish((mut i, state): (InviteRow, String)) -> Result<InviteRow, StoreError> {
    i.state = InviteState::from_str(&state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(i)
}

impl Reader<'_> {
    /// Every journal row of the tenant, ordered by opportunity then interview.
    pub fn invites(&self, tenant: &str) -> Result<Vec<InviteRow>, StoreError> {
        self.query_invites(
            &format!(
                "SELECT {COLUMNS} FROM invites WHERE tenant = ?1 ORDER BY opportunity_id, interview_key"
            ),
            params![tenant],
        )
    }

    /// The journal rows of these opportunities.
    pub fn invites_of_opportunities(
        &self,
        tenant: &str,
        ids: &[String],
    ) -> Result<Vec<InviteRow>, StoreError> {
        self.query_invites(
            &format!("SELECT {COLUMNS} FROM invites {OF_OPPORTUNITIES}"),
            params![tenant, super::to_json_list(ids)],
        )
    }

    /// The journal rows that name this participant.
    pub fn invites_of_participant(
        &self,
        tenant: &str,
        participant_key: &str,
    ) -> Result<Vec<InviteRow>, StoreError> {
        self.query_invites(
            &format!("SELECT {COLUMNS} FROM invites {OF_PARTICIPANT}"),
            params![tenant, participant_key],
        )
    }

    /// The journal rows sent to any of these addresses, compared as the daemon compares them
    /// (trimmed; ASCII case aside; the caller applies the exact rule).
    pub fn invites_by_email(
        &self,
        tenant: &str,
        emails: &[String],
    ) -> Result<Vec<InviteRow>, StoreError> {
        self.query_invites(
            &format!("SELECT {COLUMNS} FROM invites {BY_EMAIL}"),
            params![tenant, super::to_json_list(emails)],
        )
    }

    /// Journal rows in any of `states`, ordered by opportunity then interview.
    pub fn invites_in_states(
        &self,
        tenant: &str,
        states: &[InviteState],
    ) -> Result<Vec<InviteRow>, StoreError> {
        // Run at the start of every pass and hint: one indexed lookup per state (the
        // `(tenant, state)` index), never a walk over the whole journal.
        let mut rows = Vec::new();
        for state in states {
            rows.extend(self.query_invites(
                &format!("SELECT {COLUMNS} FROM invites {IN_STATE}"),
                params![tenant, state.as_str()],
            )?);
        }
        rows.sort_by(|a, b| {
            (&a.opportunity_id, &a.interview_key).cmp(&(&b.opportunity_id, &b.interview_key))
        });
        Ok(rows)
    }

    pub fn invite(
        &self,
        tenant: &str,
        opportunity_id: &str,
        interview_key: &str,
    ) -> Result<Option<InviteRow>, StoreError> {
        let found = self
            .conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM invites WHERE tenant = ?1 AND opportunity_id = ?2 AND interview_key = ?3"
                ),
                params![tenant, opportunity_id, interview_key],
                row,
            )
            .optional()
            .ctx("read invite")?;
        found.map(finish).transpose()
    }

    pub fn invite_counts(&self, tenant: &str) -> Result<InviteCounts, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT state, COUNT(*) FROM invites WHERE tenant = ?1 GROUP BY state")
            .ctx("prepare invite counts")?;
        let rows = st
            .query_map(params![tenant], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .ctx("read invite counts")?;
        let mut out = InviteCounts::new();
        for r in rows {
            let (state, n) = r.ctx("read invite counts")?;
            let state =
                InviteState::from_str(&state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            out.insert(state, n.max(0) as u64);
        }
        Ok(out)
    }

    fn query_invites(&self, sql: &str, p: &[Value<'_>]) -> Result<Vec<InviteRow>, StoreError> {
        let mut st = self.conn.prepare_cached(sql).ctx("prepare invites")?;
        let rows = st.query_map(p, row).ctx("read invites")?;
        rows.map(|r| r.ctx("read invites").and_then(finish))
            .collect()
    }
}

impl Tx<'_> {
    /// Records the intent to invite. Creates a `planned` row, or refreshes the email of an
    /// existing `planned` one; a row in any other state is left alone. Returns the row's state.
    pub fn plan_invite(
        &self,
        tenant: &str,
        opportunity_id: &str,
        interview_key: &str,
        email: &str,
        now: i64,
    ) -> Result<InviteState, StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO invites (tenant, opportunity_id, interview_key, email, state, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 'planned', ?5, ?5)
                 ON CONFLICT (tenant, opportunity_id, interview_key) DO UPDATE SET
                   email = excluded.email, updated_at = excluded.updated_at
                 WHERE invites.state = 'planned'",
            )
            .ctx("prepare plan invite")?
            .execute(params![tenant, opportunity_id, interview_key, email, now])
            .ctx("plan invite")?;
        self.invite(tenant, opportunity_id, interview_key)?
            .map(|r| r.state)
            .ok_or_else(|| StoreError::Corrupt("planned invite row vanished".into()))
    }

    /// `planned → in_flight`, counting the attempt. Must commit before the POST is sent.
    /// Returns false when the row was not `planned` (someone else moved it).
    pub fn mark_invite_in_flight(
        &self,
        tenant: &str,
        opportunity_id: &str,
        interview_key: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.transition(
            "UPDATE invites SET state = 'in_flight', attempts = attempts + 1, updated_at = ?4
             WHERE tenant = ?1 AND opportunity_id = ?2 AND interview_key = ?3 AND state = 'planned'",
            params![tenant, opportunity_id, interview_key, now],
        )
    }

    /// `planned | in_flight | ambiguous → done` with the participant that now exists
    /// (created by our POST, or found by a lookup and adopted).
    pub fn mark_invite_done(
        &self,
        tenant: &str,
        opportunity_id: &str,
        interview_key: &str,
        participant_key: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.transition(
            "UPDATE invites SET state = 'done', participant_key = ?4, last_error = NULL, updated_at = ?5
             WHERE tenant = ?1 AND opportunity_id = ?2 AND interview_key = ?3
               AND state IN ('planned', 'in_flight', 'ambiguous')",
            params![tenant, opportunity_id, interview_key, participant_key, now],
        )
    }

    /// Records an adopted participant for an opportunity with no journal row yet (or only a
    /// `planned` one): no invite email was sent for it.
    pub fn record_adopted_invite(
        &self,
        tenant: &str,
        opportunity_id: &str,
        interview_key: &str,
        email: &str,
        participant_key: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.transition(
            "INSERT INTO invites (tenant, opportunity_id, interview_key, email, participant_key, state,
                                  created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'done', ?6, ?6)
             ON CONFLICT (tenant, opportunity_id, interview_key) DO UPDATE SET
               state = 'done', participant_key = excluded.participant_key, last_error = NULL,
               updated_at = excluded.updated_at
             WHERE invites.state IN ('planned', 'in_flight', 'ambiguous')",
            params![tenant, opportunity_id, interview_key, email, participant_key, now],
        )
    }

    /// `in_flight → failed`: Willo refused the invite outright (a 4xx other than 429).
    pub fn mark_invite_failed(
        &self,
        tenant: &str,
        opportunity_id: &str,
        interview_key: &str,
        error: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.transition(
            "UPDATE invites SET state = 'failed', last_error = ?4, updated_at = ?5
             WHERE tenant = ?1 AND opportunity_id = ?2 AND interview_key = ?3 AND state = 'in_flight'",
            params![tenant, opportunity_id, interview_key, error, now],
        )
    }

    /// `in_flight → ambiguous`: the POST may or may not have reached Willo.
    pub fn mark_invite_ambiguous(
        &self,
        tenant: &str,
        opportunity_id: &str,
        interview_key: &str,
        error: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.transition(
            "UPDATE invites SET state = 'ambiguous', last_error = ?4, updated_at = ?5
             WHERE tenant = ?1 AND opportunity_id = ?2 AND interview_key = ?3 AND state = 'in_flight'",
            params![tenant, opportunity_id, interview_key, error, now],
        )
    }

    /// `in_flight | ambiguous → planned`: a lookup proved no participant exists, so the invite
    /// never happened and may be planned again. `error` says why the last attempt ended.
    pub fn reset_invite_to_planned(
        &self,
        tenant: &str,
        opportunity_id: &str,
        interview_key: &str,
        error: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.transition(
            "UPDATE invites SET state = 'planned', last_error = COALESCE(?4, last_error), updated_at = ?5
             WHERE tenant = ?1 AND opportunity_id = ?2 AND interview_key = ?3
               AND state IN ('in_flight', 'ambiguous')",
            params![tenant, opportunity_id, interview_key, error, now],
        )
    }

    fn transition(&self, sql: &str, p: &[Value<'_>]) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .prepare_cached(sql)
            .ctx("prepare invite transition")?
            .execute(p)
            .ctx("invite transition")?;
        Ok(n > 0)
    }
}
