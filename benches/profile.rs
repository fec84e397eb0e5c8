//! Issue 12's target 8, second half: where a `--once` pass over N trigger-stage opportunities
//! (default 100,000) spends its instructions, measured with `valgrind --tool=callgrind` on the
//! daemon binary (a child process; instruction counts are repeatable on a shared machine,
//! unlike times). The store is seeded by a native first pass; the profiled pass is the
//! converged full pass that follows (N invites in the store, nothing to do), or with
//! `WLS_BENCH_PROFILE=first` the first pass itself on a fresh store (slow: callgrind runs the
//! binary about 50 times slower).
//!
//! Prints the total instructions and the top functions by self cost (`callgrind_annotate`);
//! the raw profile is kept in `target/callgrind/`.
//!
//! Run: `cargo bench --bench profile` (needs valgrind; `WLS_BENCH_N`, `WLS_BENCH_BIN`,
//! `WLS_BENCH_SEED_BIN`).

mod support;

use std::process::Command;

use support::child::{self, Child};
use support::world::{NEVER, Pacing, Spec, World};
use support::{env_usize, runtime};

fn main() {
    let n = env_usize("WLS_BENCH_N", 100_000);
    let first = std::env::var("WLS_BENCH_PROFILE").is_ok_and(|v| v == "first");
    println!("binary: {}", child::binary().display());
    runtime().block_on(run(n, first));
}

async fn run(n: usize, first: bool) {
    let w = World::start(&Spec::new(20, n)).await;
    let config = w.write_config(&w.config(NEVER, NEVER, Pacing::Lifted));
    if !first {
        child::seed(&config, &w.dir.path().join("seed.log")).await;
        // The binary under test's own converged pass first (it migrates a store seeded by
        // another build), so the profiled pass is a steady one.
        let e = child::once(&config, &w.dir.path().join("warm.log")).await;
        assert_eq!(e.code, 0, "the warm-up pass failed");
    }
    let out_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/callgrind");
    std::fs::create_dir_all(&out_dir).expect("out dir");
    let which = if first { "first" } else { "converged" };
    let out = out_dir.join(format!("callgrind.{which}.{n}.out"));
    let log = w.dir.path().join("profiled.log");
    let err = std::fs::File::create(&log).expect("log");
    let child = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(child::binary())
        .arg("--config")
        .arg(&config)
        .arg("--once")
        .stdout(std::process::Stdio::null())
        .stderr(err)
        .spawn()
        .expect("valgrind (apt-get install valgrind)");
    let e = Child::adopt(child, &log).wait().await;
    assert_eq!(
        e.code,
        0,
        "the profiled pass failed:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    println!(
        "n={n}: {which} --once pass under callgrind: wall {:.0} s; profile {}",
        e.wall.as_secs_f64(),
        out.display()
    );
    let annotated = Command::new("callgrind_annotate")
        .arg("--inclusive=no")
        .arg(&out)
        .output()
        .expect("callgrind_annotate");
    let text = String::from_utf8_lossy(&annotated.stdout);
    let mut lines = text.lines().skip_while(|l| !l.contains("PROGRAM TOTALS"));
    if let Some(total) = lines.next() {
        println!("{total}");
    }
    let top: Vec<&str> = lines
        .filter(|l| {
            l.trim_start()
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        })
        .take(20)
        .collect();
    println!("top functions by instructions (self):");
    for l in top {
        println!("  {}", l.trim().chars().take(220).collect::<String>());
    }
}
