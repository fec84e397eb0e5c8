//! No command: run the daemon.

use std::sync::Arc;

use super::CommandError;
use crate::clock::now_ms;
use crate::config::Settings;
use crate::daemon::signals::Stop;
use crate::daemon::{Context, Reloader};
use crate::exit::ExitStatus;
use crate::metrics::Metrics;
use crate::store::OpenMode;

/// Runs until SIGTERM or SIGINT (`stop`), then exits 0 (rule: exit statuses,
/// docs/behaviour.md), also when the stop came during start-up. SIGHUP reloads the
/// configuration from the same file.
pub fn run(
    rt: &tokio::runtime::Runtime,
    settings: &Settings,
    stop: &Stop,
) -> Result<ExitStatus, CommandError> {
    if stop.is_requested() {
        tracing::info!("stopped before start-up finished");
        return Ok(ExitStatus::Converged);
    }
    let store = Arc::new(
        settings
            .store
            .open(&settings.daemon.state_dir, OpenMode::Writer)?,
    );
    super::once::settle_dead_passes(&store);
    let cx = Context {
        store: Arc::clone(&store),
        metrics: Metrics::new(),
    };
    let path = settings.source.clone();
    let reloads = Reloader {
        requests: stop.reloads(),
        load: Box::new(move || crate::config::load(&path)),
    };
    rt.block_on(crate::daemon::run(
        settings,
        cx,
        Some(reloads),
        |_| {},
        stop.token(),
    ))?;
    // Work still running after the grace period was abandoned: say so in the pass log. (On a
    // shared PostgreSQL store, whoever takes the tenant next does, in the same transaction
    // as its lease: other instances' passes must not be touched here.)
    if store.dialect() == crate::store::Dialect::Postgres {
        return Ok(ExitStatus::Converged);
    }
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
