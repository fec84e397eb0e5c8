//! The fault matrix: passes under injected faults run until they converge, with 0 duplicate
//! participants, 0 missed invites, 0 missing or doubled status tags, and no pass calling
//! itself `converged` early: after every pass that says so, a fault-free pass must find
//! nothing to write and the accounts must already be right (rule: paced and retried calls,
//! rule: proof an invite was not sent, rule: per-opportunity backoff, docs/behaviour.md).
//!
//! Passes run in-process (the `Tenant` code `--once` and the daemon use), alternating full and
//! incremental; each case has two phases: invite everyone, then move every participant on in
//! Willo (status tags change). Backoffs are ended between passes as the passing of time would
//! end them. The fast version runs each case once (seed 1); the long version (`--ignored`,
//! `EVIDENCE_RUNS`, default 25) over seeded casts and fault seeds.

use std::time::{Duration, Instant};

use willo_lever_sync::domain::{PassKind, PassResult};
use willo_lever_sync::sim::faults::{Fault, FaultPlan, FaultRule, PageDefect};
use willo_lever_sync::sim::hold::HoldRule;

use crate::convergence::{
    ADD_TAGS, Cast, InProcess, PARTICIPANTS, Seeded, Tally, long_runs, tally,
};
use crate::support::World;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    /// 10 % of all requests to both APIs answer 500/502/503 without being applied.
    ServerErrors10,
    /// 30 % of them.
    ServerErrors30,
    /// 30 % of writes are applied, then answered 500.
    WriteAppliedThen500,
    /// 20 % of requests wait 1.5 s before the handler, past the 1 s request timeout.
    LatencyPastTimeout,
    /// A 429 storm at the start of each pass (2 s, `Retry-After: 1`) and 30 % 429s after it.
    RateLimitStorms,
    /// 30 % of writes and 5 % of reads answer with a cut body, or drop the connection mid-body.
    TruncatedBodies,
    /// 10 % of list pages come back with their item array missing, an object, null or bare.
    MalformedPages,
    /// The interview is removed in Willo while the pass is inviting.
    InterviewRemovedMidPass,
    /// An opportunity is deleted in Lever between its invite and its status tag.
    OpportunityDeletedMidPass,
}

const CASES: [Case; 9] = [
    Case::ServerErrors10,
    Case::ServerErrors30,
    Case::WriteAppliedThen500,
    Case::LatencyPastTimeout,
    Case::RateLimitStorms,
    Case::TruncatedBodies,
    Case::MalformedPages,
    Case::InterviewRemovedMidPass,
    Case::OpportunityDeletedMidPass,
];

/// The fault plan a case puts on each simulator (Lever, Willo).
fn plans(case: Case, seed: u64, long: bool) -> (FaultPlan, FaultPlan) {
    // The fast version keeps the slow faults (each costs a timeout or a Retry-After second)
    // rarer, to stay cheap in CI; the long version runs them at full share.
    let slow = if long { 1.0 } else { 0.4 };
    let both = |rules: Vec<FaultRule>| {
        let mut l = FaultPlan::seeded(seed);
        let mut w = FaultPlan::seeded(seed.wrapping_add(1));
        for r in rules {
            l = l.with(r.clone());
            w = w.with(r);
        }
        (l, w)
    };
    let server_errors = |share: f64| {
        [500, 502, 503]
            .iter()
            .map(|code| FaultRule::new(Fault::Status(*code)).share(share / 3.0))
            .collect()
    };
    match case {
        Case::ServerErrors10 => both(server_errors(0.10)),
        Case::ServerErrors30 => both(server_errors(0.30)),
        Case::WriteAppliedThen500 => both(vec![
            FaultRule::new(Fault::StatusAfterApply(500))
                .method("POST")
                .share(0.3),
        ]),
        Case::LatencyPastTimeout => both(vec![
            FaultRule::new(Fault::Latency(Duration::from_millis(1500))).share(0.2 * slow),
        ]),
        Case::RateLimitStorms => both(vec![
            FaultRule::new(Fault::TooManyRequests {
                retry_after: Some(1),
            })
            .share(0.3 * slow),
        ]),
        Case::TruncatedBodies => both(vec![
            FaultRule::new(Fault::TruncateBody { keep: 0.5 })
                .method("POST")
                .share(0.15),
            FaultRule::new(Fault::DropConnection { after_bytes: 10 })
                .method("POST")
                .share(0.15),
            FaultRule::new(Fault::TruncateBody { keep: 0.5 })
                .method("GET")
                .share(0.05),
        ]),
        Case::MalformedPages => both(
            [
                PageDefect::MissingItems,
                PageDefect::ItemsObject,
                PageDefect::ItemsNull,
                PageDefect::BareArray,
            ]
            .iter()
            .map(|d| {
                FaultRule::new(Fault::MalformedPage(*d))
                    .method("GET")
                    .share(0.025)
            })
            .collect(),
        ),
        Case::InterviewRemovedMidPass | Case::OpportunityDeletedMidPass => {
            (FaultPlan::seeded(seed), FaultPlan::seeded(seed))
        }
    }
}

