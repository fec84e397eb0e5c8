//! `status`: each tenant's connection, last passes, next pass, invites by state, failing
//! opportunities and needs-attention items, and an exit status a check can use. It reads only
//! the state store and the configuration's non-secret keys, so it works next to a running
//! daemon and without the service's secrets.

use serde::Serialize;

use super::{CommandError, SCHEMA_VERSION};
use crate::config::StateSettings;
use crate::domain::attention::AttentionReason;
use crate::domain::{PassKind, PassResult};
use crate::exit::ExitStatus;
use crate::store::{PassRow, Store, StoreError};
use crate::timefmt::rfc3339;

mod text;

#[derive(Serialize)]
pub(super) struct Report {
    schema_version: u32,
    state_file: String,
    /// The process holding the state's lock, while one is alive (SQLite).
    writer: Option<Writer>,
    /// The state is a PostgreSQL store that several instances share: each tenant's `lease`
    /// says which one runs it.
    shared: bool,
    /// The next scheduled passes, while a daemon runs them.
    next_passes: Option<NextPasses>,
    tenants: Vec<TenantReport>,
    /// What `status` exits with (see [`verdict`]).
    exit_status: u8,
}

#[derive(Serialize)]
struct Writer {
    pid: u32,
    /// `daemon`, `once`, `sandbox`, or `unknown` when its command line cannot be read.
    kind: &'static str,
}

#[derive(Serialize)]
struct NextPasses {
    incremental: Option<String>,
    full: Option<String>,
    schedule: String,
    full_schedule: String,
}

#[derive(Serialize)]
struct TenantReport {
    id: String,
    /// None when no pass has recorded anything for the tenant yet.
    connected: Option<bool>,
    disconnected_reason: Option<String>,
    /// `ok`, `needs_a_look` or `disconnected`.
    verdict: &'static str,
    /// Why the verdict is not `ok`, one sentence each.
    problems: Vec<String>,
    passes: Vec<PassReport>,
    /// The latest reconcile of one object for a webhook hint.
    last_targeted: Option<PassReport>,
    invites: std::collections::BTreeMap<String, u64>,
    attention: Vec<AttentionReport>,
    /// Opportunities whose last action failed; `deferred` while they wait out their backoff.
    failing: Vec<FailingReport>,
    /// Several instances on PostgreSQL: which one holds the tenant, until when.
    #[serde(skip_serializing_if = "Option::is_none")]
    lease: Option<LeaseReport>,
}

#[derive(Serialize)]
struct LeaseReport {
    /// The instance holding (or that last held) the lease.
    owner: String,
    expires_at: String,
    #[serde(skip)]
    expires_ms: i64,
    /// The lease has lapsed: no instance runs the tenant until one takes it.
    lapsed: bool,
    fence: i64,
}

#[derive(Serialize)]
struct FailingReport {
    opportunity_id: String,
    candidate: Option<String>,
    link: Option<String>,
    failures: u32,
    last_error: Option<String>,
    next_retry: String,
    #[serde(skip)]
    next_retry_ms: i64,
    deferred: bool,
}

#[derive(Serialize)]
struct PassReport {
    kind: String,
    /// `finished`, `running` (no result yet and the state's writer is alive) or
    /// `interrupted` (recorded so, or no result and its process is gone).
    state: &'static str,
    started_at: String,
    #[serde(skip)]
    started_ms: i64,
    finished_at: Option<String>,
    duration_ms: Option<i64>,
    result: Option<String>,
    counts: serde_json::Value,
    error: Option<String>,
}

#[derive(Serialize)]
struct AttentionReport {
    opportunity_id: String,
    /// The candidate's name and Lever page, when a pass has read them.
    name: Option<String>,
    link: Option<String>,
    reason: String,
    detail: Option<String>,
    since: String,
    #[serde(skip)]
    since_ms: i64,
    /// What a person does about it.
    fix: &'static str,
}

const PASSES_SHOWN: u32 = 5;

