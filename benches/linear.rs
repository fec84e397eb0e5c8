//! Issue 12's target 7, "linear passes": the CPU time of the daemon binary's first `--once`
//! pass (a child process; `wait4`) at N and 5N invites per interview, whose ratio must stay
//! at most 5.5; and that a converged full pass then reads each invited opportunity once
//! (Lever requests by route, from the simulator's accounting). Client pacing lifted.
//!
//! Two first passes per size: into empty interviews (every candidate invited), and into
//! interviews that already hold every candidate (the state file lost: every candidate adopted
//! after a lookup in a full listing).
//!
//! Run: `cargo bench --bench linear` (N per interview = `WLS_BENCH_N`, default 2,500, over 4
//! interviews; `WLS_BENCH_BIN`).

mod support;

use std::collections::BTreeMap;

use support::child;
use support::world::{NEVER, Pacing, Spec, World};
use support::{env_usize, mb, runtime};

const INTERVIEWS: usize = 4;

fn main() {
    let n = env_usize("WLS_BENCH_N", 2_500);
    println!("binary: {}", child::binary().display());
    let rt = runtime();
    for adopt in [false, true] {
        let small = rt.block_on(first_pass(n, adopt));
        let large = rt.block_on(first_pass(5 * n, adopt));
        println!(
            "{}: CPU ratio 5N/N = {:.2} (target ≤ 5.5)\n",
            if adopt { "adopting" } else { "inviting" },
            large / small
        );
    }
}

/// Returns the first pass's CPU seconds.
async fn first_pass(per_interview: usize, adopt: bool) -> f64 {
    let total = per_interview * INTERVIEWS;
    let w = World::start(&Spec::new(INTERVIEWS, total)).await;
    if adopt {
        w.add_participants_for(total);
    }
    let config = w.write_config(&w.config(NEVER, NEVER, Pacing::Lifted));
    let log = w.dir.path().join("once.log");
    let e = child::once(&config, &log).await;
    assert_eq!(
        e.code,
        0,
        "--once failed:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let what = if adopt { "adopts" } else { "invites" };
    println!(
        "{per_interview:>6} per interview ({total} in all): first pass {what} everyone: CPU {:.2} s ({:.0} µs per candidate), wall {:.1} s, peak RSS {:.1} MB",
        e.cpu.as_secs_f64(),
        e.cpu.as_secs_f64() * 1e6 / total as f64,
        e.wall.as_secs_f64(),
        mb(e.max_rss_kb)
    );
    let (lm, wm) = (w.lever.accounting().mark(), w.willo.accounting().mark());
    let c = child::once(&config, &log).await;
    assert_eq!(c.code, 0, "converged --once failed");
    let mut routes: BTreeMap<String, usize> = BTreeMap::new();
    for r in w.lever.accounting().requests_since(lm) {
        *routes
            .entry(format!("{} {}", r.method, r.route))
            .or_insert(0) += 1;
    }
    let willo = w.willo.accounting().requests_since(wm).len();
    println!(
        "{per_interview:>6} per interview: converged full pass: CPU {:.2} s; Lever {:?} (trigger-stage pages needed: {}); Willo {willo} requests",
        c.cpu.as_secs_f64(),
        routes,
        total.div_ceil(100)
    );
    e.cpu.as_secs_f64()
}
