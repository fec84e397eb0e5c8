//! Issue 12's target 6, "many tenants per instance": `WLS_BENCH_TENANTS` tenants (default
//! 1,000) of `WLS_BENCH_OPPS` trigger-stage opportunities each (default 1,000) on one daemon
//! binary (a child process), each tenant with its own pair of simulators (2 interviews, 2
//! tagged postings), the client pacing lifted.
//!
//! Measured: the `--once` first pass of every tenant (wall, CPU, peak RSS); then the daemon:
//! its start-up full passes, then `WLS_BENCH_ROUNDS` (default 3) rounds of incremental passes
//! (every tenant's schedule fires at the top of each minute): RSS after each round, CPU per
//! pass, and schedule slippage — how late each tenant's pass started after the minute it was
//! due, read from the `passes` table of the state file (a read-only connection of the bench).
//!
//! Run: `cargo bench --bench tenants` (`WLS_BENCH_TENANTS`, `WLS_BENCH_OPPS`,
//! `WLS_BENCH_ROUNDS`, `WLS_BENCH_BIN`, `WLS_BENCH_SEED_BIN`).

mod support;

use std::time::{Duration, Instant};

use support::child::{self, Child};
use support::world::{NEVER, Pacing, Spec, World, daemon_toml};
use support::{env_usize, mb, percentile, runtime, wait_passes_all};
use willo_lever_sync::schedule_spread::spread_offset;

fn main() {
    raise_file_limit();
    let tenants = env_usize("WLS_BENCH_TENANTS", 1_000);
    let opps = env_usize("WLS_BENCH_OPPS", 1_000);
    let rounds = env_usize("WLS_BENCH_ROUNDS", 3) as u64;
    println!("binary: {}", child::binary().display());
    runtime().block_on(run(tenants, opps, rounds));
}

/// Two simulators per tenant and the daemon's connections to them need more than the usual
/// 1,024 or 20,000 descriptors; the child inherits the limit.
fn raise_file_limit() {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain get/setrlimit on this process with a valid struct.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut l);
        l.rlim_cur = l.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &l);
    }
}

async fn run(n: usize, opps: usize, rounds: u64) {
    let t = Instant::now();
    let mut worlds = Vec::with_capacity(n);
    for _ in 0..n {
        worlds.push(World::start(&Spec::new(2, opps)).await);
    }
    println!(
        "{n} tenants × {opps}: simulators seeded in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let ids: Vec<String> = (0..n).map(|i| format!("t{i:04}")).collect();
    let config = |schedule: &str| {
        let mut text = daemon_toml(&state, schedule, NEVER);
        for (w, id) in worlds.iter().zip(&ids) {
            text += &w.tenant_toml(id, Pacing::Lifted);
        }
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).expect("config");
        path
    };
    let once = config(NEVER);
    let e = child::seed(&once, &dir.path().join("once.log")).await;
    println!(
        "--once by {}, first pass of every tenant ({} invites): exit {}, wall {:.1} s, CPU {:.1} s, peak RSS {:.1} MB",
        child::seed_binary().display(),
        n * opps,
        e.code,
        e.wall.as_secs_f64(),
        e.cpu.as_secs_f64(),
        mb(e.max_rss_kb)
    );

    let d = Child::spawn(&[], &config("0 * * * * *"), &dir.path().join("daemon.log"));
    let addr = d.address().await;
    let http = reqwest::Client::new();
    let t = Instant::now();
    let long = Duration::from_secs(7200);
    assert!(
        wait_passes_all(&http, &addr, "full", n as u64, long).await,
        "{}",
        d.log()
    );
    let (rss, hwm) = d.memory();
    let mut cpu = d.cpu();
    println!(
        "daemon start-up: {n} full passes (converged) in {:.1} s, CPU {:.1} s ({:.0} ms per pass); RSS {:.1} MB, peak {:.1} MB",
        t.elapsed().as_secs_f64(),
        cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1000.0 / n as f64,
        mb(rss),
        mb(hwm)
    );
    for round in 1..=rounds {
        assert!(
            wait_passes_all(&http, &addr, "incremental", round * n as u64, long).await,
            "{}",
            d.log()
        );
        let now = d.cpu();
        let (rss, hwm) = d.memory();
        println!(
            "round {round}: {n} incremental passes, CPU {:.1} s ({:.1} ms per pass); RSS {:.1} MB, peak {:.1} MB",
            (now - cpu).as_secs_f64(),
            (now - cpu).as_secs_f64() * 1000.0 / n as f64,
            mb(rss),
            mb(hwm)
        );
        cpu = now;
    }
    let e = d.stop().await;
    println!(
        "daemon exit {}, peak RSS {:.1} MB",
        e.code,
        mb(e.max_rss_kb)
    );
    slippage(&support::wal::db(&state));
}

/// How late each incremental pass started after it was due: the schedule fires at second 0 of
/// every minute and each tenant starts at its own offset within the first 30 s
/// (`spread_offset`), from the `passes` table. Also how many passes started in the busiest
/// second, the spread's purpose.
fn slippage(db: &std::path::Path) {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open the state file");
    let mut q = conn
        .prepare("SELECT tenant, started_at, finished_at FROM passes WHERE kind = 'incremental' ORDER BY started_at")
        .expect("query");
    let rows: Vec<(String, i64, Option<i64>)> = q
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .filter_map(Result::ok)
        .collect();
    let tenants = conn
        .query_row("SELECT COUNT(DISTINCT tenant) FROM passes", [], |r| {
            r.get::<_, i64>(0)
        })
        .expect("count tenants") as usize;
    let minute = Duration::from_secs(60);
    let mut late: Vec<f64> = rows
        .iter()
        .map(|(t, s, _)| {
            let offset = spread_offset(t, tenants, minute).as_millis() as i64;
            (s - offset).rem_euclid(60_000) as f64 / 1000.0
        })
        .collect();
    let mut per_second = std::collections::BTreeMap::<i64, usize>::new();
    for (_, s, _) in &rows {
        *per_second.entry(s / 1000).or_default() += 1;
    }
    println!(
        "passes started in the busiest second: {}",
        per_second.values().max().copied().unwrap_or(0)
    );
    let mut took: Vec<f64> = rows
        .iter()
        .filter_map(|(_, s, f)| f.map(|f| (f - s) as f64 / 1000.0))
        .collect();
    late.sort_by(f64::total_cmp);
    took.sort_by(f64::total_cmp);
    println!(
        "schedule slippage over {} incremental passes: p50 {:.2} s, p99 {:.2} s, max {:.2} s (a pass more than 60 s late shows modulo the minute); pass duration p50 {:.2} s, max {:.2} s",
        late.len(),
        percentile(&late, 50.0),
        percentile(&late, 99.0),
        late.last().copied().unwrap_or(f64::NAN),
        percentile(&took, 50.0),
        took.last().copied().unwrap_or(f64::NAN),
    );
}
