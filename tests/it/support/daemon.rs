//! The daemon (and `--once`) as a child process of a test: its log, its address, signals.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use willo_lever_sync::sim::lever::sign_webhook as sign;

use super::World;

pub const SIGNATURE_TOKEN: &str = "lever-signature-token-0123456789";
pub const WILLO_TOKEN: &str = "willo-url-token-abcdef";

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGKILL: i32 = 9;
pub const SIGTERM: i32 = 15;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

/// Sends `sig` to the process `pid` (a child of the test).
pub fn send_signal(pid: u32, sig: i32) {
    let pid = i32::try_from(pid).unwrap();
    // SAFETY: kill(2) with a child's pid and a standard signal number.
    let rc = unsafe { libc_kill(pid, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig}) failed");
}

/// Polls `check` until it holds or `deadline` passes.
pub async fn eventually(deadline: Duration, mut check: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + deadline;
    loop {
        if check() {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Webhook secrets for both APIs, an info log and a 10-second shutdown grace.
pub fn world_for_daemon(w: &mut World) {
    w.log_level = "info".into();
    w.lever_extra = format!("webhook_signature_token = \"{SIGNATURE_TOKEN}\"");
    w.willo_extra = format!("webhook_token = \"{WILLO_TOKEN}\"");
    w.daemon_extra = "shutdown_grace_seconds = 10".into();
}

/// The binary with an environment free of the caller's systemd and configuration variables.
pub fn command() -> tokio::process::Command {
    command_of(std::path::Path::new(env!("CARGO_BIN_EXE_willo-lever-sync")))
}

/// [`command`] run as `uid`, from a copy of the binary in `dir`, a directory `uid` can enter:
/// the checkout may sit in one only its owner enters (a CI clone under a 0700 temporary
/// directory).
pub fn command_as(uid: u32, dir: &std::path::Path) -> tokio::process::Command {
    let exe = dir.join("willo-lever-sync");
    if !exe.exists() {
        std::fs::copy(env!("CARGO_BIN_EXE_willo-lever-sync"), &exe).unwrap();
    }
    let mut cmd = command_of(&exe);
    cmd.uid(uid).gid(uid);
    cmd
}

/// [`command`] for the binary at `exe`.
fn command_of(exe: &std::path::Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(exe);
    cmd.env_remove("WLS_CONFIG")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("JOURNAL_STREAM")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// Collects a child's stderr lines into a shared string.
pub fn collect(stream: impl tokio::io::AsyncRead + Unpin + Send + 'static) -> Arc<Mutex<String>> {
    let log = Arc::new(Mutex::new(String::new()));
    let mut lines = BufReader::new(stream).lines();
    let sink = Arc::clone(&log);
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            let mut l = sink.lock().unwrap();
            l.push_str(&line);
            l.push('\n');
        }
    });
    log
}

pub struct Daemon {
    pub child: tokio::process::Child,
    pub addr: String,
    pub log: Arc<Mutex<String>>,
    pub http: reqwest::Client,
}

impl Daemon {
    pub async fn start(w: &World, env: &[(&str, &str)]) -> Daemon {
        let mut cmd = command();
        cmd.arg("--config").arg(w.config_file());
        Daemon::start_command(cmd, env).await
    }

    /// Starts `cmd` (the binary with its arguments) as the daemon and waits for its address.
    pub async fn start_command(mut cmd: tokio::process::Command, env: &[(&str, &str)]) -> Daemon {
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let log = collect(child.stderr.take().unwrap());
        let mut addr = None;
        let found = eventually(Duration::from_secs(20), || {
            let l = log.lock().unwrap();
            addr = l
                .lines()
                .find(|x| x.contains("listening for webhooks"))
                .and_then(|x| x.split("listen=").nth(1))
                .map(|rest| rest.split_whitespace().next().unwrap_or("").to_owned());
            addr.is_some()
        })
        .await;
        assert!(
            found,
            "the daemon never said where it listens:\n{}",
            log.lock().unwrap()
        );
        Daemon {
            child,
            addr: addr.unwrap(),
            log,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let r = self.http.get(self.url(path)).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    pub async fn post(&self, path: &str, body: Vec<u8>) -> (u16, String) {
        let r = self
            .http
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    pub async fn wait_ready(&self) {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let (code, body) = self.get("/readyz").await;
            if code == 200 {
                return;
            }
            assert!(
                Instant::now() < until,
                "never ready: {body}\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn signal(&self, sig: i32) {
        send_signal(self.child.id().unwrap(), sig);
    }

    /// The exit status; -1 when the process was killed by a signal.
    pub async fn exit_code(mut self) -> i32 {
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the daemon did not exit")
            .unwrap()
            .code()
            .unwrap_or(-1)
    }

    /// A metric sample's value from `/metrics`, if the series exists.
    pub async fn metric(&self, series: &str) -> Option<f64> {
        let (_, text) = self.get("/metrics").await;
        text.lines()
            .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
    }
}

/// A Lever `candidateStageChange` body signed with `key`.
pub fn signed_body(opportunity: &str, token: &str, triggered_at: i64, key: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "triggeredAt": triggered_at,
        "event": "candidateStageChange",
        "data": {"opportunityId": opportunity, "candidateId": opportunity, "contactId": "c",
                 "fromStageId": "a", "toStageId": "b"},
        "token": token,
        "signature": sign(key, token, triggered_at),
    }))
    .unwrap()
}

pub fn now_ms() -> i64 {
    willo_lever_sync::clock::now_ms()
}
