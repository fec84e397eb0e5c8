//! A webhook flood against the daemon process: mostly forged Lever and Willo deliveries with a
//! steady trickle of valid ones, sent open-loop at a fixed rate by a load generator written
//! here (tokio + reqwest). Measured: `/healthz` latency, the daemon's RSS before, during and
//! after, how long each valid hint takes to show in Lever (webhook → status tag written), and
//! what the flood writes to the log. Rule: webhooks are hints, docs/behaviour.md.
//!
//! The fast version (CI) floods gently and asserts only what cannot flake: every request and
//! every health check answered, every valid hint acted on, the log bounded whatever the number
//! of forgeries. The long version (`--ignored`, release build) runs the full flood and prints
//! the figures for docs/reliability.md.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::convergence::{ADD_TAGS, Cast, INVITED, TO_REVIEW};
use crate::secrets_scan;
use crate::support::World;
use crate::support::daemon::{
    Daemon, SIGNATURE_TOKEN, SIGTERM, WILLO_TOKEN, eventually, now_ms, signed_body,
    world_for_daemon,
};

struct Plan {
    /// Requests per second, all kinds together.
    rate: u32,
    seconds: u32,
    /// One request in `valid_every` is a valid delivery (Lever and Willo alternating).
    valid_every: u32,
}

