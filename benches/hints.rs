//! Issue 12's target 1, "hints never wait": signed Lever webhook → Willo POST latency with N
//! invites in the store (default 100,000), the daemon binary as a child process, the client
//! pacing lifted.
//!
//! Scenarios, each repeated `WLS_BENCH_ROUNDS` times (default 3) so the spread shows:
//! - one at a time (idle daemon): move a candidate to the trigger stage in the simulator (no
//!   webhook is sent by it), post the signed webhook, time until the Willo simulator stored
//!   the invite (its own monotonic time of the POST), then until the status tag is on the
//!   opportunity (polled every millisecond one at a time, every 5 ms in a burst);
//! - bursts of 50 webhooks posted at once;
//! - both again while full passes of the same tenant run back to back (`full_schedule` every
//!   second): before each hint or burst the bench waits until the `passes` table of the state
//!   file shows a full pass running, and counts the hints that were done before that same pass
//!   finished;
//! - both again during full passes with the client paced at 50 times the default rates: the
//!   pass's calls queue on the tenant's limiters and the hints' calls must go ahead of them.
//!
//! Willo GETs per hint are counted from the Willo simulator's accounting between the webhook
//! and the status tag (idle scenarios only; during a full pass its own GETs mix in).
//!
//! Run: `cargo bench --bench hints` (`WLS_BENCH_N`, `WLS_BENCH_ROUNDS`, `WLS_BENCH_BIN`,
//! `WLS_BENCH_SEED_BIN`: see `support::child::seed_binary`; `WLS_BENCH_SCENARIOS=1,3` runs only
//! the first and third scenarios).

mod support;

/// The simulators in this process allocate on mimalloc, not glibc: rendering participant
/// pages on glibc's malloc (its consolidation of freed chunks) took more CPU than the daemon's
/// own hints, on the same two cores. The daemon, a child process, keeps the system allocator.
#[global_allocator]
static SIMULATORS_ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use support::child::{self, Child};
use support::world::{NEVER, Pacing, Spec, World, email};
use support::{
    env_usize, lever_webhook, passes_finished, poll, poll_every, runtime, spread, wait_passes,
};

const SINGLES: usize = 50;
const BURST: usize = 50;
const BURSTS: usize = 2;
/// How often a burst checks for its tags (they are timed to within this).
const BURST_POLL: Duration = Duration::from_millis(5);

fn main() {
    let n = env_usize("WLS_BENCH_N", 100_000);
    let rounds = env_usize("WLS_BENCH_ROUNDS", 3);
    println!("binary: {}", child::binary().display());
    runtime().block_on(run(n, rounds));
}

struct Bench {
    w: World,
    http: reqwest::Client,
    /// Candidates waiting at the screen stage, used one per hint.
    pool: std::sync::Mutex<Vec<String>>,
    /// Email of each pooled candidate.
    emails: HashMap<String, String>,
    /// Hints must be sent while a full pass runs.
    during: std::sync::atomic::AtomicBool,
    /// Hints done while the full pass they were sent in still ran.
    inside: std::sync::atomic::AtomicUsize,
}

