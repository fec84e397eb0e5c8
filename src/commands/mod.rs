//! What each command does, on top of the library. `main` only parses and maps the outcome to
//! an exit status.

mod check_config;
mod connect;
mod daemon;
mod doctor;
mod dry_run;
mod migrate_store;
mod once;
mod output;
mod sandbox;
mod status;
mod tags;
mod when;

use std::sync::Arc;

use crate::cli::{Cli, Command};
use crate::config::{self, ConfigError, Settings, StateSettings};
use crate::daemon::DaemonError;
use crate::daemon::signals::Stop;
use crate::exit::ExitStatus;
use crate::lever::ConnectError;
use crate::logging::{self, LogError, LogGuard};
use crate::metrics::Metrics;
use crate::reconcile::{PassOptions, Tenant};
use crate::store::{OpenMode, Store, StoreError};

/// The version of every `--json` document these commands print (`--once`, `--dry-run`,
/// `status`, `tags`; `doctor` has its own). It changes when a field is renamed or removed or
/// changes meaning; new fields may appear without a change.
pub const SCHEMA_VERSION: u32 = 1;

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
            // A port in use heals when its holder goes (a restart, another instance stopping):
            // unavailable, so systemd restarts the unit; an address this host does not have
            // or may not bind is the configuration's fault.
            CommandError::Daemon(crate::daemon::DaemonError::Listen { source, .. })
                if source.kind() == std::io::ErrorKind::AddrInUse =>
            {
                ExitStatus::Unavailable
            }
            CommandError::Daemon(
                crate::daemon::DaemonError::Listen { .. }
                | crate::daemon::DaemonError::Tenant { .. },
            ) => ExitStatus::Config,
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
    // Before any runtime starts a thread (the binary calls this first).
    crate::daemon::heap::limit_arenas();
    refuse_unused_flags(&cli)?;
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
            let (settings, _guard) = load_state(&cli)?;
            status::run(&settings, state_tenants(&cli, &settings)?, *json)
        }
        Some(Command::Tags { json }) => {
            let (settings, _guard) = load_state(&cli)?;
            tags::run(&settings, state_tenants(&cli, &settings)?, *json)
        }
        Some(Command::Connect { tenant }) => {
            let (settings, _guard) = load(&cli)?;
            connect::run(&settings, tenant)
        }
        Some(Command::MigrateStore) => {
            let (settings, _guard) = load_state(&cli)?;
            migrate_store::run(&settings)
        }
        Some(Command::Sandbox {
            once,
            doctor,
            keep_state,
        }) => sandbox::run(*once, *doctor, keep_state.as_deref()),
        Some(Command::Completions { shell }) => {
            let mut out = output::stdout();
            clap_complete::generate(
                clap_complete::Shell::from(*shell),
                &mut <Cli as clap::CommandFactory>::command(),
                "willo-lever-sync",
                &mut out,
            );
            std::io::Write::flush(&mut out)?;
            Ok(ExitStatus::Converged)
        }
        Some(Command::Man) => {
            let mut out = output::stdout();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut out)?;
            std::io::Write::flush(&mut out)?;
            Ok(ExitStatus::Converged)
        }
        None if cli.once && cli.dry_run => {
            let (settings, _guard) = load(&cli)?;
            let tenants = tenants(&cli, &settings)?;
            runtime()?.block_on(dry_run::run(&settings, tenants, cli.json))
        }
        None if cli.once => {
            // Signal handlers before anything else: a stop during start-up is a stop.
            let rt = runtime()?;
            let stop = Stop::install(&rt, false).map_err(DaemonError::Signals)?;
            let (settings, _guard) = load(&cli)?;
            let tenants = tenants(&cli, &settings)?;
            let file = cli.metrics_file.as_deref();
            rt.block_on(once::once_writing(
                &settings, tenants, cli.json, &stop, file,
            ))
        }
        None => {
            let rt = runtime()?;
            let stop = Stop::install(&rt, true).map_err(DaemonError::Signals)?;
            let (settings, _guard) = load(&cli)?;
            daemon::run(&rt, &settings, &stop)
        }
    }
}

