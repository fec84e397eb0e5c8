//! `tags`: the interview-tag catalog (rule: tag catalog, docs/behaviour.md) — one tag per open interview, plus the
//! status tags — and the aliases left by renames.

use std::io::Write;

use super::CommandError;
use crate::config::{Settings, TenantSettings};
use crate::domain::tags::StatusTag;
use crate::exit::ExitStatus;

pub fn run(settings: &Settings, tenants: Vec<&TenantSettings>) -> Result<ExitStatus, CommandError> {
    let store = super::read_store(settings)?;
    let mut out = super::output::stdout();
    for t in tenants {
        writeln!(out, "tenant {}:", t.id)?;
        writeln!(out, "  status tags:")?;
        for s in StatusTag::ALL {
            writeln!(out, "    {s}")?;
        }
        let interviews = match &store {
            Some(s) => s.read(|r| r.interviews(&t.id))?,
            None => Vec::new(),
        };
        writeln!(out, "  interview tags:")?;
        let open: Vec<_> = interviews.iter().filter(|i| i.open).collect();
        if open.is_empty() {
            writeln!(out, "    (none yet: a pass lists Willo's interviews)")?;
        }
        for i in open {
            writeln!(out, "    {}    (interview {})", i.current_tag, i.key)?;
            for alias in i.tags.iter().filter(|a| **a != i.current_tag) {
                writeln!(out, "      alias: {alias}")?;
            }
        }
        let closed: Vec<_> = interviews.iter().filter(|i| !i.open).collect();
        if !closed.is_empty() {
            writeln!(out, "  removed interviews (tags no longer in the catalog):")?;
            for i in closed {
                writeln!(out, "    {}    (interview {})", i.current_tag, i.key)?;
            }
        }
    }
    out.flush()?;
    Ok(ExitStatus::Converged)
}