pub fn run(
    settings: &StateSettings,
    tenants: Vec<&str>,
    json: bool,
) -> Result<ExitStatus, CommandError> {
    let now = crate::clock::now_ms();
    let store = super::read_store(&settings.daemon.state_dir, &settings.store)?;
    // A pass without a result is running only while the writer holding the state is alive.
    let writer = crate::store::live_writer(&settings.daemon.state_dir).map(|pid| Writer {
        pid,
        kind: super::writer_kind(pid),
    });
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        state_file: settings
            .daemon
            .state_dir
            .join(crate::store::DB_FILE)
            .display()
            .to_string(),
        next_passes: writer
            .as_ref()
            .filter(|w| matches!(w.kind, "daemon" | "sandbox" | "unknown"))
            .map(|_| next_passes(settings, now)),
        writer,
        shared: false,
        tenants: Vec::new(),
        exit_status: 0,
    };
    // On PostgreSQL there is no lock file: each tenant's lease says who runs it, by the
    // database's clock.
    let (leases, store_now) = match &store {
        Some(s) if s.dialect() == crate::store::Dialect::Postgres => {
            report.state_file = s.path().display().to_string();
            report.shared = true;
            s.read(|r| Ok((r.leases()?, r.store_now(now)?)))?
        }
        _ => (Vec::new(), now),
    };
    let mut status = ExitStatus::Converged;
    for id in tenants {
        let lease = leases.iter().find(|l| l.tenant == id).map(|l| LeaseReport {
            owner: l.owner.clone(),
            expires_at: rfc3339(l.expires_at),
            expires_ms: l.expires_at,
            lapsed: l.expires_at <= store_now,
            fence: l.fence,
        });
        let running = match &store {
            Some(s) if s.dialect() == crate::store::Dialect::Postgres => {
                lease.as_ref().is_some_and(|l| !l.lapsed)
            }
            _ => report.writer.is_some(),
        };
        let mut t = match &store {
            Some(store) => tenant_report(store, id, running, now)?,
            None => TenantReport::empty(id),
        };
        t.lease = lease;
        let (s, problems) = verdict(&t);
        t.verdict = match s {
            ExitStatus::Converged => "ok",
            ExitStatus::Credentials => "disconnected",
            _ => "needs_a_look",
        };
        t.problems = problems;
        status = status.worst(s);
        report.tenants.push(t);
    }
    report.exit_status = status.code();
    let mut out = super::output::stdout();
    if json {
        serde_json::to_writer_pretty(&mut out, &report).map_err(std::io::Error::other)?;
        std::io::Write::write_all(&mut out, b"\n")?;
    } else {
        text::write(&mut out, &report, store.is_some(), now)?;
    }
    std::io::Write::flush(&mut out)?;
    Ok(status)
}

/// What a tenant's state says about it: disconnected (77); its last scheduled pass did not
/// converge, it has failing opportunities, or no pass has run (1); else all is well (0).
/// Needs-attention items wait for a person and do not change it.
fn verdict(t: &TenantReport) -> (ExitStatus, Vec<String>) {
    if t.connected == Some(false) {
        let why = t
            .disconnected_reason
            .as_deref()
            .unwrap_or("credentials rejected");
        return (
            ExitStatus::Credentials,
            vec![format!("disconnected: {why}")],
        );
    }
    let mut problems = Vec::new();
    match t.passes.iter().find(|p| p.state != "running") {
        None => problems.push("no scheduled pass has finished yet".to_owned()),
        Some(p) if p.result.as_deref() != Some(PassResult::Converged.as_str()) => {
            let result = p.result.as_deref().unwrap_or(p.state);
            let why = p
                .error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            problems.push(format!("the last {} pass ended {result}{why}", p.kind));
        }
        Some(_) => {}
    }
    let deferred = t.failing.iter().filter(|f| f.deferred).count();
    if !t.failing.is_empty() {
        problems.push(format!(
            "{} failing opportunit{} ({deferred} deferred until their retry)",
            t.failing.len(),
            if t.failing.len() == 1 { "y" } else { "ies" }
        ));
    }
    let status = if problems.is_empty() {
        ExitStatus::Converged
    } else {
        ExitStatus::ActionsFailed
    };
    (status, problems)
}

