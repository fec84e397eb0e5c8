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
