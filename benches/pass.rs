//! Whole passes in-process, against the simulators with the client pacing lifted: what each
//! kind of pass costs in API calls and SQLite writes at 2,000 / 20,000 / 100,000 invites
//! (issue 12's targets 3 "Willo within a budget", 4 "steady state" and 7 "a converged full
//! pass reads each invited opportunity once"). Prints one block per size; figures are
//! recorded in docs/performance.md.
//!
//! Run: `cargo bench --bench pass` (sizes: `WLS_BENCH_SIZES=2000,20000`; with
//! `WLS_BENCH_SEED_BIN` that binary's `--once` seeds the store instead of a measured first pass).
//!
//! The world: 20 interviews, each with a tagged posting; every candidate at the trigger stage.
//! The first full pass invites everyone; then a converged full pass; an incremental pass right
//! after (Lever's `updatedAt` window still holds the first pass's own tag writes); an hour
//! later (both simulators' clocks advanced) one candidate touched, which moves the cursor; then
//! the steady state: incremental passes with nothing changed; then one incremental pass after
//! 1% of the participants moved on in Willo with every webhook lost. SQLite writes are counted
//! from the write-ahead log (`support::wal`).

mod support;

use std::collections::BTreeMap;
use std::time::Instant;

use tokio_util::sync::CancellationToken;
use willo_lever_sync::domain::PassKind;
use willo_lever_sync::reconcile::{PassOutcome, Tenant};
use willo_lever_sync::sim::RequestRecord;

use support::world::{NEVER, Pacing, Spec, World};
use support::{runtime, wal};

fn main() {
    let sizes: Vec<usize> = std::env::var("WLS_BENCH_SIZES")
        .unwrap_or_else(|_| "2000,20000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().replace('_', "").parse().ok())
        .collect();
    let rt = runtime();
    for n in sizes {
        rt.block_on(run(n));
    }
}

async fn run(n: usize) {
    let t = Instant::now();
    let w = World::start(&Spec::new(20, n)).await;
    let text = w.config(NEVER, NEVER, Pacing::Lifted);
    println!("n={n}: world seeded in {:.1} s", t.elapsed().as_secs_f64());

    if std::env::var_os("WLS_BENCH_SEED_BIN").is_some() {
        // Another build's first pass seeds the store (this build's is too slow to wait for).
        support::child::seed(&w.write_config(&text), &w.dir.path().join("seed.log")).await;
        println!(
            "n={n}: seeded by {}",
            support::child::seed_binary().display()
        );
    } else {
        let tenant = w.tenant(&text);
        let first = measure(&w, &tenant, PassKind::Full, false).await;
        first.print(n, "first full pass (invites everyone)");
    }
    let tenant = w.tenant(&text);
    let full = measure(&w, &tenant, PassKind::Full, true).await;
    full.print(n, "converged full pass");
    let inc = measure(&w, &tenant, PassKind::Incremental, true).await;
    inc.print(
        n,
        "incremental pass right after (its window still holds the first pass's tag writes)",
    );
    // An hour later one candidate changes, which moves the cursor past the first pass's writes.
    w.lever.advance_clock(3_600_000);
    w.willo.advance_clock(3_600_000);
    w.lever.touch(&w.opportunities[0]).expect("touch");
    let inc = measure(&w, &tenant, PassKind::Incremental, true).await;
    inc.print(n, "incremental pass an hour later, one candidate touched");
    for i in 1..=3 {
        let inc = measure(&w, &tenant, PassKind::Incremental, true).await;
        inc.print(
            n,
            &format!("steady state: incremental pass #{i}, nothing changed"),
        );
    }
    // 1% of the participants move on in Willo; no webhook tells the daemon.
    let keys: Vec<String> = w
        .interviews
        .iter()
        .flat_map(|i| w.willo.participants(i))
        .map(|p| p.key)
        .step_by(100)
        .collect();
    for k in &keys {
        w.willo
            .set_participant_state(k, "Completed")
            .expect("state change");
    }
    let moved = measure(&w, &tenant, PassKind::Incremental, true).await;
    moved.print(
        n,
        &format!(
            "incremental pass after {} participants moved (webhooks lost)",
            keys.len()
        ),
    );
    let moved2 = measure(&w, &tenant, PassKind::Incremental, true).await;
    moved2.print(n, "the incremental pass after that");
    println!();
}

struct Measured {
    outcome: PassOutcome,
    millis: f64,
    lever: Vec<RequestRecord>,
    willo: Vec<RequestRecord>,
    /// `None` when not counted (a first pass writes too much to hold the log).
    sqlite: Option<wal::Writes>,
}

async fn measure(w: &World, tenant: &Tenant, kind: PassKind, count_sqlite: bool) -> Measured {
    let watch = count_sqlite.then(|| wal::Watch::start(&w.state_dir()));
    let (lm, wm) = (w.lever.accounting().mark(), w.willo.accounting().mark());
    let t = Instant::now();
    let outcome = tenant.pass(kind, &CancellationToken::new()).await;
    let millis = t.elapsed().as_secs_f64() * 1000.0;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    Measured {
        outcome,
        millis,
        lever: w.lever.accounting().requests_since(lm),
        willo: w.willo.accounting().requests_since(wm),
        sqlite: watch.map(wal::Watch::finish),
    }
}

/// Requests by "METHOD route", e.g. `GET /v1/opportunities` → 1,001.
fn by_route(records: &[RequestRecord]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in records {
        *m.entry(format!("{} {}", r.method, r.route)).or_insert(0) += 1;
    }
    m
}

impl Measured {
    fn print(&self, n: usize, label: &str) {
        let s = &self.outcome.summary;
        let writes = |rs: &[RequestRecord]| rs.iter().filter(|r| r.is_write()).count();
        println!(
            "n={n:>6}  {label}: {:.0} ms; invites {}, tags +{} -{}; Lever {} requests ({} writes), Willo {} requests ({} writes); SQLite {}",
            self.millis,
            s.applied.invites_sent,
            s.applied.tags_added,
            s.applied.tags_removed,
            self.lever.len(),
            writes(&self.lever),
            self.willo.len(),
            writes(&self.willo),
            self.sqlite.map_or("not counted".to_owned(), |w| format!(
                "{} transactions, {} pages",
                w.transactions, w.pages
            )),
        );
        for (api, rs) in [("Lever", &self.lever), ("Willo", &self.willo)] {
            let routes = by_route(rs)
                .into_iter()
                .map(|(r, c)| format!("{r} ×{c}"))
                .collect::<Vec<_>>()
                .join(", ");
            println!("          {api}: {routes}");
        }
    }
}
