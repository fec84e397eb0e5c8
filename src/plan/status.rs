//! Status tags follow Willo (rules: one status tag, level-triggered; deciding participant; docs/behaviour.md): every invited opportunity carries exactly the one
//! status tag mapped from its deciding participant's state.

use std::collections::{BTreeMap, BTreeSet};

use super::action::{Action, Warning};
use super::input::{KnownParticipant, Memory, Opportunity, Participant};
use super::invite::NewLinks;
use super::journal::Journal;
use super::rules::Rules;
use crate::domain::status_map::Mapped;
use crate::domain::tags::StatusTag;
use crate::domain::{InterviewKey, Millis, ParticipantKey};

/// Participant states as they stand for this plan.
#[derive(Debug, Default)]
pub(crate) struct ParticipantView {
    /// Remembered states overlaid with the observed ones.
    pub states: BTreeMap<ParticipantKey, KnownParticipant>,
    /// Observed participants that are new or whose state changed, stamped `now`.
    pub changed: BTreeMap<ParticipantKey, KnownParticipant>,
    pub warnings: Vec<Warning>,
}

/// Folds the observed participants into the remembered ones. A state counts as changed when
/// its text differs at all (the store compares the same way), and `changed_at` is when the
/// daemon first saw it: Willo's own timestamps are optional and not per state.
pub(crate) fn participants(
    rules: &Rules,
    observed: &BTreeMap<ParticipantKey, Participant>,
    memory: &Memory,
    now: Millis,
) -> ParticipantView {
    let mut view = ParticipantView {
        states: memory.participants.clone(),
        ..ParticipantView::default()
    };
    for p in observed.values() {
        if let Mapped::Unknown(value) = rules.status_map.lookup(p.state.as_deref()) {
            view.warnings.push(Warning::UnknownState {
                value,
                participant_key: p.key.clone(),
            });
        }
        let unchanged = memory
            .participants
            .get(&p.key)
            .is_some_and(|k| k.state == p.state);
        let remembered = memory.participants.get(&p.key);
        // A link once given is kept: Willo may leave it out of a later, shorter read.
        let response_link = p
            .response_link
            .clone()
            .or_else(|| remembered.and_then(|k| k.response_link.clone()));
        let link_changed = remembered.is_some_and(|k| k.response_link != response_link);
        if !unchanged {
            let known = KnownParticipant {
                state: p.state.clone(),
                changed_at: now,
                response_link,
            };
            view.states.insert(p.key.clone(), known.clone());
            view.changed.insert(p.key.clone(), known);
        } else if link_changed && let Some(k) = remembered {
            // Same state, new link: remembered without moving the state's time.
            let known = KnownParticipant {
                response_link,
                ..k.clone()
            };
            view.states.insert(p.key.clone(), known.clone());
            view.changed.insert(p.key.clone(), known);
        }
    }
    view
}

/// Plans the status-tag changes of the given opportunities (observed fresh, actionable).
///
/// Only opportunities with a recorded `done` invite, or one planned now, are considered: a
/// status tag on an opportunity the daemon never invited was put there by someone else (the
/// native integration, a person) and is left alone.
pub(crate) fn plan_status(
    rules: &Rules,
    opportunities: &[&Opportunity],
    journal: &Journal,
    new_links: &BTreeMap<String, NewLinks>,
    participants: &ParticipantView,
    now: Millis,
) -> Vec<Action> {
    let mut actions = Vec::new();
    for opp in opportunities {
        if opp.anonymized {
            // Anonymized data is gone on purpose; writing to it helps nobody.
            continue;
        }
        let mut links: BTreeMap<&InterviewKey, Option<&ParticipantKey>> = BTreeMap::new();
        if let Some(done) = journal.done_for(&opp.id) {
            links.extend(done.iter().map(|(i, p)| (i, Some(p))));
        }
        if let Some(new) = new_links.get(&opp.id) {
            links.extend(new.iter().map(|(i, p)| (i, p.as_ref())));
        }
        // The most recently changed participant decides; on a tie the greatest interview key,
        // which stays the same after the plan is applied (a participant key would not: a new
        // invite has none yet).
        let decider = links
            .into_iter()
            .map(|(interview, participant)| {
                let known = match participant {
                    // Just invited: Willo shows it as invited, as of now.
                    None => Some((None, now)),
                    Some(p) => participants
                        .states
                        .get(p)
                        .map(|k| (k.state.as_deref(), k.changed_at)),
                };
                // A recorded participant never seen counts as invited, and as the oldest
                // change, so that any participant actually seen decides instead.
                let (state, changed_at) = known.unwrap_or((None, Millis::MIN));
                ((changed_at, interview), state)
            })
            .max_by(|a, b| a.0.cmp(&b.0));
        let Some((_, state)) = decider else {
            continue;
        };
        let Mapped::Tag(desired) = rules.status_map.lookup(state) else {
            // Unknown state: no change (warned once per participant in `participants`).
            continue;
        };
        let add: BTreeSet<String> = (!opp.tags.contains(desired.as_str()))
            .then(|| desired.as_str().to_owned())
            .into_iter()
            .collect();
        let remove: BTreeSet<String> = StatusTag::ALL
            .into_iter()
            .filter(|t| *t != desired && opp.tags.contains(t.as_str()))
            .map(|t| t.as_str().to_owned())
            .collect();
        if !add.is_empty() {
            actions.push(Action::AddTags {
                opportunity_id: opp.id.clone(),
                tags: add,
            });
        }
        if !remove.is_empty() {
            actions.push(Action::RemoveTags {
                opportunity_id: opp.id.clone(),
                tags: remove,
            });
        }
    }
    actions
}
