//! What incremental passes' status checks remember: when each participant was last read on its
//! own, and the interview sweeps under way (a listing read over several passes, page by page).
//! An open invite was last checked at the later of its participant's read and its interview's
//! last complete listing (rule: status-check budget).

use std::collections::BTreeMap;

use super::db::params;

use super::{Ctx, Reader, StoreError, Tx};

/// A `done` invite with what the store knows of its participant's checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteCheckRow {
    pub interview_key: String,
    pub participant_key: Option<String>,
    /// The participant's last stored state (`None`: not seen, or no state).
    pub state: Option<String>,
    /// When it was last checked (`None`: never).
    pub checked_at: Option<i64>,
}

/// An interview sweep under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sweep {
    /// The page the next pass reads first (1-based).
    pub next_page: u64,
    pub started_at: i64,
}

impl Reader<'_> {
    /// Every `done` invite's participant once, with its state and last check, handed to `each`
    /// row by row: at 100,000 open invites a collected copy of every row was the largest thing
    /// an incremental pass held (issue 12, flat memory), and the caller keeps only some.
    pub fn invite_checks(
        &self,
        tenant: &str,
        mut each: impl FnMut(InviteCheckRow),
    ) -> Result<(), StoreError> {
        self.conn
            .for_each(
                "SELECT DISTINCT i.interview_key, i.participant_key, p.state,
                        NULLIF(MAX(COALESCE(p.checked_at, 0), COALESCE(v.listed_at, 0)), 0)
                 FROM invites i
                 LEFT JOIN participants p ON p.tenant = i.tenant AND p.key = i.participant_key
                 LEFT JOIN interviews v ON v.tenant = i.tenant AND v.key = i.interview_key
                 WHERE i.tenant = ?1 AND i.state = 'done'",
                params![tenant],
                |r| {
                    each(InviteCheckRow {
                        interview_key: r.get(0)?,
                        participant_key: r.get(1)?,
                        state: r.get(2)?,
                        checked_at: r.get(3)?,
                    });
                    Ok::<(), super::db::DbError>(())
                },
            )
            .ctx("read invite checks")?;
        Ok(())
    }

    /// How many participants the store holds of each of `interviews`.
    pub fn participant_counts(
        &self,
        tenant: &str,
        interviews: &[String],
    ) -> Result<BTreeMap<String, u64>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT interview_key, COUNT(*) FROM participants
                 WHERE tenant = ?1 AND interview_key IN (SELECT value FROM json_each(?2))
                 GROUP BY interview_key",
            )
            .ctx("prepare participant counts")?;
        let rows = st
            .query_map(params![tenant, super::to_json_list(interviews)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .ctx("read participant counts")?;
        rows.map(|r| r.map(|(k, n)| (k, u64::try_from(n).unwrap_or(0))))
            .collect::<Result<_, _>>()
            .ctx("read participant counts")
    }

    /// The sweeps under way.
    pub fn sweeps(&self, tenant: &str) -> Result<BTreeMap<String, Sweep>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT interview_key, next_page, started_at FROM interview_sweeps
                 WHERE tenant = ?1",
            )
            .ctx("prepare sweeps")?;
        let rows = st
            .query_map(params![tenant], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    Sweep {
                        next_page: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(1).max(1),
                        started_at: r.get(2)?,
                    },
                ))
            })
            .ctx("read sweeps")?;
        rows.collect::<Result<_, _>>().ctx("read sweeps")
    }
}

impl Tx<'_> {
    /// Notes where a sweep stopped.
    pub fn save_sweep(
        &self,
        tenant: &str,
        interview: &str,
        sweep: Sweep,
    ) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO interview_sweeps (tenant, interview_key, next_page, started_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (tenant, interview_key) DO UPDATE SET
                   next_page = excluded.next_page, started_at = excluded.started_at",
            )
            .ctx("prepare save sweep")?
            .execute(params![
                tenant,
                interview,
                i64::try_from(sweep.next_page).unwrap_or(i64::MAX),
                sweep.started_at
            ])
            .ctx("save sweep")?;
        Ok(())
    }

    /// A sweep read its last page: the interview counts as listed when the sweep started (a
    /// participant created since may have been missed) and the sweep is over.
    pub fn finish_sweep(
        &self,
        tenant: &str,
        interview: &str,
        started_at: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "UPDATE interviews SET listed_at = MAX(COALESCE(listed_at, 0), ?3)
                 WHERE tenant = ?1 AND key = ?2",
            )
            .ctx("prepare finish sweep")?
            .execute(params![tenant, interview, started_at])
            .ctx("finish sweep")?;
        self.drop_sweep(tenant, interview)
    }

    pub(super) fn drop_sweep(&self, tenant: &str, interview: &str) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached("DELETE FROM interview_sweeps WHERE tenant = ?1 AND interview_key = ?2")
            .ctx("prepare drop sweep")?
            .execute(params![tenant, interview])
            .ctx("drop sweep")?;
        Ok(())
    }

    /// Moves every check of `tenant` `by` milliseconds into the past: what tests and benchmarks
    /// use to stand for time passing between passes.
    #[doc(hidden)]
    pub fn backdate_checks(&self, tenant: &str, by: i64) -> Result<(), StoreError> {
        for sql in [
            "UPDATE participants SET checked_at = checked_at - ?2 WHERE tenant = ?1",
            "UPDATE interviews SET listed_at = listed_at - ?2 WHERE tenant = ?1",
            "UPDATE interviews SET complete_at = complete_at - ?2 WHERE tenant = ?1",
            "UPDATE interview_sweeps SET started_at = started_at - ?2 WHERE tenant = ?1",
        ] {
            self.conn()
                .execute(sql, params![tenant, by])
                .ctx("backdate checks")?;
        }
        Ok(())
    }

    /// Notes that these participants were read at `at`.
    pub fn mark_checked(&self, tenant: &str, keys: &[String], at: i64) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "UPDATE participants SET checked_at = ?3
                 WHERE tenant = ?1 AND key IN (SELECT value FROM json_each(?2))",
            )
            .ctx("prepare mark checked")?
            .execute(params![tenant, super::to_json_list(keys), at])
            .ctx("mark checked")?;
        Ok(())
    }
}
