//! `connect TENANT`: Lever's OAuth authorization-code flow, once, storing the tokens.

use std::io::Write;
use std::sync::Arc;

use super::CommandError;
use crate::config::Settings;
use crate::exit::ExitStatus;
use crate::lever::{LeverAuth, connect};
use crate::reconcile::StoreTokens;
use crate::store::{OpenMode, Store};

pub fn run(settings: &Settings, tenant: &str) -> Result<ExitStatus, CommandError> {
    let t = settings.tenant(tenant).ok_or_else(|| {
        CommandError::Usage(format!(
            "unknown tenant {tenant:?}; configured tenants: {}",
            settings
                .tenants
                .iter()
                .map(|t| t.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let LeverAuth::OAuth(cfg) = &t.lever.client.auth else {
        return Err(CommandError::Usage(format!(
            "tenant {tenant} uses a Lever API key; `connect` needs a [tenants.lever.oauth] table"
        )));
    };
    // The writer lock: the daemon caches tokens in memory, so connect while it is stopped.
    let store = Arc::new(Store::open(&settings.daemon.state_dir, OpenMode::Writer)?);
    let tokens = StoreTokens::new(store, tenant);
    let rt = super::runtime()?;
    let mut out = super::output::stdout();
    rt.block_on(connect(
        cfg,
        cfg.listen,
        |url| {
            // An unwritable terminal does not stop the flow: the browser may still come back.
            let _ = writeln!(
                out,
                "Open this URL as a Lever Super Admin and accept:\n\n  {url}\n\nWaiting for the redirect on {} …",
                cfg.listen
            )
            .and_then(|()| out.flush());
        },
        &tokens,
    ))?;
    writeln!(
        out,
        "Connected: tenant {tenant}'s Lever tokens are stored. Start the daemon."
    )?;
    out.flush()?;
    Ok(ExitStatus::Converged)
}