/// What one run found.
#[derive(Debug, Default, Clone)]
struct Outcome {
    passes: usize,
    results: std::collections::BTreeMap<String, usize>,
    tally: Tally,
    /// Requests the simulators answered with an injected fault (or a 429).
    faults: usize,
    /// Attempts the client made (every pass's summary, the check passes' included).
    calls: u64,
    /// Requests the simulators recorded: attempts minus this were given up by the client
    /// before an answer (timeouts), which the simulators never see complete.
    recorded: usize,
}

impl Outcome {
    fn count(&mut self, pass: &willo_lever_sync::reconcile::PassOutcome, checked: bool) {
        self.calls += pass.summary.api.lever_calls + pass.summary.api.willo_calls;
        if !checked {
            self.passes += 1;
            *self
                .results
                .entry(format!("{:?}", pass.result))
                .or_default() += 1;
        }
    }

    fn finish(&mut self, w: &World, cast: &Cast) {
        self.tally = tally(w, cast);
        let requests = |r: Vec<willo_lever_sync::sim::accounting::RequestRecord>| {
            let api: Vec<_> = r.into_iter().filter(|r| r.api).collect();
            let faulted = api
                .iter()
                .filter(|r| r.fault.is_some() || r.status == 429)
                .count();
            (api.len(), faulted)
        };
        let (l, lf) = requests(w.lever.accounting().requests());
        let (wl, wf) = requests(w.willo.accounting().requests());
        self.recorded = l + wl;
        self.faults = lf + wf;
    }
}

fn set_faults(w: &World, case: Case, seed: u64, long: bool, first: bool) {
    let (l, wl) = plans(case, seed, long);
    w.lever.faults().set(l);
    w.willo.faults().set(wl);
    if case == Case::RateLimitStorms && (long || first) {
        w.lever.faults().storm_429(Duration::from_secs(2), Some(1));
        w.willo.faults().storm_429(Duration::from_secs(2), Some(1));
    }
}

fn clear_faults(w: &World) {
    w.lever.faults().clear();
    w.willo.faults().clear();
}

/// Passes under the case's faults until one says `converged`, checking each such claim.
async fn converge(
    w: &World,
    ip: &InProcess,
    cast: &Cast,
    case: Case,
    seed: u64,
    long: bool,
    out: &mut Outcome,
) {
    const MAX_PASSES: usize = 40;
    for n in 0..MAX_PASSES {
        let fault_seed = seed.wrapping_mul(1000).wrapping_add(out.passes as u64);
        set_faults(w, case, fault_seed, long, n == 0);
        let kind = if n % 2 == 0 {
            PassKind::Full
        } else {
            PassKind::Incremental
        };
        if kind == PassKind::Incremental {
            ip.checks_due();
        }
        let pass = ip.pass(kind).await;
        out.count(&pass, false);
        clear_faults(w);
        if pass.result == PassResult::Converged {
            // The claim is checked with the faults off: nothing left to write, anywhere.
            let marks = w.marks();
            let check = ip.pass(PassKind::Full).await;
            out.count(&check, true);
            let wrote = w.writes_since(marks);
            let t = tally(w, cast);
            if !wrote.is_empty() || t != Tally::default() || check.result != PassResult::Converged {
                panic!(
                    "{case:?} seed {seed}: a {kind:?} pass said converged early: {}\nthe check pass wrote {wrote:?}, found {t}",
                    pass.summary
                );
            }
            return;
        }
        ip.end_backoffs();
    }
    panic!("{case:?} seed {seed}: no convergence in {MAX_PASSES} passes: {out:?}");
}

