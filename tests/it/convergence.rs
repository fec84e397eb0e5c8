//! What "nothing lost, nothing flaps" means, counted: the crash and fault matrices seed a cast
//! of candidates, break things, run passes until they converge, and then count what is wrong
//! with the two accounts. Counts rather than assertions, so the long runs can report them.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use willo_lever_sync::domain::PassKind;
use willo_lever_sync::metrics::Metrics;
use willo_lever_sync::reconcile::{PassOptions, PassOutcome, Tenant};
use willo_lever_sync::store::{OpenMode, Store, StoreError};

use crate::secrets_scan;
use crate::support::daemon::collect;
use crate::support::{World, bin};

pub const INVITED: &str = "Willo:Invited";
pub const TO_REVIEW: &str = "Willo:To Review";
pub const ACCEPTED: &str = "Willo:Accepted";
pub const REJECTED: &str = "Willo:Rejected";
pub const STATUS_TAGS: [&str; 4] = [INVITED, TO_REVIEW, ACCEPTED, REJECTED];

pub const PARTICIPANTS: &str = "/api/integrations/v2/participants/";
pub const ADD_TAGS: &str = "/v1/opportunities/{id}/addTags";
pub const REMOVE_TAGS: &str = "/v1/opportunities/{id}/removeTags";

/// One candidate of the cast.
#[derive(Debug, Clone)]
pub struct Person {
    pub opportunity: String,
    pub name: String,
    /// As written in Lever (case and spaces kept).
    pub email: String,
}

/// Candidates due an invite to one interview: `distinct` people, and `shared` more
/// opportunities held by earlier people under the same address written differently.
#[derive(Debug, Clone)]
pub struct Cast {
    pub interview: String,
    pub posting: String,
    pub people: Vec<Person>,
}

/// The rule's key for "same person" (rule: same email).
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Cast {
    pub fn seed(w: &World, title: &str, distinct: usize, shared: usize) -> Cast {
        let (interview, posting) = w.interview_with_posting(title);
        let mut people = Vec::new();
        for i in 0..distinct {
            let name = format!("{title} Person{i}");
            let email = format!("p{i}.{}@example.com", title.to_lowercase());
            let opportunity = w.candidate(&name, &email, &posting);
            people.push(Person {
                opportunity,
                name,
                email,
            });
        }
        for j in 0..shared.min(distinct) {
            // A second candidacy of person j, the address in capitals with a trailing space.
            let name = format!("{title} Person{j} (2)");
            let email = format!("{} ", people[j].email.to_uppercase());
            let opportunity = w.candidate(&name, &email, &posting);
            people.push(Person {
                opportunity,
                name,
                email,
            });
        }
        Cast {
            interview,
            posting,
            people,
        }
    }

    pub fn distinct_emails(&self) -> usize {
        let mut keys: Vec<String> = self.people.iter().map(|p| email_key(&p.email)).collect();
        keys.sort();
        keys.dedup();
        keys.len()
    }

    /// Moves every participant of the interview to `state` in Willo.
    pub fn set_all_states(&self, w: &World, state: &str) {
        for p in w.willo.participants(&self.interview) {
            w.willo.set_participant_state(&p.key, state).unwrap();
        }
    }
}

/// What is wrong with the accounts, counted. All zero = converged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Participants beyond one per (email, interview).
    pub duplicates: usize,
    /// Invite emails beyond one per (email, interview).
    pub extra_emails: usize,
    /// People due an invite with no participant.
    pub missed: usize,
    /// Invited opportunities without the status tag their participant's state calls for.
    pub missing_tags: usize,
    /// Opportunities carrying more than one status tag.
    pub doubled_tags: usize,
}

impl Tally {
    pub fn lost_or_duplicated(&self) -> usize {
        self.duplicates + self.extra_emails + self.missed + self.missing_tags + self.doubled_tags
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} duplicate participants, {} extra invite emails, {} missed invites, {} missing and {} doubled status tags",
            self.duplicates, self.extra_emails, self.missed, self.missing_tags, self.doubled_tags
        )
    }
}

