//! `willo-lever-sync sandbox` as a process: `--once` reports invites and exits 0; the daemon
//! invites on the story's first delivered webhook, says where /metrics and /readyz are, and
//! exits 0 on Ctrl-C with its temporary state removed; with fast polling the whole story
//! converges, lost webhooks included.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

/// Generous: the machine is shared; every wait ends as soon as its line shows up.
const DEADLINE: Duration = Duration::from_secs(60);

fn sandbox(args: &[&str], env: &[(&str, &str)]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_willo-lever-sync"));
    c.arg("sandbox")
        .args(args)
        .env_remove("WLS_CONFIG")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("JOURNAL_STREAM")
        // Tests run in parallel: never compete for the sandbox's default port.
        .env("WLS__DAEMON__LISTEN", "127.0.0.1:0")
        .env("WLS_SANDBOX_PACE_MS", "100")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// A running sandbox: its narrative (stdout) line by line, its log (stderr) kept for failure
/// messages.
struct Running {
    child: tokio::process::Child,
    lines: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
    log: Arc<Mutex<String>>,
}

impl Running {
    fn start(env: &[(&str, &str)]) -> Running {
        let mut child = sandbox(&[], env).spawn().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = out.next_line().await {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let log = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&log);
        let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err.next_line().await {
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
            log,
        }
    }

    /// Reads narrative lines until one satisfies `found`; panics with everything seen after
    /// the deadline or if the process ends first.
    async fn wait_for(&mut self, what: &str, found: impl Fn(&str) -> bool) -> String {
        let until = tokio::time::Instant::now() + DEADLINE;
        loop {
            match tokio::time::timeout_at(until, self.lines.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if found(&line) {
                        return line;
                    }
                }
                Ok(None) => panic!("the sandbox ended before {what}:\n{}", self.transcript()),
                Err(_) => panic!("no {what} within {DEADLINE:?}:\n{}", self.transcript()),
            }
        }
    }

    fn transcript(&self) -> String {
        format!(
            "--- stdout\n{}\n--- stderr\n{}",
            self.seen.join("\n"),
            self.log.lock().unwrap()
        )
    }

    /// The value printed after `prefix` on a line already seen.
    fn after(&self, prefix: &str) -> String {
        self.seen
            .iter()
            .find_map(|l| l.split_once(prefix).map(|(_, rest)| rest.to_owned()))
            .unwrap_or_else(|| panic!("no line with {prefix:?}:\n{}", self.transcript()))
    }

    fn interrupt(&self) {
        let pid = i32::try_from(self.child.id().unwrap()).unwrap();
        // SAFETY: kill(2) with our child's pid and a standard signal number.
        unsafe {
            kill(pid, SIGINT);
        }
    }

    /// Waits for exit, collecting the rest of the narrative; returns the exit code.
    async fn exit_code(&mut self) -> i32 {
        let status = tokio::time::timeout(DEADLINE, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the sandbox did not exit:\n{}", self.transcript()))
            .unwrap();
        while let Ok(Some(line)) = tokio::time::timeout(DEADLINE, self.lines.recv()).await {
            self.seen.push(line);
        }
        status.code().unwrap_or(-1)
    }
}

unsafe extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}
const SIGINT: i32 = 2;

/// `  invites                 5 sent, …` → 5.
fn invites_sent(summary: &str) -> Option<u32> {
    summary
        .lines()
        .find_map(|l| l.trim().strip_prefix("invites"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_once_runs_one_full_pass_that_sends_invites_and_exits_0() {
    let out = tokio::time::timeout(DEADLINE, sandbox(&["--once"], &[]).output())
        .await
        .expect("sandbox --once did not finish")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("full pass converged"), "{stdout}\n{stderr}");
    let sent = invites_sent(&stdout).unwrap_or(0);
    assert!(sent > 0, "no invites sent:\n{stdout}\n{stderr}");
    // The daemon's own log says the same on stderr, with the pass's code path.
    assert!(stderr.contains("invited"), "{stderr}");
    let dir = stdout
        .lines()
        .find_map(|l| l.strip_prefix("sandbox: removed "))
        .unwrap_or_else(|| panic!("no removal line:\n{stdout}"));
    assert!(!PathBuf::from(dir).exists(), "{dir} is still there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_invites_on_the_first_delivered_webhook_and_exits_0_on_ctrl_c() {
    let mut s = Running::start(&[]);
    let line = s
        .wait_for("webhook-driven invite", |l| {
            l.starts_with("daemon: invited") && l.contains("via Lever's webhook")
        })
        .await;
    assert!(line.contains("Ada Lovelace"), "{line}");
    // The story said what it did before the daemon did it.
    assert!(
        s.seen
            .iter()
            .any(|l| l.starts_with("story: moved Ada Lovelace") && l.contains("webhook delivered")),
        "{}",
        s.transcript()
    );

    // Where it says /metrics and /readyz are, they are.
    let metrics = s.after("metrics    ");
    let readyz = s.after("readiness  ");
    let r = reqwest::get(&metrics).await.unwrap();
    assert_eq!(r.status(), 200, "{metrics}");
    assert!(r.text().await.unwrap().contains("willo_lever_sync_"));
    // Ready: the start-up full pass finished before the story moved anyone.
    let r = reqwest::get(&readyz).await.unwrap();
    assert_eq!(r.status(), 200, "{readyz}");

    let state = PathBuf::from(
        s.after("state in ")
            .split(" (removed at exit)")
            .next()
            .unwrap(),
    );
    assert!(state.exists(), "{}", state.display());
    s.interrupt();
    let code = s.exit_code().await;
    assert_eq!(code, 0, "{}", s.transcript());
    assert!(
        s.seen.iter().any(|l| l == "sandbox: stopped"),
        "{}",
        s.transcript()
    );
    assert!(!state.exists(), "{} was not removed", state.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_fast_polling_the_whole_story_converges_lost_webhooks_included() {
    // Incremental passes every 2 s instead of 20 s, so polling catches the lost webhooks
    // quickly; everything else is the sandbox as shipped.
    let mut s = Running::start(&[("WLS__DAEMON__SCHEDULE", "*/2 * * * * *")]);
    let end = s
        .wait_for("end of the story", |l| l.starts_with("story: over"))
        .await;
    assert!(
        end.contains("everything converged"),
        "{end}\n{}",
        s.transcript()
    );
    let count = |needle: &str| s.seen.iter().filter(|l| l.contains(needle)).count();
    // Two Lever deliveries and one Willo delivery were dropped on purpose.
    assert_eq!(
        count("webhook was lost, so polling caught it"),
        3,
        "{}",
        s.transcript()
    );
    assert_eq!(
        count("so the daemon adopted it (no second invite email)"),
        1
    );
    assert_eq!(count("needs attention"), 2, "{}", s.transcript());
    assert_eq!(
        count("after it was removed by hand"),
        1,
        "{}",
        s.transcript()
    );
    assert_eq!(count("story: as expected, Hedy Lamarr was not invited"), 1);
    s.interrupt();
    assert_eq!(s.exit_code().await, 0, "{}", s.transcript());
}
