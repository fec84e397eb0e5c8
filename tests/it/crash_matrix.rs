//! The crash matrix: `kill -9` of `--once` (or the daemon) at each distinct point of a pass,
//! then `--once` until it converges, then count: 0 duplicate participants, 0 extra invite
//! emails, 0 missed invites, 0 missing or doubled status tags, and a last pass that writes
//! nothing (rule: invite journal, rule: resolve unknown outcomes first, rule: proof an invite
//! was not sent, docs/behaviour.md).
//!
//! Each point is reached through the simulators, never by timing: a hold ("apply, then
//! withhold the response") or a delay before the handler, and the state store polled for the
//! journal row the point is about. The fast version runs each point once (seed 1); the long
//! version (`--ignored`, `EVIDENCE_RUNS`, default 25) runs each point over seeded casts:
//! 2–5 people, sometimes one person with two candidacies, the held request chosen among
//! them, one or four actions at a time.

use std::path::Path;
use std::time::{Duration, Instant};

use willo_lever_sync::domain::invite::InviteState;
use willo_lever_sync::sim::faults::{Fault, FaultPlan, FaultRule};
use willo_lever_sync::sim::hold::{HoldHandle, HoldRule};
use willo_lever_sync::sim::lever::OppSeed;

use crate::convergence::{
    ADD_TAGS, Cast, Cmd, PARTICIPANTS, REMOVE_TAGS, STATUS_TAGS, Seeded, Tally, assert_quiet,
    long_runs, oauth_cmd, once_until_converged, open_writer, store_oauth_tokens, tally,
};
use crate::secrets_scan;
use crate::support::World;
use crate::support::daemon::{Daemon, SIGTERM, eventually, world_for_daemon};

/// Where the process dies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    /// While the interview's participants are listed for the lookup that precedes any invite:
    /// nothing sent yet.
    BeforeThePost,
    /// The journal row is `in_flight` and the POST is on its way but not applied (held before
    /// Willo's handler for longer than the process lives).
    InFlightNotApplied,
    /// Willo created the participant; its response is withheld, so the journal still says
    /// `in_flight`.
    PostAppliedNotRecorded,
    /// The journal says `done`; the status tag's write has not been applied.
    BetweenInviteAndTag,
    /// A status change: Lever added the new status tag, the response is withheld (the old tag
    /// is still on).
    MidTagAdd,
    /// A status change: the new tag is on, Lever removed the old one, the response is withheld.
    MidTagRemove,
    /// Inside the commit's transaction: a pass over 20,000 mirrored opportunities, killed once
    /// its transaction has spilled uncommitted pages into the WAL.
    MidCommit,
    /// Lever rotated the refresh token; its response is withheld.
    OAuthRefresh,
    /// PostAppliedNotRecorded, then the restarted run killed mid tag write.
    DoubleCrash,
    /// The daemon, killed mid-POST during its start-up pass, then started again.
    DaemonMidPost,
}

const POINTS: [Point; 10] = [
    Point::BeforeThePost,
    Point::InFlightNotApplied,
    Point::PostAppliedNotRecorded,
    Point::BetweenInviteAndTag,
    Point::MidTagAdd,
    Point::MidTagRemove,
    Point::MidCommit,
    Point::OAuthRefresh,
    Point::DoubleCrash,
    Point::DaemonMidPost,
];

/// What one run found.
#[derive(Debug, Clone)]
struct Outcome {
    /// `--once` runs after the crash until one converged (daemon: restarts).
    runs_to_converge: usize,
    tally: Tally,
    /// What the kill hit, as observed (e.g. how much uncommitted WAL the commit had written).
    note: String,
}

/// A seeded cast and configuration.
struct Setup {
    w: World,
    cast: Cast,
    cmd: Cmd,
    /// Which of the matching requests is held (1-based).
    nth: u64,
    /// How long a POST waits before Willo's handler (`InFlightNotApplied`).
    delay_ms: u64,
}

