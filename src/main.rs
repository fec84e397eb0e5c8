//! The binary edge: parse the command line, run, map the outcome to an exit status.

use std::io::Write;
use std::process::ExitCode;

use clap::error::ErrorKind;
use willo_lever_sync::cli::Cli;
use willo_lever_sync::commands;
use willo_lever_sync::error_chain::chain;
use willo_lever_sync::exit::ExitStatus;

fn main() -> ExitCode {
    let cli = match Cli::parse_args() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    ExitStatus::Converged.into()
                }
                _ => ExitStatus::Usage.into(),
            };
        }
    };
    match commands::run(cli) {
        Ok(status) => status.into(),
        Err(e) => {
            // Each cause once; `eprintln!` would panic if stderr were gone.
            let _ = writeln!(std::io::stderr(), "willo-lever-sync: {}", chain(&e));
            e.exit_status().into()
        }
    }
}
