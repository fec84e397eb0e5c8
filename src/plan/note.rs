//! Completion notes (rule: completion note, docs/behaviour.md): one note on the opportunity
//! when the participant of its `done` invite has completed the interview, once per
//! (opportunity, interview).
//!
//! "Completed" is read from the status map: a participant whose state maps to
//! `Willo:To Review`, `Willo:Accepted` or `Willo:Rejected` has completed (a decision is only
//! made on a response). A note is planned while the journal holds no row for the pair, or a
//! row that provably left no note (`planned`, `failed`); `in_flight` rows are settled by the
//! marker lookup before planning, and `done` ones are final. A state first seen before
//! `Memory::notes_from` (the tenant ran before completion notes existed) gets no note.

use super::action::Action;
use super::input::{Memory, Observed, Opportunity};
use super::journal::Journal;
use super::rules::Rules;
use super::status::ParticipantView;
use crate::domain::note::completion_text;
use crate::domain::status_map::Mapped;
use crate::domain::tags::StatusTag;

pub(crate) fn plan_notes(
    rules: &Rules,
    opportunities: &[&Opportunity],
    journal: &Journal,
    participants: &ParticipantView,
    observed: &Observed,
    memory: &Memory,
) -> Vec<Action> {
    if !rules.completion_note {
        return Vec::new();
    }
    let mut actions = Vec::new();
    for opp in opportunities {
        if opp.anonymized {
            // Anonymized data is gone on purpose; writing to it helps nobody.
            continue;
        }
        let Some(done) = journal.done_for(&opp.id) else {
            continue;
        };
        for (interview, participant) in done {
            let journalled = memory.notes.get(&(opp.id.clone(), interview.clone()));
            if journalled.is_some_and(|s| !s.may_post()) {
                continue;
            }
            let Some(known) = participants.states.get(participant) else {
                continue;
            };
            if known.changed_at < memory.notes_from {
                continue;
            }
            let Mapped::Tag(tag) = rules.status_map.lookup(known.state.as_deref()) else {
                continue;
            };
            // The time the daemon first saw the completed state is the completion time only
            // while that state is "to review"; a decision's time is not when it was completed.
            let completed_at = match tag {
                StatusTag::ToReview => Some(known.changed_at),
                StatusTag::Accepted | StatusTag::Rejected => None,
                StatusTag::Invited => continue,
            };
            actions.push(Action::PostNote {
                opportunity_id: opp.id.clone(),
                interview_key: interview.clone(),
                text: completion_text(
                    &title(observed, memory, interview),
                    interview,
                    completed_at,
                    known.response_link.as_deref(),
                ),
            });
        }
    }
    actions
}

/// The interview's title as listed now, else as remembered, else its key (a closed interview
/// the daemon never listed still deserves its note).
fn title(observed: &Observed, memory: &Memory, key: &str) -> String {
    observed
        .interviews
        .iter()
        .flatten()
        .find(|i| i.key == key)
        .map(|i| i.title.clone())
        .or_else(|| {
            memory
                .interviews
                .iter()
                .find(|i| i.key == key)
                .map(|i| i.title.clone())
        })
        .unwrap_or_else(|| key.to_owned())
}
