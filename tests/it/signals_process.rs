//! Signals, as the operating system sends them to the binary: SIGTERM and SIGINT stop new
//! actions, let the one in flight finish within the grace period, record the pass as
//! interrupted and exit with the documented status, from the first moment of the process
//! (rule: exit statuses, docs/behaviour.md). SIGHUP reloads the daemon (more in
//! `reload_process`) and is logged and ignored by `--once`. `status` tells a running pass from
//! an interrupted one.

use crate::support;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use support::World;
use support::daemon::{
    Daemon, SIGHUP, SIGKILL, SIGTERM, collect, command, eventually, send_signal, world_for_daemon,
};
use willo_lever_sync::domain::PassResult;
use willo_lever_sync::domain::invite::InviteState;
use willo_lever_sync::sim::hold::HoldRule;

/// The documented status of a run stopped by SIGTERM or SIGINT (EX_TEMPFAIL).
const INTERRUPTED: i32 = 75;

async fn wait_exit(child: &mut tokio::process::Child) -> i32 {
    tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the process did not exit")
        .unwrap()
        .code()
        .unwrap_or(-1)
}

async fn status_json(w: &World) -> serde_json::Value {
    let out = command()
        .arg("--config")
        .arg(w.config_file())
        .args(["status", "--json"])
        .output()
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // `status` is a check: it exits with the status its document states.
    assert_eq!(
        out.status.code().map(i64::from),
        v["exit_status"].as_i64(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_once_lets_the_invite_finish_records_the_pass_interrupted_and_exits_75() {
    let mut w = World::new().await;
    w.log_level = "info".into();
    w.daemon_extra = "concurrency = 1\nshutdown_grace_seconds = 20".into();
    let (interview, posting) = w.interview_with_posting("Pilot");
    for (n, e) in [("Amelia", "a@example.com"), ("Bessie", "b@example.com")] {
        w.candidate(n, e, &posting);
    }
    let hold = w
        .willo
        .hold(HoldRule::new("POST", "/api/integrations/v2/participants/"));
    let mut child = command()
        .arg("--config")
        .arg(w.config_file())
        .arg("--once")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = collect(child.stderr.take().unwrap());
    let stdout = collect(child.stdout.take().unwrap());
    tokio::time::timeout(Duration::from_secs(30), hold.held())
        .await
        .expect("no invite started");
    send_signal(child.id().unwrap(), SIGTERM);
    assert!(
        eventually(Duration::from_secs(10), || log
            .lock()
            .unwrap()
            .contains("SIGTERM"))
        .await,
        "the signal was not acknowledged:\n{}",
        log.lock().unwrap()
    );
    hold.release();
    let code = wait_exit(&mut child).await;
    let log = log.lock().unwrap().clone();
    assert_eq!(code, INTERRUPTED, "{log}");
    // The summary is printed, saying how the pass ended.
    assert!(
        eventually(Duration::from_secs(5), || stdout
            .lock()
            .unwrap()
            .contains("interrupted"))
        .await,
        "{}",
        stdout.lock().unwrap()
    );
    // Exactly the invite in flight finished; the second was never started.
    assert_eq!(w.willo.participants(&interview).len(), 1);
    let rows = w.store().read(|r| r.invites("acme")).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].state, InviteState::Done);
    let passes = w.store().read(|r| r.recent_passes("acme", 1)).unwrap();
    assert_eq!(
        passes[0].result,
        Some(PassResult::Interrupted),
        "{passes:?}"
    );
    let status = status_json(&w).await;
    assert_eq!(
        status["tenants"][0]["passes"][0]["state"], "interrupted",
        "{status}"
    );
    // An interrupted last pass needs a look.
    assert_eq!(status["exit_status"], 1, "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_abandons_an_action_that_outlives_the_grace_period_and_still_exits_75() {
    let mut w = World::new().await;
    w.daemon_extra = "shutdown_grace_seconds = 1".into();
    let (interview, posting) = w.interview_with_posting("Pilot");
    let opp = w.candidate("Amelia", "a@example.com", &posting);
    // The invite's answer never comes.
    let hold = w
        .willo
        .hold(HoldRule::new("POST", "/api/integrations/v2/participants/"));
    let mut child = command()
        .arg("--config")
        .arg(w.config_file())
        .arg("--once")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = collect(child.stdout.take().unwrap());
    let log = collect(child.stderr.take().unwrap());
    tokio::time::timeout(Duration::from_secs(30), hold.held())
        .await
        .expect("no invite started");
    send_signal(child.id().unwrap(), SIGTERM);
    let code = wait_exit(&mut child).await;
    assert_eq!(code, INTERRUPTED, "{}", log.lock().unwrap());
    assert!(
        eventually(Duration::from_secs(5), || stdout
            .lock()
            .unwrap()
            .contains("interrupted"))
        .await,
        "{}",
        stdout.lock().unwrap()
    );
    // The pass is recorded as interrupted; the invite stays in flight for the next pass to
    // settle by lookup.
    let passes = w.store().read(|r| r.recent_passes("acme", 1)).unwrap();
    assert_eq!(
        passes[0].result,
        Some(PassResult::Interrupted),
        "{passes:?}"
    );
    let row = w
        .store()
        .read(|r| r.invite("acme", &opp, &interview))
        .unwrap()
        .unwrap();
    assert_eq!(row.state, InviteState::InFlight);
    hold.release();
}

/// Makes `path` a named pipe: whoever reads it blocks until the test writes it.
fn fifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo failed");
}

/// Starts the binary with its configuration file on a named pipe, waits until the process is
/// reading it (so it runs its own code, past any start-up of the runtime), sends SIGTERM,
/// then lets it read the configuration. Returns the exit status and stderr.
async fn sigterm_while_loading_the_configuration(w: &World, args: &[&str]) -> (i32, String) {
    let text = w.config_text();
    let pipe = w.dir.path().join("config-pipe.toml");
    fifo(&pipe);
    let mut child = command()
        .arg("--config")
        .arg(&pipe)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = collect(child.stderr.take().unwrap());
    // Opening a pipe for writing blocks until its reader opened it.
    let writer = {
        let pipe = pipe.clone();
        tokio::task::spawn_blocking(move || std::fs::OpenOptions::new().write(true).open(pipe))
    };
    let mut writer = tokio::time::timeout(Duration::from_secs(20), writer)
        .await
        .expect("the process never opened its configuration")
        .unwrap()
        .unwrap();
    send_signal(child.id().unwrap(), SIGTERM);
    writer.write_all(text.as_bytes()).unwrap();
    drop(writer);
    let code = wait_exit(&mut child).await;
    let log = log.lock().unwrap().clone();
    (code, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_once_loads_its_configuration_exits_75_instead_of_being_killed() {
    let mut w = World::new().await;
    w.log_level = "info".into();
    let (interview, posting) = w.interview_with_posting("Pilot");
    w.candidate("Amelia", "a@example.com", &posting);
    let (code, log) = sigterm_while_loading_the_configuration(&w, &["--once"]).await;
    assert_eq!(code, INTERRUPTED, "{log}");
    assert!(w.willo.participants(&interview).is_empty(), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_the_daemon_loads_its_configuration_exits_0_instead_of_being_killed() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let (code, log) = sigterm_while_loading_the_configuration(&w, &[]).await;
    assert_eq!(code, 0, "{log}");
    assert!(!log.contains("listening for webhooks"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_daemon_which_stays_up_and_ready() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let d = Daemon::start(&w, &[]).await;
    d.wait_ready().await;
    d.signal(SIGHUP);
    assert!(
        eventually(Duration::from_secs(10), || d
            .log()
            .contains("configuration reloaded"))
        .await,
        "{}",
        d.log()
    );
    assert_eq!(d.get("/healthz").await.0, 200);
    d.signal(SIGHUP);
    assert_eq!(d.get("/readyz").await.0, 200);
    d.signal(SIGTERM);
    assert_eq!(d.exit_code().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_during_once_is_logged_and_changes_nothing() {
    let mut w = World::new().await;
    w.log_level = "info".into();
    let (interview, posting) = w.interview_with_posting("Pilot");
    w.candidate("Amelia", "a@example.com", &posting);
    let hold = w
        .willo
        .hold(HoldRule::new("POST", "/api/integrations/v2/participants/"));
    let mut child = command()
        .arg("--config")
        .arg(w.config_file())
        .arg("--once")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = collect(child.stderr.take().unwrap());
    tokio::time::timeout(Duration::from_secs(30), hold.held())
        .await
        .expect("no invite started");
    send_signal(child.id().unwrap(), SIGHUP);
    assert!(
        eventually(Duration::from_secs(10), || log
            .lock()
            .unwrap()
            .contains("SIGHUP ignored"))
        .await,
        "{}",
        log.lock().unwrap()
    );
    hold.release();
    assert_eq!(wait_exit(&mut child).await, 0, "{}", log.lock().unwrap());
    assert_eq!(w.willo.participants(&interview).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_tells_a_running_pass_from_an_interrupted_one() {
    let w = World::new().await;
    let (_interview, posting) = w.interview_with_posting("Pilot");
    w.candidate("Amelia", "a@example.com", &posting);
    let hold = w
        .willo
        .hold(HoldRule::new("POST", "/api/integrations/v2/participants/"));
    let mut child = command()
        .arg("--config")
        .arg(w.config_file())
        .arg("--once")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(30), hold.held())
        .await
        .expect("no invite started");
    let running = status_json(&w).await;
    let pass = &running["tenants"][0]["passes"][0];
    assert_eq!(pass["state"], "running", "{running}");
    assert_eq!(pass["result"], serde_json::Value::Null, "{running}");
    let text = command()
        .arg("--config")
        .arg(w.config_file())
        .arg("status")
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("running"), "{text}");
    assert!(!text.contains("interrupted"), "{text}");

    // Killed outright: nothing can record the end, and `status` sees the holder is gone.
    send_signal(child.id().unwrap(), SIGKILL);
    assert_eq!(wait_exit(&mut child).await, -1);
    hold.release();
    let after = status_json(&w).await;
    assert_eq!(
        after["tenants"][0]["passes"][0]["state"], "interrupted",
        "{after}"
    );
}