/// The status tag a Willo state calls for, for the states these suites use (rule: status map).
fn status_for(state: &str) -> &'static str {
    match state.trim().to_lowercase().as_str() {
        "completed" | "to review" => TO_REVIEW,
        "accepted" => ACCEPTED,
        "rejected" => REJECTED,
        _ => INVITED,
    }
}

/// Counts what is wrong with the cast's accounts right now.
pub fn tally(w: &World, cast: &Cast) -> Tally {
    let mut t = Tally::default();
    let participants = w.willo.participants(&cast.interview);
    let mut by_email: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in &participants {
        by_email
            .entry(email_key(&p.email))
            .or_default()
            .push(p.state.clone());
    }
    let mut emails: BTreeMap<String, usize> = BTreeMap::new();
    for e in w
        .willo
        .invites_sent()
        .into_iter()
        .filter(|e| e.interview == cast.interview)
    {
        *emails.entry(email_key(&e.email)).or_default() += 1;
    }
    t.extra_emails = emails.values().map(|n| n.saturating_sub(1)).sum();
    t.duplicates = by_email.values().map(|v| v.len().saturating_sub(1)).sum();
    let mut counted = std::collections::BTreeSet::new();
    for person in &cast.people {
        let key = email_key(&person.email);
        let tags: Vec<String> = w
            .lever
            .tags_of(&person.opportunity)
            .into_iter()
            .filter(|tag| STATUS_TAGS.contains(&tag.as_str()))
            .collect();
        if tags.len() > 1 {
            t.doubled_tags += 1;
        }
        match by_email.get(&key).and_then(|states| states.first()) {
            None => {
                if counted.insert(key) {
                    t.missed += 1;
                }
            }
            Some(state) => {
                if !tags.iter().any(|tag| tag == status_for(state)) {
                    t.missing_tags += 1;
                }
            }
        }
    }
    t
}

/// One `--once` (or other command) as a process, its output scanned for secrets.
pub struct Once {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Once {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }

