//! No command: run the daemon.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{CommandError, build_tenants};
use crate::config::Settings;
use crate::exit::ExitStatus;
use crate::metrics::Metrics;
use crate::store::{OpenMode, Store};

pub fn run(settings: &Settings) -> Result<ExitStatus, CommandError> {
    let store = Arc::new(Store::open(&settings.daemon.state_dir, OpenMode::Writer)?);
    let metrics = Metrics::new();
    let all: Vec<_> = settings.tenants.iter().collect();
    let tenants = build_tenants(settings, &all, store, metrics.clone())?;
    let rt = super::runtime()?;
    rt.block_on(crate::daemon::run(
        settings,
        tenants,
        metrics,
        |_| {},
        CancellationToken::new(),
    ))?;
    Ok(ExitStatus::Converged)
}
