//! `--once`: one full pass per tenant, a summary, an exit status.
//!
//! SIGTERM or SIGINT stops it the daemon's way (rule: exit statuses, docs/behaviour.md): no
//! new actions, the action in flight finishes within `daemon.shutdown_grace_seconds`, the
//! pass is recorded as interrupted, the summary is printed and the status is 75.
//!
//! With `--metrics-file PATH` it also leaves the run's metrics in PATH for node_exporter's
//! textfile collector, so a timer-driven installation is monitored like the daemon.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{CommandError, build_tenants};
use crate::clock::now_ms;
use crate::config::{Settings, TenantSettings};
use crate::daemon::signals::Stop;
use crate::domain::{PassKind, PassResult};
use crate::exit::ExitStatus;
use crate::logging::progress::{self, PASS_STARTED};
use crate::metrics::{Metrics, TenantState, textfile};
use crate::reconcile::{Applied, PassError, PassSummary, Resolved, Tenant};
use crate::store::{OpenMode, Store};

/// One full pass per tenant, the summary on stdout, the combined exit status. Also what
/// `sandbox --once` runs (with a stop nobody requests), so the sandbox shows this code path.
pub(super) async fn once(
    settings: &Settings,
    tenants: Vec<&TenantSettings>,
    json: bool,
    stop: &Stop,
) -> Result<ExitStatus, CommandError> {
    once_writing(settings, tenants, json, stop, None).await
}

/// [`once`], then the run's metrics written to `metrics_file` when there is one.
pub(super) async fn once_writing(
    settings: &Settings,
    tenants: Vec<&TenantSettings>,
    json: bool,
    stop: &Stop,
    metrics_file: Option<&Path>,
) -> Result<ExitStatus, CommandError> {
    if let Some(path) = metrics_file {
        textfile::check(path).map_err(|e| CommandError::Usage(e.to_string()))?;
    }
    if stop.is_requested() {
        tracing::info!(
            signal = stop.by().unwrap_or("-"),
            "stopped before any pass started"
        );
        return Ok(ExitStatus::Interrupted);
    }
    let store = Arc::new(
        settings
            .store
            .open(&settings.daemon.state_dir, OpenMode::Writer)?,
    );
    settle_dead_passes(&store);
    let metrics = Metrics::new();
    let tenants = build_tenants(settings, &tenants, Arc::clone(&store), metrics.clone())?;
    let ids: Vec<&str> = tenants.iter().map(|t| t.id()).collect();
    // Several instances share a PostgreSQL store: the pass runs only under the tenants'
    // leases, and the database refuses its writes if it loses one.
    let leases = match &settings.store.postgres {
        Some(pg) => Some(crate::daemon::ownership::Ownership::hold(
            &settings.daemon.instance_id,
            pg.lease,
            Arc::clone(&store),
            metrics.clone(),
            &ids.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>(),
        )?),
        None => None,
    };
    tracing::info!(
        version = crate::cli::VERSION,
        config = %settings.source.display(),
        state = %store.path().display(),
        tenants = ?ids,
        "started --once: one full pass for each tenant"
    );
    let done = CancellationToken::new();
    let progress = progress(&tenants, done.clone());
    let grace = settings.daemon.shutdown_grace;
    // Tenants are independent: one's failure never stops another.
    let ends =
        futures::future::join_all(tenants.iter().map(|t| pass_within_grace(t, stop, grace))).await;
    done.cancel();
    let _ = progress.await;
    if let Some(leases) = &leases {
        leases.release_all();
    }
    let mut status = ExitStatus::Converged;
    let mut summaries: Vec<PassSummary> = Vec::new();
    for (t, end) in tenants.iter().zip(ends) {
        let (summary, tenant_status) = match end {
            End::Finished(o) if o.result == PassResult::Interrupted => {
                (o.summary, ExitStatus::Interrupted)
            }
            End::Finished(o) => {
                if let Some(PassError::Permission { .. }) = &o.error {
                    // The refusal that stopped the pass is a missing part too.
                    metrics.set_missing_permissions(t.id(), o.summary.missing.len().max(1));
                }
                let s = o.exit_status();
                (o.summary, s)
            }
            End::Abandoned { started, calls } => (
                abandoned(t, &store, grace, started, &calls),
                ExitStatus::Interrupted,
            ),
        };
        if metrics
            .missing_permissions
            .get(&Metrics::tenant(t.id()))
            .is_none()
        {
            metrics.set_missing_permissions(t.id(), summary.missing.len());
        }
        status = status.worst(tenant_status);
        summaries.push(summary);
    }
    if let Some(path) = metrics_file {
        status = status.worst(write_metrics(path, &metrics, &store, &tenants));
    }
    let mut out = super::output::stdout();
    if json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({
                "schema_version": super::SCHEMA_VERSION,
                "tenants": summaries,
                "exit_status": status.code(),
            }),
        )
        .map_err(std::io::Error::other)?;
        writeln!(out)?;
    } else {
        for s in &summaries {
            write!(out, "{s}")?;
        }
    }
    out.flush()?;
    Ok(status)
}

