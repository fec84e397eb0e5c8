//! The read-only status page (`GET /`) and its data (`GET /status.json`): per tenant the
//! connection, the last passes, the next ones, the hint queue, failing and deferred work,
//! needs-attention items with the candidate's name and Lever link, and what the last pass
//! could not read for lack of permission.
//!
//! It shows no secrets and no e-mail addresses: the store holds none of the first, addresses
//! are not read from it, and free text that came from an API (errors, details) has anything
//! shaped like an address replaced ([`redact`]). The HTML escapes every value it prints
//! (candidate names come from outside), and links only to `http(s)` URLs.

mod html;
mod redact;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{DaemonSettings, Schedule};
use crate::domain::{PassKind, PassResult};
use crate::store::{PassRow, Reader, StoreError};
use crate::timefmt::rfc3339;

pub use html::render;
pub use redact::redact;

/// Bumped when a field of `/status.json` changes meaning or goes away (adding one does not).
pub const SCHEMA_VERSION: u32 = 1;
/// Scheduled passes shown per tenant.
const PASSES_SHOWN: u32 = 5;

/// What the status page needs beyond the shared state: the schedules.
pub struct StatusPage {
    schedule: Schedule,
    full_schedule: Schedule,
}

impl StatusPage {
    pub fn new(d: &DaemonSettings) -> StatusPage {
        StatusPage {
            schedule: d.schedule.clone(),
            full_schedule: d.full_schedule.clone(),
        }
    }

