//! `connect TENANT`: Lever's OAuth authorization-code flow, once, storing the tokens.
//!
//! A daemon may be running on the same state: it holds the state's lock for its passes, but
//! the tokens are one row it reads again. So `connect` stores them next to it (the store's
//! `BesideWriter` mode: SQLite's own locking, no lock file) and sends it SIGHUP; its reload
//! builds the tenant's runtime afresh, which reads the new tokens, and runs a pass at once if
//! the tenant was disconnected. The other tenants go on undisturbed.

use std::io::Write;
use std::sync::Arc;

use super::CommandError;
use crate::config::Settings;
use crate::exit::ExitStatus;
use crate::lever::{LeverAuth, connect};
use crate::reconcile::StoreTokens;
use crate::store::{OpenMode, Store, StoreError};

pub fn run(settings: &Settings, tenant: &str) -> Result<ExitStatus, CommandError> {
    let t = settings.tenant(tenant).ok_or_else(|| {
        super::unknown_tenant(tenant, settings.tenants.iter().map(|t| t.id.as_str()))
    })?;
    let LeverAuth::OAuth(cfg) = &t.lever.client.auth else {
        return Err(CommandError::Usage(format!(
            "tenant {tenant} uses a Lever API key; `connect` needs a [tenants.lever.oauth] table"
        )));
    };
    let (store, daemon) = open(settings)?;
    let tokens = StoreTokens::new(Arc::new(store), tenant);
    let rt = super::runtime()?;
    let mut out = super::output::stdout();
    rt.block_on(connect(
        cfg,
        cfg.listen,
        |url| {
            // An unwritable terminal does not stop the flow: the browser may still come back.
            let _ = writeln!(
                out,
                "Open this URL as a Lever Super Admin and accept:\n\n  {url}\n\nWaiting for the redirect on {} …\n(on a server without a browser: `ssh -L {port}:127.0.0.1:{port} SERVER` from your machine first, then open the URL there)",
                cfg.listen,
                port = cfg.listen.port()
            )
            .and_then(|()| out.flush());
        },
        &tokens,
    ))?;
    match daemon {
        None => writeln!(
            out,
            "Connected: tenant {tenant}'s Lever tokens are stored; the next pass uses them."
        )?,
        Some(pid) if matches!(super::writer_kind(pid), "once" | "sandbox") => writeln!(
            out,
            "Connected: tenant {tenant}'s Lever tokens are stored; a --once run or the sandbox (pid {pid}) holds the state, and its next pass uses them."
        )?,
        Some(pid) => match hang_up(pid) {
            Ok(()) => writeln!(
                out,
                "Connected: tenant {tenant}'s Lever tokens are stored, and the running daemon (pid {pid}) was asked to reload and pick them up; its log says \"configuration reloaded\"."
            )?,
            Err(e) => writeln!(
                out,
                "Connected: tenant {tenant}'s Lever tokens are stored, but the running daemon (pid {pid}) could not be asked to reload ({e}); run `systemctl reload willo-lever-sync` (or send it SIGHUP) so it picks them up."
            )?,
        },
    }
    out.flush()?;
    Ok(ExitStatus::Converged)
}

/// The store for the tokens, and the pid of the writer running next to it, if one is.
fn open(settings: &Settings) -> Result<(Store, Option<u32>), CommandError> {
    let dir = &settings.daemon.state_dir;
    // PostgreSQL has no lock file: several instances share the database.
    if settings.store.is_shared() {
        return Ok((settings.store.open(dir, OpenMode::BesideWriter)?, None));
    }
    match Store::open(dir, OpenMode::Writer) {
        Ok(s) => Ok((s, None)),
        Err(StoreError::Locked { holder, .. }) => {
            let store = Store::open(dir, OpenMode::BesideWriter)?;
            Ok((store, holder.or_else(|| crate::store::live_writer(dir))))
        }
        Err(e) => Err(e.into()),
    }
}

/// Asks the process `pid` (the state's writer) to reload.
fn hang_up(pid: u32) -> std::io::Result<()> {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    rustix::process::kill_process(pid, rustix::process::Signal::HUP).map_err(std::io::Error::from)
}