/// Writes the run's metrics, with the gauges the store backs, to `path`; a failure is logged
/// and makes the run exit 74 (its passes are done and recorded all the same).
fn write_metrics(
    path: &Path,
    metrics: &Metrics,
    store: &Store,
    tenants: &[Arc<Tenant>],
) -> ExitStatus {
    for t in tenants {
        match store.read(|r| TenantState::read(r, t.id())) {
            Ok(state) => metrics.observe_state(t.id(), &state),
            Err(e) => tracing::warn!(tenant = %t.id(), error = %crate::error_chain::chain(&e),
                "cannot read the state store for the metrics file; its store-backed gauges are left out"),
        }
    }
    match textfile::write_atomically(path, &metrics.encode_for_textfile()) {
        Ok(()) => ExitStatus::Converged,
        Err(e) => {
            tracing::error!(error = %crate::error_chain::chain(&e), "the metrics file was not written");
            ExitStatus::StateStore
        }
    }
}

/// How one tenant's pass ended.
enum End {
    Finished(Box<crate::reconcile::PassOutcome>),
    /// Still running when the grace period after a stop request ran out, and dropped there.
    Abandoned {
        started: std::time::Instant,
        calls: crate::reconcile::ApiCounts,
    },
}

/// Runs the pass; after a stop request it has `grace` to finish its action in flight, and is
/// abandoned after that (the journal settles an invite cut short on the next pass).
async fn pass_within_grace(t: &Tenant, stop: &Stop, grace: Duration) -> End {
    let (started, calls) = (std::time::Instant::now(), t.api_counts());
    let cancel = stop.token();
    tracing::info!(tenant = %t.id(), kind = %PassKind::Full, "{PASS_STARTED}");
    tokio::select! {
        biased;
        o = t.pass(PassKind::Full, &cancel) => End::Finished(Box::new(o)),
        _ = stop.grace_over(grace) => End::Abandoned { started, calls },
    }
}

/// Records an abandoned pass as interrupted and describes it like any other.
fn abandoned(
    t: &Tenant,
    store: &Store,
    grace: Duration,
    started: std::time::Instant,
    calls: &crate::reconcile::ApiCounts,
) -> PassSummary {
    let error = format!(
        "tenant {}: an action was still running {} s after the stop request and was abandoned; the next pass settles it",
        t.id(),
        grace.as_secs()
    );
    tracing::warn!(tenant = %t.id(), "{error}");
    let recorded =
        store.write(|tx| tx.interrupt_unfinished_passes(Some(t.id()), &error, Some(now_ms())));
    if let Err(e) = recorded {
        tracing::error!(tenant = %t.id(), error = %crate::error_chain::chain(&e),
            "cannot record the interrupted pass");
    }
    let now = t.api_counts();
    PassSummary {
        tenant: t.id().to_owned(),
        kind: PassKind::Full.as_str(),
        result: PassResult::Interrupted.as_str(),
        opportunities_examined: 0,
        deferred: 0,
        resolved: Resolved::default(),
        applied: Applied::default(),
        needs_attention: 0,
        api: crate::reconcile::ApiCounts {
            lever_calls: now.lever_calls - calls.lever_calls,
            lever_rate_limited: now.lever_rate_limited - calls.lever_rate_limited,
            willo_calls: now.willo_calls - calls.willo_calls,
            willo_rate_limited: now.willo_rate_limited - calls.willo_rate_limited,
        },
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        warnings: Vec::new(),
        failures: Vec::new(),
        missing: Vec::new(),
        error: Some(error),
    }
}

/// Passes left without a result hold no one's interest but `status`: this process holds the
/// lock now, so whoever ran them is gone.
pub(super) fn settle_dead_passes(store: &Store) {
    // Several instances share a PostgreSQL store, and another may be running its passes
    // now: a pass is settled by whoever takes its tenant's lapsed lease (`store/leases.rs`).
    if store.dialect() == crate::store::Dialect::Postgres {
        return;
    }
    let settled = store.write(|tx| {
        tx.interrupt_unfinished_passes(None, "the process running this pass ended during it", None)
    });
    match settled {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            passes = n,
            "passes left unfinished by an earlier process are recorded as interrupted"
        ),
        Err(e) => tracing::warn!(error = %crate::error_chain::chain(&e),
            "cannot record earlier unfinished passes as interrupted"),
    }
}

/// On a terminal, a progress line at the bottom of stderr while passes run: each tenant's
/// phase and actions done of planned, passes finished of all, retries and API calls. Log
/// lines are written around it (`logging::progress`), never through it.
fn progress(tenants: &[Arc<Tenant>], done: CancellationToken) -> tokio::task::JoinHandle<()> {
    let tenants: Vec<Arc<Tenant>> = tenants.to_vec();
    tokio::spawn(async move {
        if !std::io::stderr().is_terminal() {
            return;
        }
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = done.cancelled() => { progress::clear(); return; }
                _ = tick.tick() => {
                    let line = progress::snapshot().line(|id| {
                        tenants
                            .iter()
                            .find(|t| t.id() == id)
                            .map(|t| {
                                let c = t.api_counts();
                                format!(" (Lever {} calls, Willo {})", c.lever_calls, c.willo_calls)
                            })
                            .unwrap_or_default()
                    });
                    progress::show(&line);
                }
            }
        }
    })
}