    pub fn next_passes(&self, now: DateTime<Utc>) -> NextPasses {
        let next = |s: &Schedule| s.next_after(now).map(|t| rfc3339(t.timestamp_millis()));
        NextPasses {
            incremental: next(&self.schedule),
            incremental_schedule: self.schedule.as_str().to_owned(),
            full: next(&self.full_schedule),
            full_schedule: self.full_schedule.as_str().to_owned(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct StatusDoc {
    pub schema_version: u32,
    pub version: &'static str,
    pub generated_at: String,
    pub tenants: Vec<TenantStatus>,
}

#[derive(Debug, Serialize)]
pub struct TenantStatus {
    pub id: String,
    pub connection: Connection,
    pub next_passes: NextPasses,
    pub hint_queue_depth: usize,
    /// The latest full and incremental passes, newest first.
    pub passes: Vec<PassStatus>,
    /// The latest reconcile of one object for a webhook hint.
    pub last_targeted: Option<PassStatus>,
    /// Work the last completed scheduled pass left for later; None before any.
    pub deferred_work: Option<usize>,
    /// Opportunities whose last action failed; `deferred` while they wait out their backoff.
    pub failing: Vec<FailingItem>,
    pub needs_attention: Vec<AttentionItem>,
    /// What the last scheduled pass could not read for lack of permission, and what to grant.
    pub missing_permissions: Vec<String>,
    /// Set when the state store could not be read: the lists above are then empty.
    pub store_error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Connection {
    /// `connected`, `disconnected`, or `unknown` before any pass recorded it.
    pub state: &'static str,
    pub reason: Option<String>,
    pub since: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct NextPasses {
    pub incremental: Option<String>,
    pub incremental_schedule: String,
    pub full: Option<String>,
    pub full_schedule: String,
}

#[derive(Debug, Serialize)]
pub struct PassStatus {
    pub kind: &'static str,
    /// `running`, `finished` or `interrupted`.
    pub state: &'static str,
    pub result: Option<&'static str>,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct FailingItem {
    pub opportunity_id: String,
    pub name: Option<String>,
    pub link: Option<String>,
    pub failures: u32,
    pub last_error: Option<String>,
    pub next_retry: String,
    pub deferred: bool,
}

#[derive(Debug, Serialize)]
pub struct AttentionItem {
    pub opportunity_id: String,
    pub name: Option<String>,
    pub link: Option<String>,
    pub reason: String,
    pub detail: Option<String>,
    pub since: String,
}

/// What the daemon knows of a tenant outside the store.
pub struct Live {
    pub hint_queue_depth: usize,
    pub missing_permissions: Vec<String>,
}

/// A Lever link worth printing: an `http(s)` URL, never a `javascript:` or `data:` one.
fn safe_link(link: Option<String>) -> Option<String> {
    link.filter(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("https://") || l.starts_with("http://")
    })
}

fn text(s: Option<String>) -> Option<String> {
    s.map(|s| redact(&s))
}

fn pass_status(p: PassRow) -> PassStatus {
    // The daemon holds the state's lock: a pass without a result is one of its own, running.
    let state = match p.result {
        None => "running",
        Some(PassResult::Interrupted) => "interrupted",
        Some(_) => "finished",
    };
    PassStatus {
        kind: p.kind.as_str(),
        state,
        result: p.result.map(PassResult::as_str),
        started_at: rfc3339(p.started_at),
        finished_at: p.finished_at.map(rfc3339),
        duration_ms: p.finished_at.map(|f| f - p.started_at),
        error: text(p.error),
    }
}

impl TenantStatus {
    /// A tenant's status from the store (through `r`, or the error that kept it unread).
    pub fn read(
        id: &str,
        r: Result<&Reader<'_>, String>,
        page: &StatusPage,
        live: Live,
        now: DateTime<Utc>,
    ) -> TenantStatus {
        let mut t = TenantStatus {
            id: id.to_owned(),
            connection: Connection {
                state: "unknown",
                reason: None,
                since: None,
            },
            next_passes: page.next_passes(now),
            hint_queue_depth: live.hint_queue_depth,
            passes: Vec::new(),
            last_targeted: None,
            deferred_work: None,
            failing: Vec::new(),
            needs_attention: Vec::new(),
            missing_permissions: live.missing_permissions.iter().map(|m| redact(m)).collect(),
            store_error: None,
        };
        let filled = match r {
            Ok(r) => t
                .fill(r, now.timestamp_millis())
                .map_err(|e| crate::error_chain::chain(&e).to_string()),
            Err(e) => Err(e),
        };
        if let Err(e) = filled {
            t.store_error = Some(redact(&e));
        }
        t
    }

    fn fill(&mut self, r: &Reader<'_>, now_ms: i64) -> Result<(), StoreError> {
        if let Some(row) = r.tenant(&self.id)? {
            self.connection = Connection {
                state: if row.connected {
                    "connected"
                } else {
                    "disconnected"
                },
                reason: text(row.disconnected_reason),
                since: Some(rfc3339(row.changed_at)),
            };
        }
        let scheduled = [PassKind::Full, PassKind::Incremental];
        let passes = r.recent_passes_of(&self.id, &scheduled, PASSES_SHOWN)?;
        self.deferred_work = crate::metrics::deferred_work(r, &self.id)?;
        self.passes = passes.into_iter().map(pass_status).collect();
        self.last_targeted = r
            .recent_passes_of(&self.id, &[PassKind::Targeted], 1)?
            .into_iter()
            .map(pass_status)
            .next();
        self.failing = r
            .failing_opportunities(&self.id)?
            .into_iter()
            .map(|o| FailingItem {
                deferred: o.next_check_at > now_ms,
                next_retry: rfc3339(o.next_check_at),
                name: text(o.name),
                link: safe_link(o.link),
                opportunity_id: o.id,
                failures: o.failure_count,
                last_error: text(o.last_error),
            })
            .collect();
        self.needs_attention = r
            .attention(&self.id)?
            .into_iter()
            .map(|a| AttentionItem {
                name: text(a.name),
                link: safe_link(a.link),
                opportunity_id: a.opportunity_id,
                reason: a.reason,
                detail: text(a.detail),
                since: rfc3339(a.since),
            })
            .collect();
        Ok(())
    }
}

impl StatusDoc {
    pub fn new(tenants: Vec<TenantStatus>, now: DateTime<Utc>) -> StatusDoc {
        StatusDoc {
            schema_version: SCHEMA_VERSION,
            version: env!("CARGO_PKG_VERSION"),
            generated_at: rfc3339(now.timestamp_millis()),
            tenants,
        }
    }
}

#[cfg(test)]
mod tests;
