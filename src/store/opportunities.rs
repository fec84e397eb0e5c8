//! The opportunity mirror: what the daemon last saw of each Lever opportunity it cares about,
//! plus its per-opportunity backoff (next check time and failure count).

use super::db::{DbResult, Optional, Row, params};

use super::{Ctx, Reader, StoreError, Tx, from_json_list, to_json_list};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpportunityRow {
    pub id: String,
    /// The candidate's name as last read.
    pub name: Option<String>,
    /// The opportunity's page in Lever (`urls.show`), as last read.
    pub link: Option<String>,
    pub stage_id: Option<String>,
    pub tags: Vec<String>,
    pub email: Option<String>,
    pub posting_id: Option<String>,
    pub updated_at: Option<i64>,
    pub deleted: bool,
    pub next_check_at: i64,
    pub failure_count: u32,
    pub last_error: Option<String>,
    pub seen_at: i64,
}

/// The filter of a hint's backoff read (`query_plans` checks it uses the index).
pub(super) const BACKOFFS_OF: &str =
    "WHERE tenant = ?1 AND id IN (SELECT value FROM json_each(?2)) AND next_check_at > ?3";

const COLUMNS: &str = "id, stage_id, tags, email, posting_id, updated_at, deleted, next_check_at, \
                       failure_count, last_error, seen_at, name, link";

fn row(r: &Row<'_>) -> DbResult<(OpportunityRow, String)> {
    Ok((
        OpportunityRow {
            id: r.get(0)?,
            stage_id: r.get(1)?,
            tags: Vec::new(),
            email: r.get(3)?,
            posting_id: r.get(4)?,
            updated_at: r.get(5)?,
            deleted: r.get(6)?,
            next_check_at: r.get(7)?,
            failure_count: r.get(8)?,
            last_error: r.get(9)?,
            seen_at: r.get(10)?,
            name: r.get(11)?,
            link: r.get(12)?,
        },
        r.get(2)?,
    ))
}

fn finish((mut o, tags): (OpportunityRow, String)) -> Result<OpportunityRow, StoreError> {
    o.tags = from_json_list(&tags, "opportunities.tags")?;
    Ok(o)
}

/// What was observed of an opportunity, to mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenOpportunity<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub link: Option<&'a str>,
    pub stage_id: Option<&'a str>,
    pub tags: &'a [String],
    pub email: Option<&'a str>,
    pub posting_id: Option<&'a str>,
    pub updated_at: Option<i64>,
    /// The pass that read it had nothing to do for it: a re-read an earlier pass asked for is
    /// done (a backoff after a failure is kept).
    pub settled: bool,
    /// Record `seen_at` even when nothing stored changed: a full pass proves with it which
    /// invited opportunities it did not see. Other passes leave unchanged rows alone, so a
    /// window of many unchanged opportunities writes nothing (each chunk's transaction would
    /// otherwise rewrite a page per opportunity, scattered over the table).
    pub touch: bool,
}

impl Reader<'_> {
    pub fn opportunity(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<OpportunityRow>, StoreError> {
        let found = self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM opportunities WHERE tenant = ?1 AND id = ?2"),
                params![tenant, id],
                row,
            )
            .optional()
            .ctx("read opportunity")?;
        found.map(finish).transpose()
    }

    /// Opportunities whose next check lies after `now` (in backoff), with that time.
    pub fn opportunity_backoffs(
        &self,
        tenant: &str,
        now: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT id, next_check_at FROM opportunities
                 WHERE tenant = ?1 AND next_check_at > ?2 ORDER BY id",
            )
            .ctx("prepare backoffs")?;
        let rows = st
            .query_map(params![tenant, now], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx("read backoffs")?;
        rows.collect::<Result<_, _>>().ctx("read backoffs")
    }

    /// Opportunities whose next check has come (a retry after a failure, or a re-read of work a
    /// pass left undone), not deleted.
    pub fn due_opportunities(&self, tenant: &str, now: i64) -> Result<Vec<String>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT id FROM opportunities
                 WHERE tenant = ?1 AND next_check_at > 0 AND next_check_at <= ?2 AND deleted = 0
                 ORDER BY id",
            )
            .ctx("prepare due")?;
        let rows = st
            .query_map(params![tenant, now], |r| r.get(0))
            .ctx("read due")?;
        rows.collect::<Result<_, _>>().ctx("read due")
    }

    /// The next check times after `now` (in backoff) of these opportunities.
    pub fn backoffs_of(
        &self,
        tenant: &str,
        ids: &[String],
        now: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let sql = format!("SELECT id, next_check_at FROM opportunities {BACKOFFS_OF}");
        let mut st = self.conn.prepare_cached(&sql).ctx("prepare backoffs of")?;
        let rows = st
            .query_map(params![tenant, super::to_json_list(ids), now], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .ctx("read backoffs of")?;
        rows.collect::<Result<_, _>>().ctx("read backoffs of")
    }

    /// Opportunities currently failing (failure_count > 0), most failures first.
    pub fn failing_opportunities(&self, tenant: &str) -> Result<Vec<OpportunityRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM opportunities {FAILING} ORDER BY failure_count DESC, id"
        );
        let mut st = self.conn.prepare_cached(&sql).ctx("prepare failing")?;
        let rows = st.query_map(params![tenant], row).ctx("read failing")?;
        rows.map(|r| r.ctx("read failing").and_then(finish))
            .collect()
    }

    /// How many opportunities are in backoff (the metrics' gauge).
    pub fn failing_count(&self, tenant: &str) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row(
                &format!("SELECT COUNT(*) FROM opportunities {FAILING}"),
                params![tenant],
                |r| r.get(0),
            )
            .ctx("count failing")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// The opportunities of a tenant in backoff, served by the partial index
