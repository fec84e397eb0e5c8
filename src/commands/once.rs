//! `--once`: one full pass per tenant, a summary, an exit status.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{CommandError, build_tenants};
use crate::config::{Settings, TenantSettings};
use crate::domain::PassKind;
use crate::exit::ExitStatus;
use crate::metrics::Metrics;
use crate::reconcile::{PassSummary, Tenant};
use crate::store::{OpenMode, Store};

pub fn run(
    settings: &Settings,
    tenants: Vec<&TenantSettings>,
    dry_run: bool,
    json: bool,
) -> Result<ExitStatus, CommandError> {
    let rt = super::runtime()?;
    if dry_run {
        rt.block_on(super::dry_run::run(settings, tenants, json))
    } else {
        rt.block_on(once(settings, tenants, json))
    }
}

/// One full pass per tenant, the summary on stdout, the combined exit status. Also what
/// `sandbox --once` runs, so the sandbox shows exactly this code path.
pub(super) async fn once(
    settings: &Settings,
    tenants: Vec<&TenantSettings>,
    json: bool,
) -> Result<ExitStatus, CommandError> {
    let store = Arc::new(Store::open(&settings.daemon.state_dir, OpenMode::Writer)?);
    let tenants = build_tenants(settings, &tenants, store, Metrics::new())?;
    let cancel = CancellationToken::new();
    let progress = progress(&tenants, cancel.clone());
    // Tenants are independent: one's failure never stops another.
    let outcomes =
        futures::future::join_all(tenants.iter().map(|t| t.pass(PassKind::Full, &cancel))).await;
    cancel.cancel();
    let _ = progress.await;
    let mut status = ExitStatus::Converged;
    let mut summaries: Vec<&PassSummary> = Vec::new();
    for o in &outcomes {
        status = status.worst(o.exit_status());
        summaries.push(&o.summary);
    }
    let mut out = super::output::stdout();
    if json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({ "tenants": summaries, "exit_status": status.code() }),
        )
        .map_err(std::io::Error::other)?;
        writeln!(out)?;
    } else {
        for s in summaries {
            write!(out, "{s}")?;
        }
    }
    out.flush()?;
    Ok(status)
}

/// On a terminal, a line on stderr every few seconds while passes run.
fn progress(tenants: &[Arc<Tenant>], done: CancellationToken) -> tokio::task::JoinHandle<()> {
    let tenants: Vec<Arc<Tenant>> = tenants.to_vec();
    tokio::spawn(async move {
        if !std::io::stderr().is_terminal() {
            return;
        }
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = done.cancelled() => { eprint!("\r\x1b[K"); return; }
                _ = tick.tick() => {
                    let parts: Vec<String> = tenants
                        .iter()
                        .map(|t| {
                            let c = t.api_counts();
                            format!("{}: {} Lever / {} Willo calls", t.id(), c.lever_calls, c.willo_calls)
                        })
                        .collect();
                    eprint!("\r\x1b[K… {}", parts.join("; "));
                }
            }
        }
    })
}
