//! `check-config`: validate and print the resolved configuration, secrets redacted.

use std::io::Write;

use super::CommandError;
use crate::config::Settings;
use crate::exit::ExitStatus;

pub fn run(settings: &Settings) -> Result<ExitStatus, CommandError> {
    let mut out = super::output::stdout();
    writeln!(
        out,
        "# {}: valid ({} tenant{})",
        settings.source.display(),
        settings.tenants.len(),
        if settings.tenants.len() == 1 { "" } else { "s" }
    )?;
    out.write_all(settings.to_redacted_toml().as_bytes())?;
    out.flush()?;
    Ok(ExitStatus::Converged)
}
