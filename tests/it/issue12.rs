//! Issue 12 ("performance at 100,000"): the behaviours the performance targets rely on. The
//! figures themselves live in benchmarks (docs/performance.md), never in timed tests.

use willo_lever_sync::domain::PassKind;

use crate::support::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue12_a_converged_full_pass_reads_each_invited_opportunity_once() {
    let w = World::new().await;
    let (_, posting) = w.interview_with_posting("Assayer");
    for i in 0..250 {
        w.candidate(&format!("C{i}"), &format!("c{i}@example.com"), &posting);
    }
    w.full().await;
    let route = "/v1/opportunities";
    let before = w.lever.accounting().count("GET", route);
    let by_id = w.lever.accounting().count("GET", "/v1/opportunities/{id}");
    let out = w.pass(PassKind::Full).await;
    assert_eq!(out.summary.applied.writes(), 0, "{}", out.summary);
    // Three pages of 100 for the trigger stage; the status-tag repair listings ask only for
    // what that listing cannot return (other stages, archived ones): one empty page each.
    assert_eq!(w.lever.accounting().count("GET", route) - before, 5);
    assert_eq!(
        w.lever.accounting().count("GET", "/v1/opportunities/{id}"),
        by_id
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue12_a_hint_is_acted_on_while_a_full_pass_of_its_tenant_runs() {
    use crate::support::daemon::{
        Daemon, SIGNATURE_TOKEN, eventually, now_ms, signed_body, world_for_daemon,
    };
    use willo_lever_sync::sim::hold::HoldRule;

    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let (interview, posting) = w.interview_with_posting("Tanner");
    w.full().await;
    // The daemon's start-up full pass stops mid-read: Willo holds its interview listing.
    let hold = w
        .willo
        .hold(HoldRule::new("GET", "/api/integrations/v2/interviews/"));
    let d = Daemon::start(&w, &[]).await;
    tokio::time::timeout(std::time::Duration::from_secs(20), hold.held())
        .await
        .expect("the full pass never listed interviews");
    let opp = w.candidate("Hal", "hal@example.com", &posting);
    let body = signed_body(&opp, "tok-hal", now_ms(), SIGNATURE_TOKEN);
    assert_eq!(d.post("/webhooks/lever/acme", body).await.0, 202);
    let invited = eventually(std::time::Duration::from_secs(10), || {
        w.willo.participants(&interview).len() == 1 && w.status_tags(&opp) == ["Willo:Invited"]
    })
    .await;
    assert!(invited, "the hint waited for the pass\n{}", d.log());
    assert!(hold.is_held(), "the pass was not running all along");
    hold.release();
}

/// An interview of `size` participants, listed completely by a pass (one candidate invited), then
/// `added` more added by hand in Willo; returns (interview, posting).
async fn big_interview(w: &World, size: usize, added: &[(&str, &str)]) -> (String, String) {
    use willo_lever_sync::sim::willo::ParticipantSeed;
    let (interview, posting) = w.interview_with_posting("Lampwright");
    let seeds: Vec<ParticipantSeed> = (0..size)
        .map(|i| ParticipantSeed::new(&interview, &format!("P{i}"), &format!("p{i}@example.com")))
        .collect();
    w.willo.add_participants(seeds).unwrap();
    w.candidate("First", "first@example.com", &posting);
    w.full().await;
    for (name, email) in added {
        w.willo
            .add_participant(ParticipantSeed::new(&interview, name, email))
            .unwrap();
    }
    (interview, posting)
}

/// Willo participant-listing requests made by a hint's reconcile of `opp`.
async fn listing_requests_of_hint(w: &World, opp: &str) -> usize {
    let route = "/api/integrations/v2/participants/";
    let before = w.willo.accounting().count("GET", route);
    let out = w
        .tenant()
        .reconcile(
            &willo_lever_sync::domain::Target::Opportunity(opp.to_owned()),
            &tokio_util::sync::CancellationToken::new(),
        )
        .await;
    assert!(out.error.is_none(), "{:?}", out.error);
    w.willo.accounting().count("GET", route) - before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue12_a_hint_proves_an_address_absent_from_a_large_interview_in_two_requests() {
    use willo_lever_sync::sim::willo::ParticipantOrder;
    for order in [ParticipantOrder::Creation, ParticipantOrder::NewestFirst] {
        let w = World::new().await;
        w.willo.set_participant_order(order);
        let (interview, posting) = big_interview(
            &w,
            500,
            &[("Hand", "hand@example.com"), ("Made", "made@example.com")],
        )
        .await;
        let before = w.willo.participants(&interview).len();
        // A new candidate: absent from Willo, proven by the two ends of the listing.
        let new = w.candidate("Nova", "nova@example.com", &posting);
        assert!(listing_requests_of_hint(&w, &new).await <= 2, "{order:?}");
        assert_eq!(
            w.willo.participants(&interview).len(),
            before + 1,
            "{order:?}"
        );
        assert_eq!(w.status_tags(&new), ["Willo:Invited"]);
        // A candidate someone already added to the interview by hand: found at the new end,
        // adopted, no second invite email.
        let made = w.candidate("Made", "made@example.com", &posting);
        let sent = w.willo.invites_sent().len();
        assert!(listing_requests_of_hint(&w, &made).await <= 2, "{order:?}");
        assert_eq!(
            w.willo.invites_sent().len(),
            sent,
            "{order:?}: invited twice"
        );
        let row = w
            .store()
            .read(|r| r.invite("acme", &made, &interview))
            .unwrap()
            .unwrap();
        assert_eq!(
            row.participant_key.as_deref(),
            Some(w.participant_key(&interview, "made@example.com").as_str())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue12_when_the_ends_cannot_bound_the_new_participants_the_hint_lists_the_interview() {
    // More participants were added by hand since the last listing than one page holds: the
    // end pages alone prove nothing, so the whole interview is listed and the one added
    // earliest (in the middle) is still found.
    let w = World::new().await;
    let added: Vec<(String, String)> = (0..40)
        .map(|i| (format!("H{i}"), format!("h{i}@example.com")))
        .collect();
    let added_refs: Vec<(&str, &str)> = added
        .iter()
        .map(|(n, e)| (n.as_str(), e.as_str()))
        .collect();
    let (interview, posting) = big_interview(&w, 200, &added_refs).await;
    let h0 = w.candidate("H0", "h0@example.com", &posting);
    let sent = w.willo.invites_sent().len();
    assert!(listing_requests_of_hint(&w, &h0).await > 2);
    assert_eq!(w.willo.invites_sent().len(), sent, "invited twice");
    let row = w
        .store()
        .read(|r| r.invite("acme", &h0, &interview))
        .unwrap()
        .unwrap();
    assert_eq!(
        row.participant_key.as_deref(),
        Some(w.participant_key(&interview, "h0@example.com").as_str())
    );
}

/// The world's tenant, planning and applying `chunk` opportunities at a time.
fn tenant_in_chunks(w: &World, chunk: usize) -> willo_lever_sync::reconcile::Tenant {
    let settings = w.settings();
    let store = std::sync::Arc::new(
        willo_lever_sync::store::Store::open(
            &settings.daemon.state_dir,
            willo_lever_sync::store::OpenMode::Writer,
        )
        .unwrap(),
    );
    willo_lever_sync::reconcile::Tenant::new(
        &settings.tenants[0],
        willo_lever_sync::reconcile::PassOptions {
            concurrency: 2,
            overlap: std::time::Duration::from_secs(300),
            chunk,
        },
        store,
        willo_lever_sync::metrics::Metrics::new(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue12_a_pass_in_small_chunks_invites_each_person_once_and_converges() {
    use willo_lever_sync::sim::lever::OppSeed;
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Cooper");
    let mut opps = Vec::new();
    for i in 0..7 {
        opps.push(w.candidate(&format!("C{i}"), &format!("c{i}@example.com"), &posting));
    }
    // One person with two opportunities, far apart in the listing: different chunks.
    let twice = w
        .lever
        .add_opportunity(
            OppSeed::new("C0 again", "C0@Example.com")
                .posting(&posting)
                .stage(&w.trigger),
        )
        .unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    let out = tenant_in_chunks(&w, 2).pass(PassKind::Full, &cancel).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.summary.opportunities_examined, 8, "{}", out.summary);
    assert_eq!(out.summary.applied.invites_sent, 7, "{}", out.summary);
    assert_eq!(out.summary.applied.invites_adopted, 1, "{}", out.summary);
    assert_eq!(w.willo.participants(&interview).len(), 7);
    for opp in opps.iter().chain([&twice]) {
        assert_eq!(w.status_tags(opp), ["Willo:Invited"]);
    }
    // The cursor covers the whole listing, and nothing is left to do.
    let cursor = w
        .store()
        .read(|r| r.cursor("acme", "opportunities.updated_at"))
        .unwrap();
    assert!(cursor.is_some());
    let marks = w.marks();
    let again = tenant_in_chunks(&w, 2).pass(PassKind::Full, &cancel).await;
    assert_eq!(
        w.writes_since(marks),
        Vec::<String>::new(),
        "{}",
        again.summary
    );
    let incremental = tenant_in_chunks(&w, 2)
        .pass(PassKind::Incremental, &cancel)
        .await;
    assert_eq!(
        incremental.summary.applied.writes(),
        0,
        "{}",
        incremental.summary
    );
}