async fn run(n: usize, rounds: usize) {
    let t = Instant::now();
    let w = World::start(&Spec::new(20, n)).await;
    let scenarios = [
        ("idle daemon", NEVER, Pacing::Lifted),
        ("during full passes", "* * * * * *", Pacing::Lifted),
        // The same at 50 times the default rates: the pass queues on the tenant's limiters and
        // the hints' calls must go ahead of its queue.
        (
            "during full passes, paced x50",
            "* * * * * *",
            Pacing::Scaled(50),
        ),
    ];
    // Every scenario takes its own candidates.
    let per_round = scenarios.len() * (SINGLES + BURST * BURSTS);
    let spare = w.add_candidates(per_round * rounds, false);
    let emails = spare
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), email(n + i)))
        .collect();
    let idle_config = w.write_config(&w.config(NEVER, NEVER, Pacing::Lifted));
    child::seed(&idle_config, &w.dir.path().join("once.log")).await;
    println!(
        "n={n}: world and store seeded in {:.0} s ({} invites)",
        t.elapsed().as_secs_f64(),
        w.willo.invites_sent_count()
    );
    w.willo.accounting().clear();
    w.lever.accounting().clear();
    let b = Arc::new(Bench {
        w,
        http: reqwest::Client::new(),
        pool: std::sync::Mutex::new(spare.into_iter().rev().collect()),
        emails,
        during: false.into(),
        inside: 0.into(),
    });

    let only = std::env::var("WLS_BENCH_SCENARIOS").unwrap_or_default();
    for (label, full_schedule, pacing) in scenarios
        .into_iter()
        .enumerate()
        .filter(|(i, _)| {
            only.is_empty() || only.split(',').any(|s| s.trim() == (i + 1).to_string())
        })
        .map(|(_, s)| s)
    {
        let text = b.w.config(NEVER, full_schedule, pacing);
        let config = b.w.write_config(&text);
        let d = Child::spawn(&[], &config, &b.w.dir.path().join("daemon.log"));
        let addr = d.address().await;
        assert!(
            wait_passes(
                &b.http,
                &addr,
                "bench",
                "full",
                1,
                Duration::from_secs(3600)
            )
            .await,
            "no start-up pass:\n{}",
            d.log()
        );
        let fulls_before =
            passes_finished(&support::metrics(&b.http, &addr).await, "bench", "full");
        let during = full_schedule != NEVER;
        b.during.store(during, Relaxed);
        b.inside.store(0, Relaxed);
        let (mut all_single, mut all_burst) = (Vec::new(), Vec::new());
        let (daemon_cpu, bench_cpu) = (d.cpu(), child::cpu_of("self"));
        for round in 1..=rounds {
            let (mut lat, mut tag, gets) = (Vec::new(), Vec::new(), b.singles(&addr).await);
            for (l, t) in &gets.1 {
                lat.push(*l);
                tag.push(*t);
            }
            all_single.extend(lat.iter().copied());
            println!(
                "n={n} {label}, round {round}, one at a time: to the Willo POST {}; to the status tag {}; Willo GETs per hint {:.2}",
                spread(&mut lat),
                spread(&mut tag),
                gets.0
            );
            let (mut lat, mut tag) = (Vec::new(), Vec::new());
            let mut gets = 0.0;
            for _ in 0..BURSTS {
                let r = b.burst(&addr).await;
                gets += r.0 / BURSTS as f64;
                for (l, t) in r.1 {
                    lat.push(l);
                    tag.push(t);
                }
            }
            all_burst.extend(lat.iter().copied());
            println!(
                "n={n} {label}, round {round}, bursts of {BURST}: to the Willo POST {}; to the status tag {}; Willo GETs per hint {:.2}",
                spread(&mut lat),
                spread(&mut tag),
                gets
            );
        }
        let (daemon_cpu, bench_cpu) = (d.cpu() - daemon_cpu, child::cpu_of("self") - bench_cpu);
        let fulls = passes_finished(&support::metrics(&b.http, &addr).await, "bench", "full")
            - fulls_before;
        let hints = all_single.len() + all_burst.len();
        if !during {
            // Where a burst's time goes on 2 cores: the daemon's CPU, and this process's (the
            // simulators, the webhook posts and the polling for their effect).
            let per = |c: Duration| c.as_secs_f64() * 1000.0 / hints.max(1) as f64;
            println!(
                "n={n} {label}: CPU per hint: daemon {:.2} ms, bench process (simulators, posting, polling) {:.2} ms",
                per(daemon_cpu),
                per(bench_cpu)
            );
        }
        println!(
            "n={n} {label}, all rounds: one at a time {}; bursts {}; full passes finished meanwhile: {fulls}{}",
            spread(&mut all_single),
            spread(&mut all_burst),
            if during {
                format!(
                    "; {} of {hints} hints done before the full pass they were sent in finished",
                    b.inside.load(Relaxed)
                )
            } else {
                String::new()
            }
        );
        let e = d.stop().await;
        println!(
            "n={n} {label}: daemon exit {}, peak RSS {:.1} MB\n",
            e.code,
            support::mb(e.max_rss_kb)
        );
    }
}

impl Bench {
    fn take(&self, k: usize) -> Vec<String> {
        let mut p = self.pool.lock().expect("pool");
        let at = p.len() - k;
        p.split_off(at)
    }

