//! A test world: the project's Lever and Willo simulators on 127.0.0.1:0, a state directory
//! and a configuration pointing one tenant at them. Passes run in-process through the same
//! `Tenant` code the daemon and `--once` use, or through the real binary.

#![allow(dead_code)]

pub mod daemon;
pub mod pg;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use willo_lever_sync::config::{Settings, load_from_str};
use willo_lever_sync::domain::PassKind;
use willo_lever_sync::metrics::Metrics;
use willo_lever_sync::reconcile::{PassOptions, PassOutcome, Tenant};
use willo_lever_sync::sim::lever::{LeverSim, LeverSimConfig, OppSeed, PostingSeed};
use willo_lever_sync::sim::willo::{WilloSim, WilloSimConfig};
use willo_lever_sync::store::{OpenMode, Store};

pub const LEVER_KEY: &str = "lever-test-key";
pub const WILLO_KEY: &str = "willo-test-key";
pub const ACCOUNT: &str = "Acme";

pub struct World {
    pub lever: LeverSim,
    pub willo: WilloSim,
    pub dir: tempfile::TempDir,
    /// The trigger stage ("Video Interview").
    pub trigger: String,
    /// Another stage ("Phone Screen").
    pub other: String,
    /// Extra lines appended to the tenant table.
    pub tenant_extra: String,
    /// `retry_max_elapsed_seconds` of both APIs.
    pub retry_budget: f64,
    /// Extra lines for the `[daemon]`, `[tenants.lever]` and `[tenants.willo]` tables.
    pub daemon_extra: String,
    pub lever_extra: String,
    pub willo_extra: String,
    pub log_level: String,
    /// The PostgreSQL database the state lives in, when not SQLite in `state_dir` (issue 14).
    /// `WLS_TEST_BACKEND=postgres` puts every world there.
    pub postgres: Option<pg::PgDb>,
}

impl World {
    pub async fn new() -> World {
        let lever = LeverSim::start(LeverSimConfig::for_tests()).await.unwrap();
        let willo = WilloSim::start(WilloSimConfig::for_tests()).await.unwrap();
        lever.add_api_key(LEVER_KEY);
        willo.add_api_key(WILLO_KEY);
        let other = lever.add_stage("Phone Screen");
        let trigger = lever.add_stage("Video Interview");
        World {
            lever,
            willo,
            dir: tempfile::tempdir().unwrap(),
            trigger,
            other,
            tenant_extra: String::new(),
            retry_budget: 5.0,
            daemon_extra: String::new(),
            lever_extra: String::new(),
            willo_extra: String::new(),
            log_level: "warn".into(),
            postgres: (std::env::var("WLS_TEST_BACKEND").as_deref() == Ok("postgres"))
                .then(pg::PgDb::new),
        }
    }

