//! The command line (clap). Parsing only: `commands` runs what is parsed.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::DEFAULT_PATH;

/// The version, the commit and the build date, as `--version` and the start-up log line show
/// them (the commit is "unknown" in a build from a tarball without git).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("WLS_COMMIT"),
    ", built ",
    env!("WLS_BUILD_DATE"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "willo-lever-sync",
    version = VERSION,
    about = "Keeps a Lever ATS account and a Willo video-interview account in agreement.",
    long_about = "Keeps a Lever ATS account and a Willo video-interview account in agreement.\n\n\
        With no command and no --once, runs the daemon: scheduled incremental and full passes, \
        webhook hints, /healthz, /readyz and /metrics on [daemon].listen.",
    after_help = "Examples:\n  \
        willo-lever-sync --config /etc/willo-lever-sync/willo-lever-sync.toml   # run the daemon\n  \
        willo-lever-sync --once                     # one full pass for every tenant, then exit\n  \
        willo-lever-sync --once --dry-run --tenant acme   # print what a pass would do; write nothing\n  \
        willo-lever-sync sandbox                    # try it against built-in simulated Lever and Willo\n\n\
        Exit status: 0 converged, 1 some actions failed, 64 usage, 69 an API unreachable (or the\n\
        listen port in use), 74 state store error, 75 stopped by a signal, 77 credentials rejected,\n\
        78 configuration error.\n\n\
        Environment: WLS_CONFIG (the configuration file), WLS__<TABLE>__<KEY> (overrides a key),\n\
        CREDENTIALS_DIRECTORY (where relative *_file secrets are read), NO_COLOR (no colours).\n\
        RUST_LOG is not read: log.level (or WLS__LOG__LEVEL) sets the log level."
)]
pub struct Cli {
    /// Configuration file.
    #[arg(long, short = 'c', value_name = "PATH", env = "WLS_CONFIG", default_value = DEFAULT_PATH, global = true)]
    pub config: PathBuf,

    /// Run exactly one full pass for every tenant (or --tenant), print a summary, and exit.
    #[arg(long)]
    pub once: bool,

    /// With --once: observe and print the plan, but write nothing to Lever, Willo or the state file.
    #[arg(long, requires = "once")]
    pub dry_run: bool,

    /// Only this tenant (with --once, status, tags, doctor and check-config --online).
    #[arg(long, value_name = "ID", global = true)]
    pub tenant: Option<String>,

    /// With --once: print the summary (or the --dry-run plan) as JSON.
    #[arg(long)]
    pub json: bool,

