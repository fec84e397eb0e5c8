//! The pass log: kind, start, end, result and counts of every reconciliation pass.

use super::db::{DbResult, Optional, Row, params};

use super::{Ctx, Reader, StoreError, Tx};
use crate::domain::{PassKind, PassResult};

#[derive(Debug, Clone, PartialEq)]
pub struct PassRow {
    pub id: i64,
    pub tenant: String,
    pub kind: PassKind,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// None while the pass runs (or if the process died during it).
    pub result: Option<PassResult>,
    pub counts: serde_json::Value,
    pub error: Option<String>,
}

const COLUMNS: &str = "id, tenant, kind, started_at, finished_at, result, counts, error";

type RawPass = (
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    String,
    Option<String>,
);

fn row(r: &Row<'_>) -> DbResult<RawPass> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn finish(raw: RawPass) -> Result<PassRow, StoreError> {
    let (id, tenant, kind, started_at, finished_at, result, counts, error) = raw;
    Ok(PassRow {
        id,
        tenant,
        kind: kind.parse().map_err(corrupt)?,
        started_at,
        finished_at,
        result: result.map(|r| r.parse()).transpose().map_err(corrupt)?,
        counts: serde_json::from_str(&counts)
            .map_err(|e| StoreError::Corrupt(format!("passes.counts: {e}")))?,
        error,
    })
}

impl Reader<'_> {
    /// The most recent passes of a tenant, newest first.
    pub fn recent_passes(&self, tenant: &str, limit: u32) -> Result<Vec<PassRow>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM passes WHERE tenant = ?1 ORDER BY id DESC LIMIT ?2");
        let mut st = self.conn.prepare_cached(&sql).ctx("prepare passes")?;
        let rows = st
            .query_map(params![tenant, limit], row)
            .ctx("read passes")?;
        rows.map(|r| r.ctx("read passes").and_then(finish))
            .collect()
    }

    /// The most recent passes of the given kinds, newest first.
    pub fn recent_passes_of(
        &self,
        tenant: &str,
        kinds: &[PassKind],
        limit: u32,
    ) -> Result<Vec<PassRow>, StoreError> {
        let kinds = serde_json::to_string(&kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>())
            .unwrap_or_else(|_| "[]".to_owned());
        let sql = format!(
            "SELECT {COLUMNS} FROM passes WHERE tenant = ?1
                   AND kind IN (SELECT value FROM json_each(?2)) ORDER BY id DESC LIMIT ?3"
        );
        let mut st = self.conn.prepare_cached(&sql).ctx("prepare passes")?;
        let rows = st
            .query_map(params![tenant, kinds, limit], row)
            .ctx("read passes")?;
        rows.map(|r| r.ctx("read passes").and_then(finish))
            .collect()
    }

    /// The latest pass of `kind` that read everything it meant to.
    pub fn last_completed_pass(
        &self,
        tenant: &str,
        kind: PassKind,
    ) -> Result<Option<PassRow>, StoreError> {
        let found = self
            .conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM passes WHERE tenant = ?1 AND kind = ?2
                     AND result IN ('converged', 'actions_failed') ORDER BY id DESC LIMIT 1"
                ),
                params![tenant, kind.as_str()],
                row,
            )
            .optional()
            .ctx("read last pass")?;
        found.map(finish).transpose()
    }
}

impl Tx<'_> {
    pub fn begin_pass(&self, tenant: &str, kind: PassKind, now: i64) -> Result<i64, StoreError> {
        self.conn()
            .query_row(
                "INSERT INTO passes (tenant, kind, started_at) VALUES (?1, ?2, ?3) RETURNING id",
                params![tenant, kind.as_str(), now],
                |r| r.get(0),
            )
            .ctx("begin pass")
    }

    pub fn finish_pass(
        &self,
        id: i64,
        result: PassResult,
        counts: &serde_json::Value,
        error: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE passes SET finished_at = ?2, result = ?3, counts = ?4, error = ?5 WHERE id = ?1",
                params![id, now, result.as_str(), counts.to_string(), error],
            )
            .ctx("finish pass")?;
        Ok(())
    }

    /// Records every pass of `tenant` (of every tenant with `None`) that has no result as
    /// interrupted, with `error` as its reason, and returns how many there were. Only the
    /// writer holding the lock calls it, so such a row is either one this process abandoned
    /// (`finished_at` is then known) or one a dead process left behind (then it stays unknown).
    pub fn interrupt_unfinished_passes(
        &self,
        tenant: Option<&str>,
        error: &str,
        finished_at: Option<i64>,
    ) -> Result<usize, StoreError> {
        self.conn()
            .execute(
                "UPDATE passes SET result = ?2, error = COALESCE(error, ?3), finished_at = ?4
                 WHERE result IS NULL AND (CAST(?1 AS TEXT) IS NULL OR tenant = ?1)",
                params![tenant, PassResult::Interrupted.as_str(), error, finished_at],
            )
            .ctx("interrupt unfinished passes")
    }

    /// Keeps the pass log bounded: drops all but the newest `keep` passes of a tenant (at
    /// least one is kept). The oldest kept pass is found by walking `passes_by_tenant` back
    /// from the newest, and everything older goes: a hint records a pass too, and the former
    /// `NOT IN (newest keep)` built and probed a set of `keep` ids every time (a tenth of a
    /// hint's CPU).
    pub fn prune_passes(&self, tenant: &str, keep: u32) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "DELETE FROM passes WHERE tenant = ?1 AND id <
                   (SELECT id FROM passes WHERE tenant = ?1 ORDER BY id DESC
                    LIMIT 1 OFFSET ?2)",
                params![tenant, keep.saturating_sub(1)],
            )
            .ctx("prune passes")?;
        Ok(())
    }
}

fn corrupt(e: crate::domain::pass::UnknownWord) -> StoreError {
    StoreError::Corrupt(e.to_string())
}
