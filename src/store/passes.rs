//! The pass log: kind, start, end, result and counts of every reconciliation pass.

use std::fmt;
use std::str::FromStr;

use rusqlite::{OptionalExtension, Row, params};

use super::{Ctx, Reader, StoreError, Tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PassKind {
    Full,
    Incremental,
    Targeted,
}

impl PassKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PassKind::Full => "full",
            PassKind::Incremental => "incremental",
            PassKind::Targeted => "targeted",
        }
    }
}

impl fmt::Display for PassKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PassKind {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        match s {
            "full" => Ok(PassKind::Full),
            "incremental" => Ok(PassKind::Incremental),
            "targeted" => Ok(PassKind::Targeted),
            other => Err(StoreError::Corrupt(format!("unknown pass kind {other:?}"))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PassResult {
    /// Everything planned was applied.
    Converged,
    /// The pass finished; some actions failed and will be retried.
    ActionsFailed,
    /// The pass stopped part-way (API unreachable, store error): its cursor did not move.
    Failed,
    /// Credentials were rejected; the tenant is disconnected.
    Disconnected,
    /// Shutdown arrived mid-pass.
    Interrupted,
}

impl PassResult {
    pub fn as_str(self) -> &'static str {
        match self {
            PassResult::Converged => "converged",
            PassResult::ActionsFailed => "actions_failed",
            PassResult::Failed => "failed",
            PassResult::Disconnected => "disconnected",
            PassResult::Interrupted => "interrupted",
        }
    }

    /// True when the pass read everything it meant to (its cursor may move).
    pub fn completed(self) -> bool {
        matches!(self, PassResult::Converged | PassResult::ActionsFailed)
    }
}

impl fmt::Display for PassResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PassResult {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        [
            PassResult::Converged,
            PassResult::ActionsFailed,
            PassResult::Failed,
            PassResult::Disconnected,
            PassResult::Interrupted,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown pass result {s:?}")))
    }
}

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

fn row(r: &Row<'_>) -> rusqlite::Result<RawPass> {
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
        kind: kind.parse()?,
        started_at,
        finished_at,
        result: result.map(|r| r.parse()).transpose()?,
        counts: serde_json::from_str(&counts)
            .map_err(|e| StoreError::Corrupt(format!("passes.counts: {e}")))?,
        error,
    })
}

impl Reader<'_> {
    /// The most recent passes of a tenant, newest first.
    pub fn recent_passes(&self, tenant: &str, limit: u32) -> Result<Vec<PassRow>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM passes WHERE tenant = ?1 ORDER BY id DESC LIMIT ?2"
            ))
            .ctx("prepare passes")?;
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
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM passes WHERE tenant = ?1
                   AND kind IN (SELECT value FROM json_each(?2)) ORDER BY id DESC LIMIT ?3"
            ))
            .ctx("prepare passes")?;
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
            .execute(
                "INSERT INTO passes (tenant, kind, started_at) VALUES (?1, ?2, ?3)",
                params![tenant, kind.as_str(), now],
            )
            .ctx("begin pass")?;
        Ok(self.conn().last_insert_rowid())
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

    /// Keeps the pass log bounded: drops all but the newest `keep` passes of a tenant.
    pub fn prune_passes(&self, tenant: &str, keep: u32) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "DELETE FROM passes WHERE tenant = ?1 AND id NOT IN
                   (SELECT id FROM passes WHERE tenant = ?1 ORDER BY id DESC LIMIT ?2)",
                params![tenant, keep],
            )
            .ctx("prune passes")?;
        Ok(())
    }
}