/// What a flood found.
#[derive(Debug, Default)]
struct Figures {
    sent: usize,
    achieved_rate: f64,
    answered: usize,
    unexpected: Vec<String>,
    healthz: Vec<Duration>,
    healthz_failed: usize,
    rss_before_kb: u64,
    rss_during_max_kb: u64,
    rss_after_kb: u64,
    /// Webhook sent → status tag written in Lever, per valid delivery.
    hint_latency: Vec<Duration>,
    valid_lever: usize,
    valid_willo: usize,
    log_lines: usize,
    log_bytes: usize,
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// One request of the flood.
enum Kind {
    ForgedLever,
    ForgedWillo,
    /// A new candidate's stage change, correctly signed.
    ValidLever(String),
    /// A known participant moved to "completed", with the right token.
    ValidWillo(String, String),
}

async fn run(plan: Plan) -> Figures {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    // No scheduled pass during the flood: only the hints can act.
    let valid_total = (plan.rate * plan.seconds / plan.valid_every) as usize;
    let lever_valid = valid_total.div_ceil(2);
    let willo_valid = valid_total / 2;
    // Known participants for the Willo hints (invited by the start-up pass), new candidates
    // for the Lever hints (created after it, so only their webhook brings them in).
    let known = Cast::seed(&w, "Known", willo_valid.max(1), 0);
    let d = Daemon::start(&w, &[]).await;
    d.wait_ready().await;
    let started = eventually(Duration::from_secs(60), || {
        w.willo.participants(&known.interview).len() == known.people.len()
    })
    .await;
    assert!(started, "the start-up pass did not invite the known cast");
    assert!(
        eventually(Duration::from_secs(30), || {
            known.people.iter().all(|p| {
                w.lever
                    .tags_of(&p.opportunity)
                    .contains(&INVITED.to_owned())
            })
        })
        .await
    );
    let fresh: Vec<String> = (0..lever_valid)
        .map(|i| {
            w.candidate(
                &format!("Flood {i}"),
                &format!("flood{i}@example.com"),
                &known.posting,
            )
        })
        .collect();
    let participants = w.willo.participants(&known.interview);
    let pid = d.child.id().unwrap();
    let mut f = Figures {
        rss_before_kb: rss_kb(pid),
        ..Figures::default()
    };
    let log_before = d.log();

    // The health checker: a fresh connection each time, every 20 ms, until the flood ends.
    let stop = tokio_util::sync::CancellationToken::new();
    let health = {
        let url = d.url("/healthz");
        let stop = stop.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let (mut times, mut failed) = (Vec::new(), 0);
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            while !stop.is_cancelled() {
                tick.tick().await;
                let t = Instant::now();
                match client.get(&url).send().await {
                    Ok(r) if r.status() == 200 => times.push(t.elapsed()),
                    _ => failed += 1,
                }
            }
            (times, failed)
        })
    };
    let rss = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut max = 0;
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            while !stop.is_cancelled() {
                tick.tick().await;
                max = max.max(rss_kb(pid));
            }
            max
        })
    };

    // The flood: open loop at `rate`, at most 256 requests in flight.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let in_flight = Arc::new(Semaphore::new(256));
    let answered = Arc::new(AtomicUsize::new(0));
    let unexpected = Arc::new(std::sync::Mutex::new(Vec::new()));
    let total = (plan.rate * plan.seconds) as usize;
    let mut sent_valid: Vec<(String, Instant, &'static str)> = Vec::new();
    let (mut next_lever, mut next_willo) = (0, 0);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(plan.rate)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let flood_start = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        tick.tick().await;
        let kind = if i as u32 % plan.valid_every == plan.valid_every / 2 {
            if (i as u32 / plan.valid_every).is_multiple_of(2) && next_lever < fresh.len() {
                next_lever += 1;
                Kind::ValidLever(fresh[next_lever - 1].clone())
            } else if next_willo < willo_valid {
                next_willo += 1;
                let p = &participants[next_willo - 1];
                w.willo.set_participant_state(&p.key, "completed").unwrap();
                let opp = known
                    .people
                    .iter()
                    .find(|c| c.email == p.email)
                    .unwrap()
                    .opportunity
                    .clone();
                Kind::ValidWillo(p.key.clone(), opp)
            } else {
                Kind::ForgedLever
            }
        } else if i % 2 == 0 {
            Kind::ForgedLever
        } else {
            Kind::ForgedWillo
        };
        let (url, body, expect) = match &kind {
            Kind::ForgedLever => (
                d.url("/webhooks/lever/acme"),
                signed_body(
                    "forged-opp",
                    &format!("forged-{i}"),
                    now_ms(),
                    "not-the-key",
                ),
                401,
            ),
            Kind::ForgedWillo => (
                d.url("/webhooks/willo/acme?token=wrong-token&event=new_response"),
                br#"{"participant":"0123456789abcdef0123456789abcdef"}"#.to_vec(),
                401,
            ),
            Kind::ValidLever(opp) => (
                d.url("/webhooks/lever/acme"),
                signed_body(opp, &format!("valid-{i}"), now_ms(), SIGNATURE_TOKEN),
                202,
            ),
            Kind::ValidWillo(key, _) => (
                d.url(&format!(
                    "/webhooks/willo/acme?token={WILLO_TOKEN}&event=new_response"
                )),
                format!(
                    r#"{{"participant":"{key}","interview":"{}"}}"#,
                    known.interview
                )
                .into_bytes(),
                202,
            ),
        };
        match kind {
            Kind::ValidLever(opp) => sent_valid.push((opp, Instant::now(), INVITED)),
            Kind::ValidWillo(_, opp) => sent_valid.push((opp, Instant::now(), TO_REVIEW)),
            _ => {}
        }
        let permit = in_flight.clone().acquire_owned().await.unwrap();
        let (client, answered, unexpected) = (client.clone(), answered.clone(), unexpected.clone());
        tasks.push(tokio::spawn(async move {
            let got = client
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .map(|r| r.status().as_u16());
            drop(permit);
            match got {
                Ok(code) if code == expect => {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
                other => unexpected
                    .lock()
                    .unwrap()
                    .push(format!("expected {expect}, got {other:?}")),
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let flood_time = flood_start.elapsed();
    f.sent = total;
    f.achieved_rate = total as f64 / flood_time.as_secs_f64();
    f.answered = answered.load(Ordering::Relaxed);
    f.unexpected = unexpected.lock().unwrap().clone();
    stop.cancel();
    let (mut times, failed) = health.await.unwrap();
    times.sort();
    f.healthz = times;
    f.healthz_failed = failed;
    f.rss_during_max_kb = rss.await.unwrap();
    let log_after = d.log();
    let flood_log = &log_after[log_before.len()..];
    f.log_lines = flood_log.lines().count();
    f.log_bytes = flood_log.len();
    if std::env::var("FLOOD_LOG").is_ok() {
        eprintln!("{flood_log}");
    }

    // Every valid hint is acted on: its status tag appears in Lever (no scheduled pass runs).
    let acted = eventually(Duration::from_secs(120), || {
        sent_valid
            .iter()
            .all(|(opp, _, tag)| w.lever.tags_of(opp).contains(&(*tag).to_owned()))
    })
    .await;
    let missing: Vec<_> = sent_valid
        .iter()
        .filter(|(opp, _, tag)| !w.lever.tags_of(opp).contains(&(*tag).to_owned()))
        .map(|(opp, _, tag)| format!("{opp} {tag}"))
        .collect();
    assert!(acted, "valid hints not acted on: {missing:?}");
    f.valid_lever = next_lever;
    f.valid_willo = next_willo;
    let writes = w.lever.accounting().requests();
    for (opp, sent, _) in &sent_valid {
        let written = writes
            .iter()
            .filter(|r| r.method == "POST" && r.route == ADD_TAGS && r.path.contains(opp.as_str()))
            .map(|r| r.at)
            .filter(|at| at >= sent)
            .min()
            .unwrap();
        f.hint_latency.push(written - *sent);
    }
    f.hint_latency.sort();
    f.rss_after_kb = rss_kb(pid);
    // Nobody invited twice by the hints.
    let invited: Vec<String> = w
        .willo
        .participants(&known.interview)
        .into_iter()
        .map(|p| p.email)
        .collect();
    let mut unique = invited.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), invited.len(), "a hint invited someone twice");
    let log = d.log();
    secrets_scan::assert_clean(&[&log], &secrets_scan::world_secrets(&w));
    d.signal(SIGTERM);
    assert_eq!(d.exit_code().await, 0);
    f
}

fn report(f: &Figures) -> String {
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    format!(
        "flood | {} requests at {:.0}/s ({} valid Lever, {} valid Willo) | answered as expected {} | \
         /healthz {} answered, {} failed, p50 {} p99 {} max {} | RSS before {} KiB, during max {} KiB, after {} KiB | \
         hint → tag p50 {} p99 {} max {} | log during the flood: {} lines, {} bytes",
        f.sent,
        f.achieved_rate,
        f.valid_lever,
        f.valid_willo,
        f.answered,
        f.healthz.len(),
        f.healthz_failed,
        ms(percentile(&f.healthz, 0.5)),
        ms(percentile(&f.healthz, 0.99)),
        ms(f.healthz.last().copied().unwrap_or_default()),
        f.rss_before_kb,
        f.rss_during_max_kb,
        f.rss_after_kb,
        ms(percentile(&f.hint_latency, 0.5)),
        ms(percentile(&f.hint_latency, 0.99)),
        ms(f.hint_latency.last().copied().unwrap_or_default()),
        f.log_lines,
        f.log_bytes,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gentle_flood_is_answered_and_every_valid_hint_acted_on() {
    let f = run(Plan {
        rate: 400,
        seconds: 3,
        valid_every: 60,
    })
    .await;
    eprintln!("{}", report(&f));
    assert!(
        f.unexpected.is_empty(),
        "{:?}",
        &f.unexpected[..f.unexpected.len().min(5)]
    );
    assert_eq!(f.answered, f.sent);
    assert_eq!(f.healthz_failed, 0);
    assert!(!f.healthz.is_empty());
    assert_eq!(f.hint_latency.len(), f.valid_lever + f.valid_willo);
    assert!(f.valid_lever >= 5 && f.valid_willo >= 5, "{}", report(&f));
    // The log is bounded by the valid work, not by the forgeries: rejections are logged at
    // most once a minute per source; each valid hint may log a few lines of its own.
    let bound = 10 + 4 * (f.valid_lever + f.valid_willo);
    assert!(
        f.log_lines <= bound,
        "{} log lines (bound {bound})",
        f.log_lines
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long version: cargo test --release --test it -- --ignored flood::long_ --nocapture"]
async fn long_flood_5000_per_second_for_20_seconds() {
    let f = run(Plan {
        rate: 5000,
        seconds: 20,
        valid_every: 250,
    })
    .await;
    println!("{}", report(&f));
    assert!(
        f.unexpected.is_empty(),
        "{:?}",
        &f.unexpected[..f.unexpected.len().min(5)]
    );
    assert_eq!(f.healthz_failed, 0);
}