/// What a person does about an item (rule: needs attention, docs/behaviour.md).
fn fix(reason: &str) -> &'static str {
    match reason.parse::<AttentionReason>() {
        Ok(AttentionReason::NoEmail) => {
            "add an email address to the candidate in Lever; the next pass invites them"
        }
        Ok(AttentionReason::NoConsent) => {
            "the candidate declined contact in Lever: invite them only if they agree, by hand; the item clears when they leave the trigger stage"
        }
        Ok(AttentionReason::InviteRejected) => {
            "Willo refused the invite (see the detail, often the email address): correct it and invite the candidate in Willo by hand; a refused invite is not retried"
        }
        Ok(AttentionReason::LookupInconclusive) => {
            "the interview has participants without an email in Willo: give them their email (or remove them), then the next pass decides"
        }
        Ok(AttentionReason::NoAccess) => {
            "Lever refuses this opportunity to the daemon's key (a confidential requisition?): grant the key confidential access, or set include_confidential"
        }
        Err(_) => "see docs/behaviour.md, rule: needs attention",
    }
}

impl TenantReport {
    fn empty(id: &str) -> TenantReport {
        TenantReport {
            id: id.to_owned(),
            connected: None,
            disconnected_reason: None,
            verdict: "needs_a_look",
            problems: Vec::new(),
            passes: Vec::new(),
            last_targeted: None,
            invites: Default::default(),
            attention: Vec::new(),
            failing: Vec::new(),
            lease: None,
        }
    }
}

fn tenant_report(
    store: &Store,
    id: &str,
    writer_alive: bool,
    now: i64,
) -> Result<TenantReport, StoreError> {
    let pass_report = |p| pass_report(p, writer_alive);
    store.read(|r| {
        let tenant = r.tenant(id)?;
        Ok(TenantReport {
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
            lease: None,
            invites: r
                .invite_counts(id)?
                .into_iter()
                .map(|(k, v)| (k.as_str().to_owned(), v))
                .collect(),
            attention: r
                .attention(id)?
                .into_iter()
                .map(|a| AttentionReport {
                    fix: fix(&a.reason),
                    opportunity_id: a.opportunity_id,
                    name: a.name,
                    link: a.link,
                    reason: a.reason,
                    detail: a.detail,
                    since: rfc3339(a.since),
                    since_ms: a.since,
                })
                .collect(),
            failing: r
                .failing_opportunities(id)?
                .into_iter()
                .map(|o| FailingReport {
                    deferred: o.next_check_at > now,
                    next_retry: rfc3339(o.next_check_at),
                    next_retry_ms: o.next_check_at,
                    opportunity_id: o.id,
                    candidate: o.name,
                    link: o.link,
                    failures: o.failure_count,
                    last_error: o.last_error,
                })
                .collect(),
            ..TenantReport::empty(id)
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
        started_ms: p.started_at,
        finished_at: p.finished_at.map(rfc3339),
        duration_ms: p.finished_at.map(|f| f - p.started_at),
        result: p.result.map(|r| r.as_str().to_owned()),
        counts: p.counts,
        error: p.error,
    }
}

fn next_passes(settings: &StateSettings, now: i64) -> NextPasses {
    let at = chrono::DateTime::from_timestamp_millis(now).unwrap_or_default();
    let next =
        |s: &crate::config::Schedule| s.next_after(at).map(|t| rfc3339(t.timestamp_millis()));
    NextPasses {
        incremental: next(&settings.daemon.schedule),
        full: next(&settings.daemon.full_schedule),
        schedule: settings.daemon.schedule.to_string(),
        full_schedule: settings.daemon.full_schedule.to_string(),
    }
}
