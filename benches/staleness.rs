//! Issue 12's target 3, second half: the worst staleness of a status tag when every webhook is
//! lost: from a participant's state change in Willo to the status tag in Lever, over a
//! simulated hour, with N invites open (default 100,000).
//!
//! Time is scaled: real time runs `WLS_BENCH_SCALE` (default 30) times faster than the time it
//! stands for. The daemon binary runs as a child process with the default incremental schedule
//! (every 5 minutes) divided by the scale (every 10 s at 30×), and the client's default pacing
//! (Lever 8/s, Willo 2/s) multiplied by it, so a pass needs as many scaled seconds as it would
//! need real ones; the status checks' freshness window (default an hour) is divided by it.
//! What does not scale is the daemon's own CPU time, so the figures are a little pessimistic. Once a simulated minute, one participant (a different one each time) moves to
//! `Completed` in the Willo simulator, which sends no webhook; the bench polls the Lever
//! simulator every 50 ms for `Willo:To Review` on the opportunity, for up to two more simulated
//! hours after the last change.
//!
//! Run: `cargo bench --bench staleness` (`WLS_BENCH_N`, `WLS_BENCH_SCALE`, `WLS_BENCH_BIN`,
//! `WLS_BENCH_SEED_BIN`).

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use support::child::{self, Child};
use support::world::{NEVER, Pacing, Spec, World, email};
use support::{env_usize, passes_finished, percentile, runtime, wait_passes};

fn main() {
    let n = env_usize("WLS_BENCH_N", 100_000);
    let scale = env_usize("WLS_BENCH_SCALE", 30) as u32;
    assert!(
        [5, 10, 15, 20, 30, 60].contains(&scale),
        "WLS_BENCH_SCALE must divide a 5-minute interval into whole seconds that divide a minute"
    );
    println!("binary: {}", child::binary().display());
    runtime().block_on(run(n, scale));
}

async fn run(n: usize, scale: u32) {
    let w = World::start(&Spec::new(20, n)).await;
    let lifted = w.write_config(&w.config(NEVER, NEVER, Pacing::Lifted));
    child::seed(&lifted, &w.dir.path().join("once.log")).await;
    // Participant key → opportunity, through the email.
    let opp_of: HashMap<String, usize> = (0..n).map(|k| (email(k), k)).collect();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for i in &w.interviews {
        for p in w.willo.participants(i) {
            if let Some(k) = opp_of.get(&p.email) {
                pairs.push((p.key.clone(), w.opportunities[*k].clone()));
            }
        }
    }
    pairs.sort();

    let every = 300 / scale;
    let cron = if every == 60 {
        "0 * * * * *".to_owned()
    } else {
        format!("*/{every} * * * * *")
    };
    // The freshness window (default an hour) is scaled too, or at 30× it stands for 30 hours
    // and no open invite falls due within the simulated hour. `[tenants.willo]` is the last
    // table of the configuration, so the line lands there.
    let config = w.config(&cron, NEVER, Pacing::Scaled(scale))
        + &format!("status_freshness_seconds = {}\n", 3600 / scale);
    let config = w.write_config(&config);
    let d = Child::spawn(&[], &config, &w.dir.path().join("daemon.log"));
    let addr = d.address().await;
    let http = reqwest::Client::new();
    let t = Instant::now();
    assert!(
        wait_passes(&http, &addr, "bench", "full", 1, Duration::from_secs(7200)).await,
        "{}",
        d.log()
    );
    let sim = |d: Duration| d.as_secs_f64() * f64::from(scale) / 60.0;
    println!(
        "n={n}, {scale}× time: incremental pass every {every} s real (5 min simulated); start-up full pass took {:.1} simulated minutes",
        sim(t.elapsed())
    );
    let incs0 = passes_finished(
        &support::metrics(&http, &addr).await,
        "bench",
        "incremental",
    );
    let willo_mark = w.willo.accounting().mark();

    let minute = Duration::from_secs(60) / scale;
    let hour_start = Instant::now();
    let stride = (pairs.len() / 61).max(1);
    let mut pending: Vec<(String, Instant)> = Vec::new();
    let mut stale: Vec<f64> = Vec::new();
    let mut next_change = hour_start;
    let mut changed = 0;
    let give_up = hour_start + minute * 180;
    while Instant::now() < give_up && (changed < 60 || !pending.is_empty()) {
        let now = Instant::now();
        if changed < 60 && now >= next_change {
            let (key, opp) = &pairs[(changed * stride + stride / 2) % pairs.len()];
            w.willo
                .set_participant_state(key, "Completed")
                .expect("state");
            pending.push((opp.clone(), Instant::now()));
            changed += 1;
            next_change += minute;
        }
        pending.retain(|(opp, at)| {
            let landed = w.lever.tags_of(opp).iter().any(|t| t == "Willo:To Review");
            if landed {
                stale.push(sim(at.elapsed()));
            }
            !landed
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let incs = passes_finished(
        &support::metrics(&http, &addr).await,
        "bench",
        "incremental",
    ) - incs0;
    let willo = w.willo.accounting().requests_since(willo_mark).len();
    stale.sort_by(f64::total_cmp);
    println!(
        "n={n}: {} changes; status tag landed for {} — staleness p50 {:.1} min, p90 {:.1} min, max {:.1} min (simulated){}",
        changed,
        stale.len(),
        percentile(&stale, 50.0),
        percentile(&stale, 90.0),
        stale.last().copied().unwrap_or(f64::NAN),
        if pending.is_empty() {
            String::new()
        } else {
            format!(
                "; {} never landed within 2 simulated hours after the last change",
                pending.len()
            )
        }
    );
    println!(
        "n={n}: {incs} incremental passes finished in that time; Willo requests {willo} ({:.0} per incremental pass)",
        willo as f64 / incs.max(1) as f64
    );
    let e = d.stop().await;
    println!(
        "n={n}: daemon exit {}, peak RSS {:.1} MB",
        e.code,
        support::mb(e.max_rss_kb)
    );
}
