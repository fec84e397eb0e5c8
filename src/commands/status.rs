//! `status`: each tenant's connection, last passes, invites by state and needs-attention items.

use std::io::Write;

use serde::Serialize;

use super::CommandError;
use crate::config::{Settings, TenantSettings};
use crate::domain::{PassKind, PassResult};
use crate::exit::ExitStatus;
use crate::store::{PassRow, Store, StoreError};
use crate::timefmt::rfc3339;

#[derive(Serialize)]
struct Report {
    state_file: String,
    tenants: Vec<TenantReport>,
}

#[derive(Serialize)]
struct TenantReport {
    id: String,
    /// None when no pass has recorded anything for the tenant yet.
    connected: Option<bool>,
    disconnected_reason: Option<String>,
    passes: Vec<PassReport>,
    /// The latest reconcile of one object for a webhook hint.
    last_targeted: Option<PassReport>,
    invites: std::collections::BTreeMap<String, u64>,
    attention: Vec<AttentionReport>,
    /// Opportunities whose last action failed; `deferred` while they wait out their backoff.
    failing: Vec<FailingReport>,
}

#[derive(Serialize)]
struct FailingReport {
    opportunity_id: String,
    candidate: Option<String>,
    failures: u32,
    last_error: Option<String>,
    next_retry: String,
    deferred: bool,
}

#[derive(Serialize)]
struct PassReport {
    kind: String,
    /// `finished`, `running` (no result yet and the state's writer is alive) or
    /// `interrupted` (recorded so, or no result and its process is gone).
    state: &'static str,
    started_at: String,
    finished_at: Option<String>,
    duration_ms: Option<i64>,
    result: Option<String>,
    counts: serde_json::Value,
    error: Option<String>,
}

#[derive(Serialize)]
struct AttentionReport {
    opportunity_id: String,
    reason: String,
    detail: Option<String>,
    since: String,
}

const PASSES_SHOWN: u32 = 5;

pub fn run(
    settings: &Settings,
    tenants: Vec<&TenantSettings>,
    json: bool,
) -> Result<ExitStatus, CommandError> {
    let store = super::read_store(settings)?;
    // A pass without a result is running only while the writer holding the state is alive.
    let writer = crate::store::live_writer(&settings.daemon.state_dir);
    let mut report = Report {
        state_file: settings
            .daemon
            .state_dir
            .join(crate::store::DB_FILE)
            .display()
            .to_string(),
        tenants: Vec::new(),
    };
    for t in tenants {
        report.tenants.push(match &store {
            Some(store) => tenant_report(store, &t.id, writer.is_some())?,
            None => TenantReport {
                id: t.id.clone(),
                connected: None,
                disconnected_reason: None,
                passes: Vec::new(),
                last_targeted: None,
                invites: Default::default(),
                attention: Vec::new(),
                failing: Vec::new(),
            },
        });
    }
    let mut out = super::output::stdout();
    if json {
        serde_json::to_writer_pretty(&mut out, &report).map_err(std::io::Error::other)?;
        writeln!(out)?;
    } else {
        write_text(&mut out, &report, store.is_some())?;
    }
    out.flush()?;
    Ok(ExitStatus::Converged)
}

fn tenant_report(store: &Store, id: &str, writer_alive: bool) -> Result<TenantReport, StoreError> {
    let now = crate::clock::now_ms();
    let pass_report = |p| pass_report(p, writer_alive);
    store.read(|r| {
        let tenant = r.tenant(id)?;
        Ok(TenantReport {
            id: id.to_owned(),
            connected: tenant.as_ref().map(|t| t.connected),
            disconnected_reason: tenant.and_then(|t| t.disconnected_reason),
            // Scheduled passes; targeted reconciles (one per hint) would crowd them out.
            passes: r
                .recent_passes_of(id, &[PassKind::Full, PassKind::Incremental], PASSES_SHOWN)?
                .into_iter()
                .map(pass_report)
                .collect(),
            last_targeted: r
                .recent_passes_of(id, &[PassKind::Targeted], 1)?
                .into_iter()
                .map(pass_report)
                .next(),
            invites: r
                .invite_counts(id)?
                .into_iter()
                .map(|(k, v)| (k.as_str().to_owned(), v))
                .collect(),
            attention: r
                .attention(id)?
                .into_iter()
                .map(|a| AttentionReport {
                    opportunity_id: a.opportunity_id,
                    reason: a.reason,
                    detail: a.detail,
                    since: rfc3339(a.since),
                })
                .collect(),
            failing: r
                .failing_opportunities(id)?
                .into_iter()
                .map(|o| FailingReport {
                    deferred: o.next_check_at > now,
                    next_retry: rfc3339(o.next_check_at),
                    opportunity_id: o.id,
                    candidate: o.name,
                    failures: o.failure_count,
                    last_error: o.last_error,
                })
                .collect(),
        })
    })
}