/// Flags a command would silently ignore are refused: an operator who typed them expected
/// them to do something.
fn refuse_unused_flags(cli: &Cli) -> Result<(), CommandError> {
    let usage = |m: &str| Err(CommandError::Usage(m.to_owned()));
    if cli.once && cli.command.is_some() {
        return usage(
            "--once runs a pass and cannot be combined with a command (did you mean `sandbox --once`?)",
        );
    }
    if cli.json && !cli.once {
        return usage(
            "--json goes with --once (for status, tags and doctor, put it after the command: `status --json`)",
        );
    }
    let tenant_unused = match &cli.command {
        None => !cli.once,
        Some(Command::Sandbox { .. }) => true,
        Some(
            Command::Connect { .. }
            | Command::Completions { .. }
            | Command::Man
            | Command::MigrateStore,
        ) => true,
        Some(Command::CheckConfig { online }) => !online,
        Some(Command::Status { .. } | Command::Tags { .. } | Command::Doctor { .. }) => false,
    };
    if tenant_unused && cli.tenant.is_some() {
        return usage(match &cli.command {
            None => {
                "--tenant goes with --once, status, tags, doctor and check-config --online; the daemon serves every tenant"
            }
            Some(Command::Connect { .. }) => {
                "connect names its tenant itself: `connect TENANT`, without --tenant"
            }
            Some(Command::Sandbox { .. }) => {
                "the sandbox runs its one demo tenant; --tenant is not used"
            }
            _ => "--tenant goes with --once, status, tags, doctor and check-config --online",
        });
    }
    let config_unused = matches!(
        cli.command,
        Some(Command::Sandbox { .. } | Command::Completions { .. } | Command::Man)
    );
    if config_unused && cli.config_given {
        return usage(match cli.command {
            Some(Command::Sandbox { .. }) => {
                "the sandbox runs its built-in configuration (config/sandbox.toml) against its simulators; --config is not used (WLS__… overrides still apply)"
            }
            _ => "this command reads no configuration; --config is not used",
        });
    }
    Ok(())
}

/// The state store for reading (`status`, `tags`, `--dry-run`): no lock, no migration, and
/// `None` when no pass has created it yet.
fn read_store(
    state_dir: &std::path::Path,
    store: &crate::config::StoreSettings,
) -> Result<Option<Store>, CommandError> {
    match store.open(state_dir, OpenMode::Reader) {
        Ok(s) => Ok(Some(s)),
        Err(StoreError::Missing { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// What the state's lock holder `pid` is, from its command line (readable for a process of
/// another user, unless `/proc` hides it): `daemon`, `once`, `sandbox` or `unknown`.
fn writer_kind(pid: u32) -> &'static str {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return "unknown";
    };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    if args.iter().any(|a| *a == b"--once") {
        "once"
    } else if args.iter().any(|a| *a == b"sandbox") {
        "sandbox"
    } else {
        "daemon"
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
        interval: settings.daemon.schedule.interval(),
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

/// Loads what `status` and `tags` need, reading no secret, and starts logging.
fn load_state(cli: &Cli) -> Result<(StateSettings, LogGuard), CommandError> {
    let settings = config::load_state(&cli.config)?;
    let guard = logging::init(&settings.log)?;
    Ok((settings, guard))
}

/// [`tenants`] for `status` and `tags`: their ids.
fn state_tenants<'a>(cli: &Cli, settings: &'a StateSettings) -> Result<Vec<&'a str>, CommandError> {
    let all = settings.tenants.iter().map(String::as_str);
    match &cli.tenant {
        None => Ok(all.collect()),
        Some(id) => match all.clone().find(|t| t == id) {
            Some(t) => Ok(vec![t]),
            None => Err(unknown_tenant(id, all)),
        },
    }
}

fn unknown_tenant<'a>(id: &str, known: impl Iterator<Item = &'a str>) -> CommandError {
    CommandError::Usage(format!(
        "unknown tenant {id:?}; configured tenants: {}",
        known.collect::<Vec<_>>().join(", ")
    ))
}

/// The tenants a command applies to: all, or the one named by `--tenant`.
fn tenants<'a>(
    cli: &Cli,
    settings: &'a Settings,
) -> Result<Vec<&'a config::TenantSettings>, CommandError> {
    match &cli.tenant {
        None => Ok(settings.tenants.iter().collect()),
        Some(id) => settings
            .tenant(id)
            .map(|t| vec![t])
            .ok_or_else(|| unknown_tenant(id, settings.tenants.iter().map(|t| t.id.as_str()))),
    }
}
