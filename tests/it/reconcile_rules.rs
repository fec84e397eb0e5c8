//! Each rule of docs/behaviour.md, end to end through the clients, the planner and the store,
//! against the simulators.

use crate::support;

use support::World;
use willo_lever_sync::domain::invite::InviteState;
use willo_lever_sync::sim::lever::OppSeed;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_in_the_trigger_stage_inherits_the_posting_tag_and_is_invited_once() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Product Manager");
    let opp = w.candidate("Ada Lovelace", "ada@example.com", &posting);
    assert!(
        w.lever
            .tags_of(&opp)
            .contains(&World::tag_of("Product Manager")),
        "inherited at creation"
    );

    let first = w.full().await;
    assert_eq!(first.summary.applied.invites_sent, 1, "{}", first.summary);
    let participants = w.willo.participants(&interview);
    assert_eq!(participants.len(), 1);
    assert_eq!(participants[0].email, "ada@example.com");
    assert_eq!(participants[0].external_id.as_deref(), Some(opp.as_str()));
    assert!(w.lever.tags_of(&opp).contains(&"Willo:Invited".to_owned()));
    let row = w
        .store()
        .read(|r| r.invite("acme", &opp, &interview))
        .unwrap()
        .unwrap();
    assert_eq!(row.state, InviteState::Done);
    assert_eq!(
        row.participant_key.as_deref(),
        Some(participants[0].key.as_str())
    );

    let marks = w.marks();
    let second = w.full().await;
    assert_eq!(
        w.writes_since(marks),
        Vec::<String>::new(),
        "{}",
        second.summary
    );
    assert_eq!(w.willo.invites_sent().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_added_before_the_posting_was_tagged_are_connected_through_the_posting() {
    let w = World::new().await;
    let interview = w.willo.add_interview("Designer");
    let posting = w
        .lever
        .add_posting(willo_lever_sync::sim::lever::PostingSeed::new(
            "Designer job",
        ))
        .unwrap();
    let opp = w.candidate("Grace Hopper", "grace@example.com", &posting);
    w.lever
        .tag_posting(&posting, &[&World::tag_of("Designer")])
        .unwrap();
    assert!(
        !w.lever.tags_of(&opp).contains(&World::tag_of("Designer")),
        "no back-fill"
    );

    w.full().await;
    assert_eq!(w.willo.participants(&interview).len(), 1);
    assert!(w.lever.tags_of(&opp).contains(&"Willo:Invited".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archived_anonymized_emailless_and_unconsenting_candidates_are_not_invited() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Analyst");
    let seed = |name: &str, email: &str| {
        OppSeed::new(name, email)
            .posting(&posting)
            .stage(&w.trigger)
    };
    let archived = w
        .lever
        .add_opportunity(seed("Archie", "archie@example.com").archived("Hired"))
        .unwrap();
    let anonymous = w
        .lever
        .add_opportunity(seed("Anon", "anon@example.com"))
        .unwrap();
    w.lever.anonymize(&anonymous).unwrap();
    let no_email = w
        .lever
        .add_opportunity(seed("Nemo", "nemo@example.com"))
        .unwrap();
    w.lever.set_emails(&no_email, &[]).unwrap();
    let no_consent = w
        .lever
        .add_opportunity(seed("Nico", "nico@example.com").contact_consent(false))
        .unwrap();

    let out = w.full().await;
    assert_eq!(out.summary.applied.invites_sent, 0, "{}", out.summary);
    assert!(w.willo.participants(&interview).is_empty());
    for opp in [&archived, &anonymous, &no_email, &no_consent] {
        assert!(
            !w.lever.tags_of(opp).iter().any(|t| t == "Willo:Invited"),
            "{opp} tagged"
        );
    }
    let attention: Vec<(String, String)> = w
        .store()
        .read(|r| r.attention("acme"))
        .unwrap()
        .into_iter()
        .map(|a| (a.opportunity_id, a.reason))
        .collect();
    assert!(
        attention.contains(&(no_email.clone(), "no_email".into())),
        "{attention:?}"
    );
    assert!(
        attention.contains(&(no_consent.clone(), "no_consent".into())),
        "{attention:?}"
    );
    assert_eq!(attention.len(), 2, "{attention:?}");

    // Giving the candidate an email clears the item and invites.
    w.lever
        .set_emails(&no_email, &["nemo@example.com"])
        .unwrap();
    w.full().await;
    assert_eq!(w.willo.participants(&interview).len(), 1);
    let attention = w.store().read(|r| r.attention("acme")).unwrap();
    assert_eq!(attention.len(), 1, "{attention:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_person_with_two_opportunities_gets_one_participant() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Engineer");
    let a = w.candidate("Linus", "linus@example.com", &posting);
    let b = w.candidate("Linus T.", "LINUS@example.com ", &posting);

    let out = w.full().await;
    assert_eq!(out.summary.applied.invites_sent, 1, "{}", out.summary);
    let participants = w.willo.participants(&interview);
    assert_eq!(participants.len(), 1);
    assert_eq!(w.willo.invites_sent().len(), 1);
    for opp in [&a, &b] {
        let row = w
            .store()
            .read(|r| r.invite("acme", opp, &interview))
            .unwrap()
            .unwrap();
        assert_eq!(
            row.participant_key.as_deref(),
            Some(participants[0].key.as_str())
        );
        assert!(w.lever.tags_of(opp).contains(&"Willo:Invited".to_owned()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_participant_with_the_email_is_adopted_not_invited_again() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Engineer");
    let existing = w
        .willo
        .add_participant(willo_lever_sync::sim::willo::ParticipantSeed::new(
            &interview,
            "Ken",
            "ken@example.com",
        ))
        .unwrap();
    let opp = w.candidate("Ken", "ken@example.com", &posting);
    let sent_before = w.willo.invites_sent().len();

    let out = w.full().await;
    assert_eq!(out.summary.applied.invites_sent, 0, "{}", out.summary);
    assert_eq!(out.summary.applied.invites_adopted, 1, "{}", out.summary);
    assert_eq!(w.willo.invites_sent().len(), sent_before);
    let row = w
        .store()
        .read(|r| r.invite("acme", &opp, &interview))
        .unwrap()
        .unwrap();
    assert_eq!(row.participant_key.as_deref(), Some(existing.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_and_reentering_the_trigger_stage_never_reinvites() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Support");
    let opp = w.candidate("Margaret", "margaret@example.com", &posting);
    w.full().await;
    w.lever.move_stage(&opp, &w.other).unwrap();
    w.full().await;
    w.lever.move_stage(&opp, &w.trigger).unwrap();
    w.full().await;
    w.pass(willo_lever_sync::domain::PassKind::Incremental)
        .await;
    assert_eq!(w.willo.participants(&interview).len(), 1);
    assert_eq!(w.willo.invites_sent().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_the_daemon_does_not_own_are_never_touched() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Sales");
    let opp = w.candidate("Barbara", "barbara@example.com", &posting);
    let foreign = [
        "Priority",
        "Willo:Someone Else's Tag",
        "willo:invited",
        "San Francisco",
    ];
    w.lever.add_tags_by_hand(&opp, &foreign).unwrap();
    w.full().await;
    w.willo
        .set_participant_state(&w.willo.participants(&interview)[0].key, "rejected")
        .unwrap();
    w.full().await;
    let tags = w.lever.tags_of(&opp);
    for t in foreign {
        assert!(tags.contains(&t.to_owned()), "{t} was removed: {tags:?}");
    }
    assert!(tags.contains(&"Willo:Rejected".to_owned()), "{tags:?}");
    assert!(!tags.contains(&"Willo:Invited".to_owned()), "{tags:?}");
    // Only status tags (and the completion note of the decision) were ever written.
    for r in w.lever.writes() {
        assert!(
            r.route.ends_with("Tags") || r.route.ends_with("/notes"),
            "unexpected write {}",
            r.route
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_willo_state_representation_maps_to_its_status_tag() {
    use willo_lever_sync::sim::willo::StateForm;
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("QA");
    let cases = [
        (StateForm::StageObject, "Accepted", "Willo:Accepted"),
        (StateForm::StageString, "completed", "Willo:To Review"),
        (StateForm::StatusString, "REJECTED", "Willo:Rejected"),
        (StateForm::Missing, "accepted", "Willo:Invited"),
    ];
    let opps: Vec<String> = (0..cases.len())
        .map(|i| w.candidate(&format!("C{i}"), &format!("c{i}@example.com"), &posting))
        .collect();
    w.full().await;
    for (i, (form, state, _)) in cases.iter().enumerate() {
        let key = w
            .store()
            .read(|r| r.invite("acme", &opps[i], &interview))
            .unwrap()
            .unwrap()
            .participant_key
            .unwrap();
        w.willo.set_participant_state(&key, state).unwrap();
        w.willo.set_state_form(&key, *form).unwrap();
    }
    w.full().await;
    for (i, (form, _, expected)) in cases.iter().enumerate() {
        let status: Vec<String> = w
            .lever
            .tags_of(&opps[i])
            .into_iter()
            .filter(|t| willo_lever_sync::domain::tags::is_status_tag(t))
            .collect();
        assert_eq!(status, vec![expected.to_string()], "{form:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_tag_removed_by_hand_comes_back_on_the_next_full_pass() {
    let w = World::new().await;
    let (_interview, posting) = w.interview_with_posting("Ops");
    let opp = w.candidate("Dennis", "dennis@example.com", &posting);
    w.full().await;
    // Moved on in Lever, and someone cleaned the tags up by hand.
    w.lever.move_stage(&opp, &w.other).unwrap();
    w.lever
        .remove_tags_by_hand(&opp, &["Willo:Invited"])
        .unwrap();
    let out = w.full().await;
    assert_eq!(out.summary.applied.tags_added, 1, "{}", out.summary);
    assert!(w.lever.tags_of(&opp).contains(&"Willo:Invited".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_most_recently_changed_participant_decides_the_status_tag() {
    let w = World::new().await;
    let (iv_a, posting) = w.interview_with_posting("Role A");
    let iv_b = w.willo.add_interview("Role B");
    let opp = w.candidate("Ellen", "ellen@example.com", &posting);
    w.lever
        .add_tags_by_hand(&opp, &[&World::tag_of("Role B")])
        .unwrap();
    w.full().await;
    let key = |iv: &str| {
        w.store()
            .read(|r| r.invite("acme", &opp, iv))
            .unwrap()
            .unwrap()
            .participant_key
            .unwrap()
    };
    w.willo
        .set_participant_state(&key(&iv_a), "rejected")
        .unwrap();
    w.full().await;
    assert!(w.lever.tags_of(&opp).contains(&"Willo:Rejected".to_owned()));
    w.willo
        .set_participant_state(&key(&iv_b), "completed")
        .unwrap();
    w.full().await;
    let tags = w.lever.tags_of(&opp);
    assert!(tags.contains(&"Willo:To Review".to_owned()), "{tags:?}");
    assert!(!tags.contains(&"Willo:Rejected".to_owned()), "{tags:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_willo_state_changes_nothing_and_is_reported() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Intern");
    let opp = w.candidate("Fran", "fran@example.com", &posting);
    w.full().await;
    let key = w.willo.participants(&interview)[0].key.clone();
    w.willo.set_participant_state(&key, "On Hold").unwrap();
    let marks = w.marks();
    let out = w.full().await;
    assert_eq!(w.writes_since(marks), Vec::<String>::new());
    assert!(
        out.summary.warnings.iter().any(|x| x.contains("on hold")),
        "{:?}",
        out.summary.warnings
    );
    assert!(w.lever.tags_of(&opp).contains(&"Willo:Invited".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_interview_keeps_its_old_tag_as_an_alias() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("PM");
    w.full().await;
    w.willo
        .rename_interview(&interview, "Product Manager")
        .unwrap();
    // Candidates still arrive through the posting tagged with the old text.
    let opp = w.candidate("Hedy", "hedy@example.com", &posting);
    let out = w.full().await;
    assert_eq!(out.summary.applied.invites_sent, 1, "{}", out.summary);
    assert!(
        out.summary
            .warnings
            .iter()
            .any(|x| x.contains("Willo:PM-Acme") && x.contains(&posting)),
        "{:?}",
        out.summary.warnings
    );
    let row = w
        .store()
        .read(|r| r.invite("acme", &opp, &interview))
        .unwrap()
        .unwrap();
    assert_eq!(row.state, InviteState::Done);
    let ivs = w.store().read(|r| r.interviews("acme")).unwrap();
    assert_eq!(ivs[0].current_tag, "Willo:Product Manager-Acme");
    assert!(ivs[0].tags.contains(&"Willo:PM-Acme".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_opportunity_follows_the_open_interviews() {
    let mut w = World::new().await;
    let catalog = w
        .lever
        .add_opportunity(OppSeed::new("Willo tag catalog", "catalog@example.com").tag("Keep me"))
        .unwrap();
    w.tenant_extra = format!("catalog_opportunity_id = \"{catalog}\"");
    let a = w.willo.add_interview("Alpha");
    w.full().await;
    let mut expected = vec![
        "Keep me".to_owned(),
        "Willo:Accepted".to_owned(),
        "Willo:Alpha-Acme".to_owned(),
        "Willo:Invited".to_owned(),
        "Willo:Rejected".to_owned(),
        "Willo:To Review".to_owned(),
    ];
    let mut tags = w.lever.tags_of(&catalog);
    tags.sort();
    assert_eq!(tags, expected);
    w.willo.add_interview("Beta");
    w.willo.remove_interview(&a).unwrap();
    w.full().await;
    expected.retain(|t| t != "Willo:Alpha-Acme");
    expected.push("Willo:Beta-Acme".to_owned());
    expected.sort();
    let mut tags = w.lever.tags_of(&catalog);
    tags.sort();
    assert_eq!(tags, expected);
    // The catalog candidate is never invited.
    assert!(w.willo.invites_sent().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opportunity_deleted_mid_pass_ends_the_pass_cleanly() {
    use willo_lever_sync::sim::hold::HoldRule;
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Chef");
    let opp = w.candidate("Julia", "julia@example.com", &posting);
    // Hold the invite (after Willo applied it), delete the opportunity in Lever meanwhile.
    let hold = w
        .willo
        .hold(HoldRule::new("POST", "/api/integrations/v2/participants/"));
    let tenant = w.tenant();
    let pass = tokio::spawn(async move {
        tenant
            .pass(
                willo_lever_sync::domain::PassKind::Full,
                &tokio_util::sync::CancellationToken::new(),
            )
            .await
    });
    hold.held().await;
    w.lever.delete_opportunity(&opp).unwrap();
    hold.release();
    let out = pass.await.unwrap();
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.summary.applied.invites_sent, 1, "{}", out.summary);
    assert_eq!(w.willo.participants(&interview).len(), 1);
    // The next pass learns of the deletion and does nothing more.
    let marks = w.marks();
    w.full().await;
    assert_eq!(w.writes_since(marks), Vec::<String>::new());
    let mirror = w
        .store()
        .read(|r| r.opportunity("acme", &opp))
        .unwrap()
        .unwrap();
    assert!(mirror.deleted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_opportunity_backs_off_and_recovers_without_stopping_the_others() {
    use willo_lever_sync::sim::faults::{Fault, FaultPlan, FaultRule};
    let mut w = World::new().await;
    w.retry_budget = 0.2;
    let (_interview, posting) = w.interview_with_posting("Nurse");
    let a = w.candidate("Florence", "florence@example.com", &posting);
    let b = w.candidate("Mary", "mary@example.com", &posting);
    // Tag writes to `a` fail; `b` is unaffected.
    let route = "/v1/opportunities/{id}/addTags";
    w.lever.faults().set(
        FaultPlan::seeded(7).with(
            FaultRule::new(Fault::Status(500))
                .on("POST", route)
                .path_contains(&a),
        ),
    );
    let out = w.try_pass(willo_lever_sync::domain::PassKind::Full).await;
    assert_eq!(out.exit_status().code(), 1, "{}", out.summary);
    assert_eq!(out.summary.applied.failed, 1, "{}", out.summary);
    assert!(w.lever.tags_of(&b).contains(&"Willo:Invited".to_owned()));
    let failing = w.store().read(|r| r.failing_opportunities("acme")).unwrap();
    assert_eq!(failing.len(), 1);
    assert_eq!(failing[0].id, a);
    assert_eq!(failing[0].failure_count, 1);
    assert!(failing[0].next_check_at > 0);
    // While it backs off, passes leave it alone (and write nothing for it).
    w.lever.faults().clear();
    let marks = w.marks();
    w.full().await;
    assert_eq!(w.writes_since(marks), Vec::<String>::new());
    // Once due again, it is retried and its failure count resets.
    w.store_writer()
        .write(|tx| {
            tx.record_opportunity_failure("acme", &a, "test: due now", 0, 0)
                .map(|_| ())
        })
        .unwrap();
    w.pass(willo_lever_sync::domain::PassKind::Incremental)
        .await;
    assert!(w.lever.tags_of(&a).contains(&"Willo:Invited".to_owned()));
    assert!(
        w.store()
            .read(|r| r.failing_opportunities("acme"))
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_with_an_unknown_outcome_is_looked_up_before_anything_else() {
    use willo_lever_sync::sim::faults::{Fault, FaultPlan, FaultRule};
    let route = "/api/integrations/v2/participants/";
    let mut w = World::new().await;
    // The second pass waits out the request timeout before it calls a row absent (rule: proof
    // an invite was not sent): keep that wait short here.
    w.willo_extra = "request_timeout_seconds = 1".into();
    let (interview, posting) = w.interview_with_posting("Diver");
    let applied = w.candidate("Sylvia", "sylvia@example.com", &posting);
    let refused = w.candidate("Jacques", "jacques@example.com", &posting);
    // One POST takes effect but its connection drops; the other gets a 503 before Willo acts.
    // Both outcomes look the same to the client: unknown.
    w.willo.faults().set(
        FaultPlan::seeded(3)
            .with(
                FaultRule::new(Fault::DropConnection { after_bytes: 0 })
                    .on("POST", route)
                    .path_contains("participants")
                    .nth(1),
            )
            .with(FaultRule::new(Fault::Status(503)).on("POST", route).nth(2)),
    );
    let out = w.try_pass(willo_lever_sync::domain::PassKind::Full).await;
    assert_eq!(out.summary.applied.invites_ambiguous, 2, "{}", out.summary);
    assert_eq!(
        w.willo.participants(&interview).len(),
        1,
        "exactly one POST took effect"
    );
    for opp in [&applied, &refused] {
        let row = w
            .store()
            .read(|r| r.invite("acme", opp, &interview))
            .unwrap()
            .unwrap();
        assert_eq!(row.state, InviteState::Ambiguous);
        assert!(
            !w.lever.tags_of(opp).contains(&"Willo:Invited".to_owned()),
            "tagged before the outcome was known"
        );
    }
    w.willo.faults().clear();
    let out = w.full().await;
    assert_eq!(
        (out.summary.resolved.adopted, out.summary.resolved.reset),
        (1, 1),
        "{}",
        out.summary
    );
    assert_eq!(
        out.summary.applied.invites_sent, 1,
        "only the provably absent one is sent again"
    );
    let participants = w.willo.participants(&interview);
    assert_eq!(participants.len(), 2);
    let mut emails: Vec<&str> = participants.iter().map(|p| p.email.as_str()).collect();
    emails.sort();
    assert_eq!(emails, ["jacques@example.com", "sylvia@example.com"]);
    for opp in [&applied, &refused] {
        assert!(w.lever.tags_of(opp).contains(&"Willo:Invited".to_owned()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_rejected_mid_apply_stop_the_pass_and_write_nothing_further() {
    use willo_lever_sync::sim::faults::{Fault, FaultPlan, FaultRule};
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Mason");
    let opps: Vec<String> = (0..3)
        .map(|i| w.candidate(&format!("M{i}"), &format!("m{i}@example.com"), &posting))
        .collect();
    // Willo starts refusing the key just as invites begin.
    w.willo.faults().set(
        FaultPlan::seeded(5).with(
            FaultRule::new(Fault::Status(401)).on("POST", "/api/integrations/v2/participants/"),
        ),
    );
    let marks = w.marks();
    let out = w.try_pass(willo_lever_sync::domain::PassKind::Full).await;
    assert_eq!(out.exit_status().code(), 77, "{}", out.summary);
    assert_eq!(
        out.result,
        willo_lever_sync::domain::PassResult::Disconnected
    );
    let writes = w.writes_since(marks);
    assert!(
        writes.iter().all(|x| x.starts_with("willo POST")),
        "{writes:?}"
    );
    assert!(w.willo.participants(&interview).is_empty());
    assert!(
        !w.store()
            .read(|r| r.tenant("acme"))
            .unwrap()
            .unwrap()
            .connected
    );
    // Nothing was sent, so nothing is stuck: once access is back, each is invited once.
    w.willo.faults().clear();
    w.full().await;
    assert_eq!(w.willo.participants(&interview).len(), 3);
    for opp in &opps {
        assert!(w.lever.tags_of(opp).contains(&"Willo:Invited".to_owned()));
    }
    assert!(
        w.store()
            .read(|r| r.tenant("acme"))
            .unwrap()
            .unwrap()
            .connected
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_passes_use_the_trigger_stages_the_full_pass_resolved() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Designer");
    w.full().await;
    let stages_read = || w.lever.accounting().count("GET", "/v1/stages");
    let after_full = stages_read();
    assert_eq!(after_full, 1);
    let opp = w.candidate("Dee", "dee@example.com", &posting);
    w.pass(willo_lever_sync::domain::PassKind::Incremental)
        .await;
    assert_eq!(
        stages_read(),
        after_full,
        "the stored resolution was not used"
    );
    assert_eq!(w.willo.participants(&interview).len(), 1);
    assert!(w.lever.tags_of(&opp).contains(&"Willo:Invited".to_owned()));

    // A changed trigger_stages setting is never answered with ids resolved for the old one.
    let config = w.config_text().replace(
        r#"trigger_stages = ["Video Interview"]"#,
        r#"trigger_stages = ["Phone Screen"]"#,
    );
    assert_ne!(config, w.config_text());
    let settings = willo_lever_sync::config::load_from_str(
        &config,
        &w.dir.path().join("config.toml"),
        &std::collections::HashMap::new(),
    )
    .unwrap();
    let store = std::sync::Arc::new(
        willo_lever_sync::store::Store::open(
            &settings.daemon.state_dir,
            willo_lever_sync::store::OpenMode::Writer,
        )
        .unwrap(),
    );
    let tenant = willo_lever_sync::reconcile::Tenant::new(
        &settings.tenants[0],
        willo_lever_sync::reconcile::PassOptions {
            concurrency: 2,
            overlap: std::time::Duration::from_secs(300),
            chunk: willo_lever_sync::reconcile::PassOptions::CHUNK,
            interval: std::time::Duration::from_secs(300),
        },
        store,
        willo_lever_sync::metrics::Metrics::new(),
    )
    .unwrap();
    let screened = w
        .lever
        .add_opportunity(
            OppSeed::new("Phil", "phil@example.com")
                .posting(&posting)
                .stage(&w.other),
        )
        .unwrap();
    let out = tenant
        .pass(
            willo_lever_sync::domain::PassKind::Incremental,
            &tokio_util::sync::CancellationToken::new(),
        )
        .await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(
        stages_read(),
        after_full + 1,
        "the new setting was not resolved"
    );
    assert!(
        w.lever
            .tags_of(&screened)
            .contains(&"Willo:Invited".to_owned())
    );
}
