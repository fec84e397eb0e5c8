//! Issue 14: several instances on one PostgreSQL store. Real daemons (the binary) against a
//! real PostgreSQL (`WLS_TEST_POSTGRES`, started by `.ci/run`), each tenant with simulators of
//! its own: leases shared fairly, an owner killed mid-invite taken over with nothing done twice
//! or lost, a paused owner fenced off, webhooks handed to the owner, `migrate-store`.

use std::time::{Duration, Instant};

use willo_lever_sync::sim::hold::HoldRule;

use crate::support::daemon::{
    Daemon, SIGCONT, SIGKILL, SIGNATURE_TOKEN, SIGSTOP, SIGTERM, command, eventually, now_ms,
    signed_body,
};
use crate::support::pg::PgDb;
use crate::support::{ACCOUNT, LEVER_KEY, WILLO_KEY, World};

const PARTICIPANTS: &str = "/api/integrations/v2/participants/";
const LEASE_SECONDS: u64 = 5;

/// Tenants `t0…` with simulators of their own, one shared PostgreSQL database.
struct Fleet {
    worlds: Vec<World>,
    /// Per tenant: its opportunities and their emails.
    people: Vec<Vec<(String, String)>>,
    /// Per tenant: the posting its people applied to.
    postings: Vec<String>,
    db: PgDb,
    dir: tempfile::TempDir,
}

