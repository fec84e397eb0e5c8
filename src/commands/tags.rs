//! `tags`: the interview-tag catalog (rule: tag catalog, docs/behaviour.md) — one tag per open
//! interview, plus the status tags — and the aliases left by renames. Reads only the state
//! store.

use std::io::Write;

use serde::Serialize;

use super::{CommandError, SCHEMA_VERSION};
use crate::config::StateSettings;
use crate::domain::tags::StatusTag;
use crate::exit::ExitStatus;

/// The `tags --json` document.
#[derive(Serialize)]
struct Catalog {
    schema_version: u32,
    tenants: Vec<TenantTags>,
}

#[derive(Serialize)]
struct TenantTags {
    tenant: String,
    status_tags: Vec<&'static str>,
    /// Open interviews: the tag the catalog carries, and older ones that still connect.
    interviews: Vec<InterviewTags>,
    /// Interviews Willo no longer lists: their tags connect nothing and left the catalog.
    removed_interviews: Vec<InterviewTags>,
}

#[derive(Serialize)]
struct InterviewTags {
    interview_key: String,
    title: String,
    tag: String,
    aliases: Vec<String>,
}

pub fn run(
    settings: &StateSettings,
    tenants: Vec<&str>,
    json: bool,
) -> Result<ExitStatus, CommandError> {
    let store = super::read_store(&settings.daemon.state_dir, &settings.store)?;
    let mut catalog = Catalog {
        schema_version: SCHEMA_VERSION,
        tenants: Vec::new(),
    };
    for id in tenants {
        let interviews = match &store {
            Some(s) => s.read(|r| r.interviews(id))?,
            None => Vec::new(),
        };
        let (open, closed): (Vec<_>, Vec<_>) = interviews
            .into_iter()
            .map(|i| {
                (
                    i.open,
                    InterviewTags {
                        aliases: i.tags.into_iter().filter(|a| *a != i.current_tag).collect(),
                        interview_key: i.key,
                        title: i.title,
                        tag: i.current_tag,
                    },
                )
            })
            .partition(|(open, _)| *open);
        catalog.tenants.push(TenantTags {
            tenant: id.to_owned(),
            status_tags: StatusTag::ALL.iter().map(|s| s.as_str()).collect(),
            interviews: open.into_iter().map(|(_, i)| i).collect(),
            removed_interviews: closed.into_iter().map(|(_, i)| i).collect(),
        });
    }
    let mut out = super::output::stdout();
    if json {
        serde_json::to_writer_pretty(&mut out, &catalog).map_err(std::io::Error::other)?;
        writeln!(out)?;
    } else {
        write_text(&mut out, &catalog)?;
    }
    out.flush()?;
    Ok(ExitStatus::Converged)
}

fn write_text(out: &mut impl Write, catalog: &Catalog) -> std::io::Result<()> {
    for t in &catalog.tenants {
        writeln!(out, "tenant {}:", t.tenant)?;
        writeln!(out, "  status tags:")?;
        for s in &t.status_tags {
            writeln!(out, "    {s}")?;
        }
        writeln!(out, "  interview tags:")?;
        if t.interviews.is_empty() {
            writeln!(out, "    (none yet: a pass lists Willo's interviews)")?;
        }
        for i in &t.interviews {
            writeln!(out, "    {}    (interview {})", i.tag, i.interview_key)?;
            for alias in &i.aliases {
                writeln!(out, "      alias: {alias}")?;
            }
        }
        if !t.removed_interviews.is_empty() {
            writeln!(out, "  removed interviews (tags no longer in the catalog):")?;
            for i in &t.removed_interviews {
                writeln!(out, "    {}    (interview {})", i.tag, i.interview_key)?;
            }
        }
    }
    Ok(())
}
