//! `connect TENANT`: Lever's OAuth authorization-code flow, once, storing the tokens.

use std::io::Write;
use std::sync::Arc;

use super::CommandError;
use crate::config::{LeverAuth, Settings};
use crate::exit::ExitStatus;
use crate::lever::connect;
use crate::reconcile::{StoreTokens, oauth_config};
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
    let LeverAuth::OAuth(o) = &t.lever.auth else {
        return Err(CommandError::Usage(format!(
            "tenant {tenant} uses a Lever API key; `connect` needs a [tenants.lever.oauth] table"
        )));
    };
    // The writer lock: the daemon caches tokens in memory, so connect while it is stopped.
    let store = Arc::new(Store::open(&settings.daemon.state_dir, OpenMode::Writer)?);
    let cfg = oauth_config(o);
    let tokens = StoreTokens::new(store, tenant);
    let rt = super::runtime()?;
    rt.block_on(connect(
        &cfg,
        o.listen,
        |url| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "Open this URL as a Lever Super Admin and accept:\n\n  {url}\n\nWaiting for the redirect on {} …",
                o.listen
            );
            let _ = out.flush();
        },
        &tokens,
    ))?;
    println!("Connected: tenant {tenant}'s Lever tokens are stored. Start the daemon.");
    Ok(ExitStatus::Converged)
}