    /// With --once: also write the run's metrics to PATH, replaced atomically, in the
    /// Prometheus text format node_exporter's textfile collector reads (e.g.
    /// /var/lib/node_exporter/textfile_collector/willo_lever_sync.prom).
    #[arg(
        long,
        value_name = "PATH",
        requires = "once",
        conflicts_with = "dry_run"
    )]
    pub metrics_file: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// Whether `--config` was given on the command line (not taken from `WLS_CONFIG` or the
    /// default); set by `main` from the parser's matches. The sandbox refuses it.
    #[arg(skip)]
    pub config_given: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show each tenant's connection, last passes, next pass, invites by state, failing
    /// opportunities and needs-attention list; exit non-zero when something needs a look.
    /// Reads only the state store: works next to a running daemon, without the secrets.
    #[command(after_help = "Examples:\n  willo-lever-sync status\n  \
            willo-lever-sync status --json | jq '.tenants[].attention'\n\n\
            Exit status: 0 every tenant is connected and its last scheduled pass converged;\n\
            1 a tenant's last pass did not converge (actions failed, work deferred, parts refused,\n\
            the pass failed or was interrupted), it has failing opportunities, or no pass has run;\n\
            77 a tenant is disconnected (credentials rejected). Needs-attention items alone do not\n\
            change it.")]
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show the interview-tag catalog: one tag per open Willo interview, plus the status tags.
    /// Reads only the state store.
    #[command(
        after_help = "Examples:\n  willo-lever-sync tags --tenant acme\n  willo-lever-sync tags --json"
    )]
    Tags {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Validate the configuration and print it resolved, with secrets redacted.
    #[command(
        name = "check-config",
        after_help = "Example:\n  willo-lever-sync --config /etc/willo-lever-sync/willo-lever-sync.toml check-config --online"
    )]
    CheckConfig {
        /// Then run the `doctor` checks against the live accounts.
        #[arg(long)]
        online: bool,
    },
    /// Check each tenant's live Lever and Willo accounts, read-only: credentials, every
    /// permission the daemon needs, the trigger stages, the perform_as user, the catalog
    /// placeholder, the interview listing, how participants look and which states they carry.
    /// Writes nothing to either API or to the state file, and prints no personal data.
    #[command(
        after_help = "Examples:\n  willo-lever-sync doctor\n  willo-lever-sync doctor --tenant acme --json | jq '.tenants[].findings[] | select(.verdict != \"ok\")'\n\n\
            Exit status: 0 all is well (unknowns included), 1 something needs fixing,\n\
            69 an API unreachable, 77 credentials rejected, 78 configuration error."
    )]
    Doctor {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Connect a tenant to Lever with OAuth: prints the authorize URL, waits for the redirect
    /// and stores the tokens. The tenant needs a [tenants.lever.oauth] table. A running daemon
    /// keeps running: the tokens are stored next to it and it is asked (SIGHUP) to pick them up.
    #[command(after_help = "Examples:\n  willo-lever-sync connect acme\n\n\
            On a server without a browser, forward the redirect listener over SSH from your own\n\
            machine first, then open the printed URL locally:\n  \
            ssh -L 8788:127.0.0.1:8788 server   # the port of redirect_uri / oauth.listen")]
    Connect {
        /// The tenant id.
        // An id of its own: the global `--tenant` is called `tenant`, and sharing it would
        // fill one from the other.
        #[arg(id = "connect_tenant", value_name = "TENANT")]
        tenant: String,
    },
    /// Run the whole product against built-in simulated Lever and Willo servers with a demo
    /// tenant; no configuration or account needed. Ctrl-C stops it.
    #[command(
        after_help = "Examples:\n  cargo run --release -- sandbox\n  willo-lever-sync sandbox --once\n  \
            willo-lever-sync sandbox --once --keep-state /tmp/demo\n  \
            willo-lever-sync --config /tmp/demo/sandbox.toml status"
    )]
    Sandbox {
        /// Run one full pass against the simulators, print the summary and exit.
        #[arg(long)]
        once: bool,
        /// Run `doctor` against the simulators, print its report and exit (after the pass,
        /// with --once).
        #[arg(long)]
        doctor: bool,
        /// Keep the state in DIR (created if needed) instead of a temporary directory, with a
        /// `sandbox.toml` next to it, so `status` and `tags` can be tried on the demo after it.
        #[arg(long, value_name = "DIR")]
        keep_state: Option<PathBuf>,
    },
    /// Copy the SQLite state in `daemon.state_dir` into the empty PostgreSQL database of
    /// `[store] url`, so a single-instance site can run several instances without losing its
    /// journal. Refuses a database that already holds state; stop the daemon first (the copy
    /// holds the state's lock).
    #[command(
        name = "migrate-store",
        after_help = "Example:
  systemctl stop willo-lever-sync
              willo-lever-sync --config /etc/willo-lever-sync/willo-lever-sync.toml migrate-store

            Exit status: 0 copied; 74 the SQLite state or the database could not be read or
            written, or the database is not empty; 64 no [store] url is configured."
    )]
    MigrateStore,
    /// Print a shell completion script for bash, zsh, fish, elvish or powershell.
    #[command(after_help = "Examples:\n  \
            willo-lever-sync completions bash | sudo tee /usr/share/bash-completion/completions/willo-lever-sync\n  \
            willo-lever-sync completions zsh | sudo tee /usr/local/share/zsh/site-functions/_willo-lever-sync\n  \
            willo-lever-sync completions fish | sudo tee /usr/share/fish/vendor_completions.d/willo-lever-sync.fish")]
    Completions {
        /// The shell.
        shell: Shell,
    },
    /// Print the manual page (roff).
    #[command(after_help = "Example:\n  \
            willo-lever-sync man | sudo tee /usr/local/share/man/man1/willo-lever-sync.1 && man willo-lever-sync")]
    Man,
}

/// The shells `completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

impl From<Shell> for clap_complete::Shell {
    fn from(s: Shell) -> clap_complete::Shell {
        match s {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
            Shell::Elvish => clap_complete::Shell::Elvish,
            Shell::Powershell => clap_complete::Shell::PowerShell,
        }
    }
}

impl Cli {
    /// Parses the process's arguments, noting where `--config` came from.
    pub fn parse_args() -> Result<Cli, clap::Error> {
        Cli::parse_from_args(std::env::args_os())
    }

    /// [`Cli::parse_args`] over `args` (the program name first).
    pub fn parse_from_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command().try_get_matches_from(args)?;
        let mut cli = Cli::from_arg_matches(&matches)?;
        cli.config_given =
            matches.value_source("config") == Some(clap::parser::ValueSource::CommandLine);
        Ok(cli)
    }
}
