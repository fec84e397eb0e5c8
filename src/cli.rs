//! The command line (clap). Parsing only: `commands` runs what is parsed.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::DEFAULT_PATH;

#[derive(Debug, Parser)]
#[command(
    name = "willo-lever-sync",
    version,
    about = "Keeps a Lever ATS account and a Willo video-interview account in agreement.",
    long_about = "Keeps a Lever ATS account and a Willo video-interview account in agreement.\n\n\
        With no command and no --once, runs the daemon: scheduled incremental and full passes, \
        webhook hints, /healthz, /readyz and /metrics on [daemon].listen.",
    after_help = "Examples:\n  \
        willo-lever-sync --config /etc/willo-lever-sync/willo-lever-sync.toml   # run the daemon\n  \
        willo-lever-sync --once                     # one full pass for every tenant, then exit\n  \
        willo-lever-sync --once --dry-run --tenant acme   # print what a pass would do; write nothing\n  \
        willo-lever-sync sandbox                    # try it against built-in simulated Lever and Willo\n\n\
        Exit status: 0 converged, 1 some actions failed, 64 usage, 69 an API unreachable,\n\
        74 state store error, 77 credentials rejected, 78 configuration error."
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
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show each tenant's connection, last passes, invites by state and needs-attention list.
    #[command(
        after_help = "Example:\n  willo-lever-sync status --json | jq '.tenants[].attention'"
    )]
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show the interview-tag catalog: one tag per open Willo interview, plus the status tags.
    #[command(after_help = "Example:\n  willo-lever-sync tags --tenant acme")]
    Tags,
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
    /// and stores the tokens. The tenant needs a [tenants.lever.oauth] table.
    #[command(after_help = "Example:\n  willo-lever-sync connect acme")]
    Connect {
        /// The tenant id.
        tenant: String,
    },
    /// Run the whole product against built-in simulated Lever and Willo servers with a demo
    /// tenant; no configuration or account needed. Ctrl-C stops it.
    #[command(
        after_help = "Example:\n  cargo run --release -- sandbox\n  willo-lever-sync sandbox --once"
    )]
    Sandbox {
        /// Run one full pass against the simulators, print the summary and exit.
        #[arg(long)]
        once: bool,
        /// Run `doctor` against the simulators, print its report and exit (after the pass,
        /// with --once).
        #[arg(long)]
        doctor: bool,
    },
}
