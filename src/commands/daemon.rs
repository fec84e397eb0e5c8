//! No command: run the daemon.

use std::sync::Arc;

use super::{CommandError, build_tenants};
use crate::clock::now_ms;
use crate::config::Settings;
use crate::daemon::signals::Stop;
use crate::exit::ExitStatus;
use crate::metrics::Metrics;
use crate::store::{OpenMode, Store};

/// Runs until SIGTERM or SIGINT (`stop`), then exits 0 (rule: exit statuses,
/// docs/behaviour.md), also when the stop came during start-up.
pub fn run(
    rt: &tokio::runtime::Runtime,
    settings: &Settings,
    stop: &Stop,
) -> Result<ExitStatus, CommandError> {
    if stop.is_requested() {
        tracing::info!("stopped before start-up finished");
        return Ok(ExitStatus::Converged);
    }
    let store = Arc::new(Store::open(&settings.daemon.state_dir, OpenMode::Writer)?);
    super::once::settle_dead_passes(&store);
    let metrics = Metrics::new();
    let all: Vec<_> = settings.tenants.iter().collect();
    let tenants = build_tenants(settings, &all, Arc::clone(&store), metrics.clone())?;
    rt.block_on(crate::daemon::run(
        settings,
        tenants,
        metrics,
        |_| {},
        stop.token(),
    ))?;
    // Work still running after the grace period was abandoned: say so in the pass log.
    let abandoned = store.write(|tx| {
        tx.interrupt_unfinished_passes(
            None,
            "still running when the daemon stopped; abandoned after the grace period",
            Some(now_ms()),
        )
    });
    if let Err(e) = abandoned {
        tracing::warn!(error = %crate::error_chain::chain(&e),
            "cannot record abandoned passes as interrupted");
    }
    Ok(ExitStatus::Converged)
}