    /// The first tenant's pass result (`converged`, `deferred`, ...), from `--json`.
    pub fn result(&self) -> String {
        self.json()["tenants"][0]["result"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

/// How the suites run the binary: a configuration file and the secrets its output must never
/// show (the OAuth tokens stored in the state are added at each run, since they rotate).
#[derive(Debug, Clone)]
pub struct Cmd {
    pub config: PathBuf,
    pub secrets: Vec<String>,
    pub state_dir: PathBuf,
}

impl Cmd {
    /// The world's own configuration file.
    pub fn of(w: &World) -> Cmd {
        Cmd {
            config: w.config_file(),
            secrets: secrets_scan::world_secrets(w),
            state_dir: w.state_dir(),
        }
    }

    /// Every secret known now, stored tokens included.
    pub fn secrets_now(&self) -> Vec<String> {
        let mut s = self.secrets.clone();
        if let Ok(store) = willo_lever_sync::store::Store::open(
            &self.state_dir,
            willo_lever_sync::store::OpenMode::Reader,
        ) && let Ok(Some(t)) = store.read(|r| r.tokens("acme"))
        {
            s.extend([t.access_token, t.refresh_token]);
        }
        s
    }

    /// Runs the binary with `args` to its end (at most a minute) and scans its output.
    ///
    /// A process the test binary forks holds a copy of every descriptor it has open until it
    /// execs, the state's lock included: right after the test itself held the lock, a run can
    /// find it briefly held. Such a run (exit 74, "in use") is run again, within 10 s.
    pub async fn run(&self, args: &[&str]) -> Once {
        let until = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let once = run_config(&self.config, args, &[]).await;
            secrets_scan::assert_clean(&[&once.stdout, &once.stderr], &self.secrets_now());
            let in_use = once.code == 74 && once.stderr.contains("in use by another");
            if !in_use || std::time::Instant::now() > until {
                return once;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The binary with `args`, started (stdout and stderr collected) for a test to kill.
    pub fn spawn(&self, args: &[&str]) -> Running {
        let mut child = bin()
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        Running {
            child,
            stdout,
            stderr,
        }
    }
}

/// A process a test will kill.
pub struct Running {
    pub child: tokio::process::Child,
    pub stdout: Arc<Mutex<String>>,
    pub stderr: Arc<Mutex<String>>,
}

impl Running {
    /// SIGKILL, then waits for the process to be gone; returns what it wrote.
    pub async fn kill9(mut self) -> String {
        self.child.kill().await.unwrap();
        let mut text = self.stdout.lock().unwrap().clone();
        text.push_str(&self.stderr.lock().unwrap());
        text
    }
}

/// Runs the binary with `config` and `args` to its end (at most a minute).
pub async fn run_config(config: &std::path::Path, args: &[&str], secrets: &[String]) -> Once {
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        bin()
            .arg("--config")
            .arg(config)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output(),
    )
    .await
    .expect("the process ran for more than a minute")
    .unwrap();
    let once = Once {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    secrets_scan::assert_clean(&[&once.stdout, &once.stderr], secrets);
    once
}

/// The state store opened for writing, waiting (at most 10 s) while the lock is held by a
/// process that is going away (see `Cmd::run`).
pub fn open_writer(state_dir: &Path) -> Store {
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match Store::open(state_dir, OpenMode::Writer) {
            Err(StoreError::Locked { .. }) if std::time::Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other.unwrap(),
        }
    }
}

/// One tenant in this process over one store, for suites that run many passes: opening the
/// store once keeps its lock for the whole run.
pub struct InProcess {
    pub store: Arc<Store>,
    pub tenant: Arc<Tenant>,
}

impl InProcess {
    pub fn open(w: &World) -> InProcess {
        Self::with_concurrency(w, 4)
    }

    /// With `concurrency` actions at a time (1: strictly one after another).
    pub fn with_concurrency(w: &World, concurrency: usize) -> InProcess {
        let settings = w.settings();
        let store = Arc::new(open_writer(&settings.daemon.state_dir));
        let options = PassOptions {
            concurrency,
            overlap: Duration::from_secs(300),
            chunk: PassOptions::CHUNK,
            interval: Duration::from_secs(300),
        };
        let tenant = Arc::new(
            Tenant::new(&settings.tenants[0], options, store.clone(), Metrics::new()).unwrap(),
        );
        InProcess { store, tenant }
    }

    pub async fn pass(&self, kind: PassKind) -> PassOutcome {
        self.tenant.pass(kind, &CancellationToken::new()).await
    }

    /// Ends every backoff (see `end_backoffs`).
    pub fn end_backoffs(&self) {
        end_backoffs_in(&self.store);
    }

    /// Every status check made so far moved past the freshness window, as an hour without
    /// passes would: the next incremental pass checks every open invite (rule: status-check
    /// budget), so its `converged` claims as much as a full pass's.
    pub fn checks_due(&self) {
        self.store
            .write(|tx| tx.backdate_checks("acme", 2 * 3_600_000))
            .unwrap();
    }
}

fn end_backoffs_in(store: &Store) {
    let failing = store
        .read(|r| r.failing_opportunities("acme"))
        .unwrap_or_default();
    store
        .write(|tx| {
            for o in &failing {
                tx.record_opportunity_success("acme", &o.id)?;
            }
            // Time passing also closes the landing window of a completion note left in flight
            // by a killed run: the next run settles it instead of deferring it.
            tx.backdate_notes("acme", 10 * 60_000)
        })
        .unwrap();
}

/// Ends every backoff of the tenant, as the passing of time would: the crash and fault
/// matrices cannot wait out minutes of real backoff, and passes read only the wall clock.
pub fn end_backoffs(state_dir: &Path) {
    if state_dir.join(willo_lever_sync::store::DB_FILE).exists() {
        end_backoffs_in(&open_writer(state_dir));
    }
}

/// Runs `--once --json` until a run exits 0 (at most `max` runs), ending backoffs between
/// runs. Returns the runs made; panics when it does not converge. Only exits that say "try
/// again" (1, 69) are tolerated on the way.
pub async fn once_until_converged(cmd: &Cmd, max: usize) -> usize {
    let mut log = String::new();
    for n in 1..=max {
        let out = cmd.run(&["--once", "--json"]).await;
        if out.code == 0 {
            assert_eq!(out.result(), "converged", "{}", out.stdout);
            return n;
        }
        assert!(
            [1, 69].contains(&out.code),
            "run {n} exited {}:\n{}\n{}",
            out.code,
            out.stdout,
            out.stderr
        );
        log.push_str(&format!(
            "run {n}: exit {}\n{}\n{}\n",
            out.code, out.stdout, out.stderr
        ));
        end_backoffs(&cmd.state_dir);
    }
    panic!("no convergence in {max} runs:\n{log}");
}

/// A converged world stays put: one more `--once` writes nothing to either API and says
/// `converged`, and a dry run plans nothing.
pub async fn assert_quiet(w: &World, cmd: &Cmd) {
    let marks = w.marks();
    let out = cmd.run(&["--once", "--json"]).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.result(), "converged");
    assert_eq!(
        w.writes_since(marks),
        Vec::<String>::new(),
        "{}",
        out.stdout
    );
    let dry = cmd.run(&["--once", "--dry-run", "--json"]).await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(
        dry.json()["tenants"][0]["plan"]["actions"],
        serde_json::json!([]),
        "{}",
        dry.stdout
    );
}

/// A deterministic generator for seeded runs (SplitMix64): the seed alone replays a run.
#[derive(Debug, Clone)]
pub struct Seeded(u64);

impl Seeded {
    pub fn new(seed: u64) -> Self {
        Seeded(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// How many seeded runs the long version makes per case (`EVIDENCE_RUNS` overrides).
pub fn long_runs() -> u64 {
    std::env::var("EVIDENCE_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25)
}

/// Switches the world's tenant to Lever OAuth (client `client-evidence`) in its own file
/// `oauth.toml`, with tokens stored as `connect` would have left them, the access token
/// expiring `expires_in_ms` from now (within the refresh margin: the first call refreshes).
pub fn oauth_cmd(w: &World, expires_in_ms: i64) -> Cmd {
    let redirect = "http://127.0.0.1:9/callback";
    w.lever
        .add_oauth_client("client-evidence", "oauth-client-secret-0123", redirect);
    let oauth = format!(
        "[tenants.lever.oauth]\nclient_id = \"client-evidence\"\n\
         client_secret = \"oauth-client-secret-0123\"\nredirect_uri = \"{redirect}\"\n\
         authorize_url = \"{}\"\ntoken_url = \"{}\"\naudience = \"{}\"\n",
        w.lever.oauth_authorize_url(),
        w.lever.oauth_token_url(),
        w.lever.audience()
    );
    let text = w
        .config_text()
        .replace("api_key = \"lever-test-key\"\n", "")
        .replace(
            "\n[tenants.willo]\n",
            &format!("\n{oauth}\n[tenants.willo]\n"),
        );
    let config = w.dir.path().join("oauth.toml");
    std::fs::write(&config, &text).unwrap();
    store_oauth_tokens(w, expires_in_ms);
    let mut secrets = secrets_scan::secrets_in_config(&text);
    secrets.push(crate::support::LEVER_KEY.to_owned());
    Cmd {
        config,
        secrets,
        state_dir: w.state_dir(),
    }
}

/// Stores a fresh grant's tokens (as `connect` does) and returns them.
pub fn store_oauth_tokens(w: &World, expires_in_ms: i64) -> willo_lever_sync::store::TokenRow {
    let issued = w
        .lever
        .issue_oauth_tokens("client-evidence", "offline_access");
    let row = willo_lever_sync::store::TokenRow {
        access_token: issued.access_token,
        refresh_token: issued.refresh_token.unwrap(),
        expires_at: willo_lever_sync::clock::now_ms() + expires_in_ms,
        scope: Some(issued.scope),
        updated_at: 0,
    };
    open_writer(&w.state_dir())
        .write(|tx| tx.save_tokens("acme", &row))
        .unwrap();
    row
}
