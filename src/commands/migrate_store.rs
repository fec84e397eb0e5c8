//! `migrate-store`: copies the SQLite state in `daemon.state_dir` into the empty PostgreSQL
//! database of `[store] url` (issue 14), so a site that grows to several instances keeps its
//! invite journal, and with it the exactly-once guarantee for every invite already made.

use std::io::Write;

use super::CommandError;
use crate::config::StateSettings;
use crate::exit::ExitStatus;
use crate::store::{DB_FILE, OpenMode, Store, StoreError};

pub fn run(settings: &StateSettings) -> Result<ExitStatus, CommandError> {
    if !settings.store.is_shared() {
        return Err(CommandError::Usage(
            "migrate-store copies the state into the PostgreSQL database of [store] url (or url_file); none is configured"
                .to_owned(),
        ));
    }
    let dir = &settings.daemon.state_dir;
    let file = dir.join(DB_FILE);
    if !file.exists() {
        return Err(StoreError::Missing { path: file }.into());
    }
    // The writer's lock: no daemon or `--once` may change the state while it is copied.
    let from = Store::open(dir, OpenMode::Writer)?;
    let to = settings.store.open(dir, OpenMode::Writer)?;
    let counts = from.copy_into(&to)?;
    let mut out = super::output::stdout();
    writeln!(
        out,
        "copied {} into {}",
        file.display(),
        to.path().display()
    )?;
    for (table, rows) in counts {
        writeln!(out, "  {table}: {rows} rows")?;
    }
    writeln!(
        out,
        "the SQLite file is left as it was; start the instances with [store] url set"
    )?;
    out.flush()?;
    Ok(ExitStatus::Converged)
}