/// Seeds a world and cast for a case.
async fn world(seed: u64) -> (World, Cast) {
    let mut rng = Seeded::new(seed);
    let mut w = World::new().await;
    w.retry_budget = 3.0;
    w.lever_extra = "request_timeout_seconds = 1".into();
    w.willo_extra = "request_timeout_seconds = 1".into();
    let distinct = rng.range(3, 6) as usize;
    let shared = rng.range(0, 1) as usize;
    let cast = Cast::seed(&w, &format!("Fault{seed}"), distinct, shared);
    (w, cast)
}

async fn run_case(case: Case, seed: u64, long: bool) -> Outcome {
    match case {
        Case::InterviewRemovedMidPass => return interview_removed(seed).await,
        Case::OpportunityDeletedMidPass => return opportunity_deleted(seed).await,
        _ => {}
    }
    let (w, cast) = world(seed).await;
    let ip = InProcess::open(&w);
    let mut out = Outcome::default();
    converge(&w, &ip, &cast, case, seed, long, &mut out).await;
    // Willo moves on: the status tags change under the same faults.
    let mut rng = Seeded::new(seed ^ 0xABCD);
    for p in w.willo.participants(&cast.interview) {
        let state = ["completed", "accepted", "rejected", "Invited"][rng.range(0, 3) as usize];
        w.willo.set_participant_state(&p.key, state).unwrap();
    }
    converge(&w, &ip, &cast, case, seed + 7, long, &mut out).await;
    out.finish(&w, &cast);
    out
}

/// The interview disappears from Willo while the pass is between two invites: the invites not
/// yet sent are refused (`Invalid pk`) and become needs-attention items; nothing is invited
/// twice, and everyone invited before keeps one correct status tag.
async fn interview_removed(seed: u64) -> Outcome {
    let (w, cast) = world(seed).await;
    // One action at a time, so every invite after the held one meets the removed interview.
    let hold = w.willo.hold(HoldRule::new("POST", PARTICIPANTS).nth(2));
    let ip = InProcess::with_concurrency(&w, 1);
    let tenant = ip.tenant.clone();
    let running = tokio::spawn(async move {
        tenant
            .pass(PassKind::Full, &tokio_util::sync::CancellationToken::new())
            .await
    });
    tokio::time::timeout(Duration::from_secs(20), hold.held())
        .await
        .unwrap();
    w.willo.remove_interview(&cast.interview).unwrap();
    hold.release();
    let first = running.await.unwrap();
    let mut out = Outcome::default();
    out.count(&first, false);
    // Then passes until quiet: the people Willo has are tagged, nobody is invited again.
    let invited: Vec<_> = w.willo.participants(&cast.interview);
    let invited_cast = Cast {
        people: cast
            .people
            .iter()
            .filter(|p| {
                invited.iter().any(|i| {
                    crate::convergence::email_key(&i.email)
                        == crate::convergence::email_key(&p.email)
                })
            })
            .cloned()
            .collect(),
        ..cast.clone()
    };
    assert!(!invited_cast.people.is_empty());
    for _ in 0..5 {
        ip.end_backoffs();
        let pass = ip.pass(PassKind::Full).await;
        out.count(&pass, false);
        if pass.result == PassResult::Converged {
            break;
        }
    }
    let marks = w.marks();
    let check = ip.pass(PassKind::Full).await;
    out.count(&check, true);
    assert_eq!(
        w.writes_since(marks),
        Vec::<String>::new(),
        "{}",
        check.summary
    );
    assert_eq!(check.result, PassResult::Converged, "{}", check.summary);
    out.finish(&w, &invited_cast);
    // The people the removal cut off are not "missed": the interview is gone (rule: only
    // listed interviews connect); each has a needs-attention item instead of a second try.
    assert_eq!(first.result, PassResult::ActionsFailed, "{}", first.summary);
    let attention = w.store().read(|r| r.attention("acme")).unwrap();
    let cut_off = cast.people.len() - invited_cast.people.len();
    assert!(
        !attention.is_empty()
            && attention.len() <= cut_off
            && attention.iter().all(|a| a.reason == "invite_rejected"),
        "{attention:?} for {cut_off} cut off"
    );
    assert_eq!(w.willo.participants(&cast.interview).len(), invited.len());
    out
}

