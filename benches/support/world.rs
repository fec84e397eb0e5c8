//! One tenant's world: a Lever and a Willo simulator seeded in bulk (trigger-stage candidates
//! on postings tagged for interviews), and the configuration that points a tenant at them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use willo_lever_sync::config::{Settings, load_from_str};
use willo_lever_sync::metrics::Metrics;
use willo_lever_sync::reconcile::{PassOptions, Tenant};
use willo_lever_sync::sim::RateLimit;
use willo_lever_sync::sim::lever::{LeverSim, LeverSimConfig, OppSeed, PostingSeed};
use willo_lever_sync::sim::willo::{ParticipantSeed, WilloSim, WilloSimConfig};
use willo_lever_sync::store::OpenMode;

pub const LEVER_KEY: &str = "bench-lever-key";
pub const WILLO_KEY: &str = "bench-willo-key";
pub const SIGNATURE_TOKEN: &str = "bench-lever-signature-token-0123";
pub const WILLO_TOKEN: &str = "bench-willo-url-token";
pub const ACCOUNT: &str = "Acme";
pub const TRIGGER: &str = "Video Interview";

/// How the client paces its calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// Lifted (100,000/s): the figures are the daemon's own cost.
    Lifted,
    /// The configuration's defaults (Lever 8/s burst 16, Willo 2/s burst 4).
    Defaults,
    /// The defaults' rates times this factor, bursts unchanged: real time runs this much
    /// faster than the simulated time it stands for.
    Scaled(u32),
}

/// What to seed.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Willo interviews, each with one Lever posting tagged for it.
    pub interviews: usize,
    /// Candidates at the trigger stage, spread over the postings.
    pub trigger_stage: usize,
    /// Candidates at another stage (never invited).
    pub other_stage: usize,
    /// The simulators limit like the real APIs (10/s, burst 20 each) instead of not at all.
    pub rate_limited: bool,
}

impl Spec {
    pub fn new(interviews: usize, trigger_stage: usize) -> Spec {
        Spec {
            interviews,
            trigger_stage,
            other_stage: 0,
            rate_limited: false,
        }
    }
}

pub struct World {
    pub lever: LeverSim,
    pub willo: WilloSim,
    pub trigger: String,
    pub screen: String,
    /// Willo interview keys, in the order of `postings`.
    pub interviews: Vec<String>,
    pub postings: Vec<String>,
    /// Every candidate seeded, in order (trigger stage first).
    pub opportunities: Vec<String>,
    pub dir: tempfile::TempDir,
    next_email: AtomicUsize,
}

impl World {
    pub async fn start(spec: &Spec) -> World {
        let (mut lc, mut wc) = (LeverSimConfig::for_tests(), WilloSimConfig::for_tests());
        if spec.rate_limited {
            lc.rate_limit = Some(RateLimit::per_second(10, 20));
            wc.rate_limit = Some(RateLimit::per_second(10, 20));
        }
        let lever = LeverSim::start(lc).await.expect("lever sim");
        let willo = WilloSim::start(wc).await.expect("willo sim");
        lever.add_api_key(LEVER_KEY);
        willo.add_api_key(WILLO_KEY);
        let screen = lever.add_stage("Phone Screen");
        let trigger = lever.add_stage(TRIGGER);
        let mut interviews = Vec::new();
        let mut postings = Vec::new();
        for i in 0..spec.interviews {
            let title = format!("Role {i}");
            interviews.push(willo.add_interview(&title));
            let tag = format!("Willo:{title}-{ACCOUNT}");
            postings.push(
                lever
                    .add_posting(PostingSeed::new(&format!("Job {i}")).tag(&tag))
                    .expect("posting"),
            );
        }
        let w = World {
            lever,
            willo,
            trigger,
            screen,
            interviews,
            postings,
            opportunities: Vec::new(),
            dir: tempfile::tempdir().expect("tempdir"),
            next_email: AtomicUsize::new(0),
        };
        let mut opportunities = w.add_candidates(spec.trigger_stage, true);
        opportunities.extend(w.add_candidates(spec.other_stage, false));
        World { opportunities, ..w }
    }

    /// Seeds `n` more candidates (unique emails) over the postings, at the trigger stage or
    /// the screen stage.
    pub fn add_candidates(&self, n: usize, at_trigger: bool) -> Vec<String> {
        let first = self.next_email.fetch_add(n, Ordering::SeqCst);
        let stage = if at_trigger {
            &self.trigger
        } else {
            &self.screen
        };
        let postings = &self.postings;
        self.lever
            .add_opportunities((first..first + n).map(|k| {
                OppSeed::new(&format!("Candidate {k}"), &email(k))
                    .posting(&postings[k % postings.len()])
                    .stage(stage)
            }))
            .expect("seed opportunities")
    }

