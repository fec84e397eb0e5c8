//! The status page: its data (`/status.json`), its switch, and the page itself as headless
//! Chromium renders it (`--dump-dom`, `--screenshot`).
//!
//! `WLS_UPDATE_SCREENSHOT=1 cargo test --test it monitoring::status_page` also copies the
//! screenshot to docs/status-page.png.

use std::path::Path;
use std::time::Duration;

use super::scene::{EMAILS, HOSTILE_NAME, scene};
use super::tools::{chromium, printed, repo, run};
use crate::support::daemon::SIGTERM;

/// Chromium's flags for a run that talks to nothing but the page.
fn chromium_args(profile: &Path) -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect()
}

async fn chromium_run(extra: &[String], url: &str) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    let mut args = chromium_args(profile.path());
    args.extend(extra.iter().cloned());
    args.push(url.to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&chromium(), &args, None, Duration::from_secs(120)).await;
    assert!(out.status.success(), "{}", printed(&out));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_shows_each_tenant_in_a_browser_escaped_and_without_addresses() {
    let s = scene("").await;
    let url = s.daemon.url("/");
    let dom =
        String::from_utf8(chromium_run(&["--dump-dom".to_owned()], &url).await.stdout).unwrap();

    // The hostile name is text, not markup: no script element, no <b> made of it.
    assert!(!dom.contains("<script"), "{dom}");
    assert!(!dom.contains("<b>Ortiz"), "{dom}");
    assert!(
        dom.contains(
            "Amelia &lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;Ortiz&lt;/b&gt; &amp; \"co\""
        ),
        "{dom}"
    );
    for email in EMAILS {
        assert!(!dom.contains(email), "{email} shown:\n{dom}");
    }
    for shown in [
        "willo-lever-sync status",
        r#"data-tenant="acme""#,
        "connected",
        // The last passes, with the full pass and its result.
        "actions_failed",
        // The next passes from the schedule (a year away in the tests).
        "Next incremental pass",
        "0 0 0 1 1 *",
        "Hint queue",
        // What the key may not read, and what to grant.
        "/postings: permission denied (HTTP 403)",
        "Postings: read",
        // The failing candidate, deferred until its retry, with Lever's refusal.
        "Bo Failing",
        "deferred until",
        // The candidate without an address needs a person.
        "no_email",
    ] {
        assert!(dom.contains(shown), "{shown:?} not on the page:\n{dom}");
    }
    assert!(
        dom.contains(&s.failing) && dom.contains(&s.no_email),
        "{dom}"
    );
    // Candidates link to their page in Lever.
    let link = format!("/candidates/{}\"", s.no_email);
    let linked = dom.split("href=\"").skip(1).any(|rest| {
        rest.starts_with("http")
            && rest
                .split_once('"')
                .is_some_and(|(u, _)| format!("{u}\"").ends_with(&link))
    });
    assert!(linked, "no link to {link}:\n{dom}");

    let shot_dir = tempfile::tempdir().unwrap();
    let shot = shot_dir.path().join("status-page.png");
    chromium_run(
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,820".to_owned(),
        ],
        &url,
    )
    .await;
    let png = std::fs::read(&shot).expect("chromium wrote the screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000);
    if std::env::var_os("WLS_UPDATE_SCREENSHOT").is_some() {
        std::fs::write(repo().join("docs/status-page.png"), &png).unwrap();
    }
    s.daemon.signal(SIGTERM);
    assert_eq!(s.daemon.exit_code().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_json_has_a_schema_version_and_the_page_s_data() {
    let s = scene("").await;
    let v = s.status().await;
    assert_eq!(v["schema_version"], 1);
    let t = &v["tenants"][0];
    assert_eq!(t["id"], "acme");
    assert_eq!(t["connection"]["state"], "connected");
    assert_eq!(t["hint_queue_depth"], 0);
    assert!(t["next_passes"]["full"].is_string(), "{t}");
    assert_eq!(t["passes"][0]["kind"], "full");
    assert_eq!(t["passes"][0]["result"], "actions_failed");
    assert!(t["passes"][0]["duration_ms"].as_i64().is_some(), "{t}");
    assert_eq!(t["failing"][0]["opportunity_id"], s.failing.as_str());
    assert_eq!(t["failing"][0]["deferred"], true);
    assert_eq!(
        t["needs_attention"][0]["opportunity_id"],
        s.no_email.as_str()
    );
    assert_eq!(t["needs_attention"][0]["reason"], "no_email");
    assert_eq!(t["needs_attention"][0]["name"], HOSTILE_NAME);
    assert!(
        t["missing_permissions"][0]
            .as_str()
            .unwrap()
            .contains("/postings: permission denied"),
        "{t}"
    );
    let text = v.to_string();
    for email in EMAILS {
        assert!(!text.contains(email), "{email} in {text}");
    }
    s.daemon.signal(SIGTERM);
    assert_eq!(s.daemon.exit_code().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_page_false_turns_the_page_off_and_leaves_the_rest() {
    let mut w = crate::support::World::new().await;
    crate::support::daemon::world_for_daemon(&mut w);
    w.daemon_extra = format!("{}\nstatus_page = false", w.daemon_extra);
    let d = crate::support::daemon::Daemon::start(&w, &[]).await;
    d.wait_ready().await;
    assert_eq!(d.get("/").await.0, 404);
    assert_eq!(d.get("/status.json").await.0, 404);
    assert_eq!(d.get("/metrics").await.0, 200);
    let checked = crate::support::run(&w, &["check-config"]).await;
    assert!(
        checked.stdout.contains("status_page = false"),
        "{}",
        checked.stdout
    );
    d.signal(SIGTERM);
    assert_eq!(d.exit_code().await, 0);
}