    /// A world whose state lives in a fresh PostgreSQL database.
    pub async fn on_postgres() -> World {
        let mut w = World::new().await;
        if w.postgres.is_none() {
            w.postgres = Some(pg::PgDb::new());
        }
        w
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn config_text(&self) -> String {
        format!(
            r#"
[daemon]
state_dir = "{state}"
listen = "127.0.0.1:0"
schedule = "0 0 0 1 1 *"
full_schedule = "0 0 0 1 1 *"
{daemon_extra}

[log]
level = "{log_level}"

[[tenants]]
id = "acme"
account_name = "{ACCOUNT}"
trigger_stages = ["Video Interview"]
{extra}

[tenants.lever]
base_url = "{lever}"
api_key = "{LEVER_KEY}"
requests_per_second = 500
burst = 100
retry_max_elapsed_seconds = {budget}
{lever_extra}

[tenants.willo]
base_url = "{willo}"
api_key = "{WILLO_KEY}"
requests_per_second = 500
burst = 100
retry_max_elapsed_seconds = {budget}
{willo_extra}
{store}
"#,
            state = self.state_dir().display(),
            extra = self.tenant_extra,
            lever = self.lever.base_url(),
            willo = self.willo.base_url(),
            budget = self.retry_budget,
            daemon_extra = self.daemon_extra,
            lever_extra = self.lever_extra,
            willo_extra = self.willo_extra,
            log_level = self.log_level,
            store = self
                .postgres
                .as_ref()
                .map(|db| format!("[store]\nurl = {:?}\n", db.url))
                .unwrap_or_default(),
        )
    }

    /// Writes the configuration file and returns its path.
    pub fn config_file(&self) -> PathBuf {
        let path = self.dir.path().join("config.toml");
        std::fs::write(&path, self.config_text()).unwrap();
        path
    }

    pub fn settings(&self) -> Settings {
        load_from_str(
            &self.config_text(),
            &self.dir.path().join("config.toml"),
            &HashMap::new(),
        )
        .unwrap()
    }

    /// The tenant runtime over a freshly opened store (the store's lock is held until the
    /// returned tenant is dropped).
    pub fn tenant(&self) -> Arc<Tenant> {
        let settings = self.settings();
        let store = Arc::new(
            settings
                .store
                .open(&settings.daemon.state_dir, OpenMode::Writer)
                .unwrap(),
        );
        let options = PassOptions {
            concurrency: 4,
            overlap: std::time::Duration::from_secs(300),
            chunk: willo_lever_sync::reconcile::PassOptions::CHUNK,
            interval: std::time::Duration::from_secs(300),
        };
        Arc::new(Tenant::new(&settings.tenants[0], options, store, Metrics::new()).unwrap())
    }

    /// Runs a pass and returns how it ended, whatever that was (the store's lock is released
    /// before it returns).
    pub async fn try_pass(&self, kind: PassKind) -> PassOutcome {
        self.tenant().pass(kind, &CancellationToken::new()).await
    }

    /// Runs a pass that must succeed.
    pub async fn pass(&self, kind: PassKind) -> PassOutcome {
        let outcome = self.try_pass(kind).await;
        assert!(outcome.error.is_none(), "pass failed: {:?}", outcome.error);
        outcome
    }

    pub async fn full(&self) -> PassOutcome {
        self.pass(PassKind::Full).await
    }

    /// The store opened for writing (to arrange a state a test needs).
    pub fn store_writer(&self) -> Store {
        match &self.postgres {
            Some(db) => db.store(OpenMode::Writer),
            None => Store::open(&self.state_dir(), OpenMode::Writer).unwrap(),
        }
    }

    /// A store reader for assertions.
    pub fn store(&self) -> Store {
        match &self.postgres {
            Some(db) => db.store(OpenMode::Reader),
            None => Store::open(&self.state_dir(), OpenMode::Reader).unwrap(),
        }
    }

    /// The interview's tag as the default template renders it.
    pub fn tag_of(title: &str) -> String {
        format!("Willo:{title}-{ACCOUNT}")
    }

    /// An interview, a posting tagged for it, and returns (interview key, posting id).
    pub fn interview_with_posting(&self, title: &str) -> (String, String) {
        let key = self.willo.add_interview(title);
        let posting = self
            .lever
            .add_posting(PostingSeed::new(&format!("{title} job")).tag(&World::tag_of(title)))
            .unwrap();
        (key, posting)
    }

    /// A candidate on `posting` in the trigger stage.
    pub fn candidate(&self, name: &str, email: &str, posting: &str) -> String {
        self.lever
            .add_opportunity(
                OppSeed::new(name, email)
                    .posting(posting)
                    .stage(&self.trigger),
            )
            .unwrap()
    }

    /// Writes made to both simulators since their marks.
    pub fn writes_since(&self, marks: (u64, u64)) -> Vec<String> {
        let mut w: Vec<String> = self
            .lever
            .accounting()
            .writes_since(marks.0)
            .into_iter()
            .map(|r| format!("lever {} {}", r.method, r.route))
            .collect();
        w.extend(
            self.willo
                .accounting()
                .writes_since(marks.1)
                .into_iter()
                .map(|r| format!("willo {} {}", r.method, r.route)),
        );
        w
    }

    /// The four status tags the opportunity carries, in Lever's order.
    pub fn status_tags(&self, opp: &str) -> Vec<String> {
        const STATUS: [&str; 4] = [
            "Willo:Invited",
            "Willo:To Review",
            "Willo:Accepted",
            "Willo:Rejected",
        ];
        self.lever
            .tags_of(opp)
            .into_iter()
            .filter(|t| STATUS.contains(&t.as_str()))
            .collect()
    }

    /// The key of the interview's participant with this email.
    pub fn participant_key(&self, interview: &str, email: &str) -> String {
        self.willo
            .participants(interview)
            .into_iter()
            .find(|p| p.email == email)
            .map(|p| p.key)
            .unwrap_or_else(|| panic!("no participant {email} in {interview}"))
    }

    pub fn marks(&self) -> (u64, u64) {
        (
            self.lever.accounting().mark(),
            self.willo.accounting().mark(),
        )
    }
}

/// The binary, with no configuration, credentials or notify socket from the environment.
pub fn bin() -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_willo-lever-sync"));
    c.env_remove("WLS_CONFIG")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env_remove("NOTIFY_SOCKET")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub async fn run(w: &World, args: &[&str]) -> Run {
    let out = bin()
        .arg("--config")
        .arg(w.config_file())
        .args(args)
        .output()
        .await
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