/// 20,000 mirrored opportunities make the commit's transaction outgrow SQLite's page cache, so
/// it spills uncommitted pages into the WAL for ~100 ms before it commits.
const COMMIT_FILLERS: usize = 20_000;

async fn setup(point: Point, seed: u64) -> Setup {
    let mut rng = Seeded::new(seed);
    let mut w = World::new().await;
    if point == Point::DaemonMidPost {
        world_for_daemon(&mut w);
    }
    // A late POST is waited for request timeout + margin (2 s here) before absence is proof.
    w.willo_extra = format!("{}\nrequest_timeout_seconds = 1", w.willo_extra);
    let concurrency = if rng.range(0, 1) == 0 { 1 } else { 4 };
    w.daemon_extra = format!("{}\nconcurrency = {concurrency}", w.daemon_extra);
    let distinct = rng.range(2, 5) as usize;
    let shared = rng.range(0, 1) as usize;
    let cast = Cast::seed(&w, &format!("Crash{seed}"), distinct, shared);
    let nth = rng.range(1, distinct as u64);
    let delay_ms = rng.range(200, 1800);
    if point == Point::MidCommit {
        w.lever
            .add_opportunities((0..COMMIT_FILLERS).map(|i| {
                OppSeed::new(&format!("Filler {i}"), &format!("f{i}@example.com")).stage(&w.trigger)
            }))
            .unwrap();
    }
    let cmd = if point == Point::OAuthRefresh {
        oauth_cmd(&w, 60_000)
    } else {
        Cmd::of(&w)
    };
    Setup {
        w,
        cast,
        cmd,
        nth,
        delay_ms,
    }
}

/// Waits (at most 30 s) for a held request, panicking with the process's output if the
/// process ended first.
async fn held(hold: &HoldHandle, what: &str) {
    tokio::time::timeout(Duration::from_secs(30), hold.held())
        .await
        .unwrap_or_else(|_| panic!("{what} was never held"));
}

/// The journal's rows, read without a lock while the writer runs (empty until it exists).
fn journal(state_dir: &Path) -> Vec<willo_lever_sync::store::InviteRow> {
    willo_lever_sync::store::Store::open(state_dir, willo_lever_sync::store::OpenMode::Reader)
        .and_then(|s| s.read(|r| r.invites("acme")))
        .unwrap_or_default()
}

