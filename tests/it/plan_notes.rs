//! The planner's completion-note rule (issue 13 item 17; rule: completion note), case by
//! case: which journal and participant states plan a note, and that applying it plans nothing
//! more.

use crate::common;

use common::*;
use willo_lever_sync::domain::note::{NoteState, completion_marker};
use willo_lever_sync::plan::{Action, Plan};

const INVITED: &str = "Willo:Invited";
const TO_REVIEW: &str = "Willo:To Review";
const ACCEPTED: &str = "Willo:Accepted";

/// An invited candidate whose participant `p1` Willo shows in `state`, notes on.
fn world(state: &str, tag: &str) -> World {
    World::new()
        .rules(|r| r.completion_note = true)
        .interview("i1", "Sales Lead")
        .opp(opp("o1").tags(&[tag]))
        .invite_row("o1", "i1", "o1@example.com", Some("p1"), "done")
        .participant("p1", "i1", "o1@example.com", Some(state))
}

fn notes(p: &Plan) -> Vec<String> {
    p.actions
        .iter()
        .filter(|a| matches!(a, Action::PostNote { .. }))
        .map(action_line)
        .collect()
}

#[test]
fn issue13_a_completed_participant_plans_one_note_and_applying_it_plans_no_other() {
    let w = world("completed", INVITED);
    let p = w.plan();
    assert_eq!(notes(&p), ["note o1 i1"]);
    let Some(Action::PostNote { text, .. }) = p
        .actions
        .iter()
        .find(|a| matches!(a, Action::PostNote { .. }))
    else {
        unreachable!("one note was planned above")
    };
    assert!(text.contains("\"Sales Lead\""), "{text}");
    assert!(text.ends_with(&completion_marker("i1")), "{text}");
    assert!(notes(&simulate(&w, &p).plan()).is_empty());
}

#[test]
fn issue13_an_invited_or_unknown_state_plans_no_note() {
    assert!(notes(&world("invited", INVITED).plan()).is_empty());
    assert!(notes(&world("On Hold", INVITED).plan()).is_empty());
}

#[test]
fn issue13_a_decision_seen_first_still_means_it_was_completed() {
    let p = world("accepted", TO_REVIEW).plan();
    assert_eq!(notes(&p), ["note o1 i1"]);
    let p = world("shortlisted", ACCEPTED).plan();
    assert_eq!(notes(&p), ["note o1 i1"]);
}

#[test]
fn issue13_the_journal_decides_whether_a_note_may_be_posted() {
    for (state, planned) in [
        (NoteState::Planned, true),
        (NoteState::Failed, true),
        (NoteState::InFlight, false),
        (NoteState::Done, false),
    ] {
        let p = world("completed", TO_REVIEW)
            .known_note("o1", "i1", state)
            .plan();
        assert_eq!(notes(&p).len(), usize::from(planned), "{state}");
    }
}

#[test]
fn issue13_no_note_when_switched_off_anonymized_or_not_invited_by_the_journal() {
    let off = world("completed", TO_REVIEW).rules(|r| r.completion_note = false);
    assert!(notes(&off.plan()).is_empty());
    let anonymized = World::new()
        .rules(|r| r.completion_note = true)
        .interview("i1", "Sales Lead")
        .opp(opp("o1").tags(&[TO_REVIEW]).anonymized())
        .invite_row("o1", "i1", "o1@example.com", Some("p1"), "done")
        .participant("p1", "i1", "o1@example.com", Some("completed"));
    assert!(notes(&anonymized.plan()).is_empty());
    let in_flight_invite = World::new()
        .rules(|r| r.completion_note = true)
        .interview("i1", "Sales Lead")
        .opp(opp("o1").tags(&[INVITED]))
        .invite_row("o1", "i1", "o1@example.com", Some("p1"), "in_flight")
        .participant("p1", "i1", "o1@example.com", Some("completed"));
    assert!(notes(&in_flight_invite.plan()).is_empty());
}

#[test]
fn issue13_completions_first_seen_before_notes_began_are_history() {
    let mut w = world("completed", TO_REVIEW).known_participant("p1", Some("completed"), 500);
    w.memory.notes_from = 600;
    assert!(notes(&w.plan()).is_empty(), "seen at 500, notes from 600");
    w.memory.notes_from = 500;
    assert_eq!(notes(&w.plan()), ["note o1 i1"]);
}
