//! End-to-end pass cost against the simulators (client pacing lifted, so the figures are the
//! daemon's own overhead: HTTP on loopback, JSON, planning, SQLite). Prints one line per
//! measurement; figures are recorded in docs/performance.md. Run: `cargo bench --bench pass`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use willo_lever_sync::config::load_from_str;
use willo_lever_sync::domain::PassKind;
use willo_lever_sync::metrics::Metrics;
use willo_lever_sync::reconcile::{PassOptions, Tenant};
use willo_lever_sync::sim::lever::{LeverSim, LeverSimConfig, OppSeed, PostingSeed};
use willo_lever_sync::sim::willo::{WilloSim, WilloSimConfig};
use willo_lever_sync::store::{OpenMode, Store};

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for n in [500, 2_000] {
        rt.block_on(run(n));
    }
}

async fn run(n: usize) {
    let lever = LeverSim::start(LeverSimConfig::for_tests())
        .await
        .expect("lever");
    let willo = WilloSim::start(WilloSimConfig::for_tests())
        .await
        .expect("willo");
    lever.add_api_key("k");
    willo.add_api_key("k");
    lever.add_stage("Screen");
    let trigger = lever.add_stage("Video Interview");
    let mut postings = Vec::new();
    for i in 0..5 {
        willo.add_interview(&format!("Role {i}"));
        postings.push(
            lever
                .add_posting(
                    PostingSeed::new(&format!("Job {i}")).tag(&format!("Willo:Role {i}-Acme")),
                )
                .expect("posting"),
        );
    }
    lever
        .add_opportunities((0..n).map(|k| {
            OppSeed::new(&format!("C {k}"), &format!("c{k}@example.com"))
                .posting(&postings[k % postings.len()])
                .stage(&trigger)
        }))
        .expect("seed");
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        r#"
[daemon]
state_dir = "{}"
[[tenants]]
id = "bench"
account_name = "Acme"
trigger_stages = ["Video Interview"]
[tenants.lever]
base_url = "{}"
api_key = "k"
requests_per_second = 100000
burst = 1000
[tenants.willo]
base_url = "{}"
api_key = "k"
requests_per_second = 100000
burst = 1000
"#,
        dir.path().join("state").display(),
        lever.base_url(),
        willo.base_url()
    );
    let settings =
        load_from_str(&text, &dir.path().join("c.toml"), &HashMap::new()).expect("config");
    let store = Arc::new(Store::open(&settings.daemon.state_dir, OpenMode::Writer).expect("store"));
    let tenant = Tenant::new(
        &settings.tenants[0],
        PassOptions {
            concurrency: 4,
            overlap: Duration::from_secs(300),
            chunk: willo_lever_sync::reconcile::PassOptions::CHUNK,
            interval: std::time::Duration::from_secs(300),
        },
        store,
        Metrics::new(),
    )
    .expect("tenant");
    let cancel = CancellationToken::new();
    for (label, kind) in [
        ("first full pass (invites everyone)", PassKind::Full),
        ("second full pass (converged)", PassKind::Full),
        ("incremental pass (converged)", PassKind::Incremental),
    ] {
        let t = Instant::now();
        let out = tenant.pass(kind, &cancel).await;
        let took = t.elapsed();
        assert!(out.error.is_none(), "{:?}", out.error);
        println!(
            "n={n:>5}  {label:<36} {:>8.1} ms  ({} invites, {} Lever + {} Willo calls)",
            took.as_secs_f64() * 1000.0,
            out.summary.applied.invites_sent,
            out.summary.api.lever_calls,
            out.summary.api.willo_calls
        );
    }
}
