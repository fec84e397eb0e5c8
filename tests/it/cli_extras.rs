//! The command line around the daemon: `--version` with its commit and build date, shell
//! completions and the man page, a port in use (exit 69, which systemd retries), the sandbox's
//! kept state and the flags it refuses, `NO_COLOR`, and the progress line on a terminal.

use crate::support;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::World;
use support::daemon::{command, eventually};
use tokio::io::AsyncReadExt;
use willo_lever_sync::sim::hold::HoldRule;

const BIN: &str = env!("CARGO_BIN_EXE_willo-lever-sync");

async fn bin(args: &[&str]) -> support::Run {
    let out = command().args(args).output().await.unwrap();
    support::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test]
async fn version_names_the_commit_and_the_build_date() {
    let out = bin(&["--version"]).await;
    assert_eq!(out.code, 0);
    let line = out.stdout.trim();
    assert!(
        line.starts_with(&format!(
            "willo-lever-sync {} (commit ",
            env!("CARGO_PKG_VERSION")
        )),
        "{line}"
    );
    let date = line
        .split("built ")
        .nth(1)
        .unwrap_or("")
        .trim_end_matches(')');
    assert!(
        date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-',
        "no build date in {line}"
    );
}

#[tokio::test]
async fn completions_for_each_shell_and_the_man_page_name_every_command() {
    for (shell, marker) in [
        ("bash", "complete"),
        ("zsh", "#compdef"),
        ("fish", "complete -c"),
    ] {
        let out = bin(&["completions", shell]).await;
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        assert!(out.stdout.contains(marker), "{shell}: {}", out.stdout);
        for cmd in ["status", "tags", "connect", "sandbox", "completions", "man"] {
            assert!(out.stdout.contains(cmd), "{shell} lacks {cmd}");
        }
    }
    assert_eq!(bin(&["completions", "tcsh"]).await.code, 64);
    let man = bin(&["man"]).await;
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(
        man.stdout.contains(".TH willo-lever-sync"),
        "{}",
        man.stdout
    );
    assert!(man.stdout.contains("status"), "{}", man.stdout);
    // They read no configuration, so a missing one does not stop them.
    let out = command()
        .env("WLS_CONFIG", "/nonexistent.toml")
        .arg("man")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// Found when a second daemon on the same port exited 78 and systemd, which does not restart
/// on a configuration error, left the service down after the first one went away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listen_port_in_use_exits_69_which_the_unit_restarts_on() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let mut w = World::new().await;
    w.daemon_extra = format!("listen = \"{addr}\"");
    let text = w.config_text().replace("listen = \"127.0.0.1:0\"\n", "");
    std::fs::write(w.dir.path().join("config.toml"), text).unwrap();
    let out = command()
        .arg("--config")
        .arg(w.dir.path().join("config.toml"))
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(69), "{stderr}");
    assert!(
        stderr.contains(&format!("daemon.listen: cannot listen on {addr}")),
        "{stderr}"
    );
    let unit = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/willo-lever-sync.service"),
    )
    .unwrap();
    assert!(unit.contains("\nRestart=on-failure\n"), "{unit}");
    let prevent = unit
        .lines()
        .find_map(|l| l.strip_prefix("RestartPreventExitStatus="))
        .unwrap_or("");
    assert!(!prevent.split_whitespace().any(|s| s == "69"), "{prevent}");
    drop(taken);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_refuses_flags_it_would_ignore() {
    for args in [
        &["--config", "x.toml", "sandbox"][..],
        &["sandbox", "--tenant", "demo"],
        &["--tenant", "demo", "man"],
        &["connect", "acme", "--tenant", "acme"],
    ] {
        let out = bin(args).await;
        assert_eq!(out.code, 64, "{args:?}: {}", out.stderr);
    }
    let out = bin(&["--config", "x.toml", "sandbox", "--once"]).await;
    assert!(
        out.stderr.contains("--config is not used"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_keep_state_leaves_a_state_that_status_and_tags_read() {
    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("demo");
    let kept_arg = kept.display().to_string();
    let out = bin(&["sandbox", "--once", "--keep-state", &kept_arg]).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let config = kept.join("sandbox.toml");
    assert!(
        out.stdout
            .contains(&format!("--config {} status", config.display())),
        "{}",
        out.stdout
    );
    let config_arg = config.display().to_string();
    let status = bin(&["--config", &config_arg, "status"]).await;
    assert_eq!(status.code, 0, "{}\n{}", status.stdout, status.stderr);
    assert!(
        status.stdout.contains("tenant demo: connected"),
        "{}",
        status.stdout
    );
    assert!(status.stdout.contains("no_email"), "{}", status.stdout);
    let tags = bin(&["--config", &config_arg, "tags"]).await;
    assert!(
        tags.stdout.contains("Willo:Product Manager-Demo Co"),
        "{}",
        tags.stdout
    );
    // The simulated accounts start afresh every time: an old state is not reused.
    let again = bin(&["sandbox", "--once", "--keep-state", &kept_arg]).await;
    assert_eq!(again.code, 64, "{}", again.stderr);
}

/// Runs `args` under a pseudo-terminal (`script`), collecting what the terminal shows.
fn on_a_terminal(
    args: &str,
    no_color: bool,
) -> Option<(tokio::process::Child, Arc<Mutex<Vec<u8>>>)> {
    if !std::path::Path::new("/usr/bin/script").exists() {
        eprintln!("SKIPPED: script(1) is not installed; nothing ran on a terminal");
        return None;
    }
    let mut cmd = tokio::process::Command::new("/usr/bin/script");
    cmd.args(["-qfec", &format!("{BIN} {args}"), "/dev/null"])
        .env_remove("JOURNAL_STREAM")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WLS_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    if no_color {
        cmd.env("NO_COLOR", "1");
    } else {
        cmd.env_remove("NO_COLOR");
    }
    let mut child = cmd.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let screen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&screen);
    tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf).await {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    Some((child, screen))
}

fn text(screen: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&screen.lock().unwrap()).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_the_progress_line_says_the_phase_and_never_mixes_with_log_lines() {
    let mut w = World::new().await;
    w.log_level = "info".into();
    let (_i, posting) = w.interview_with_posting("Pilot");
    w.candidate("Amy", "amy@example.com", &posting);
    // The pass stops at its first tag write until the test has seen the progress line.
    let hold = w
        .lever
        .hold(HoldRule::new("POST", "/v1/opportunities/{id}/addTags"));
    let args = format!("--config {} --once", w.config_file().display());
    let Some((mut child, screen)) = on_a_terminal(&args, true) else {
        return;
    };
    let shown = eventually(Duration::from_secs(20), || {
        let t = text(&screen);
        t.contains("passes 0 of 1 finished") && t.contains("acme: applying, 1 of 2 actions")
    })
    .await;
    hold.release();
    assert!(shown, "no progress line:\n{:?}", text(&screen));
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    let t = text(&screen);
    assert!(t.contains("retries"), "{t:?}");
    let mut log_lines = 0;
    for line in t.split('\n') {
        // What stays visible of the line: the part after the last erase.
        let visible = line
            .rsplit("\r\u{1b}[K")
            .next()
            .unwrap_or(line)
            .trim_end_matches('\r');
        if visible.contains(" INFO ") || visible.contains(" WARN ") {
            log_lines += 1;
            assert!(
                visible.starts_with("20"),
                "a log line does not start the line: {visible:?}"
            );
            assert!(
                !visible.contains("passes "),
                "progress inside a log line: {visible:?}"
            );
        }
    }
    assert!(log_lines >= 3, "{t:?}");
    // NO_COLOR: no colour codes at all.
    assert!(
        !t.contains("\u{1b}[32m") && !t.contains("\u{1b}[2m"),
        "{t:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_gets_colours_unless_no_color_is_set() {
    let mut w = World::new().await;
    // check-config logs one debug line: something to colour.
    w.log_level = "debug".into();
    let args = format!("--config {} check-config", w.config_file().display());
    for (no_color, coloured) in [(false, true), (true, false)] {
        let Some((mut child, screen)) = on_a_terminal(&args, no_color) else {
            return;
        };
        let _ = tokio::time::timeout(Duration::from_secs(30), child.wait())
            .await
            .unwrap();
        let t = text(&screen);
        assert!(t.contains("configuration loaded"), "{t:?}");
        assert_eq!(
            t.contains("\u{1b}["),
            coloured,
            "NO_COLOR={no_color}: {t:?}"
        );
    }
}
