//! Issue 13 item 17, rule: completion note (docs/behaviour.md): one note on the Lever
//! opportunity when its participant completes the Willo interview, exactly once per
//! (opportunity, interview), journalled like invites, attributed with `perform_as`, switchable
//! per tenant and shown by `--dry-run`.

use crate::support::{World, run};

use willo_lever_sync::domain::note::{NoteState, completion_marker};
use willo_lever_sync::sim::faults::{Fault, FaultRule};
use willo_lever_sync::sim::lever::UserSeed;
use willo_lever_sync::sim::willo::ResponseLinkForm;

/// A world with one interview, one candidate invited by a first pass, and the candidate's
/// participant key.
async fn invited(w: &World) -> (String, String, String) {
    let (interview, posting) = w.interview_with_posting("Sales Lead");
    let opp = w.candidate("Ada Lovelace", "ada@example.com", &posting);
    let first = w.full().await;
    assert_eq!(first.summary.applied.invites_sent, 1, "{}", first.summary);
    let key = w.participant_key(&interview, "ada@example.com");
    (interview, opp, key)
}

fn marked(w: &World, opp: &str, interview: &str) -> Vec<String> {
    let marker = completion_marker(interview);
    w.lever
        .notes(opp)
        .into_iter()
        .filter(|n| n.value.contains(&marker))
        .map(|n| n.value)
        .collect()
}

