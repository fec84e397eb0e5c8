//! `sandbox`: the whole product against built-in simulators (arrives with the daemon issue).

use super::CommandError;
use crate::exit::ExitStatus;

pub fn run(_once: bool) -> Result<ExitStatus, CommandError> {
    Err(CommandError::NotAvailable("sandbox"))
}
