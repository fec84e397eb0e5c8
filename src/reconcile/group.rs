//! One group of a plan's actions: the actions that share an opportunity (so they never run at
//! once), what the group learns as they run, and the locks it takes.

use std::collections::{BTreeMap, BTreeSet};

use super::apply::ApplyReport;
use super::keys::Key;
use super::outcome::Wait;
use crate::domain::OpportunityId;
use crate::domain::email::email_key;
use crate::plan::Action;

/// What one group has learned so far about its opportunities.
#[derive(Default)]
pub(crate) struct GroupState<'p> {
    pub report: ApplyReport,
    /// Opportunities whose invite did not complete: the status tags planned with it wait.
    pub waiting: BTreeMap<&'p str, Wait>,
    /// Opportunities whose status tag could not be added: their old one is not removed.
    pub add_failed: BTreeSet<&'p str>,
    /// API failures by opportunity (`action: error`), for the per-opportunity backoff.
    pub failures: BTreeMap<&'p str, String>,
    /// Opportunities whose record could not be written: a local problem, no API backoff.
    pub local_failures: BTreeSet<&'p str>,
    /// Opportunities with work left undone (skipped at shutdown, deferred): the next pass
    /// reads them again whatever the cursor says.
    pub recheck: BTreeSet<&'p str>,
    pub touched: BTreeSet<&'p str>,
}

impl GroupState<'_> {
    /// Why `action` must not run now, if it must not.
    pub fn waits(&self, action: &Action, ids: &[&str]) -> Option<Wait> {
        if action.tags().is_some()
            && let Some(wait) = ids.iter().find_map(|id| self.waiting.get(id))
        {
            return Some(*wait);
        }
        let removes_after_failed_add = matches!(action, Action::RemoveTags { .. })
            && ids.iter().any(|id| self.add_failed.contains(id));
        removes_after_failed_add.then_some(Wait::Failed)
    }
}

/// One failed action, as `--once --json` and the pass log report it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ActionFailure {
    pub opportunity_id: OpportunityId,
    /// The candidate's name as Lever showed it (empty when not read in this pass).
    pub candidate: String,
    /// The action's kind (`invite`, `add_tags`, …).
    pub action: &'static str,
    /// A stable word for the error (an `ApiError` metric label, `store`, `ambiguous`).
    pub error_kind: &'static str,
    pub error: String,
}

/// The opportunities and people a group's actions touch.
pub(crate) fn keys_of(group: &[&Action]) -> BTreeSet<Key> {
    let mut keys = BTreeSet::new();
    for action in group {
        keys.extend(
            action
                .opportunity_ids()
                .into_iter()
                .map(|id| Key::Opportunity(id.clone())),
        );
        if let Action::Invite {
            interview_key,
            email,
            ..
        }
        | Action::Adopt {
            interview_key,
            email,
            ..
        } = action
            && let Some(person) = email_key(email)
        {
            keys.insert(Key::Person(person, interview_key.clone()));
        }
    }
    keys
}

/// Groups actions that share an opportunity (transitively), keeping plan order inside each
/// group, so no two actions on one opportunity ever run at once.
pub(crate) fn groups(actions: &[Action]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..actions.len()).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut owner: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, a) in actions.iter().enumerate() {
        for id in a.opportunity_ids() {
            match owner.get(id.as_str()) {
                Some(&j) => {
                    let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                    parent[ri] = rj;
                }
                None => {
                    owner.insert(id.as_str(), i);
                }
            }
        }
    }
    let mut out: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..actions.len() {
        let root = find(&mut parent, i);
        out.entry(root).or_default().push(i);
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(id: &str) -> Action {
        Action::AddTags {
            opportunity_id: id.into(),
            tags: BTreeSet::from(["Willo:Invited".to_owned()]),
        }
    }

    #[test]
    fn actions_sharing_an_opportunity_land_in_one_group_in_order() {
        let invite = Action::Invite {
            interview_key: "iv".into(),
            email: "a@x.io".into(),
            name: "A".into(),
            first_name: None,
            last_name: None,
            opportunity_ids: vec!["o1".into(), "o2".into()],
        };
        let actions = vec![invite.clone(), tags("o2"), tags("o3"), tags("o1")];
        let g = groups(&actions);
        assert_eq!(g, vec![vec![0, 1, 3], vec![2]]);
    }
}