/// An opportunity is deleted in Lever while its invite is in Willo's hands: its status tag
/// write answers 404, it is marked deleted and never acted on again; everyone else converges.
async fn opportunity_deleted(seed: u64) -> Outcome {
    let (w, mut cast) = world(seed).await;
    let mut rng = Seeded::new(seed);
    let victim = rng.range(0, cast.people.len() as u64 - 1) as usize;
    let hold = w.lever.hold(HoldRule::new("POST", ADD_TAGS));
    let ip = InProcess::open(&w);
    let tenant = ip.tenant.clone();
    let running = tokio::spawn(async move {
        tenant
            .pass(PassKind::Full, &tokio_util::sync::CancellationToken::new())
            .await
    });
    tokio::time::timeout(Duration::from_secs(20), hold.held())
        .await
        .unwrap();
    let gone = cast.people.remove(victim);
    w.lever.delete_opportunity(&gone.opportunity).unwrap();
    hold.release();
    let first = running.await.unwrap();
    let mut out = Outcome::default();
    out.count(&first, false);
    converge(
        &w,
        &ip,
        &cast,
        Case::OpportunityDeletedMidPass,
        seed,
        false,
        &mut out,
    )
    .await;
    let row = w
        .store()
        .read(|r| r.opportunity("acme", &gone.opportunity))
        .unwrap();
    assert!(
        row.as_ref().is_some_and(|o| o.deleted),
        "the deleted opportunity is not marked deleted: {row:?}"
    );
    out.finish(&w, &cast);
    out
}

async fn fast(case: Case) {
    let out = run_case(case, 1, false).await;
    assert_eq!(out.tally, Tally::default(), "{case:?}: {}", out.tally);
    eprintln!("{case:?}: {out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_10_percent() {
    fast(Case::ServerErrors10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_30_percent() {
    fast(Case::ServerErrors30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_applied_then_answered_500() {
    fast(Case::WriteAppliedThen500).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_past_the_request_timeout() {
    fast(Case::LatencyPastTimeout).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_storms() {
    fast(Case::RateLimitStorms).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_bodies_and_dropped_connections() {
    fast(Case::TruncatedBodies).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_list_pages() {
    fast(Case::MalformedPages).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interview_removed_mid_pass() {
    fast(Case::InterviewRemovedMidPass).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opportunity_deleted_mid_pass() {
    fast(Case::OpportunityDeletedMidPass).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long version: cargo test --release --test it -- --ignored fault_matrix::long_"]
async fn long_fault_matrix() {
    let runs = long_runs();
    for case in CASES {
        let started = Instant::now();
        let (mut passes, mut worst, mut lost, mut faults) = (0, 0, 0, 0);
        let (mut calls, mut recorded) = (0, 0);
        let mut results = std::collections::BTreeMap::<String, usize>::new();
        for seed in 1..=runs {
            let o = run_case(case, seed, true).await;
            assert_eq!(
                o.tally,
                Tally::default(),
                "{case:?} seed {seed}: {}",
                o.tally
            );
            passes += o.passes;
            worst = worst.max(o.passes);
            lost += o.tally.lost_or_duplicated();
            faults += o.faults;
            calls += o.calls;
            recorded += o.recorded;
            for (k, v) in o.results {
                *results.entry(k).or_default() += v;
            }
        }
        println!(
            "fault matrix | {case:?} | {runs} runs | {passes} passes (at most {worst}) | {calls} calls, {faults} answered with a fault, {} given up unanswered | lost or duplicated {lost} | early converged 0 | {:.0} s | {results:?}",
            calls.saturating_sub(recorded as u64),
            started.elapsed().as_secs_f64()
        );
    }
}
