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
    assert_eq!(w.lever.accounting().count("GET", "/v1/opportunities/{id}"), by_id);
}
