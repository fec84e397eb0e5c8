//! Regression tests for the defects issue 11 found in the reconciler ("nothing lost, nothing
//! flaps"), each named after its defect, end to end through the clients, planner and store.

use willo_lever_sync::domain::invite::InviteState;
use willo_lever_sync::domain::{PassKind, PassResult};
use willo_lever_sync::sim::faults::{Fault, FaultPlan, FaultRule};
use willo_lever_sync::sim::willo::ParticipantSeed;

use crate::support::{World, run};

const INVITED: &str = "Willo:Invited";
const TO_REVIEW: &str = "Willo:To Review";
const ACCEPTED: &str = "Willo:Accepted";
const ADD_TAGS: &str = "/v1/opportunities/{id}/addTags";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue11_state_loss_does_not_flap_status_tags() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Analyst");
    let ann = w.candidate("Ann", "ann@example.com", &posting);
    let bob = w.candidate("Bob", "bob@example.com", &posting);
    let cat = w.candidate("Cat", "cat@example.com", &posting);
    w.full().await;
    // Willo moves on: one completes, one is accepted, one has not started.
    let p_ann = w.participant_key(&interview, "ann@example.com");
    let p_bob = w.participant_key(&interview, "bob@example.com");
    w.willo.set_participant_state(&p_ann, "completed").unwrap();
    w.willo.set_participant_state(&p_bob, "accepted").unwrap();
    w.full().await;
    assert_eq!(w.status_tags(&ann), [TO_REVIEW]);
    assert_eq!(w.status_tags(&bob), [ACCEPTED]);
    assert_eq!(w.status_tags(&cat), [INVITED]);

    // The state directory is lost (a new install, a restore from an old backup).
    std::fs::remove_dir_all(w.state_dir()).unwrap();
    let marks = w.marks();
    let out = w.full().await;
    assert_eq!(
        w.writes_since(marks),
        Vec::<String>::new(),
        "a pass on an empty state against a converged account wrote: {}",
        out.summary
    );
    assert_eq!(out.summary.applied.invites_adopted, 3, "{}", out.summary);
    assert_eq!(w.status_tags(&ann), [TO_REVIEW]);
    assert_eq!(w.status_tags(&bob), [ACCEPTED]);
    // And the pass after it finds nothing to do either.
    let marks = w.marks();
    w.full().await;
    assert_eq!(w.writes_since(marks), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue11_a_failed_tag_add_leaves_the_old_status_tag_on() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Chemist");
    let opp = w.candidate("Dora", "dora@example.com", &posting);
    w.full().await;
    assert_eq!(w.status_tags(&opp), [INVITED]);
    let p = w.participant_key(&interview, "dora@example.com");
    w.willo.set_participant_state(&p, "completed").unwrap();
    w.lever
        .faults()
        .set(FaultPlan::seeded(1).with(FaultRule::new(Fault::Status(500)).on("POST", ADD_TAGS)));
    let out = w.try_pass(PassKind::Full).await;
    assert_eq!(out.result, PassResult::ActionsFailed, "{}", out.summary);
    assert_eq!(
        w.status_tags(&opp),
        [INVITED],
        "the old status tag was removed although the new one was never added"
    );
    w.lever.faults().clear();
    // Once its backoff has run out (time is moved on through the store), it converges.
    w.store_writer()
        .write(|tx| tx.record_opportunity_success("acme", &opp))
        .unwrap();
    w.full().await;
    assert_eq!(w.status_tags(&opp), [TO_REVIEW]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue11_a_pass_with_work_in_backoff_is_deferred_not_converged() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Baker");
    let opp = w.candidate("Eve", "eve@example.com", &posting);
    // The invite is refused for lack of a connection: provably not sent, retried later.
    w.willo.faults().set(
        FaultPlan::seeded(1).with(
            FaultRule::new(Fault::Status(429)).on("POST", "/api/integrations/v2/participants/"),
        ),
    );
    let first = w.try_pass(PassKind::Full).await;
    assert_eq!(first.result, PassResult::ActionsFailed, "{}", first.summary);
    w.willo.faults().clear();
    // The next pass comes before the opportunity's backoff ran out: the candidate is still
    // uninvited, so the pass must not call itself converged.
    let second = w.try_pass(PassKind::Full).await;
    assert_eq!(second.result, PassResult::Deferred, "{}", second.summary);
    assert_eq!(second.summary.deferred, 1, "{}", second.summary);
    assert_ne!(
        second.exit_status(),
        willo_lever_sync::exit::ExitStatus::Converged
    );
    assert!(w.willo.participants(&interview).is_empty());
    let failing = w.store().read(|r| r.failing_opportunities("acme")).unwrap();
    assert_eq!(failing.len(), 1);
    assert_eq!(failing[0].id, opp);
    assert_eq!(failing[0].name.as_deref(), Some("Eve"));
    assert!(
        failing[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("invite:")),
        "{:?}",
        failing[0].last_error
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue11_failed_actions_name_the_opportunity_candidate_action_and_error() {
    let w = World::new().await;
    let (_, posting) = w.interview_with_posting("Pilot");
    let opps = [
        w.candidate("Finn", "finn@example.com", &posting),
        w.candidate("Gus", "gus@example.com", &posting),
    ];
    w.lever
        .faults()
        .set(FaultPlan::seeded(1).with(FaultRule::new(Fault::Status(500)).on("POST", ADD_TAGS)));
    let out = w.try_pass(PassKind::Full).await;
    assert_eq!(out.result, PassResult::ActionsFailed, "{}", out.summary);
    let failures = &out.summary.failures;
    assert_eq!(failures.len(), 2, "{failures:?}");
    for (opp, name) in opps.iter().zip(["Finn", "Gus"]) {
        let f = failures
            .iter()
            .find(|f| &f.opportunity_id == opp)
            .unwrap_or_else(|| panic!("no failure reported for {opp}: {failures:?}"));
        assert_eq!(f.candidate, name);
        assert_eq!(f.action, "add_tags");
        assert_eq!(f.error_kind, "transient");
        assert!(f.error.contains("500"), "{}", f.error);
    }
    let text = out.summary.to_string();
    assert!(text.contains("add_tags") && text.contains("Finn"), "{text}");
    let json = serde_json::to_value(&out.summary).unwrap();
    assert_eq!(json["failures"][0]["action"], "add_tags");
    // The store keeps them, with their last error and next retry, for `status`.
    let failing = w.store().read(|r| r.failing_opportunities("acme")).unwrap();
    assert_eq!(failing.len(), 2);
    assert!(
        failing
            .iter()
            .all(|o| o.next_check_at > 0 && o.last_error.is_some())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue11_a_late_post_is_waited_for_before_an_invite_is_called_absent() {
    let mut w = World::new().await;
    w.willo_extra = "request_timeout_seconds = 1".into();
    let (interview, posting) = w.interview_with_posting("Surgeon");
    let opp = w.candidate("Hana", "hana@example.com", &posting);
    // A previous process marked the invite in flight just now, sent the POST and died; Willo
    // has not applied it yet.
    let now = willo_lever_sync::clock::now_ms();
    let store = w.store_writer();
    store
        .write(|tx| {
            tx.plan_invite("acme", &opp, &interview, "hana@example.com", now)?;
            tx.mark_invite_in_flight("acme", &opp, &interview, now)
        })
        .unwrap();
    drop(store);
    let willo = w.willo.clone();
    let iv = interview.clone();
    let lands = tokio::spawn(async move {
        // Willo applies the dead process's POST after the new pass looked once.
        let route = "/api/integrations/v2/participants/";
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        while willo.accounting().count("GET", route) == 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the pass never looked"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        willo
            .add_participant(ParticipantSeed::new(&iv, "Hana", "hana@example.com"))
            .unwrap();
    });
    let out = w.full().await;
    lands.await.unwrap();
    assert_eq!(out.summary.resolved.adopted, 1, "{}", out.summary);
    assert_eq!(out.summary.applied.invites_sent, 0, "{}", out.summary);
    assert_eq!(w.willo.participants(&interview).len(), 1, "invited twice");
    let row = w
        .store()
        .read(|r| r.invite("acme", &opp, &interview))
        .unwrap()
        .unwrap();
    assert_eq!(row.state, InviteState::Done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue11_participants_listed_without_an_email_make_the_lookup_inconclusive() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Welder");
    // Someone was added to the interview in Willo by hand, without an email.
    w.willo
        .add_participant(ParticipantSeed::new(&interview, "Unknown", ""))
        .unwrap();
    let opp = w.candidate("Ivy", "ivy@example.com", &posting);
    let out = w.try_pass(PassKind::Full).await;
    assert_eq!(
        w.willo.participants(&interview).len(),
        1,
        "invited although the listing could not prove Ivy absent"
    );
    assert_eq!(out.result, PassResult::Deferred, "{}", out.summary);
    let attention = w.store().read(|r| r.attention("acme")).unwrap();
    assert!(
        attention
            .iter()
            .any(|a| a.opportunity_id == opp && a.reason == "lookup_inconclusive"),
        "{attention:?}"
    );
    assert!(w.status_tags(&opp).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue11_failed_actions_show_in_the_log_once_json_and_status() {
    let w = World::new().await;
    let (_, posting) = w.interview_with_posting("Mason");
    let opp = w.candidate("Jude", "jude@example.com", &posting);
    w.lever
        .faults()
        .set(FaultPlan::seeded(1).with(FaultRule::new(Fault::Status(500)).on("POST", ADD_TAGS)));
    let once = run(&w, &["--once", "--json"]).await;
    assert_eq!(once.code, 1, "{}{}", once.stdout, once.stderr);
    // One warning line names the tenant, the opportunity, the candidate, the action and kind.
    let line = once
        .stderr
        .lines()
        .find(|l| l.contains("action failed"))
        .unwrap_or_else(|| panic!("no warning for the failed action:\n{}", once.stderr));
    for part in ["acme", opp.as_str(), "Jude", "add_tags", "transient"] {
        assert!(line.contains(part), "{part} missing from: {line}");
    }
    let v: serde_json::Value = serde_json::from_str(&once.stdout).unwrap();
    let failure = &v["tenants"][0]["failures"][0];
    assert_eq!(failure["opportunity_id"], opp.as_str());
    assert_eq!(failure["action"], "add_tags");

    let status = run(&w, &["status", "--json"]).await;
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let failing = &v["tenants"][0]["failing"][0];
    assert_eq!(failing["opportunity_id"], opp.as_str());
    assert_eq!(failing["candidate"], "Jude");
    assert_eq!(failing["deferred"], true);
    assert!(
        failing["last_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("add_tags:")),
        "{failing}"
    );
    let text = run(&w, &["status"]).await;
    assert!(
        text.stdout.contains(&opp) && text.stdout.contains("Jude"),
        "{}",
        text.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue11_work_skipped_at_shutdown_is_read_again_by_the_next_incremental_pass() {
    use willo_lever_sync::sim::hold::HoldRule;
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Ranger");
    let kim = w.candidate("Kim", "kim@example.com", &posting);
    let lou = w.candidate("Lou", "lou@example.com", &posting);
    // Someone else changes ten minutes later: the cursor will move well past Kim and Lou, out
    // of reach of the incremental pass's overlap.
    w.lever.advance_clock(10 * 60 * 1000);
    w.candidate("Max", "max@example.com", &posting);
    // One action at a time, so the shutdown lands between Kim's invite and the rest.
    let settings = w.settings();
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
            concurrency: 1,
            overlap: std::time::Duration::from_secs(300),
            chunk: willo_lever_sync::reconcile::PassOptions::CHUNK,
            interval: std::time::Duration::from_secs(300),
        },
        store,
        willo_lever_sync::metrics::Metrics::new(),
    )
    .unwrap();
    let hold = w
        .willo
        .hold(HoldRule::new("POST", "/api/integrations/v2/participants/"));
    let cancel = tokio_util::sync::CancellationToken::new();
    let pass = {
        let cancel = cancel.clone();
        async move { tenant.pass(PassKind::Full, &cancel).await }
    };
    let running = tokio::spawn(pass);
    tokio::time::timeout(std::time::Duration::from_secs(20), hold.held())
        .await
        .unwrap();
    cancel.cancel();
    hold.release();
    let out = running.await.unwrap();
    assert_eq!(out.result, PassResult::Interrupted, "{}", out.summary);
    assert_eq!(w.willo.participants(&interview).len(), 1);
    // The full pass moved the cursor past both candidates: only the re-read it asked for
    // brings the skipped work back in an incremental pass.
    w.pass(PassKind::Incremental).await;
    assert_eq!(
        w.willo.participants(&interview).len(),
        3,
        "work skipped at shutdown was lost"
    );
    for opp in [&kim, &lou] {
        assert_eq!(w.status_tags(opp), [INVITED]);
    }
    // And once done, nothing asks for a re-read any more.
    let due = w
        .store()
        .read(|r| r.due_opportunities("acme", i64::MAX))
        .unwrap();
    assert!(due.is_empty(), "{due:?}");
}
