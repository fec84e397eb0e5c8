//! The tag catalog opportunity (rules: tag catalog, catalog needs a listing; docs/behaviour.md): it carries exactly the current catalog — one tag
//! per open interview plus the four status tags — so the tags show in Lever's tag picker.

use std::collections::BTreeSet;

use super::action::{Action, Warning};
use super::input::Opportunity;
use super::interviews::InterviewView;
use crate::domain::tags::StatusTag;

/// The catalog's tag changes. Only tags the daemon owns are ever removed, so whatever else a
/// person puts on the placeholder stays. A catalog larger than `cap` is not written.
pub(crate) fn plan_catalog(
    catalog: &Opportunity,
    interviews: &InterviewView,
    cap: usize,
) -> Result<Vec<Action>, Warning> {
    let desired: BTreeSet<&str> = interviews
        .open()
        .map(|i| i.current_tag.as_str())
        .chain(StatusTag::ALL.iter().map(|t| t.as_str()))
        .collect();
    if desired.len() > cap {
        return Err(Warning::CatalogTooLarge {
            tags: desired.len(),
            cap,
        });
    }
    let add: BTreeSet<String> = desired
        .iter()
        .filter(|t| !catalog.tags.contains(**t))
        .map(|t| (*t).to_owned())
        .collect();
    let remove: BTreeSet<String> = catalog
        .tags
        .iter()
        .filter(|t| interviews.owned.contains(*t) && !desired.contains(t.as_str()))
        .cloned()
        .collect();
    let mut actions = Vec::new();
    if !add.is_empty() {
        actions.push(Action::AddTags {
            opportunity_id: catalog.id.clone(),
            tags: add,
        });
    }
    if !remove.is_empty() {
        actions.push(Action::RemoveTags {
            opportunity_id: catalog.id.clone(),
            tags: remove,
        });
    }
    Ok(actions)
}