/// Polls the journal until `check` holds (at most 30 s).
async fn journal_until(
    state_dir: &Path,
    what: &str,
    check: impl Fn(&[willo_lever_sync::store::InviteRow]) -> bool,
) {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if check(&journal(state_dir)) {
            return;
        }
        assert!(Instant::now() < until, "the journal never showed {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Converges the cast once, then moves every participant to "completed", so the next pass
/// changes every status tag (add To Review, then remove Invited).
async fn converged_then_completed(s: &Setup) {
    once_until_converged(&s.cmd, 3).await;
    s.cast.set_all_states(&s.w, "completed");
}

/// Runs `--once`, kills it at the point, and returns what the kill observed.
async fn crash_once(point: Point, s: &Setup) -> String {
    let (w, cmd) = (&s.w, &s.cmd);
    let state = &cmd.state_dir;
    let marks = w.marks();
    match point {
        Point::BeforeThePost => {
            let hold = w.willo.hold(HoldRule::new("GET", PARTICIPANTS));
            let p = cmd.spawn(&["--once"]);
            held(&hold, "the participant lookup").await;
            let out = p.kill9().await;
            secrets_scan::assert_clean(&[&out], &cmd.secrets_now());
            assert!(w.willo.participants(&s.cast.interview).is_empty());
            assert_eq!(w.writes_since(marks), Vec::<String>::new());
            "no write made".into()
        }
        Point::InFlightNotApplied => {
            // If Willo goes on with a request whose client died, it lands late, but within
            // the request timeout + margin the restarted pass waits out.
            w.willo.faults().set(
                FaultPlan::seeded(1).with(
                    FaultRule::new(Fault::Latency(Duration::from_millis(s.delay_ms)))
                        .on("POST", PARTICIPANTS)
                        .first(1),
                ),
            );
            let p = cmd.spawn(&["--once"]);
            journal_until(state, "an in_flight row", |rows| {
                rows.iter().any(|r| r.state == InviteState::InFlight)
            })
            .await;
            let out = p.kill9().await;
            secrets_scan::assert_clean(&[&out], &cmd.secrets_now());
            let applied = w.willo.participants(&s.cast.interview).len();
            format!(
                "row in_flight, POST held {} ms before Willo's handler, {applied} applied at the kill",
                s.delay_ms
            )
        }
        Point::PostAppliedNotRecorded | Point::DoubleCrash => {
            let hold = w.willo.hold(HoldRule::new("POST", PARTICIPANTS).nth(s.nth));
            let p = cmd.spawn(&["--once"]);
            held(&hold, "the invite POST").await;
            let out = p.kill9().await;
            drop(hold);
            secrets_scan::assert_clean(&[&out], &cmd.secrets_now());
            let rows = journal(state);
            let in_flight = rows
                .iter()
                .filter(|r| r.state == InviteState::InFlight)
                .count();
            assert!(in_flight >= 1, "{rows:?}");
            format!("POST {} applied, {in_flight} row(s) in_flight", s.nth)
        }
        Point::BetweenInviteAndTag => {
            w.lever.faults().set(FaultPlan::seeded(1).with(
                FaultRule::new(Fault::Latency(Duration::from_secs(30))).on("POST", ADD_TAGS),
            ));
            let p = cmd.spawn(&["--once"]);
            journal_until(state, "a done row", |rows| {
                rows.iter().any(|r| r.state == InviteState::Done)
            })
            .await;
            let out = p.kill9().await;
            w.lever.faults().clear();
            secrets_scan::assert_clean(&[&out], &cmd.secrets_now());
            let tagged = s
                .cast
                .people
                .iter()
                .filter(|p| {
                    w.lever
                        .tags_of(&p.opportunity)
                        .iter()
                        .any(|t| STATUS_TAGS.contains(&t.as_str()))
                })
                .count();
            assert_eq!(tagged, 0, "a status tag was written before the kill");
            "invite done, no status tag applied".into()
        }
        Point::MidTagAdd | Point::MidTagRemove => {
            converged_then_completed(s).await;
            let route = if point == Point::MidTagAdd {
                ADD_TAGS
            } else {
                REMOVE_TAGS
            };
            let hold = w.lever.hold(HoldRule::new("POST", route).nth(s.nth));
            let p = cmd.spawn(&["--once"]);
            held(&hold, "the tag write").await;
            let out = p.kill9().await;
            drop(hold);
            secrets_scan::assert_clean(&[&out], &cmd.secrets_now());
            format!("tag write {} applied, unrecorded", s.nth)
        }
        Point::MidCommit => kill_in_the_commit(s).await,
        Point::OAuthRefresh => {
            let hold = w.lever.hold(HoldRule::new("POST", "/oauth/token"));
            let p = cmd.spawn(&["--once"]);
            held(&hold, "the token refresh").await;
            let out = p.kill9().await;
            drop(hold);
            secrets_scan::assert_clean(&[&out], &cmd.secrets_now());
            assert_eq!(w.writes_since(marks), Vec::<String>::new());
            "refresh token rotated at Lever, response withheld".into()
        }
        Point::DaemonMidPost => unreachable!("the daemon has its own run"),
    }
}

/// Kills `--once` inside a commit's transaction: holds the last status-tag write, releases
/// it, and kills at the WAL's first write after it: the tag's own journal write, a step's
/// commit (a chunk's mirror of 1,000 opportunities) or the closing transaction.
async fn kill_in_the_commit(s: &Setup) -> String {
    let (w, cmd) = (&s.w, &s.cmd);
    let tag_writes = s.cast.people.len() as u64;
    let hold = w
        .lever
        .hold(HoldRule::new("POST", ADD_TAGS).nth(tag_writes));
    let p = cmd.spawn(&["--once"]);
    held(&hold, "the last tag write").await;
    let wal = cmd
        .state_dir
        .join(format!("{}-wal", willo_lever_sync::store::DB_FILE));
    // The WAL's size and modification time: a chunked pass reuses the WAL's space once it was
    // checkpointed, so a write shows as a new mtime as often as a larger file.
    let mark = || {
        std::fs::metadata(&wal)
            .map(|m| (m.len(), m.modified().ok()))
            .unwrap_or((0, None))
    };
    let before = mark();
    hold.release();
    let until = Instant::now() + Duration::from_secs(30);
    let grown = loop {
        let now = mark();
        if now != before {
            break now.0.saturating_sub(before.0);
        }
        assert!(Instant::now() < until, "the commit never started");
        std::thread::yield_now();
    };
    let out = p.kill9().await;
    secrets_scan::assert_clean(&[&out], &cmd.secrets_now());
    // Whether the commit made it: the mirror holds the fillers only if it did.
    let store = open_writer(&cmd.state_dir);
    let committed = store
        .read(|r| r.cursor("acme", "opportunities.updated_at"))
        .unwrap()
        .is_some();
    drop(store);
    format!(
        "killed with {} KiB written to the WAL; commit {}",
        grown / 1024,
        if committed { "survived" } else { "rolled back" }
    )
}

/// The daemon version: killed mid-POST in its start-up pass, started again, and left until
/// the accounts are right.
async fn crash_daemon(s: &Setup) -> Outcome {
    let (w, cmd) = (&s.w, &s.cmd);
    let hold = w.willo.hold(HoldRule::new("POST", PARTICIPANTS).nth(s.nth));
    let mut first = Daemon::start(w, &[]).await;
    held(&hold, "the daemon's invite POST").await;
    first.child.kill().await.unwrap();
    let log = first.log();
    drop(hold);
    secrets_scan::assert_clean(&[&log], &cmd.secrets);
    let second = Daemon::start(w, &[]).await;
    let converged = eventually(Duration::from_secs(30), || {
        tally(w, &s.cast) == Tally::default()
    })
    .await;
    assert!(converged, "{}\n{}", tally(w, &s.cast), second.log());
    let log = second.log();
    second.signal(SIGTERM);
    assert_eq!(second.exit_code().await, 0);
    secrets_scan::assert_clean(&[&log], &cmd.secrets);
    Outcome {
        runs_to_converge: 1,
        tally: tally(w, &s.cast),
        note: format!("POST {} applied; one restart", s.nth),
    }
}

/// One run of one point: crash, converge, count, and check the last pass is quiet.
async fn run_point(point: Point, seed: u64) -> Outcome {
    let s = setup(point, seed).await;
    if point == Point::DaemonMidPost {
        let outcome = crash_daemon(&s).await;
        assert_quiet(&s.w, &s.cmd).await;
        return outcome;
    }
    let mut note = crash_once(point, &s).await;
    if point == Point::OAuthRefresh {
        // The rotated refresh token never reached the process: the stored one is dead, and
        // the tenant must be disconnected cleanly, writing nothing (exit 77), until someone
        // runs `connect` (here: a new grant stored as `connect` stores it).
        let marks = s.w.marks();
        let out = s.cmd.run(&["--once", "--json"]).await;
        assert_eq!(out.code, 77, "{}{}", out.stdout, out.stderr);
        assert_eq!(s.w.writes_since(marks), Vec::<String>::new());
        store_oauth_tokens(&s.w, 3_600_000);
        note.push_str("; next run exit 77 (grant lost), converged after a new connect");
    }
    if point == Point::DoubleCrash {
        // The restarted run adopts the in-flight participant and goes on; it dies in turn
        // holding its first status-tag write.
        let hold = s.w.lever.hold(HoldRule::new("POST", ADD_TAGS));
        let p = s.cmd.spawn(&["--once"]);
        held(&hold, "the second run's tag write").await;
        let out = p.kill9().await;
        drop(hold);
        secrets_scan::assert_clean(&[&out], &s.cmd.secrets_now());
        note.push_str("; second run killed mid tag write");
    }
    let runs = once_until_converged(&s.cmd, 4).await;
    let t = tally(&s.w, &s.cast);
    if point == Point::InFlightNotApplied {
        // Did Willo apply the dead process's POST late (then the restart adopted it), or drop
        // it with the connection (then the restart invited after waiting out the window)?
        let late = s.w.willo.accounting().requests().iter().any(|r| {
            r.method == "POST" && r.fault.as_deref().is_some_and(|f| f.starts_with("latency"))
        });
        note.push_str(if late {
            "; Willo applied it late, the restart adopted it"
        } else {
            "; Willo dropped it with the connection, the restart invited after the wait"
        });
    }
    assert_quiet(&s.w, &s.cmd).await;
    Outcome {
        runs_to_converge: runs,
        tally: t,
        note,
    }
}

async fn fast(point: Point) {
    let outcome = run_point(point, 1).await;
    assert_eq!(
        outcome.tally,
        Tally::default(),
        "{point:?}: {} ({})",
        outcome.tally,
        outcome.note
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_before_the_post() {
    fast(Point::BeforeThePost).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_in_flight_before_willo_applied_the_post() {
    fast(Point::InFlightNotApplied).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_after_the_post_took_effect_before_the_journal_recorded_it() {
    fast(Point::PostAppliedNotRecorded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_between_invite_and_tag() {
    fast(Point::BetweenInviteAndTag).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_mid_tag_add() {
    fast(Point::MidTagAdd).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_mid_tag_remove() {
    fast(Point::MidTagRemove).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_mid_commit() {
    fast(Point::MidCommit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_during_an_oauth_refresh_disconnects_cleanly() {
    fast(Point::OAuthRefresh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_twice_at_two_points() {
    fast(Point::DoubleCrash).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_the_daemon_mid_post() {
    fast(Point::DaemonMidPost).await;
}

/// Found by the crash matrix: a process killed after Lever rotated the refresh token but
/// before the response arrived leaves a dead refresh token in the state; the tenant stays
/// disconnected until someone runs `connect` again. Nothing the client does can save a token
/// it never received; whether Lever accepts the previous refresh token for a while (Auth0's
/// "reuse interval") is unconfirmed, and the simulator refuses it at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "defect: a crash during an OAuth refresh loses the grant (rotated refresh token never stored)"]
async fn crash_matrix_found_a_crash_mid_refresh_loses_the_oauth_grant() {
    let s = setup(Point::OAuthRefresh, 1).await;
    crash_once(Point::OAuthRefresh, &s).await;
    let out = s.cmd.run(&["--once"]).await;
    assert_eq!(
        out.code, 0,
        "the stored token no longer works: {}",
        out.stdout
    );
}

/// The long version of one point: `long_runs()` seeds, a line for docs/reliability.md.
async fn long(point: Point) {
    let runs = long_runs();
    let started = Instant::now();
    let mut worst = 0;
    let mut lost = 0;
    let mut notes = std::collections::BTreeMap::<String, usize>::new();
    for seed in 1..=runs {
        let o = run_point(point, seed).await;
        lost += o.tally.lost_or_duplicated();
        worst = worst.max(o.runs_to_converge);
        // Group notes by their shape (numbers out).
        let shape: String = o.note.chars().filter(|c| !c.is_ascii_digit()).collect();
        *notes.entry(shape).or_default() += 1;
        assert_eq!(
            o.tally,
            Tally::default(),
            "{point:?} seed {seed}: {}",
            o.tally
        );
    }
    println!(
        "crash matrix | {point:?} | {runs} runs | lost or duplicated {lost} | at most {worst} run(s) to converge | {:.0} s | {notes:?}",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long version: cargo test --release --test it -- --ignored crash_matrix::long_"]
async fn long_crash_matrix() {
    for point in POINTS {
        long(point).await;
    }
}