    /// Moves `opp` to the trigger stage (the simulator sends no webhook: none is registered)
    /// and posts the signed webhook; returns when it was posted.
    async fn hint(&self, addr: &str, opp: &str) -> Instant {
        self.w.lever.move_stage(opp, &self.w.trigger).expect("move");
        let body = lever_webhook(opp, &self.w.screen, &self.w.trigger, &format!("tok-{opp}"));
        let sent = Instant::now();
        let r = self
            .http
            .post(format!("http://{addr}/webhooks/lever/bench"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("post the webhook");
        assert_eq!(r.status().as_u16(), 202, "webhook refused");
        sent
    }

    /// In the `during` scenario: waits until a full pass runs and returns its id.
    async fn full_pass(&self) -> Option<i64> {
        if !self.during.load(Relaxed) {
            return None;
        }
        let state = self.w.state_dir();
        let id = poll(Duration::from_secs(600), || {
            support::wal::running_full_pass(&state)
        })
        .await;
        assert!(id.is_some(), "no full pass started within 600 s");
        id
    }

    /// Counts `k` hints as done inside the pass `id` if it still runs.
    fn still_running(&self, id: Option<i64>, k: usize) {
        if id.is_some() && support::wal::running_full_pass(&self.w.state_dir()) == id {
            self.inside.fetch_add(k, Relaxed);
        }
    }

    fn tagged(&self, opp: &str) -> bool {
        self.w
            .lever
            .tags_of(opp)
            .iter()
            .any(|t| t == "Willo:Invited")
    }

    /// One hint at a time: (Willo GETs per hint, [(ms to the POST, ms to the tag)]).
    async fn singles(&self, addr: &str) -> (f64, Vec<(f64, f64)>) {
        let mut out = Vec::new();
        let mut gets = 0usize;
        for opp in self.take(SINGLES) {
            let pass = self.full_pass().await;
            let seen = self.w.willo.invites_sent_count();
            let mark = self.w.willo.accounting().mark();
            let email = &self.emails[&opp];
            let sent = self.hint(addr, &opp).await;
            let posted = poll(Duration::from_secs(120), || {
                self.w
                    .willo
                    .invites_sent_since(seen)
                    .into_iter()
                    .find(|i| &i.email == email)
                    .map(|i| i.stored)
            })
            .await
            .expect("no invite within 120 s");
            let tagged = poll(Duration::from_secs(120), || {
                self.tagged(&opp).then(Instant::now)
            })
            .await
            .expect("no tag within 120 s");
            gets += self
                .w
                .willo
                .accounting()
                .requests_since(mark)
                .iter()
                .filter(|r| r.method == "GET")
                .count();
            out.push((ms(posted - sent), ms(tagged - sent)));
            self.still_running(pass, 1);
        }
        (gets as f64 / SINGLES as f64, out)
    }

    /// A burst: every webhook posted at once.
    async fn burst(self: &Arc<Self>, addr: &str) -> (f64, Vec<(f64, f64)>) {
        let opps = self.take(BURST);
        let pass = self.full_pass().await;
        let seen = self.w.willo.invites_sent_count();
        let mark = self.w.willo.accounting().mark();
        let mut tasks = Vec::new();
        for opp in &opps {
            let (b, addr, opp) = (Arc::clone(self), addr.to_owned(), opp.clone());
            tasks.push(tokio::spawn(async move { b.hint(&addr, &opp).await }));
        }
        let mut sent = Vec::new();
        for t in tasks {
            sent.push(t.await.expect("hint task"));
        }
        let mut posted: HashMap<String, Instant> = HashMap::new();
        let mut tagged: HashMap<String, Instant> = HashMap::new();
        // Every 5 ms, not 1: the POST times come from the simulator, and a tighter loop over
        // 50 opportunities takes CPU from the daemon on this 2-core machine.
        let done = poll_every(Duration::from_secs(300), BURST_POLL, || {
            let now = Instant::now();
            for i in self.w.willo.invites_sent_since(seen) {
                posted.entry(i.email).or_insert(i.stored);
            }
            for o in &opps {
                if !tagged.contains_key(o) && self.tagged(o) {
                    tagged.insert(o.clone(), now);
                }
            }
            (tagged.len() == opps.len()
                && opps.iter().all(|o| posted.contains_key(&self.emails[o])))
            .then_some(())
        })
        .await;
        assert!(done.is_some(), "a burst was not done within 300 s");
        self.still_running(pass, BURST);
        let gets = self
            .w
            .willo
            .accounting()
            .requests_since(mark)
            .iter()
            .filter(|r| r.method == "GET")
            .count();
        let out = opps
            .iter()
            .zip(sent)
            .map(|(o, s)| (ms(posted[&self.emails[o]] - s), ms(tagged[o] - s)))
            .collect();
        (gets as f64 / BURST as f64, out)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
