//! What each command does, on top of the library. `main` only parses and maps the outcome to
//! an exit status.

mod check_config;
mod connect;
mod daemon;
mod doctor;
mod dry_run;
mod once;
mod output;
mod sandbox;
mod status;
mod tags;

use std::sync::Arc;

use crate::cli::{Cli, Command};
use crate::config::{self, ConfigError, Settings};
use crate::daemon::DaemonError;
use crate::daemon::signals::Stop;
use crate::exit::ExitStatus;
use crate::lever::ConnectError;
use crate::logging::{self, LogError, LogGuard};
use crate::metrics::Metrics;
use crate::reconcile::{PassOptions, Tenant};
use crate::store::{OpenMode, Store, StoreError};

/// Why a command failed; each kind has its exit status. Like every error of the crate, its
/// message names what failed and leaves the cause to `source()`: show it with
/// [`crate::error_chain::chain`].
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot write output")]
    Output(#[from] std::io::Error),
    #[error("tenant {tenant}: cannot build its API clients")]
    Client {
        tenant: String,
        #[source]
        source: crate::http::BuildError,
    },
    #[error(transparent)]
    Daemon(#[from] crate::daemon::DaemonError),
    #[error(transparent)]
    Connect(#[from] crate::lever::ConnectError),
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),
}

impl CommandError {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            CommandError::Config(_) | CommandError::Log(_) => ExitStatus::Config,
            CommandError::Store(_) => ExitStatus::StateStore,
            CommandError::Usage(_) => ExitStatus::Usage,
            CommandError::Output(_) => ExitStatus::StateStore,
            CommandError::Client { .. } => ExitStatus::Config,
            CommandError::Daemon(crate::daemon::DaemonError::Listen { .. }) => ExitStatus::Config,
            CommandError::Daemon(_) | CommandError::Runtime(_) => ExitStatus::Unavailable,
            CommandError::Sandbox(e) => match e {
                crate::sandbox::SandboxError::Pace(_) => ExitStatus::Usage,
                crate::sandbox::SandboxError::TempDir(_) => ExitStatus::StateStore,
                crate::sandbox::SandboxError::Sim(_) => ExitStatus::Unavailable,
            },
            CommandError::Connect(e) => match e {
                ConnectError::Bind { .. } | ConnectError::Client(_) => ExitStatus::Config,
                ConnectError::Store(_) => ExitStatus::StateStore,
                ConnectError::Exchange(e) if e.is_disconnect() => ExitStatus::Credentials,
                ConnectError::Denied(_) => ExitStatus::Credentials,
                _ => ExitStatus::Unavailable,
            },
        }
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitStatus, CommandError> {
    if cli.once && cli.command.is_some() {
        return Err(CommandError::Usage(
            "--once runs a pass and cannot be combined with a command (did you mean `sandbox --once`?)".into(),
        ));
    }
    if cli.json && !cli.once {
        return Err(CommandError::Usage(
            "--json goes with --once (for status, use `status --json`)".into(),
        ));
    }
    match &cli.command {
        Some(Command::CheckConfig { online }) => {
            let (settings, _guard) = load(&cli)?;
            let printed = check_config::run(&settings)?;
            if !*online {
                return Ok(printed);
            }
            let tenants = tenants(&cli, &settings)?;
            Ok(printed.worst(doctor::run(&settings, tenants, false)?))
        }
        Some(Command::Doctor { json }) => {
            let (settings, _guard) = load(&cli)?;
            doctor::run(&settings, tenants(&cli, &settings)?, *json)
        }
        Some(Command::Status { json }) => {
            let (settings, _guard) = load(&cli)?;
            status::run(&settings, tenants(&cli, &settings)?, *json)
        }
        Some(Command::Tags) => {
            let (settings, _guard) = load(&cli)?;
            tags::run(&settings, tenants(&cli, &settings)?)
        }
        Some(Command::Connect { tenant }) => {
            let (settings, _guard) = load(&cli)?;
            connect::run(&settings, tenant)
        }
        Some(Command::Sandbox { once, doctor }) => sandbox::run(*once, *doctor),
        None if cli.once && cli.dry_run => {
            let (settings, _guard) = load(&cli)?;
            let tenants = tenants(&cli, &settings)?;
            runtime()?.block_on(dry_run::run(&settings, tenants, cli.json))
        }
        None if cli.once => {
            // Signal handlers before anything else: a stop during start-up is a stop.
            let rt = runtime()?;
            let stop = Stop::install(&rt).map_err(DaemonError::Signals)?;
            let (settings, _guard) = load(&cli)?;
            let tenants = tenants(&cli, &settings)?;
            let file = cli.metrics_file.as_deref();
            rt.block_on(once::once_writing(
                &settings, tenants, cli.json, &stop, file,
            ))
        }
        None => {
            if cli.tenant.is_some() {
                return Err(CommandError::Usage(
                    "--tenant goes with --once, status and tags; the daemon serves every tenant"
                        .into(),
                ));
            }
            let rt = runtime()?;
            let stop = Stop::install(&rt).map_err(DaemonError::Signals)?;
            let (settings, _guard) = load(&cli)?;
            daemon::run(&rt, &settings, &stop)
        }
    }
}

/// The state store for reading (`status`, `tags`, `--dry-run`): no lock, no migration, and
/// `None` when no pass has created it yet.
fn read_store(settings: &Settings) -> Result<Option<Store>, CommandError> {
    match Store::open(&settings.daemon.state_dir, OpenMode::Reader) {
        Ok(s) => Ok(Some(s)),
        Err(StoreError::Missing { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A multi-threaded tokio runtime for the async commands.
fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CommandError::Runtime)
}

/// Builds the runtime of each tenant, sharing one store and one metrics registry.
fn build_tenants(
    settings: &Settings,
    tenants: &[&config::TenantSettings],
    store: Arc<Store>,
    metrics: Metrics,
) -> Result<Vec<Arc<Tenant>>, CommandError> {
    let options = PassOptions {
        concurrency: settings.daemon.concurrency,
        overlap: settings.daemon.incremental_overlap,
        chunk: PassOptions::CHUNK,
    };
    tenants
        .iter()
        .map(|t| {
            Tenant::new(t, options.clone(), Arc::clone(&store), metrics.clone())
                .map(Arc::new)
                .map_err(|source| CommandError::Client {
                    tenant: t.id.clone(),
                    source,
                })
        })
        .collect()
}

/// Loads the configuration and starts logging as it says.
fn load(cli: &Cli) -> Result<(Settings, LogGuard), CommandError> {
    let settings = config::load(&cli.config)?;
    let guard = logging::init(&settings.log)?;
    tracing::debug!(config = ?settings, "configuration loaded");
    Ok((settings, guard))
}

/// The tenants a command applies to: all, or the one named by `--tenant`.
fn tenants<'a>(
    cli: &Cli,
    settings: &'a Settings,
) -> Result<Vec<&'a config::TenantSettings>, CommandError> {
    match &cli.tenant {
        None => Ok(settings.tenants.iter().collect()),
        Some(id) => settings.tenant(id).map(|t| vec![t]).ok_or_else(|| {
            let known: Vec<&str> = settings.tenants.iter().map(|t| t.id.as_str()).collect();
            CommandError::Usage(format!(
                "unknown tenant {id:?}; configured tenants: {}",
                known.join(", ")
            ))
        }),
    }
}
