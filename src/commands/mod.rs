//! What each command does, on top of the library. `main` only parses and maps the outcome to
//! an exit status.

mod check_config;
mod status;
mod tags;

use crate::cli::{Cli, Command};
use crate::config::{self, ConfigError, Settings};
use crate::exit::ExitStatus;
use crate::logging::{self, LogError, LogGuard};
use crate::store::StoreError;

/// Why a command failed; each kind has its exit status.
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
    #[error("{0} is not available yet in this build")]
    NotAvailable(&'static str),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

impl CommandError {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            CommandError::Config(_) | CommandError::Log(_) => ExitStatus::Config,
            CommandError::Store(_) => ExitStatus::StateStore,
            CommandError::Usage(_) | CommandError::NotAvailable(_) => ExitStatus::Usage,
            CommandError::Output(_) => ExitStatus::StateStore,
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
        Some(Command::CheckConfig) => {
            let (settings, _guard) = load(&cli)?;
            check_config::run(&settings)
        }
        Some(Command::Status { json }) => {
            let (settings, _guard) = load(&cli)?;
            status::run(&settings, tenants(&cli, &settings)?, *json)
        }
        Some(Command::Tags) => {
            let (settings, _guard) = load(&cli)?;
            tags::run(&settings, tenants(&cli, &settings)?)
        }
        Some(Command::Connect { .. }) => Err(CommandError::NotAvailable("connect")),
        Some(Command::Sandbox { .. }) => Err(CommandError::NotAvailable("sandbox")),
        None if cli.once => Err(CommandError::NotAvailable("--once")),
        None => Err(CommandError::NotAvailable("the daemon")),
    }
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
