//! The command-line surface of the binary.

use assert_cmd::Command;
use predicates::prelude::*;

fn bin() -> Command {
    let mut c = Command::cargo_bin("willo-lever-sync").unwrap();
    // Keep the developer's environment out of the tests.
    c.env_remove("WLS_CONFIG")
        .env_remove("CREDENTIALS_DIRECTORY");
    c
}

const CONFIG: &str = r#"
[daemon]
state_dir = "STATE"
[log]
level = "debug"
[[tenants]]
id = "acme"
account_name = "Acme"
trigger_stages = ["Video Interview"]
[tenants.lever]
api_key = "SECRET-LEVER-KEY-7781"
webhook_signature_token_file = "sig.token"
[tenants.willo]
api_key = "SECRET-WILLO-KEY-9932"
webhook_token = "SECRET-WILLO-HOOK-1204"
"#;

fn write_config(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::write(dir.join("sig.token"), "SECRET-SIGNATURE-5550\n").unwrap();
    let path = dir.join("c.toml");
    std::fs::write(
        &path,
        CONFIG.replace("STATE", &dir.join("state").display().to_string()),
    )
    .unwrap();
    path
}

#[test]
fn help_explains_each_command_with_an_example() {
    let out = bin()
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    for cmd in [
        "status",
        "tags",
        "check-config",
        "connect",
        "sandbox",
        "--once",
        "--dry-run",
        "--tenant",
        "Examples:",
    ] {
        assert!(text.contains(cmd), "--help lacks {cmd}:\n{text}");
    }
    for cmd in ["status", "tags", "check-config", "connect", "sandbox"] {
        bin()
            .args([cmd, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("Example"));
    }
}

#[test]
fn an_unknown_flag_is_a_usage_error_64() {
    bin()
        .arg("--no-such-flag")
        .assert()
        .code(64)
        .stderr(predicate::str::contains("--no-such-flag"));
}

#[test]
fn dry_run_without_once_is_a_usage_error_64() {
    bin().arg("--dry-run").assert().code(64);
}

#[test]
fn once_with_a_command_is_a_usage_error_64() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path());
    bin()
        .arg("--config")
        .arg(&cfg)
        .args(["--once", "status"])
        .assert()
        .code(64);
}

#[test]
fn an_unknown_tenant_is_a_usage_error_naming_the_configured_ones() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path());
    bin()
        .arg("--config")
        .arg(&cfg)
        .args(["--tenant", "nope", "status"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("acme"));
}

#[test]
fn check_config_prints_the_resolved_config_without_secrets_even_in_debug_logs() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path());
    let out = bin()
        .arg("--config")
        .arg(&cfg)
        .arg("check-config")
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stdout.contains("account_name = \"Acme\""), "{stdout}");
    assert!(stdout.contains("redacted"), "{stdout}");
    // The debug log line with the whole configuration was written…
    assert!(stderr.contains("configuration loaded"), "{stderr}");
    // …and neither output carries a secret.
    for secret in [
        "SECRET-LEVER-KEY-7781",
        "SECRET-WILLO-KEY-9932",
        "SECRET-WILLO-HOOK-1204",
        "SECRET-SIGNATURE-5550",
    ] {
        assert!(!stdout.contains(secret), "{secret} on stdout");
        assert!(!stderr.contains(secret), "{secret} in the log");
    }
}

#[test]
fn a_config_error_exits_78_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, CONFIG.replace("id = \"acme\"", "id = \"ACME!\"")).unwrap();
    bin()
        .arg("--config")
        .arg(&path)
        .arg("check-config")
        .assert()
        .code(78)
        .stderr(predicate::str::contains("tenants[0].id"));
}

#[test]
fn a_missing_config_file_exits_78_naming_the_file() {
    bin()
        .args(["--config", "/nonexistent/wls.toml", "check-config"])
        .assert()
        .code(78)
        .stderr(predicate::str::contains("/nonexistent/wls.toml"));
}

#[test]
fn environment_overrides_reach_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path());
    bin()
        .arg("--config")
        .arg(&cfg)
        .arg("check-config")
        .env("WLS__DAEMON__LISTEN", "127.0.0.1:9911")
        .assert()
        .success()
        .stdout(predicate::str::contains("listen = \"127.0.0.1:9911\""));
}

#[test]
fn secrets_are_read_from_credentials_directory() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path());
    let creds = tempfile::tempdir().unwrap();
    // Only the credentials directory has the file: success proves it was looked up there.
    std::fs::remove_file(dir.path().join("sig.token")).unwrap();
    std::fs::write(creds.path().join("sig.token"), "x").unwrap();
    bin()
        .arg("--config")
        .arg(&cfg)
        .arg("check-config")
        .env("CREDENTIALS_DIRECTORY", creds.path())
        .assert()
        .success()
        .stdout(predicate::str::contains(
            creds.path().join("sig.token").display().to_string(),
        ));
}

#[test]
fn status_before_any_pass_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path());
    bin()
        .arg("--config")
        .arg(&cfg)
        .arg("status")
        .assert()
        // Nothing has run: a check must not call that well.
        .code(1)
        .stdout(predicate::str::contains("no pass has run yet"));
}

#[test]
fn the_shipped_sandbox_config_passes_check_config() {
    bin()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--config", "config/sandbox.toml", "check-config"])
        .assert()
        .success();
}

#[test]
fn log_dir_gets_a_daily_file_with_everything_flushed_at_exit() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path());
    let logs = dir.path().join("logs");
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "level = \"debug\"",
        &format!("level = \"debug\"\ndir = \"{}\"", logs.display()),
    );
    std::fs::write(&cfg, text).unwrap();
    bin()
        .arg("--config")
        .arg(&cfg)
        .arg("check-config")
        .assert()
        .success();
    let files: Vec<_> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("willo-lever-sync.") && name.ends_with(".log"),
        "{name}"
    );
    let content = std::fs::read_to_string(&files[0]).unwrap();
    assert!(content.contains("configuration loaded"), "{content}");
    assert!(!content.contains("SECRET-LEVER-KEY-7781"));
}

#[test]
fn under_journald_text_lines_carry_no_timestamp() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path());
    let with = |journal: bool| {
        let mut c = bin();
        c.arg("--config").arg(&cfg).arg("check-config");
        if journal {
            c.env("JOURNAL_STREAM", "8:1234");
        } else {
            c.env_remove("JOURNAL_STREAM");
        }
        let out = c.assert().success().get_output().stderr.clone();
        String::from_utf8(out).unwrap()
    };
    let journald = with(true);
    let line = journald
        .lines()
        .find(|l| l.contains("configuration loaded"))
        .unwrap();
    // The syslog priority (7, debug) that journald reads, then no timestamp.
    assert!(
        line.starts_with("<7>") && line[3..].trim_start().starts_with("DEBUG"),
        "{line}"
    );
    let plain = with(false);
    let line = plain
        .lines()
        .find(|l| l.contains("configuration loaded"))
        .unwrap();
    assert!(line.starts_with("20"), "expected a timestamp first: {line}");
}

#[test]
fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path());
    let out = bin()
        .arg("--config")
        .arg(&cfg)
        .arg("check-config")
        .env("WLS__LOG__FORMAT", "json")
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    let text = String::from_utf8(out).unwrap();
    let first = text.lines().next().unwrap();
    let v: serde_json::Value = serde_json::from_str(first).unwrap();
    assert_eq!(v["level"], "DEBUG");
}
