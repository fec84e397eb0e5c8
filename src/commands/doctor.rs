//! `doctor`: read-only checks of each tenant's live accounts (`crate::doctor`), printed as text
//! or JSON. Also what `check-config --online` runs after printing the configuration.

use std::io::Write;

use super::CommandError;
use crate::config::{Settings, TenantSettings};
use crate::doctor;
use crate::exit::ExitStatus;

pub fn run(
    settings: &Settings,
    tenants: Vec<&TenantSettings>,
    json: bool,
) -> Result<ExitStatus, CommandError> {
    let report = super::runtime()?.block_on(doctor::run(settings, &tenants));
    print(&report, json)
}

/// Prints a report and returns its exit status.
pub(super) fn print(report: &doctor::Report, json: bool) -> Result<ExitStatus, CommandError> {
    let mut out = super::output::stdout();
    if json {
        writeln!(out, "{}", doctor::json(report))?;
    } else {
        out.write_all(doctor::text(report).as_bytes())?;
    }
    out.flush()?;
    Ok(report.exit())
}