fn journal(w: &World) -> Vec<willo_lever_sync::store::NoteRow> {
    w.store().read(|r| r.notes("acme")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_a_completed_interview_gets_one_note_with_its_title_time_and_link() {
    let mut w = World::new().await;
    let user = w.lever.add_user(UserSeed {
        name: "Recruiting Bot".into(),
        email: "bot@example.com".into(),
        access_role: None,
    });
    w.lever_extra = format!("perform_as = \"{user}\"");
    w.willo.set_response_link_form(ResponseLinkForm::ShareLink);
    let (interview, opp, key) = invited(&w).await;
    assert!(w.lever.notes(&opp).is_empty(), "no note while only invited");

    w.willo.set_participant_state(&key, "Completed").unwrap();
    let pass = w.full().await;
    assert_eq!(pass.summary.applied.notes_posted, 1, "{}", pass.summary);
    let notes = w.lever.notes(&opp);
    assert_eq!(notes.len(), 1, "{notes:?}");
    let text = &notes[0].value;
    assert!(
        text.starts_with("Completed the Willo interview \"Sales Lead\" on "),
        "{text}"
    );
    assert!(text.contains(" UTC."), "completion time: {text}");
    assert!(
        text.contains(&format!(
            "Response: https://app.willotalent.example/review/{key}"
        )),
        "{text}"
    );
    assert!(text.ends_with(&completion_marker(&interview)), "{text}");
    assert_eq!(notes[0].user.as_deref(), Some(user.as_str()), "perform_as");
    let rows = journal(&w);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, NoteState::Done);
    assert_eq!(rows[0].note_id.as_deref(), Some(notes[0].id.as_str()));

    // Later passes, and the decision that follows, add nothing.
    w.full().await;
    w.willo.set_participant_state(&key, "Accepted").unwrap();
    w.full().await;
    assert!(
        w.status_tags(&opp).contains(&"Willo:Accepted".to_owned()),
        "the tag follows"
    );
    assert_eq!(w.lever.notes(&opp).len(), 1, "exactly one note");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_completion_notes_can_be_switched_off_per_tenant() {
    let mut w = World::new().await;
    w.lever_extra = "completion_note = false".into();
    let (_, opp, key) = invited(&w).await;
    w.willo.set_participant_state(&key, "Completed").unwrap();
    w.full().await;
    assert!(
        w.status_tags(&opp).contains(&"Willo:To Review".to_owned()),
        "tags still follow"
    );
    assert!(w.lever.notes(&opp).is_empty());
    assert!(journal(&w).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_the_link_is_read_where_the_configuration_says_and_only_if_it_is_one() {
    // Willo publishes no link field: where the account puts it, `response_link_fields` says.
    for (form, fields, expect_link) in [
        (ResponseLinkForm::None, "", false),
        (ResponseLinkForm::ResponseUrl, "", true),
        (ResponseLinkForm::ReviewObject, "", false),
        (
            ResponseLinkForm::ReviewObject,
            "response_link_fields = [\"review.url\"]",
            true,
        ),
        (ResponseLinkForm::NotAUrl, "", false),
    ] {
        let mut w = World::new().await;
        w.willo_extra = fields.into();
        w.willo.set_response_link_form(form);
        let (_, opp, key) = invited(&w).await;
        w.willo.set_participant_state(&key, "Completed").unwrap();
        w.full().await;
        let notes = w.lever.notes(&opp);
        assert_eq!(notes.len(), 1, "{form:?}: {notes:?}");
        assert_eq!(
            notes[0].value.contains("\nResponse: https://"),
            expect_link,
            "{form:?} {fields}: {}",
            notes[0].value
        );
        assert!(!notes[0].value.contains("Response: ") || expect_link);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_a_note_whose_answer_was_lost_is_found_by_its_marker_not_posted_again() {
    let w = World::new().await;
    let (interview, opp, key) = invited(&w).await;
    w.willo.set_participant_state(&key, "Completed").unwrap();
    // Lever stores the note, then the connection drops before the answer.
    w.lever.faults().add(
        FaultRule::new(Fault::DropConnection { after_bytes: 0 })
            .on("POST", "/v1/opportunities/{id}/notes")
            .first(1),
    );
    let pass = w.full().await;
    assert_eq!(pass.summary.applied.notes_posted, 0, "{}", pass.summary);
    assert_eq!(pass.summary.applied.notes_unknown, 1, "{}", pass.summary);
    assert_eq!(marked(&w, &opp, &interview).len(), 1, "it did land");
    assert_eq!(journal(&w)[0].state, NoteState::InFlight);

    let next = w.full().await;
    assert_eq!(next.summary.resolved.notes.found, 1, "{}", next.summary);
    assert_eq!(next.summary.applied.notes_posted, 0, "{}", next.summary);
    assert_eq!(marked(&w, &opp, &interview).len(), 1, "never twice");
    let rows = journal(&w);
    assert_eq!(rows[0].state, NoteState::Done);
    assert!(rows[0].note_id.is_some());
    w.full().await;
    assert_eq!(w.lever.notes(&opp).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_an_unknown_note_absent_from_lever_waits_out_the_landing_window_then_is_posted() {
    let w = World::new().await;
    let (interview, opp, key) = invited(&w).await;
    w.willo.set_participant_state(&key, "Completed").unwrap();
    // A crash between the journal's `in_flight` and the POST: no note in Lever.
    let now = willo_lever_sync::clock::now_ms();
    w.store_writer()
        .write(|tx| tx.mark_note_in_flight("acme", &opp, &interview, now))
        .unwrap();

    let early = w.full().await;
    assert_eq!(
        early.summary.resolved.notes.undecided, 1,
        "{}",
        early.summary
    );
    assert!(
        w.lever.notes(&opp).is_empty(),
        "a POST given up on moments ago may still land"
    );

    w.store_writer()
        .write(|tx| tx.backdate_notes("acme", 10 * 60_000))
        .unwrap();
    let later = w.full().await;
    assert_eq!(later.summary.resolved.notes.reset, 1, "{}", later.summary);
    assert_eq!(later.summary.applied.notes_posted, 1, "{}", later.summary);
    assert_eq!(marked(&w, &opp, &interview).len(), 1);
    assert_eq!(journal(&w)[0].state, NoteState::Done);
    assert_eq!(journal(&w)[0].attempts, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_a_refused_note_is_tried_again_after_the_backoff_and_posted_once() {
    let w = World::new().await;
    let (interview, opp, key) = invited(&w).await;
    w.willo.set_participant_state(&key, "Completed").unwrap();
    w.lever.faults().add(
        FaultRule::new(Fault::Status(400))
            .on("POST", "/v1/opportunities/{id}/notes")
            .first(1),
    );
    let pass = w.full().await;
    assert_eq!(pass.summary.applied.notes_posted, 0, "{}", pass.summary);
    assert!(w.lever.notes(&opp).is_empty());
    assert_eq!(journal(&w)[0].state, NoteState::Failed);

    w.store_writer()
        .write(|tx| tx.record_opportunity_success("acme", &opp))
        .unwrap();
    let again = w.full().await;
    assert_eq!(again.summary.applied.notes_posted, 1, "{}", again.summary);
    assert_eq!(marked(&w, &opp, &interview).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_completions_seen_before_an_upgrade_get_no_note() {
    let w = World::new().await;
    let (interview, opp, key) = invited(&w).await;
    w.willo.set_participant_state(&key, "Completed").unwrap();
    // Stands for a tenant that ran before notes existed: migration 8 records when they began.
    let later = willo_lever_sync::clock::now_ms() + 60_000;
    w.store_writer()
        .write(|tx| {
            tx.set_fact(
                "acme",
                willo_lever_sync::store::COMPLETION_NOTES_FROM,
                &later.to_string(),
                later,
            )
        })
        .unwrap();
    w.full().await;
    assert!(
        w.status_tags(&opp).contains(&"Willo:To Review".to_owned()),
        "the tag follows"
    );
    assert!(w.lever.notes(&opp).is_empty(), "history gets no note");
    assert!(marked(&w, &opp, &interview).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_dry_run_shows_the_note_and_posts_nothing() {
    let w = World::new().await;
    let (interview, opp, key) = invited(&w).await;
    w.willo.set_participant_state(&key, "Completed").unwrap();
    let out = run(&w, &["--once", "--dry-run", "--json"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let notes: Vec<&serde_json::Value> = plan["tenants"][0]["plan"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "post_note")
        .collect();
    assert_eq!(notes.len(), 1, "{}", out.stdout);
    assert_eq!(notes[0]["opportunity_id"], opp.as_str());
    assert_eq!(notes[0]["interview_key"], interview.as_str());
    assert!(
        notes[0]["text"]
            .as_str()
            .unwrap()
            .ends_with(&completion_marker(&interview))
    );
    assert!(w.lever.notes(&opp).is_empty(), "a dry run writes nothing");
    assert!(journal(&w).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_a_lost_state_file_does_not_post_a_second_note() {
    let w = World::new().await;
    let (interview, opp, key) = invited(&w).await;
    w.willo.set_participant_state(&key, "Completed").unwrap();
    w.full().await;
    assert_eq!(marked(&w, &opp, &interview).len(), 1);

    std::fs::remove_dir_all(w.state_dir()).unwrap();
    let marks = w.marks();
    // The first pass adopts the participant; the next one plans the note and finds it.
    for _ in 0..2 {
        let out = w.full().await;
        assert_eq!(
            w.writes_since(marks),
            Vec::<String>::new(),
            "{}",
            out.summary
        );
    }
    assert_eq!(marked(&w, &opp, &interview).len(), 1, "found, not posted");
    assert_eq!(journal(&w)[0].state, NoteState::Done);
}
