//! What a pass did, for `--once`, `status`, logs and systemd's STATUS= line.

use std::fmt;

use serde::Serialize;

use super::apply::Applied;
use super::gap::Gap;
use super::group::ActionFailure;
use super::resolve::Resolved;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApiCounts {
    pub lever_calls: u64,
    pub lever_rate_limited: u64,
    pub willo_calls: u64,
    pub willo_rate_limited: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassSummary {
    pub tenant: String,
    pub kind: &'static str,
    pub result: &'static str,
    pub opportunities_examined: usize,
    /// Work left for a later pass on purpose: opportunities in backoff, actions waiting on an
    /// invite whose outcome is not settled, invites a lookup could not settle.
    pub deferred: usize,
    pub resolved: Resolved,
    pub applied: Applied,
    /// Needs-attention items recorded for the tenant after the pass.
    pub needs_attention: usize,
    pub api: ApiCounts,
    pub duration_ms: i64,
    pub warnings: Vec<String>,
    /// Each failed action: opportunity, candidate, action, error kind and error.
    pub failures: Vec<ActionFailure>,
    /// Parts of the pass refused for lack of permission, with what to grant.
    pub missing: Vec<Gap>,
    pub error: Option<String>,
}

impl PassSummary {
    /// The counts stored with the pass row (the same fields as the JSON summary).
    pub fn counts_json(&self) -> serde_json::Value {
        serde_json::json!({
            "opportunities_examined": self.opportunities_examined,
            "deferred": self.deferred,
            "failures": self.failures.len(),
            "missing": self.missing,
            "resolved": self.resolved,
            "applied": self.applied,
            "needs_attention": self.needs_attention,
            "api": self.api,
            "warnings": self.warnings.len(),
        })
    }

    /// One line for systemd's STATUS=.
    pub fn status_line(&self) -> String {
        format!(
            "{}: {} pass {} — {} examined, {} invited, {} tag writes, {} need attention",
            self.tenant,
            self.kind,
            self.result,
            self.opportunities_examined,
            self.applied.invites_sent + self.applied.invites_adopted,
            self.applied.tags_added + self.applied.tags_removed,
            self.needs_attention
        )
    }
}

impl fmt::Display for PassSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = &self.applied;
        writeln!(
            f,
            "tenant {}: {} pass {} in {:.1}s",
            self.tenant,
            self.kind,
            self.result,
            self.duration_ms as f64 / 1000.0
        )?;
        writeln!(
            f,
            "  opportunities examined  {}",
            self.opportunities_examined
        )?;
        writeln!(
            f,
            "  invites                 {} sent, {} adopted, {} ambiguous, {} refused",
            a.invites_sent, a.invites_adopted, a.invites_ambiguous, a.invites_failed
        )?;
        let r = &self.resolved;
        if r.adopted + r.reset + r.inconclusive > 0 {
            writeln!(
                f,
                "  unresolved invites      {} found in Willo, {} provably never sent, {} undecided",
                r.adopted, r.reset, r.inconclusive
            )?;
        }
        writeln!(
            f,
            "  tags                    {} added, {} removed",
            a.tags_added, a.tags_removed
        )?;
        let n = &r.notes;
        if a.notes_posted + a.notes_unknown + n.found + n.reset + n.undecided > 0 {
            writeln!(
                f,
                "  completion notes        {} posted, {} outcome unknown; earlier unknown: {} found, {} not in Lever, {} undecided",
                a.notes_posted, a.notes_unknown, n.found, n.reset, n.undecided
            )?;
        }
        writeln!(f, "  needs attention         {}", self.needs_attention)?;
        if a.failed + a.skipped > 0 {
            writeln!(
                f,
                "  actions failed          {} (skipped {})",
                a.failed, a.skipped
            )?;
        }
        for x in &self.failures {
            writeln!(
                f,
                "    {} {} ({}): {} [{}]",
                x.action, x.opportunity_id, x.candidate, x.error, x.error_kind
            )?;
        }
        for g in &self.missing {
            writeln!(f, "  missing permission      {g}")?;
        }
        if self.deferred > 0 {
            writeln!(
                f,
                "  deferred                {} (left for a later pass; see `status`)",
                self.deferred
            )?;
        }
        writeln!(
            f,
            "  API calls               Lever {} ({} × 429), Willo {} ({} × 429)",
            self.api.lever_calls,
            self.api.lever_rate_limited,
            self.api.willo_calls,
            self.api.willo_rate_limited
        )?;
        for w in &self.warnings {
            writeln!(f, "  warning: {w}")?;
        }
        if let Some(e) = &self.error {
            writeln!(f, "  error: {e}")?;
        }
        Ok(())
    }
}