impl Fleet {
    async fn new(tenants: usize, people: usize) -> Fleet {
        let mut worlds = Vec::new();
        let mut all = Vec::new();
        let mut postings = Vec::new();
        for t in 0..tenants {
            let w = World::new().await;
            let (_, posting) = w.interview_with_posting("Pilot");
            let mut mine = Vec::new();
            for p in 0..people {
                let email = format!("p{p}@t{t}.example");
                mine.push((w.candidate(&format!("P{p}"), &email, &posting), email));
            }
            worlds.push(w);
            all.push(mine);
            postings.push(posting);
        }
        Fleet {
            worlds,
            people: all,
            postings,
            db: PgDb::new(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The configuration of instance `id`.
    fn config(&self, id: &str) -> std::path::PathBuf {
        let mut text = format!(
            r#"
[daemon]
state_dir = "{state}"
listen = "127.0.0.1:0"
schedule = "0 0 0 1 1 *"
full_schedule = "0 0 0 1 1 *"
shutdown_grace_seconds = 2
instance_id = "{id}"

[log]
level = "info"

[store]
url = {url:?}
lease_seconds = {LEASE_SECONDS}
"#,
            state = self.dir.path().join(format!("state-{id}")).display(),
            url = self.db.url,
        );
        for (i, w) in self.worlds.iter().enumerate() {
            text.push_str(&format!(
                r#"
[[tenants]]
id = "t{i}"
account_name = "{ACCOUNT}"
trigger_stages = ["Video Interview"]

[tenants.lever]
base_url = "{lever}"
api_key = "{LEVER_KEY}"
requests_per_second = 500
burst = 100
retry_max_elapsed_seconds = 2
webhook_signature_token = "{SIGNATURE_TOKEN}"

[tenants.willo]
base_url = "{willo}"
api_key = "{WILLO_KEY}"
requests_per_second = 500
burst = 100
retry_max_elapsed_seconds = 2
request_timeout_seconds = 2
"#,
                lever = w.lever.base_url(),
                willo = w.willo.base_url(),
            ));
        }
        let path = self.dir.path().join(format!("{id}.toml"));
        std::fs::write(&path, text).unwrap();
        path
    }

    async fn start(&self, id: &str) -> Daemon {
        let mut cmd = command();
        cmd.arg("--config").arg(self.config(id));
        Daemon::start_command(cmd, &[]).await
    }

    /// Runs the binary with instance `id`'s configuration and `args` (a command or `--once`).
    async fn run(&self, id: &str, args: &[&str]) -> std::process::Output {
        command()
            .arg("--config")
            .arg(self.config(id))
            .args(args)
            .output()
            .await
            .unwrap()
    }

    fn owner_of(&self, tenant: usize) -> String {
        self.db.scalar(&format!(
            "SELECT owner FROM leases WHERE tenant = 't{tenant}'"
        ))
    }

    fn owned_by(&self, id: &str) -> usize {
        self.db
            .scalar(&format!(
                "SELECT COUNT(*)::TEXT FROM leases WHERE owner = '{id}' AND expires_at > wls_now_ms()"
            ))
            .parse()
            .unwrap()
    }

    /// Every person invited exactly once, with exactly one status tag.
    fn converged(&self) -> bool {
        self.worlds.iter().zip(&self.people).all(|(w, people)| {
            people.iter().all(|(opp, email)| {
                let invited = w
                    .willo
                    .invites_sent()
                    .iter()
                    .filter(|i| &i.email == email)
                    .count();
                let status = w
                    .lever
                    .tags_of(opp)
                    .iter()
                    .filter(|t| t.starts_with("Willo:") && !t.contains(ACCOUNT))
                    .count();
                invited == 1 && status == 1
            })
        })
    }

    /// What `converged` checks, as a report for a failed assertion.
    fn report(&self) -> String {
        let mut out = String::new();
        for (i, (w, people)) in self.worlds.iter().zip(&self.people).enumerate() {
            for (opp, email) in people {
                let invited = w
                    .willo
                    .invites_sent()
                    .iter()
                    .filter(|x| &x.email == email)
                    .count();
                out.push_str(&format!(
                    "t{i} {email}: {invited} invites, tags {:?}\n",
                    w.lever.tags_of(opp)
                ));
            }
        }
        out
    }
}

/// One tenant, which instance `a` owns and has converged.
async fn owner() -> (Fleet, Daemon) {
    let fleet = Fleet::new(1, 1).await;
    let a = fleet.start("a").await;
    assert!(
        eventually(Duration::from_secs(30), || fleet.converged()).await,
        "{}",
        a.log()
    );
    (fleet, a)
}

/// [`owner`], then `b` starts beside `a`.
async fn owner_and_standby() -> (Fleet, Daemon, Daemon) {
    let (fleet, a) = owner().await;
    let b = fleet.start("b").await;
    (fleet, a, b)
}

fn logs(daemons: &[&Daemon]) -> String {
    daemons
        .iter()
        .map(|d| d.log())
        .collect::<Vec<_>>()
        .join("\n----\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_three_instances_share_twenty_tenants_and_a_killed_owner_is_taken_over() {
    let fleet = Fleet::new(20, 3).await;
    // Tenant t0's first invite is applied by Willo and its answer held: its owner is then
    // killed with the POST done and not recorded.
    let hold = fleet.worlds[0]
        .willo
        .hold(HoldRule::new("POST", PARTICIPANTS));
    let a = fleet.start("a").await;
    let b = fleet.start("b").await;
    let c = fleet.start("c").await;
    tokio::time::timeout(Duration::from_secs(30), hold.held())
        .await
        .unwrap_or_else(|_| panic!("t0's invite never reached Willo\n{}", logs(&[&a, &b, &c])));
    let victim = fleet.owner_of(0);
    let victims: Vec<usize> = (0..20).filter(|t| fleet.owner_of(*t) == victim).collect();
    let mut daemons = vec![("a", a), ("b", b), ("c", c)];
    let at = daemons.iter().position(|(id, _)| *id == victim).unwrap();
    let (_, killed) = daemons.remove(at);
    killed.signal(SIGKILL);
    let killed_at = Instant::now();
    let _ = killed.exit_code().await;
    hold.release();
    let survivors: Vec<&Daemon> = daemons.iter().map(|(_, d)| d).collect();

    // Every tenant it held is taken over within the lease plus one renew interval (and the
    // time a round of the survivors takes).
    let taken = eventually(Duration::from_secs(LEASE_SECONDS * 3), || {
        victims.iter().all(|t| fleet.owner_of(*t) != victim)
    })
    .await;
    assert!(
        taken,
        "the killed instance's tenants {victims:?} were not all taken over\n{}",
        logs(&survivors)
    );
    let took = killed_at.elapsed();
    let bound = Duration::from_secs(LEASE_SECONDS) + Duration::from_secs(LEASE_SECONDS) / 3;
    assert!(
        took <= bound + Duration::from_secs(2),
        "its tenants were taken over after {took:?}, more than the lease and a renew interval ({bound:?})"
    );

    let done = eventually(Duration::from_secs(60), || fleet.converged()).await;
    assert!(
        done,
        "not every person was invited once with one status tag:\n{}\n{}",
        fleet.report(),
        logs(&survivors)
    );
    // Two instances alive: each holds at most its fair share (10) plus one.
    let shared = eventually(Duration::from_secs(LEASE_SECONDS * 3), || {
        daemons
            .iter()
            .map(|(id, _)| fleet.owned_by(id))
            .collect::<Vec<_>>()
            .iter()
            .all(|n| *n <= 11)
            && daemons
                .iter()
                .map(|(id, _)| fleet.owned_by(id))
                .sum::<usize>()
                == 20
    })
    .await;
    assert!(
        shared,
        "the tenants were not shared: {:?}",
        daemons
            .iter()
            .map(|(id, _)| (*id, fleet.owned_by(id)))
            .collect::<Vec<_>>()
    );
    let takeovers: f64 = {
        let mut sum = 0.0;
        for (id, d) in &daemons {
            sum += d
                .metric(&format!(
                    "willo_lever_sync_lease_takeovers_total{{instance_id=\"{id}\"}}"
                ))
                .await
                .unwrap_or(0.0);
        }
        sum
    };
    assert!(takeovers >= 1.0, "no takeover was counted");
    for (_, d) in daemons {
        d.signal(SIGTERM);
        assert_eq!(d.exit_code().await, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_a_paused_owner_commits_nothing_after_its_lease_lapsed() {
    let (fleet, a, b) = owner_and_standby().await;
    // A new candidate, whose invite A starts and is paused in: Willo applies the POST, and A
    // stops before it hears back.
    let w = &fleet.worlds[0];
    let hold = w.willo.hold(HoldRule::new("POST", PARTICIPANTS));
    let posting = fleet.postings[0].clone();
    let opp = w.candidate("Late", "late@t0.example", &posting);
    let body = signed_body(&opp, "tok-late", now_ms(), SIGNATURE_TOKEN);
    assert_eq!(a.post("/webhooks/lever/t0", body).await.0, 202);
    tokio::time::timeout(Duration::from_secs(20), hold.held())
        .await
        .expect("A's invite never reached Willo");
    a.signal(SIGSTOP);
    hold.release();
    // B takes the tenant over once A's lease lapses, and settles the invite by lookup.
    let taken = eventually(Duration::from_secs(LEASE_SECONDS * 4), || {
        fleet.owner_of(0) == "b"
    })
    .await;
    assert!(taken, "B never took t0 over\n{}", b.log());
    let settled = eventually(Duration::from_secs(30), || {
        w.lever.tags_of(&opp).iter().any(|t| t == "Willo:Invited")
    })
    .await;
    assert!(settled, "B did not settle the invite\n{}", b.log());
    let before = state_snapshot(&fleet.db);
    a.signal(SIGCONT);
    // A wakes up with the POST's answer and a pass in flight. Whatever it tries to commit is
    // refused, and its next renewal round finds the lease taken and gives the tenant up: after
    // that it runs nothing of t0.
    let gave_up = eventually(Duration::from_secs(20), || {
        a.log().contains("no longer runs the tenant")
    })
    .await;
    assert!(gave_up, "A never noticed it lost t0\n{}", a.log());
    assert_eq!(
        state_snapshot(&fleet.db),
        before,
        "A changed the state after its lease lapsed\n{}",
        a.log()
    );
    let invited = w
        .willo
        .invites_sent()
        .iter()
        .filter(|i| i.email == "late@t0.example")
        .count();
    assert_eq!(invited, 1, "the late candidate was invited {invited} times");
    for d in [a, b] {
        d.signal(SIGTERM);
        let _ = d.exit_code().await;
    }
}

/// Every row of the tenant tables, as text: what an instance could have committed.
fn state_snapshot(db: &PgDb) -> String {
    [
        "invites",
        "participants",
        "opportunities",
        "passes",
        "interviews",
        "cursors",
        "notes",
        "attention",
        "tenant_facts",
        "tenants",
    ]
    .iter()
    .map(|t| {
        db.scalar(&format!(
            "SELECT '{t}: ' || COALESCE(string_agg(x::TEXT, '|' ORDER BY x::TEXT), '') FROM {t} x"
        ))
    })
    .collect::<Vec<_>>()
    .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_a_webhook_posted_to_a_non_owner_is_acted_on_by_the_owner_within_a_second() {
    let (fleet, a, b) = owner_and_standby().await;
    assert!(
        eventually(Duration::from_secs(10), || b.log().contains("started")).await,
        "{}",
        b.log()
    );
    assert_eq!(fleet.owner_of(0), "a");
    let w = &fleet.worlds[0];
    let posting = fleet.postings[0].clone();
    let opp = w.candidate("Hinted", "hinted@t0.example", &posting);
    let body = signed_body(&opp, "tok-hinted", now_ms(), SIGNATURE_TOKEN);
    let mark = w.lever.accounting().mark();
    let sent = Instant::now();
    let (code, answer) = b.post("/webhooks/lever/t0", body).await;
    assert_eq!(code, 202, "{answer}");
    assert!(answer.contains("handed_over"), "{answer}");
    let invited = eventually(Duration::from_secs(20), || {
        w.willo
            .invites_sent()
            .iter()
            .any(|i| i.email == "hinted@t0.example")
    })
    .await;
    assert!(invited, "the owner never acted on the hint\n{}", a.log());
    // Acted on: the owner read the hinted opportunity (times from the simulator's record,
    // so a loaded machine's slow reconcile after it does not count against the hand-over).
    let read = w
        .lever
        .accounting()
        .requests_since(mark)
        .into_iter()
        .find(|r| r.path.contains(&opp))
        .map(|r| r.at)
        .expect("the owner never read the hinted opportunity");
    let took = read.duration_since(sent);
    assert!(
        took < Duration::from_secs(1),
        "the owner acted on the hint after {took:?}"
    );
    assert!(
        !b.log().contains("cannot hand"),
        "B could not hand the hint over\n{}",
        b.log()
    );
    // `status` names the owner and its lease, from any host, taking no lease.
    let out = fleet.run("b", &["status"]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("owner: instance a, lease until"), "{text}");
    assert!(
        text.contains("instances sharing this PostgreSQL store"),
        "{text}"
    );
    assert_eq!(fleet.owner_of(0), "a", "status took the lease");
    for d in [a, b] {
        d.signal(SIGTERM);
        let _ = d.exit_code().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_migrate_store_moves_a_sqlite_state_and_the_next_pass_writes_nothing() {
    let mut w = World::new().await;
    w.postgres = None;
    let (_, posting) = w.interview_with_posting("Pilot");
    let opp = w.candidate("Ann", "ann@example.com", &posting);
    w.full().await;
    assert_eq!(w.status_tags(&opp), vec!["Willo:Invited".to_owned()]);
    // Copy into an empty database, then run against it.
    let db = PgDb::new();
    w.postgres = Some(db);
    let run = crate::support::run(&w, &["migrate-store"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("invites: 1 rows"), "{}", run.stdout);
    // A second copy is refused: the database holds state now.
    let again = crate::support::run(&w, &["migrate-store"]).await;
    assert_eq!(again.code, 74, "{}", again.stderr);
    assert!(again.stderr.contains("already holds"), "{}", again.stderr);
    let marks = w.marks();
    let outcome = w.full().await;
    assert!(outcome.error.is_none());
    assert_eq!(
        w.writes_since(marks),
        Vec::<String>::new(),
        "the pass after the move wrote to an API"
    );
    let db = w.postgres.as_ref().unwrap();
    assert_eq!(
        db.scalar(&format!(
            "SELECT state FROM invites WHERE opportunity_id = '{opp}'"
        )),
        "done"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_a_dry_run_over_postgres_plans_and_writes_nothing() {
    let w = World::on_postgres().await;
    let (_, posting) = w.interview_with_posting("Pilot");
    w.candidate("Ann", "ann@example.com", &posting);
    w.full().await;
    let db = w.postgres.as_ref().unwrap();
    let late = w.candidate("Bob", "bob@example.com", &posting);
    let before = state_snapshot(db);
    let marks = w.marks();
    let run = crate::support::run(&w, &["--once", "--dry-run"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("bob@example.com") || run.stdout.contains(&late),
        "{}",
        run.stdout
    );
    assert_eq!(
        state_snapshot(db),
        before,
        "the dry run wrote to the database"
    );
    assert_eq!(w.writes_since(marks), Vec::<String>::new());
    assert_eq!(
        db.scalar("SELECT COUNT(*)::TEXT FROM leases"),
        "0",
        "the dry run took a lease"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_once_refuses_a_tenant_a_running_instance_holds_and_names_it() {
    let (fleet, a) = owner().await;
    let out = fleet.run("b", &["--once"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(74), "{stderr}");
    assert!(
        stderr.contains("tenant t0 is held by instance a until"),
        "{stderr}"
    );
    assert_eq!(fleet.owner_of(0), "a", "the refused --once took the lease");
    a.signal(SIGTERM);
    assert_eq!(a.exit_code().await, 0);
    // A stopped daemon gives its leases back: --once runs at once.
    let out = fleet.run("b", &["--once"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
