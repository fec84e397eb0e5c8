//! Issue 12's target 2, "flat memory": the daemon binary's own memory (the child process,
//! never this bench process, where the simulators live), with the client pacing lifted.
//!
//! - peak RSS (the largest `VmHWM`, see `support::child`) of `--once` over N trigger-stage opportunities: the first
//!   pass, which invites everyone, then a converged pass with N invites in the store;
//! - RSS (`/proc/<pid>/status` VmRSS, and VmHWM) of the daemon after its start-up full pass and
//!   after incremental passes 1, 10 and 100 (one a second);
//! - the idle daemon over a 10,000-invite store.
//!
//! Run: `cargo bench --bench memory` (N = `WLS_BENCH_N`, default 100,000; incremental passes =
//! `WLS_BENCH_PASSES`, default 100; the binary = `WLS_BENCH_BIN`, default this build's;
//! `WLS_BENCH_SEED_BIN`: another build seeds the store, and the first pass is not measured).

mod support;

use std::time::Duration;

use support::child::{self, Child};
use support::world::{NEVER, Pacing, Spec, World};
use support::{env_usize, mb, runtime, wait_passes};

fn main() {
    let n = env_usize("WLS_BENCH_N", 100_000);
    let passes = env_usize("WLS_BENCH_PASSES", 100) as u64;
    println!("binary: {}", child::binary().display());
    let rt = runtime();
    rt.block_on(once_and_daemon(n, passes));
    rt.block_on(idle(10_000));
}

async fn once_and_daemon(n: usize, passes: u64) {
    let w = World::start(&Spec::new(20, n)).await;
    let config = w.write_config(&w.config("* * * * * *", NEVER, Pacing::Lifted));
    let log = w.dir.path().join("once.log");
    let seeded_apart = child::seed_binary() != child::binary();
    if seeded_apart {
        let e = child::seed(&config, &log).await;
        println!(
            "n={n}  first pass by the seed binary {} (not measured: peak RSS {:.1} MB, CPU {:.1} s)",
            child::seed_binary().display(),
            mb(e.max_rss_kb),
            e.cpu.as_secs_f64()
        );
    }
    let labels: &[&str] = if seeded_apart {
        &[
            "first converged pass (migrates the seeded store)",
            "converged pass",
        ]
    } else {
        &["first pass (invites everyone)", "converged pass"]
    };
    for label in labels {
        let e = child::once(&config, &log).await;
        assert!(
            e.code == 0 || e.code == 1,
            "--once exited {}:\n{}",
            e.code,
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        println!(
            "n={n}  --once {label}: peak RSS {:.1} MB, CPU {:.1} s, wall {:.1} s, exit {}",
            mb(e.max_rss_kb),
            e.cpu.as_secs_f64(),
            e.wall.as_secs_f64(),
            e.code
        );
    }
    let d = Child::spawn(&[], &config, &w.dir.path().join("daemon.log"));
    let addr = d.address().await;
    let http = reqwest::Client::new();
    let long = Duration::from_secs(3600);
    assert!(
        wait_passes(&http, &addr, "bench", "full", 1, long).await,
        "no start-up pass:\n{}",
        d.log()
    );
    let (rss, hwm) = d.memory();
    println!(
        "n={n}  daemon after its start-up full pass: RSS {:.1} MB (peak {:.1} MB), CPU {:.1} s",
        mb(rss),
        mb(hwm),
        d.cpu().as_secs_f64()
    );
    for k in [1, 10, 100].into_iter().filter(|k| *k <= passes) {
        assert!(
            wait_passes(&http, &addr, "bench", "incremental", k, long).await,
            "{}",
            d.log()
        );
        let (rss, hwm) = d.memory();
        println!(
            "n={n}  daemon after incremental pass {k}: RSS {:.1} MB (peak {:.1} MB), CPU {:.1} s",
            mb(rss),
            mb(hwm),
            d.cpu().as_secs_f64()
        );
    }
    let e = d.stop().await;
    println!(
        "n={n}  daemon stopped: exit {}, peak RSS {:.1} MB",
        e.code,
        mb(e.max_rss_kb)
    );
}

async fn idle(n: usize) {
    let w = World::start(&Spec::new(20, n)).await;
    let config = w.write_config(&w.config(NEVER, NEVER, Pacing::Lifted));
    child::seed(&config, &w.dir.path().join("once.log")).await;
    let d = Child::spawn(&[], &config, &w.dir.path().join("daemon.log"));
    let addr = d.address().await;
    let http = reqwest::Client::new();
    assert!(wait_passes(&http, &addr, "bench", "full", 1, Duration::from_secs(600)).await);
    let (after_pass, hwm) = d.memory();
    // Idle: nothing scheduled, nothing to do; look again after a while.
    let mut samples = Vec::new();
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        samples.push(d.memory().0);
    }
    let idle = samples.iter().copied().max().unwrap_or(0);
    println!(
        "n={n}  idle daemon: RSS {:.1} MB over 5 s (after its start-up full pass {:.1} MB, peak {:.1} MB)",
        mb(idle),
        mb(after_pass),
        mb(hwm)
    );
    let (anon, file, top) = d.breakdown(6);
    let top: Vec<String> = top
        .iter()
        .map(|(name, kb)| format!("{name} {:.1}", mb(*kb)))
        .collect();
    println!(
        "n={n}  idle daemon: anonymous {:.1} MB, file-backed {:.1} MB; largest (MB): {}",
        mb(anon),
        mb(file),
        top.join(", ")
    );
    d.stop().await;
}
