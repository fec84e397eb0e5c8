//! `sandbox`: the whole product against built-in simulators, with a demo tenant and a story
//! to watch. `sandbox --once`: the same world, one full pass through `--once`'s code.
//! `sandbox --doctor`: the same world, checked by `doctor`.
//!
//! This file only wires things up; the demo world, the story and the narrator live in
//! `crate::sandbox`. The daemon and the pass run exactly as they would in production.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use super::CommandError;
use crate::config::{ConfigError, Settings, TenantSettings};
use crate::daemon::{self, DaemonError};
use crate::error_chain::chain;
use crate::exit::ExitStatus;
use crate::logging;
use crate::metrics::Metrics;
use crate::sandbox::config::{self as sandbox_config, Endpoints};
use crate::sandbox::demo::{STAGES, TRIGGER_STAGE};
use crate::sandbox::narrator::{Narrative, Narrator};
use crate::sandbox::story::{Story, Timing};
use crate::sandbox::{self, PACE_ENV, Sandbox, SandboxError};
use crate::store::{OpenMode, Store};

/// How often the narrator looks at the simulated accounts.
const LOOK_EVERY: Duration = Duration::from_millis(100);
/// The longest the story waits for the daemon's start-up full pass.
const START_UP_WAIT: Duration = Duration::from_secs(60);

pub fn run(
    once: bool,
    doctor: bool,
    keep_state: Option<&Path>,
) -> Result<ExitStatus, CommandError> {
    let pace = sandbox::pace(std::env::var(PACE_ENV).ok().as_deref())?;
    let rt = super::runtime()?;
    rt.block_on(async move {
        // Listen for Ctrl-C before anything starts, so that one pressed while the world is
        // being seeded still ends in a clean exit (the daemon listens for its own as well).
        let signals = if once || doctor {
            None
        } else {
            Some(Signals::new()?)
        };
        let out = Narrative::stdout();
        let dir = StateDir::new(keep_state)?;
        let sandbox = Sandbox::start().await?;
        let env = sandbox_config::env_overrides();
        let endpoints = Endpoints {
            lever_base_url: sandbox.lever.base_url(),
            willo_base_url: sandbox.willo.base_url(),
            catalog_opportunity_id: sandbox.demo.catalog_opportunity.clone(),
            state_dir: dir.path().to_path_buf(),
        };
        let mut settings = sandbox_config::settings(&endpoints, &env)?;
        if let StateDir::Kept(path) = &dir {
            // The configuration `status` and `tags` read the kept state with.
            let text = sandbox_config::text(&endpoints)?;
            std::fs::write(path.join(KEPT_CONFIG), text).map_err(SandboxError::TempDir)?;
        }
        let _log = logging::init(&settings.log)?;
        let tenant = settings
            .tenants
            .first()
            .cloned()
            .ok_or_else(|| ConfigError::Invalid {
                path: settings.source.clone(),
                key: "tenants".into(),
                problem: "the sandbox needs its demo tenant".into(),
            })?;
        sandbox.accept_credentials(&tenant);
        introduce(
            &out,
            &sandbox,
            &tenant,
            &settings,
            &env,
            matches!(dir, StateDir::Kept(_)),
        );

        let status = match signals {
            None => {
                let mut status = ExitStatus::Converged;
                if once {
                    out.line("sandbox: running one full pass (the code `--once` runs)…");
                    let stop = daemon::signals::Stop::new();
                    status = super::once::once(&settings, vec![&tenant], false, &stop).await?;
                }
                if doctor {
                    out.line("sandbox: running doctor against the simulated accounts…");
                    let report = crate::doctor::run(&settings, &[&tenant]).await;
                    status = status.worst(super::doctor::print(&report, false)?);
                }
                status
            }
            Some(signals) => {
                let (listen, fell_back) = sandbox_config::listen_address(settings.daemon.listen);
                if fell_back {
                    out.line(format_args!(
                        "sandbox: {} is in use; the daemon listens on a free port instead",
                        settings.daemon.listen
                    ));
                }
                settings.daemon.listen = listen;
                serve(&out, &sandbox, &settings, &tenant, pace, signals).await?;
                ExitStatus::Converged
            }
        };
        let _ = sandbox.lever.shutdown().await;
        let _ = sandbox.willo.shutdown().await;
        dir.close(&out);
        Ok(status)
    })
}

fn introduce(
    out: &Narrative,
    sandbox: &Sandbox,
    tenant: &TenantSettings,
    settings: &Settings,
    env: &HashMap<String, String>,
    keeps: bool,
) {
    let demo = &sandbox.demo;
    out.line(format_args!(
        "sandbox: simulated Lever at {} and Willo at {}",
        sandbox.lever.base_url(),
        sandbox.willo.base_url()
    ));
    let interviews: Vec<&str> = demo.interviews.iter().map(|i| i.title.as_str()).collect();
    out.line(format_args!(
        "sandbox: demo tenant “{}” ({}): {} stages, {} postings, {} candidates, Willo interviews {}; \
         trigger stage “{TRIGGER_STAGE}”",
        tenant.id,
        tenant.account_name,
        STAGES.len(),
        demo.postings,
        demo.candidates.len(),
        interviews.join(" and ")
    ));
    if sandbox_config::ignores_state_dir_override(env) {
        out.line("sandbox: ignoring WLS__DAEMON__STATE_DIR: the sandbox always starts afresh");
    }
    out.line(format_args!(
        "sandbox: state in {} ({}); the daemon's log is on stderr",
        settings.daemon.state_dir.display(),
        if keeps {
            "kept at exit"
        } else {
            "removed at exit"
        }
    ));
}