/// `opportunities_failing` (migration 9).
pub(super) const FAILING: &str = "WHERE tenant = ?1 AND failure_count > 0";

impl Tx<'_> {
    /// Mirrors an observed opportunity, keeping its backoff state.
    pub fn save_opportunity(
        &self,
        tenant: &str,
        o: &SeenOpportunity<'_>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO opportunities (tenant, id, stage_id, tags, email, posting_id, updated_at,
                                            deleted, seen_at, name, link)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?11)
                 ON CONFLICT (tenant, id) DO UPDATE SET
                   stage_id = excluded.stage_id, tags = excluded.tags, email = excluded.email,
                   posting_id = excluded.posting_id, updated_at = excluded.updated_at,
                   deleted = 0, seen_at = excluded.seen_at, name = excluded.name,
                   link = excluded.link,
                   next_check_at = CASE WHEN ?10 AND opportunities.failure_count = 0 THEN 0
                                        ELSE opportunities.next_check_at END
                 WHERE ?12 OR opportunities.deleted <> 0
                    OR opportunities.stage_id IS DISTINCT FROM excluded.stage_id
                    OR opportunities.tags IS DISTINCT FROM excluded.tags
                    OR opportunities.email IS DISTINCT FROM excluded.email
                    OR opportunities.posting_id IS DISTINCT FROM excluded.posting_id
                    OR opportunities.name IS DISTINCT FROM excluded.name
                    OR opportunities.link IS DISTINCT FROM excluded.link
                    OR (?10 AND opportunities.failure_count = 0 AND opportunities.next_check_at <> 0)",
            )
            .ctx("prepare save opportunity")?
            .execute(params![
                tenant,
                o.id,
                o.stage_id,
                to_json_list(o.tags),
                o.email,
                o.posting_id,
                o.updated_at,
                now,
                o.name,
                o.settled,
                o.link,
                o.touch
            ])
            .ctx("save opportunity")?;
        Ok(())
    }

    /// Marks an opportunity deleted in Lever: the daemon stops acting on it.
    pub fn mark_opportunity_deleted(
        &self,
        tenant: &str,
        id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO opportunities (tenant, id, deleted, seen_at) VALUES (?1, ?2, 1, ?3)
                 ON CONFLICT (tenant, id) DO UPDATE SET deleted = 1, seen_at = excluded.seen_at,
                   next_check_at = 0, failure_count = 0, last_error = NULL",
                params![tenant, id, now],
            )
            .ctx("mark opportunity deleted")?;
        Ok(())
    }

    /// Records a failed action on an opportunity and when to look at it again.
    pub fn record_opportunity_failure(
        &self,
        tenant: &str,
        id: &str,
        error: &str,
        next_check_at: i64,
        now: i64,
    ) -> Result<u32, StoreError> {
        self.conn()
            .query_row(
                "INSERT INTO opportunities (tenant, id, failure_count, last_error, next_check_at, seen_at)
                 VALUES (?1, ?2, 1, ?3, ?4, ?5)
                 ON CONFLICT (tenant, id) DO UPDATE SET failure_count = opportunities.failure_count + 1,
                   last_error = excluded.last_error, next_check_at = excluded.next_check_at
                 RETURNING failure_count",
                params![tenant, id, error, next_check_at, now],
                |r| r.get(0),
            )
            .ctx("record opportunity failure")
    }

    /// Asks the next pass to read the opportunity again (work this pass left undone), unless it
    /// already has a check scheduled.
    pub fn schedule_recheck(&self, tenant: &str, id: &str, at: i64) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO opportunities (tenant, id, next_check_at, seen_at) VALUES (?1, ?2, ?3, ?3)
                 ON CONFLICT (tenant, id) DO UPDATE SET next_check_at =
                   CASE WHEN opportunities.next_check_at = 0 THEN excluded.next_check_at
                        ELSE opportunities.next_check_at END",
            )
            .ctx("prepare recheck")?
            .execute(params![tenant, id, at])
            .ctx("schedule recheck")?;
        Ok(())
    }

    /// Clears an opportunity's backoff after a successful action.
    pub fn record_opportunity_success(&self, tenant: &str, id: &str) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "UPDATE opportunities SET failure_count = 0, last_error = NULL, next_check_at = 0
                 WHERE tenant = ?1 AND id = ?2 AND (failure_count > 0 OR next_check_at > 0)",
            )
            .ctx("prepare success")?
            .execute(params![tenant, id])
            .ctx("record opportunity success")?;
        Ok(())
    }

    /// The failure count of one opportunity (0 when unknown).
    pub fn opportunity_failures(&self, tenant: &str, id: &str) -> Result<u32, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT failure_count FROM opportunities WHERE tenant = ?1 AND id = ?2",
                params![tenant, id],
                |r| r.get(0),
            )
            .optional()
            .ctx("read failure count")?
            .unwrap_or(0))
    }
}