    /// Seeds Willo participants for the first `n` candidates, as if invited by hand earlier
    /// (a first pass adopts them instead of inviting).
    pub fn add_participants_for(&self, n: usize) {
        let interviews = &self.interviews;
        self.willo
            .add_participants((0..n).map(|k| {
                ParticipantSeed::new(
                    &interviews[k % interviews.len()],
                    &format!("Candidate {k}"),
                    &email(k),
                )
            }))
            .expect("seed participants");
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// One `[[tenants]]` table pointing at this world.
    pub fn tenant_toml(&self, id: &str, pacing: Pacing) -> String {
        let (lever_pace, willo_pace) = match pacing {
            Pacing::Lifted => (
                "requests_per_second = 100000\nburst = 1000".to_owned(),
                "requests_per_second = 100000\nburst = 1000".to_owned(),
            ),
            Pacing::Defaults => (String::new(), String::new()),
            Pacing::Scaled(k) => (
                format!("requests_per_second = {}\nburst = 16", 8 * k),
                format!("requests_per_second = {}\nburst = 4", 2 * k),
            ),
        };
        format!(
            r#"
[[tenants]]
id = "{id}"
account_name = "{ACCOUNT}"
trigger_stages = ["{TRIGGER}"]

[tenants.lever]
base_url = "{lever}"
api_key = "{LEVER_KEY}"
webhook_signature_token = "{SIGNATURE_TOKEN}"
{lever_pace}

[tenants.willo]
base_url = "{willo}"
api_key = "{WILLO_KEY}"
webhook_token = "{WILLO_TOKEN}"
{willo_pace}
"#,
            lever = self.lever.base_url(),
            willo = self.willo.base_url(),
        )
    }

    /// A whole configuration: this world as tenant `bench`, state in the world's directory.
    pub fn config(&self, schedule: &str, full_schedule: &str, pacing: Pacing) -> String {
        daemon_toml(&self.state_dir(), schedule, full_schedule) + &self.tenant_toml("bench", pacing)
    }

    /// Writes `text` as the world's configuration file.
    pub fn write_config(&self, text: &str) -> PathBuf {
        let path = self.dir.path().join("config.toml");
        std::fs::write(&path, text).expect("write config");
        path
    }

    /// The tenant runtime, in-process, over the state directory (the store's lock is held
    /// until it is dropped).
    pub fn tenant(&self, text: &str) -> Arc<Tenant> {
        let settings = settings(text, self.dir.path());
        let store = Arc::new(
            settings
                .store
                .open(&settings.daemon.state_dir, OpenMode::Writer)
                .expect("store"),
        );
        let options = PassOptions {
            concurrency: 4,
            overlap: Duration::from_secs(300),
            chunk: PassOptions::CHUNK,
            interval: Duration::from_secs(300),
        };
        Arc::new(Tenant::new(&settings.tenants[0], options, store, Metrics::new()).expect("tenant"))
    }
}

pub fn email(k: usize) -> String {
    format!("c{k}@example.com")
}

/// Never: a cron expression for a schedule that must not fire during a benchmark.
pub const NEVER: &str = "0 0 0 1 1 *";

/// The `[daemon]` and `[log]` tables. The log keeps warnings and the daemon's start-up line
/// (the bench reads the address from it); `WLS_BENCH_LOG` adds directives (for example
/// `willo_lever_sync::reconcile=debug` to see why hints list whole interviews).
pub fn daemon_toml(state_dir: &Path, schedule: &str, full_schedule: &str) -> String {
    let extra = std::env::var("WLS_BENCH_LOG")
        .map(|d| format!(",{d}"))
        .unwrap_or_default();
    format!(
        r#"
[daemon]
state_dir = "{state}"
listen = "127.0.0.1:0"
schedule = "{schedule}"
full_schedule = "{full_schedule}"
shutdown_grace_seconds = 10

[log]
level = "warn,willo_lever_sync::daemon=info{extra}"
"#,
        state = state_dir.display()
    )
}

pub fn settings(text: &str, dir: &Path) -> Settings {
    load_from_str(text, &dir.join("config.toml"), &HashMap::new()).expect("config")
}