/// The configuration written next to a kept state.
const KEPT_CONFIG: &str = "sandbox.toml";

/// Where the sandbox keeps its state: a temporary directory removed at exit, or the one
/// `--keep-state` names, kept with a configuration that reads it.
enum StateDir {
    Temp(tempfile::TempDir),
    Kept(PathBuf),
}

impl StateDir {
    fn new(keep: Option<&Path>) -> Result<StateDir, CommandError> {
        let Some(dir) = keep else {
            return tempfile::Builder::new()
                .prefix("willo-lever-sync-sandbox-")
                .tempdir()
                .map(StateDir::Temp)
                .map_err(|e| SandboxError::TempDir(e).into());
        };
        // The simulated accounts start afresh on every run: a state kept from an earlier one
        // describes people who no longer exist.
        if dir.join(crate::store::DB_FILE).exists() {
            return Err(CommandError::Usage(format!(
                "--keep-state: {} already holds the state of an earlier sandbox; the simulated accounts start afresh each time, so name a new or empty directory",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir).map_err(SandboxError::TempDir)?;
        let dir = std::path::absolute(dir).map_err(SandboxError::TempDir)?;
        Ok(StateDir::Kept(dir))
    }

    fn path(&self) -> &Path {
        match self {
            StateDir::Temp(t) => t.path(),
            StateDir::Kept(p) => p,
        }
    }

    /// Removes a temporary state; says how to look at a kept one.
    fn close(self, out: &Narrative) {
        match self {
            StateDir::Temp(dir) => {
                let shown = dir.path().display().to_string();
                match dir.close() {
                    Ok(()) => out.line(format_args!("sandbox: removed {shown}")),
                    Err(e) => out.line(format_args!(
                        "sandbox: could not remove {shown}: {}",
                        chain(&e)
                    )),
                }
            }
            StateDir::Kept(dir) => {
                let config = dir.join(KEPT_CONFIG);
                out.line(format_args!(
                    "sandbox: state kept in {}; look at it with\n  willo-lever-sync --config {} status\n  willo-lever-sync --config {} tags",
                    dir.display(),
                    config.display(),
                    config.display()
                ));
            }
        }
    }
}

/// Runs the daemon and, next to it, the story and the narrator, until Ctrl-C / SIGTERM.
async fn serve(
    out: &Narrative,
    sandbox: &Sandbox,
    settings: &Settings,
    tenant: &TenantSettings,
    pace: Duration,
    signals: Signals,
) -> Result<(), CommandError> {
    let store = Arc::new(Store::open(&settings.daemon.state_dir, OpenMode::Writer)?);
    let cx = daemon::Context {
        store: Arc::clone(&store),
        metrics: Metrics::new(),
    };
    let narrator = Narrator::new(
        sandbox.demo.clone(),
        sandbox.lever.clone(),
        sandbox.willo.clone(),
        Arc::clone(&store),
        &tenant.id,
        out.clone(),
    );
    let interval = settings.daemon.schedule.interval();
    let story = Story::new(
        &narrator,
        sandbox.lever.clone(),
        sandbox.willo.clone(),
        Timing {
            pace,
            start_up: START_UP_WAIT,
            // Polling catches a lost webhook within one incremental interval; allow three.
            catch_up: interval * 3 + Duration::from_secs(10),
        },
    );
    let stop = CancellationToken::new();
    let (listening_tx, listening) = tokio::sync::oneshot::channel::<SocketAddr>();

    let daemon = async {
        let result = daemon::run(
            settings,
            cx,
            None,
            move |addr| {
                let _ = listening_tx.send(addr);
            },
            stop.clone(),
        )
        .await;
        // However the daemon ended, the story ends with it.
        stop.cancel();
        result
    };
    let show = async {
        // An error before listening is reported by the daemon's future.
        let Ok(addr) = listening.await else { return };
        sandbox.register_webhooks(addr, tenant);
        where_to_look(out, addr, settings, tenant);
        story.expect_start_up();
        tokio::join!(narrator.watch(LOOK_EVERY, stop.clone()), async {
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = story.play() => {}
            }
        });
    };
    let (result, (), ()) = tokio::join!(daemon, show, signals.until(&stop));
    out.line("sandbox: stopped");
    result.map_err(CommandError::from)
}

fn where_to_look(out: &Narrative, addr: SocketAddr, settings: &Settings, tenant: &TenantSettings) {
    let base = format!("http://{addr}");
    out.line(format_args!("sandbox: the daemon listens on {addr}"));
    out.line(format_args!("sandbox:   metrics    {base}/metrics"));
    out.line(format_args!("sandbox:   readiness  {base}/readyz"));
    out.line(format_args!(
        "sandbox:   webhooks   {base}/webhooks/lever/{id} and {base}/webhooks/willo/{id}, \
         registered in the simulators",
        id = tenant.id
    ));
    out.line(format_args!(
        "sandbox: incremental passes on “{}”, full passes on “{}” (cron, seconds first, UTC); \
         Ctrl-C stops",
        settings.daemon.schedule, settings.daemon.full_schedule
    ));
}

/// SIGINT and SIGTERM, listened for from the start.
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals, CommandError> {
        let int = signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?;
        let term = signal(SignalKind::terminate()).map_err(DaemonError::Signals)?;
        Ok(Signals { int, term })
    }

    /// Cancels `stop` on the first signal; returns when `stop` is cancelled either way.
    async fn until(mut self, stop: &CancellationToken) {
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = self.int.recv() => stop.cancel(),
            _ = self.term.recv() => stop.cancel(),
        }
    }
}
