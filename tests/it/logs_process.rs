//! What the log says, as an operator reads it from the process: the start-up line, one line
//! per pass start and end with its counts, action lines that name the candidate and carry the
//! Lever link, syslog priorities under journald, JSON with top-level fields, no third-party
//! chatter at the default level, and `log.level` words checked.

use crate::support;

use std::time::Duration;

use support::daemon::{Daemon, SIGTERM, command, eventually, world_for_daemon};
use support::{World, run};

/// A tenant with one candidate invited by the pass and one without an email (a warning).
async fn world_with_work() -> (World, String, String) {
    let mut w = World::new().await;
    w.log_level = "info".into();
    let (_interview, posting) = w.interview_with_posting("Pilot");
    let amy = w.candidate("Amy Adams", "amy@example.com", &posting);
    let nora = w.candidate("Nora Noemail", "nora@example.com", &posting);
    w.lever.set_emails(&nora, &[]).unwrap();
    (w, amy, nora)
}

fn line_with<'a>(log: &'a str, needle: &str) -> &'a str {
    log.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?}:\n{log}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_starts_with_one_line_naming_version_config_state_tenants_and_next_passes() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let d = Daemon::start(&w, &[]).await;
    let log = d.log();
    let line = line_with(&log, "started:");
    for field in [
        &format!("version=\"{}", env!("CARGO_PKG_VERSION")),
        "commit ",
        &format!("config={}", w.config_file().display()),
        &format!(
            "state={}",
            w.state_dir().join("willo-lever-sync.db").display()
        ),
        "tenants=[\"acme\"]",
        "schedule=0 0 0 1 1 *",
        "next_incremental=",
        "full_schedule=0 0 0 1 1 *",
        "next_full=",
        "listen=127.0.0.1:",
    ] {
        assert!(line.contains(field), "{field} missing from: {line}");
    }
    d.signal(SIGTERM);
    assert_eq!(d.exit_code().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_logs_its_start_its_actions_by_candidate_and_link_and_its_end_with_api_calls() {
    let (w, amy, nora) = world_with_work().await;
    let out = run(&w, &["--once"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let log = &out.stderr;
    let started = line_with(log, "pass started");
    assert!(
        started.contains("tenant=acme") && started.contains("kind=full"),
        "{started}"
    );
    let invited = line_with(log, "invited: one invite email sent");
    assert!(
        invited.contains(&format!("opportunities=[\"{amy}\"]")),
        "{invited}"
    );
    assert!(invited.contains("candidates=[\"Amy Adams\"]"), "{invited}");
    let link = format!("{}/candidates/{amy}", w.lever.origin());
    assert!(
        invited.contains(&link),
        "the Lever link {link} is missing: {invited}"
    );
    let tagged = line_with(log, "tags added");
    assert!(tagged.contains("candidate=\"Amy Adams\""), "{tagged}");
    assert!(tagged.contains(&link), "{tagged}");
    let attention = line_with(log, "needs attention");
    assert!(
        attention.contains("candidate=\"Nora Noemail\""),
        "{attention}"
    );
    assert!(attention.contains(&nora), "{attention}");
    let finished = line_with(log, "pass finished");
    for field in [
        "result=converged",
        "invites_sent=1",
        "tags_added=1",
        "needs_attention=1",
        "lever_calls=",
        "lever_429=0",
        "willo_calls=",
        "willo_429=0",
    ] {
        assert!(finished.contains(field), "{field} missing from: {finished}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_journald_each_line_starts_with_its_syslog_priority() {
    let (w, _amy, _nora) = world_with_work().await;
    let out = command()
        .arg("--config")
        .arg(w.config_file())
        .arg("--once")
        .env("JOURNAL_STREAM", "8:1234")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!log.trim().is_empty());
    for line in log.lines() {
        // `<N>` and then the level word, with no timestamp in between.
        let (prefix, rest) = line.split_at(3);
        let level = rest.split_whitespace().next().unwrap_or("");
        let expected = match level {
            "ERROR" => "<3>",
            "WARN" => "<4>",
            "INFO" => "<6>",
            _ => "<7>",
        };
        assert_eq!(prefix, expected, "{line}");
    }
    assert!(
        line_with(&log, "needs attention").starts_with("<4>"),
        "{log}"
    );
    assert!(line_with(&log, "pass finished").starts_with("<6>"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_carry_fields_at_the_top_level_and_lists_as_arrays() {
    let (w, amy, _nora) = world_with_work().await;
    let out = command()
        .arg("--config")
        .arg(w.config_file())
        .arg("--once")
        .env("WLS__LOG__FORMAT", "json")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let log = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let invited = lines
        .iter()
        .find(|v| v["message"] == "invited: one invite email sent")
        .unwrap_or_else(|| panic!("{log}"));
    assert!(invited.get("fields").is_none(), "{invited}");
    assert_eq!(invited["tenant"], "acme");
    assert_eq!(invited["level"], "INFO");
    assert_eq!(invited["opportunities"], serde_json::json!([amy]));
    assert_eq!(invited["candidates"], serde_json::json!(["Amy Adams"]));
    let finished = lines
        .iter()
        .find(|v| v["message"] == "pass finished")
        .unwrap();
    // Counts are numbers, not text.
    assert_eq!(finished["invites_sent"], 1);
    assert!(finished["lever_calls"].as_u64().unwrap() > 0, "{finished}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedulers_start_up_chatter_is_off_at_the_default_level() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let chatter = |log: &str| {
        log.lines()
            .filter(|l| l.contains("tokio_cron_scheduler"))
            .count()
    };
    // Named, the scheduler's info lines show: the check below can see them.
    w.log_level = "info,tokio_cron_scheduler=info".into();
    let d = Daemon::start(&w, &[]).await;
    assert!(
        eventually(Duration::from_secs(10), || chatter(&d.log()) > 0).await,
        "the scheduler said nothing even when asked:\n{}",
        d.log()
    );
    d.signal(SIGTERM);
    assert_eq!(d.exit_code().await, 0);
    w.log_level = "info".into();
    let d = Daemon::start(&w, &[]).await;
    d.wait_ready().await;
    d.signal(SIGTERM);
    let log = d.log.clone();
    assert_eq!(d.exit_code().await, 0);
    let log = log.lock().unwrap().clone();
    assert_eq!(chatter(&log), 0, "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_level_word_tracing_would_take_for_a_target_exits_78_with_the_accepted_words() {
    let mut w = World::new().await;
    for word in ["warning", "verbose"] {
        w.log_level = word.into();
        let out = run(&w, &["check-config"]).await;
        assert_eq!(out.code, 78, "{word}: {}", out.stderr);
        assert!(out.stderr.contains("log.level"), "{}", out.stderr);
        assert!(out.stderr.contains(&format!("{word:?}")), "{}", out.stderr);
        assert!(
            out.stderr.contains("off, error, warn, info, debug, trace"),
            "{}",
            out.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_log_does_not_change_the_level() {
    let mut w = World::new().await;
    w.log_level = "warn".into();
    let out = support::bin()
        .arg("--config")
        .arg(w.config_file())
        .arg("check-config")
        .env("RUST_LOG", "debug")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!log.contains("configuration loaded"), "{log}");
    // The same line shows when log.level asks for it.
    w.log_level = "debug".into();
    let out = run(&w, &["check-config"]).await;
    assert!(
        out.stderr.contains("configuration loaded"),
        "{}",
        out.stderr
    );
}
