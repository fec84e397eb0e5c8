//! Issue 12's target 5, "budget used when there is work": the simulators limit like the real
//! APIs (10/s, burst 20 per credential) and the client runs at its defaults (Lever 8/s burst
//! 16, Willo 2/s burst 4). One `--once` pass of the daemon binary per workload; from the
//! simulators' accounting: requests, 429s, the achieved rate from the first to the last request
//! of each API, and the wall time against the lower bound (requests beyond the burst ÷ rate).
//!
//! Workloads (each sized to take about one to two minutes):
//! - Lever-bound: `WLS_BENCH_MOVED` (default 400) invited participants moved on in Willo with
//!   the webhooks lost, so the pass rewrites that many status tags;
//! - Willo-bound: `WLS_BENCH_NEW` (default 120) new trigger-stage candidates to invite.
//!
//! The store is seeded first with the pacing lifted and the simulators unlimited.
//!
//! Run: `cargo bench --bench budget` (`WLS_BENCH_BIN`).

mod support;

use std::time::Duration;

use support::child;
use support::world::{NEVER, Pacing, Spec, World};
use support::{env_usize, runtime};
use willo_lever_sync::sim::{RateLimit, RequestRecord};

fn main() {
    let moved = env_usize("WLS_BENCH_MOVED", 400);
    let new = env_usize("WLS_BENCH_NEW", 120);
    println!("binary: {}", child::binary().display());
    runtime().block_on(run(moved, new));
}

async fn run(moved: usize, new: usize) {
    let w = World::start(&Spec::new(4, moved)).await;
    let lifted = w.write_config(&w.config(NEVER, NEVER, Pacing::Lifted));
    let log = w.dir.path().join("once.log");
    assert_eq!(child::once(&lifted, &log).await.code, 0, "seeding failed");
    let defaults = w.write_config(&w.config(NEVER, NEVER, Pacing::Defaults));
    let limit = || Some(RateLimit::per_second(10, 20));

    // Lever-bound: every participant completes; no webhook arrives.
    for i in &w.interviews {
        for p in w.willo.participants(i) {
            w.willo
                .set_participant_state(&p.key, "Completed")
                .expect("state");
        }
    }
    w.lever.set_rate_limit(limit());
    w.willo.set_rate_limit(limit());
    measure(
        &w,
        &defaults,
        &log,
        &format!("Lever-bound ({moved} status tags to rewrite)"),
    )
    .await;

    // Willo-bound: new candidates to invite.
    w.add_candidates(new, true);
    measure(&w, &defaults, &log, &format!("Willo-bound ({new} invites)")).await;
}

async fn measure(w: &World, config: &std::path::Path, log: &std::path::Path, label: &str) {
    let (lm, wm) = (w.lever.accounting().mark(), w.willo.accounting().mark());
    let e = child::once(config, log).await;
    assert!(
        e.code == 0,
        "--once exited {}:\n{}",
        e.code,
        std::fs::read_to_string(log).unwrap_or_default()
    );
    let lever = w.lever.accounting().requests_since(lm);
    let willo = w.willo.accounting().requests_since(wm);
    println!(
        "{label}: wall {:.1} s, CPU {:.2} s",
        e.wall.as_secs_f64(),
        e.cpu.as_secs_f64()
    );
    let mut bound: f64 = 0.0;
    for (api, rs, rate, burst) in [("Lever", &lever, 8.0, 16.0), ("Willo", &willo, 2.0, 4.0)] {
        let (first, last) = match (rs.first(), rs.last()) {
            (Some(f), Some(l)) => (f.at, l.at),
            _ => continue,
        };
        let span = last
            .duration_since(first)
            .max(Duration::from_millis(1))
            .as_secs_f64();
        let limited = rs.iter().filter(|r| r.status == 429).count();
        let n = rs.len() as f64;
        let lower = ((n - burst).max(0.0)) / rate;
        bound = bound.max(lower);
        println!(
            "  {api}: {} requests ({} writes), {limited} answered 429; achieved {:.2}/s over {:.1} s vs configured {rate}/s ({:.0}%); lower bound {:.1} s",
            rs.len(),
            rs.iter().filter(|r| r.is_write()).count(),
            (n - 1.0) / span,
            span,
            100.0 * (n - 1.0) / span / rate,
            lower
        );
        let writes: Vec<&RequestRecord> = rs.iter().filter(|r| r.is_write()).collect();
        if let (Some(f), Some(l)) = (writes.first(), writes.last())
            && writes.len() > 1
        {
            let span = l.at.duration_since(f.at).as_secs_f64().max(0.001);
            let inside = rs.iter().filter(|r| r.at >= f.at && r.at <= l.at).count() - 1;
            println!(
                "    from the first write to the last: {:.2}/s over {:.1} s ({:.0}% of configured)",
                inside as f64 / span,
                span,
                100.0 * inside as f64 / span / rate
            );
        }
        busiest_second(rs);
    }
    println!(
        "  wall {:.1} s vs the slower API's lower bound {:.1} s ({:.0}%)",
        e.wall.as_secs_f64(),
        bound,
        100.0 * e.wall.as_secs_f64() / bound.max(0.001)
    );
}

/// The most requests the simulator saw in any one-second window (the burst the server felt).
fn busiest_second(rs: &[RequestRecord]) {
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..rs.len() {
        while rs[hi].at.duration_since(rs[lo].at) >= Duration::from_secs(1) {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    println!("    busiest one-second window: {best} requests");
}