fn pass_report(p: PassRow, writer_alive: bool) -> PassReport {
    let state = match p.result {
        None if writer_alive => "running",
        None | Some(PassResult::Interrupted) => "interrupted",
        Some(_) => "finished",
    };
    PassReport {
        kind: p.kind.as_str().to_owned(),
        state,
        started_at: rfc3339(p.started_at),
        finished_at: p.finished_at.map(rfc3339),
        duration_ms: p.finished_at.map(|f| f - p.started_at),
        result: p.result.map(|r| r.as_str().to_owned()),
        counts: p.counts,
        error: p.error,
    }
}

fn write_text(out: &mut impl Write, report: &Report, have_state: bool) -> std::io::Result<()> {
    writeln!(out, "state: {}", report.state_file)?;
    if !have_state {
        writeln!(out, "no pass has run yet with this state_dir")?;
    }
    for t in &report.tenants {
        let conn = match (t.connected, &t.disconnected_reason) {
            (None, _) => "unknown (no pass yet)".to_owned(),
            (Some(true), _) => "connected".to_owned(),
            (Some(false), Some(r)) => format!("DISCONNECTED: {r}"),
            (Some(false), None) => "DISCONNECTED".to_owned(),
        };
        writeln!(out, "\ntenant {}: {conn}", t.id)?;
        writeln!(out, "  last passes:")?;
        if t.passes.is_empty() {
            writeln!(out, "    (none)")?;
        }
        for p in t.passes.iter().chain(t.last_targeted.iter()) {
            let took = p
                .duration_ms
                .map(|d| format!("{:.1}s", d as f64 / 1000.0))
                .unwrap_or_else(|| "-".into());
            writeln!(
                out,
                "    {:<11} {}  {:>7}  {}{}",
                p.kind,
                p.started_at,
                took,
                p.result.as_deref().unwrap_or(p.state),
                p.error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            )?;
        }
        let invites: Vec<String> = t.invites.iter().map(|(k, v)| format!("{k} {v}")).collect();
        writeln!(
            out,
            "  invites: {}",
            if invites.is_empty() {
                "none".to_owned()
            } else {
                invites.join(", ")
            }
        )?;
        writeln!(out, "  needs attention ({}):", t.attention.len())?;
        for a in &t.attention {
            writeln!(
                out,
                "    {}  {}{}  since {}",
                a.opportunity_id,
                a.reason,
                a.detail
                    .as_deref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default(),
                a.since
            )?;
        }
        write_failing(out, &t.failing)?;
    }
    Ok(())
}

fn write_failing(out: &mut impl Write, failing: &[FailingReport]) -> std::io::Result<()> {
    let deferred = failing.iter().filter(|f| f.deferred).count();
    writeln!(
        out,
        "  failing ({}, {deferred} deferred until their retry):",
        failing.len()
    )?;
    for f in failing {
        writeln!(
            out,
            "    {} ({})  {} failure(s), {} {}: {}",
            f.opportunity_id,
            f.candidate.as_deref().unwrap_or("name not read yet"),
            f.failures,
            if f.deferred {
                "retry at"
            } else {
                "retry due since"
            },
            f.next_retry,
            f.last_error.as_deref().unwrap_or("-"),
        )?;
    }
    Ok(())
}
