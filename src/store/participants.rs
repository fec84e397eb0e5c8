//! Willo participants as last seen: their state and when that state last changed (the "most
//! recently changed participant decides" rule needs the latter: rule: deciding participant, docs/behaviour.md).

use super::db::{DbResult, Optional, Row, params};

use super::{Ctx, Reader, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantRow {
    pub key: String,
    pub interview_key: String,
    pub email: Option<String>,
    /// The state text as Willo shows it; None when Willo showed none.
    pub state: Option<String>,
    /// When the daemon first saw the current state.
    pub changed_at: i64,
    pub seen_at: i64,
    /// The link to the participant's response, when Willo gave one (rule: completion note).
    pub response_link: Option<String>,
}

/// The filter of a hint's participant read (`query_plans` checks it uses the index).
pub(super) const BY_KEYS: &str = "WHERE tenant = ?1 AND key IN (SELECT value FROM json_each(?2))";

const COLUMNS: &str = "key, interview_key, email, state, changed_at, seen_at, response_link";

fn row(r: &Row<'_>) -> DbResult<ParticipantRow> {
    Ok(ParticipantRow {
        key: r.get(0)?,
        interview_key: r.get(1)?,
        email: r.get(2)?,
        state: r.get(3)?,
        changed_at: r.get(4)?,
        seen_at: r.get(5)?,
        response_link: r.get(6)?,
    })
}

impl Reader<'_> {
    pub fn participants(&self, tenant: &str) -> Result<Vec<ParticipantRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM participants WHERE tenant = ?1 ORDER BY key");
        let mut st = self.conn.prepare_cached(&sql).ctx("prepare participants")?;
        let rows = st
            .query_map(params![tenant], row)
            .ctx("read participants")?;
        rows.collect::<Result<_, _>>().ctx("read participants")
    }

    /// The participants with these keys.
    pub fn participants_by_keys(
        &self,
        tenant: &str,
        keys: &[String],
    ) -> Result<Vec<ParticipantRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM participants {BY_KEYS}");
        let mut st = self
            .conn
            .prepare_cached(&sql)
            .ctx("prepare participants by key")?;
        let rows = st
            .query_map(params![tenant, super::to_json_list(keys)], row)
            .ctx("read participants by key")?;
        rows.collect::<Result<_, _>>()
            .ctx("read participants by key")
    }

    pub fn participant(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<Option<ParticipantRow>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM participants WHERE tenant = ?1 AND key = ?2"),
                params![tenant, key],
                row,
            )
            .optional()
            .ctx("read participant")
    }
}

impl Reader<'_> {
    /// Those of `keys` that name a participant the invite journal recorded for `tenant` (the
    /// only participants a hint can act on) and no interview, in the order given, each once.
    /// What a webhook body names is only trusted this far.
    pub fn recorded_participants(
        &self,
        tenant: &str,
        keys: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let list = super::to_json_list(keys);
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT k.value FROM json_each(?2) AS k
                 WHERE EXISTS (SELECT 1 FROM invites i
                               WHERE i.tenant = ?1 AND i.participant_key = k.value)
                   AND NOT EXISTS (SELECT 1 FROM interviews v WHERE v.tenant = ?1 AND v.key = k.value)
                 ORDER BY k.key",
            )
            .ctx("prepare recorded participants")?;
        let rows = st
            .query_map(params![tenant, list], |r| r.get::<_, String>(0))
            .ctx("read recorded participants")?;
        let mut out: Vec<String> = Vec::new();
        for key in rows {
            let key = key.ctx("read recorded participants")?;
            if !out.contains(&key) {
                out.push(key);
            }
        }
        Ok(out)
    }
}

/// What was observed of a participant, to remember.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeenParticipant<'a> {
    pub key: &'a str,
    pub interview_key: &'a str,
    pub email: Option<&'a str>,
    pub state: Option<&'a str>,
    /// Kept when a later read shows none: Willo giving a link once is enough.
    pub response_link: Option<&'a str>,
}

impl Tx<'_> {
    /// Records a participant as seen at `now`. `changed_at` is stored when the participant is
    /// new or its state differs from the stored one; otherwise the stored time stays.
    pub fn save_participant(
        &self,
        tenant: &str,
        p: &SeenParticipant<'_>,
        changed_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO participants (tenant, key, interview_key, email, state, changed_at, seen_at,
                                           first_seen_at, response_link)
                 VALUES (?1, ?2, ?3, NULLIF(trim(?4), ''), ?5, ?6, ?7, ?7, ?8)
                 ON CONFLICT (tenant, key) DO UPDATE SET
                   interview_key = excluded.interview_key,
                   email = COALESCE(excluded.email, participants.email),
                   response_link = COALESCE(excluded.response_link, participants.response_link),
                   changed_at = CASE WHEN participants.state IS NOT DISTINCT FROM excluded.state
                                     THEN participants.changed_at ELSE excluded.changed_at END,
                   state = excluded.state,
                   seen_at = excluded.seen_at",
            )
            .ctx("prepare save participant")?
            .execute(params![
                tenant,
                p.key,
                p.interview_key,
                p.email,
                p.state,
                changed_at,
                now,
                p.response_link
            ])
            .ctx("save participant")?;
        Ok(())
    }
}
