//! What an operator sees when something goes wrong: every cause of an error printed exactly
//! once, and a reader that closes stdout early (`| head`) ending the command quietly.
//!
//! Found by running `check-config --config nope.toml` (the OS error printed twice) and
//! `check-config | head -c 10` (exit 74, "Broken pipe" on stderr).

use crate::support;

use std::path::Path;
use std::process::{Command, Stdio};

use support::World;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_willo-lever-sync"));
    c.env_remove("WLS_CONFIG")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("JOURNAL_STREAM")
        .stdin(Stdio::null());
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(c: &mut Command) -> Run {
    let out = c.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The OS's text for an error kind, as `std::io::Error` shows it (e.g. "No such file or
/// directory (os error 2)").
fn os_text(e: std::io::Error) -> String {
    e.to_string()
}

/// A configuration whose APIs are never reached by the commands below.
fn config(dir: &Path, state_dir: &Path, lever_extra: &str) -> std::path::PathBuf {
    let text = format!(
        r#"
[daemon]
state_dir = "{state}"
[log]
level = "warn"
[[tenants]]
id = "acme"
account_name = "Acme"
trigger_stages = ["Video Interview"]
[tenants.lever]
base_url = "http://127.0.0.1:9/v1"
{lever_extra}
[tenants.willo]
base_url = "http://127.0.0.1:9/api/integrations/v2"
api_key = "willo-key"
"#,
        state = state_dir.display(),
    );
    let path = dir.join("c.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn assert_once(haystack: &str, needle: &str) {
    assert_eq!(
        haystack.matches(needle).count(),
        1,
        "expected {needle:?} exactly once in:\n{haystack}"
    );
}

#[test]
fn a_missing_configuration_file_prints_its_os_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let cause = os_text(std::fs::read(&missing).unwrap_err());
    let out = run(bin().arg("--config").arg(&missing).arg("check-config"));
    assert_eq!(out.code, 78, "{}", out.stderr);
    assert_once(&out.stderr, &cause);
    assert!(
        out.stderr.contains(&format!(
            "cannot read configuration file {}",
            missing.display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

#[test]
fn an_unreadable_secret_file_prints_its_key_and_os_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let cause = os_text(std::fs::read(dir.path().join("missing.key")).unwrap_err());
    let cfg = config(
        dir.path(),
        &dir.path().join("state"),
        "api_key_file = \"missing.key\"",
    );
    let out = run(bin().arg("--config").arg(&cfg).arg("check-config"));
    assert_eq!(out.code, 78, "{}", out.stderr);
    assert!(
        out.stderr.contains("tenants[acme].lever.api_key_file"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("cannot read secret file"),
        "{}",
        out.stderr
    );
    assert_once(&out.stderr, &cause);
}

#[test]
fn a_state_store_that_cannot_be_created_prints_its_os_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where the state directory's parent should be.
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, "").unwrap();
    let state = file.join("state");
    let cause = os_text(std::fs::create_dir_all(&state).unwrap_err());
    let cfg = config(dir.path(), &state, "api_key = \"lever-key\"");
    let out = run(bin().arg("--config").arg(&cfg).arg("--once"));
    assert_eq!(out.code, 74, "{}", out.stderr);
    assert!(out.stderr.contains("state store"), "{}", out.stderr);
    assert_once(&out.stderr, &cause);
}

/// Runs the command with a stdout whose reading end is already closed, so its first write
/// fails with EPIPE. Returns the exit code and stderr.
fn run_into_closed_pipe(c: &mut Command) -> (i32, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = c.stdout(writer).stderr(Stdio::piped()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_config_and_status_end_quietly_when_stdout_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &dir.path().join("state"),
        "api_key = \"lever-key\"",
    );
    // `status` exits 1 before any pass has run (it is a check); the others 0.
    for (args, status) in [
        (&["check-config"][..], 0),
        (&["status"], 1),
        (&["status", "--json"], 1),
        (&["tags"], 0),
    ] {
        let (code, stderr) = run_into_closed_pipe(bin().arg("--config").arg(&cfg).args(args));
        assert_eq!((code, stderr.as_str()), (status, ""), "{args:?}");
    }
    // The same commands with a reader print what they always printed.
    let out = run(bin().arg("--config").arg(&cfg).arg("check-config"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("[tenants.lever]"), "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_and_dry_run_end_quietly_when_stdout_is_closed() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Writer");
    w.candidate("Ann", "ann@example.com", &posting);
    let cfg = w.config_file();
    for args in [
        &["--once", "--dry-run"][..],
        &["--once"],
        &["--once", "--json"],
    ] {
        let cfg = cfg.clone();
        let (code, stderr) = tokio::task::spawn_blocking(move || {
            run_into_closed_pipe(bin().arg("--config").arg(&cfg).args(args))
        })
        .await
        .unwrap();
        assert_eq!((code, stderr.as_str()), (0, ""), "{args:?}");
    }
    // The pass really ran: the invite went out despite nobody reading the summary.
    assert_eq!(w.willo.participants(&interview).len(), 1);
}
