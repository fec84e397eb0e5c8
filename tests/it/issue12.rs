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

/// A hint for H0 after `added` people (H0, H1, … at h0@example.com, …) were added by hand to an
/// interview of `size` listed participants (and the first pass's own invite): it adopts H0,
/// sends no second invite, and makes this many participant-listing requests.
async fn requests_to_adopt_h0(size: usize, added: usize) -> usize {
    let w = World::new().await;
    let people: Vec<(String, String)> = (0..added)
        .map(|i| (format!("H{i}"), format!("h{i}@example.com")))
        .collect();
    let refs: Vec<(&str, &str)> = people
        .iter()
        .map(|(n, e)| (n.as_str(), e.as_str()))
        .collect();
    let (interview, posting) = big_interview(&w, size, &refs).await;
    assert_eq!(w.willo.participants(&interview).len(), size + 1 + added);
    let h0 = w.candidate("H0", "h0@example.com", &posting);
    let sent = w.willo.invites_sent().len();
    let requests = listing_requests_of_hint(&w, &h0).await;
    assert_eq!(w.willo.invites_sent().len(), sent, "invited twice");
    assert_adopted(&w, &h0, &interview, "h0@example.com");
    requests
}

/// The invite of `opp` was adopted: it names the participant with `email` in `interview`.
fn assert_adopted(w: &World, opp: &str, interview: &str, email: &str) {
    let row = w
        .store()
        .read(|r| r.invite("acme", opp, interview))
        .unwrap()
        .unwrap();
    assert_eq!(
        row.participant_key.as_deref(),
        Some(w.participant_key(interview, email).as_str())
    );
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
        assert_adopted(&w, &made, &interview, "made@example.com");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue12_when_the_ends_cannot_bound_the_new_participants_the_hint_lists_the_interview() {
    // More participants were added by hand since the last listing than the pages read from
    // each end hold: they prove nothing, so the whole interview is listed and the one added
    // earliest (in the middle) is still found.
    // 301 participants are 11 pages: more than the ends and the pages walked from them.
    assert!(requests_to_adopt_h0(200, 100).await >= 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue12_new_participants_filling_the_last_page_cost_one_more_request() {
    // 210 participants fill 7 pages of 30 exactly; the 5 added by hand since the listing are
    // alone on page 8, which vouches for nothing: the hint reads page 7 too, where the
    // participants of the listing end, and finds the one added first there.
    assert_eq!(requests_to_adopt_h0(209, 5).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue12_the_participants_hints_create_stay_vouched_for() {
    // Found by the hints bench at 100,000: the participants a burst of hints created since the
    // last listing filled the last page, and every later hint listed the whole interview. A
    // hint that finds every row at the ends stored moves the store's "complete" time, so 100
    // hints in a row, which fill more than three pages, each read at most one page more than
    // the two ends, and only when its own predecessor's participant opens a page.
    use willo_lever_sync::sim::willo::ParticipantOrder;
    for order in [ParticipantOrder::Creation, ParticipantOrder::NewestFirst] {
        let w = World::new().await;
        w.willo.set_participant_order(order);
        let (interview, posting) = big_interview(&w, 209, &[]).await;
        assert_eq!(w.willo.participants(&interview).len(), 210);
        let mut reads = Vec::new();
        for i in 0..100 {
            let opp = w.candidate(&format!("N{i}"), &format!("n{i}@example.com"), &posting);
            reads.push(listing_requests_of_hint(&w, &opp).await);
        }
        assert_eq!(w.willo.participants(&interview).len(), 310);
        assert!(reads.iter().all(|r| *r <= 3), "{order:?}: {reads:?}");
        let more = reads.iter().filter(|r| **r == 3).count();
        assert!(
            more <= 4,
            "{order:?}: {more} hints read a third page: {reads:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue12_pages_shorter_than_asked_for_are_not_taken_for_the_end() {
    // Willo answering pages of 10 to a client that asks for 30: "page 8" would be rows 71–80,
    // old participants from the middle, and would vouch for nothing that is at the end. The
    // hint lists the interview instead and finds the participant added by hand at the end.
    let w = World::new().await;
    let (interview, posting) = big_interview(&w, 209, &[("Late", "late@example.com")]).await;
    w.willo.set_max_page_size(10);
    let late = w.candidate("Late", "late@example.com", &posting);
    let sent = w.willo.invites_sent().len();
    // 211 participants are 22 pages of 10: the whole listing.
    assert!(listing_requests_of_hint(&w, &late).await >= 22);
    assert_eq!(w.willo.invites_sent().len(), sent, "invited twice");
    assert_adopted(&w, &late, &interview, "late@example.com");
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
            interval: std::time::Duration::from_secs(300),
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

/// Willo requests on the participant routes (listing pages and single reads) so far.
fn participant_requests(w: &World) -> usize {
    let a = w.willo.accounting();
    a.count("GET", "/api/integrations/v2/participants/")
        + a.count("GET", "/api/integrations/v2/participants/{key}/")
}

/// Ten of our invites in an interview of 600 other people (21 pages): reading the ten one by
/// one is cheaper than listing it. The budget (share × rate × interval = 0.00002 × 500/s ×
/// 300 s) is 3 requests a pass.
async fn budgeted_world() -> (World, String, Vec<String>) {
    use willo_lever_sync::sim::willo::ParticipantSeed;
    let mut w = World::new().await;
    w.willo_extra = "status_check_share = 0.00002\nstatus_freshness_seconds = 3600".into();
    let (interview, posting) = w.interview_with_posting("Cooper");
    w.willo
        .add_participants((0..600).map(|i| {
            ParticipantSeed::new(
                &interview,
                &format!("P{i}"),
                &format!("p{i}@elsewhere.test"),
            )
        }))
        .unwrap();
    let opps: Vec<String> = (0..10)
        .map(|i| w.candidate(&format!("C{i}"), &format!("c{i}@example.com"), &posting))
        .collect();
    w.full().await;
    (w, interview, opps)
}

/// Time passing: every check so far moved `by` milliseconds into the past.
fn later(w: &World, by: i64) {
    w.store_writer()
        .write(|tx| tx.backdate_checks("acme", by))
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue12_status_checks_spread_over_the_freshness_window_within_the_budget() {
    let (w, interview, opps) = budgeted_world().await;
    // Webhooks lost: every participant moves on, and no hint says so.
    for p in w.willo.participants(&interview) {
        if p.email.ends_with("@example.com") {
            w.willo.set_participant_state(&p.key, "completed").unwrap();
        }
    }
    let mut per_pass = Vec::new();
    let mut caught_up_after = None;
    for pass in 1..=12 {
        later(&w, 5 * 60_000);
        let before = participant_requests(&w);
        w.pass(PassKind::Incremental).await;
        per_pass.push(participant_requests(&w) - before);
        let done = opps.iter().all(|o| w.status_tags(o) == ["Willo:To Review"]);
        if done && caught_up_after.is_none() {
            caught_up_after = Some(pass);
        }
    }
    // Nothing was due before the window's end, so each pass spent the even share (10 checks
    // over 12 passes: one a pass), never a listing of the 21 pages.
    assert!(per_pass.iter().all(|&n| n <= 3), "{per_pass:?}");
    assert_eq!(per_pass[..10], [1; 10], "{per_pass:?}");
    // Every change showed within the window (twelve passes of five minutes).
    assert_eq!(caught_up_after, Some(10), "{per_pass:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue12_overdue_checks_are_capped_by_the_budget_oldest_first() {
    let (w, _interview, _opps) = budgeted_world().await;
    // Two hours without a pass: every open invite is past the window.
    later(&w, 2 * 3_600_000);
    let mut per_pass = Vec::new();
    for _ in 0..5 {
        let before = participant_requests(&w);
        w.pass(PassKind::Incremental).await;
        per_pass.push(participant_requests(&w) - before);
        later(&w, 5 * 60_000);
    }
    // 3, 3, 3 (the budget), then the last one, then nothing is due and the even share of
    // the window's work (one) goes to the oldest check.
    assert_eq!(per_pass, [3, 3, 3, 1, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue12_an_invite_a_hint_just_checked_is_not_checked_again() {
    let (w, interview, opps) = budgeted_world().await;
    later(&w, 2 * 3_600_000);
    let ours: Vec<String> = w
        .willo
        .participants(&interview)
        .into_iter()
        .filter(|p| p.email.ends_with("@example.com"))
        .map(|p| p.key)
        .collect();
    assert_eq!(ours.len(), opps.len());
    // A Willo webhook for each but the first: its reconcile reads the participant.
    let tenant = w.tenant();
    for key in &ours[1..] {
        let out = tenant
            .reconcile(
                &willo_lever_sync::domain::Target::Participant(key.clone()),
                &tokio_util::sync::CancellationToken::new(),
            )
            .await;
        assert!(out.error.is_none(), "{:?}", out.error);
    }
    drop(tenant);
    let reads = w
        .willo
        .accounting()
        .count("GET", "/api/integrations/v2/participants/{key}/");
    w.pass(PassKind::Incremental).await;
    // Only the one no hint read is due.
    assert_eq!(
        w.willo
            .accounting()
            .count("GET", "/api/integrations/v2/participants/{key}/")
            - reads,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue12_a_sweep_larger_than_the_budget_resumes_in_the_next_pass() {
    use willo_lever_sync::sim::willo::ParticipantSeed;
    let mut w = World::new().await;
    w.willo_extra = "status_check_share = 0.00002".into();
    let (interview, posting) = w.interview_with_posting("Fletcher");
    w.willo
        .add_participants((0..200).map(|i| {
            ParticipantSeed::new(
                &interview,
                &format!("P{i}"),
                &format!("p{i}@elsewhere.test"),
            )
        }))
        .unwrap();
    // Forty of ours in an interview of 240 (8 pages): listing beats forty single reads.
    let opps: Vec<String> = (0..40)
        .map(|i| w.candidate(&format!("C{i}"), &format!("c{i}@example.com"), &posting))
        .collect();
    w.full().await;
    later(&w, 2 * 3_600_000);
    let last = w
        .willo
        .participants(&interview)
        .into_iter()
        .rfind(|p| p.email.ends_with("@example.com"))
        .unwrap();
    w.willo
        .set_participant_state(&last.key, "completed")
        .unwrap();
    let mut pages = Vec::new();
    for _ in 0..3 {
        let before = participant_requests(&w);
        w.pass(PassKind::Incremental).await;
        pages.push(participant_requests(&w) - before);
        later(&w, 5 * 60_000);
    }
    // Three pages, three pages, the last two: the change on the last page is found then.
    assert_eq!(pages, [3, 3, 2]);
    let changed = opps
        .iter()
        .filter(|o| w.status_tags(o) == ["Willo:To Review"])
        .count();
    assert_eq!(changed, 1);
}
