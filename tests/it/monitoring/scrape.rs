//! `/metrics` as Prometheus and node_exporter see it: both exposition formats, and every metric
//! the alert rules and the dashboard use present in a real scrape.

use std::collections::BTreeSet;
use std::time::Duration;

use super::rules::dashboard_queries;
use super::scene::scene;
use super::tools::{printed, promtool, repo, run};
use crate::support::World;
use crate::support::daemon::{
    Daemon, SIGNATURE_TOKEN, SIGTERM, now_ms, signed_body, world_for_daemon,
};

/// What Prometheus 2.x sends.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

async fn scrape(d: &Daemon, accept: Option<&str>) -> (String, String) {
    let mut req = d.http.get(d.url("/metrics"));
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    (ct, r.text().await.unwrap())
}

/// The metric names a text-format scrape exposes: its samples' names and its families'.
fn exposed(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let name = match line.strip_prefix("# TYPE ") {
            Some(rest) => rest.split_whitespace().next(),
            None if line.starts_with('#') => None,
            None => line.split(['{', ' ']).next(),
        };
        names.extend(name.filter(|n| !n.is_empty()).map(str::to_owned));
    }
    names
}

/// Metric names (`willo_lever_sync_*`, `process_*`) that `text` mentions.
fn referenced(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for prefix in ["willo_lever_sync_", "process_"] {
        let mut rest = text;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().next_back();
            let tail = &rest[at..];
            let len = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                names.insert(tail[..len].to_owned());
            }
            rest = &tail[len..];
        }
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_the_rules_and_the_dashboard_name_is_in_a_real_scrape() {
    let s = scene("").await;
    let d = &s.daemon;
    // A hint, then a reconcile that finds the key revoked: a pass failure by reason.
    let body = signed_body(&s.invited, "tok-scrape-1", now_ms(), SIGNATURE_TOKEN);
    assert_eq!(d.post("/webhooks/lever/acme", body).await.0, 202);
    s.world.lever.revoke();
    let body = signed_body(&s.invited, "tok-scrape-2", now_ms(), SIGNATURE_TOKEN);
    assert_eq!(d.post("/webhooks/lever/acme", body).await.0, 202);
    let failed = r#"willo_lever_sync_pass_failures_total{tenant="acme",reason="disconnected"} "#;
    let until = std::time::Instant::now() + Duration::from_secs(20);
    let text = loop {
        let text = scrape(d, Some("text/plain")).await.1;
        if text.contains(failed) {
            break text;
        }
        assert!(
            std::time::Instant::now() < until,
            "no pass failure:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let names = exposed(&text);

    let rules = std::fs::read_to_string(repo().join("monitoring/alerts.yml")).unwrap();
    let dashboard =
        std::fs::read_to_string(repo().join("monitoring/grafana-dashboard.json")).unwrap();
    let used: BTreeSet<String> = referenced(&rules)
        .into_iter()
        .chain(referenced(&dashboard))
        .collect();
    assert!(used.len() >= 20, "{used:?}");
    assert!(
        dashboard_queries().len() >= 20,
        "the dashboard lost its queries"
    );
    let missing: Vec<&String> = used.iter().filter(|n| !names.contains(*n)).collect();
    assert!(
        missing.is_empty(),
        "named by the rules or the dashboard but not in the scrape: {missing:?}\n{text}"
    );
    d.signal(SIGTERM);
    assert_eq!(s.daemon.exit_code().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_come_as_openmetrics_or_as_text_as_the_client_asks_and_both_are_valid() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let (_, posting) = w.interview_with_posting("Pilot");
    w.candidate("Ann", "ann@example.com", &posting);
    let d = Daemon::start(&w, &[]).await;
    d.wait_ready().await;

    for accept in [None, Some(PROMETHEUS_ACCEPT), Some("*/*")] {
        let (ct, body) = scrape(&d, accept).await;
        assert_eq!(
            ct, "application/openmetrics-text; version=1.0.0; charset=utf-8",
            "{accept:?}"
        );
        assert!(body.ends_with("# EOF\n"), "{accept:?}: {body}");
        assert!(body.contains("# TYPE willo_lever_sync_passes counter"));
        assert!(body.contains("# UNIT willo_lever_sync_pass_duration_seconds seconds"));
        assert!(body.contains("# TYPE process_cpu_seconds counter"));
    }
    let (ct, text) = scrape(&d, Some("text/plain;version=0.0.4;q=1.0,*/*;q=0.1")).await;
    assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
    assert!(
        !text.contains("# EOF") && !text.contains("# UNIT"),
        "{text}"
    );
    assert!(text.contains("# TYPE willo_lever_sync_passes_total counter"));
    assert!(text.contains("# TYPE willo_lever_sync_build_info gauge"));
    for series in [
        r#"willo_lever_sync_passes_total{tenant="acme",kind="full",result="converged"} 1"#,
        r#"willo_lever_sync_invites_total{tenant="acme",outcome="sent"} 1"#,
        r#"willo_lever_sync_needs_attention{tenant="acme"} 0"#,
        r#"willo_lever_sync_failing_opportunities{tenant="acme"} 0"#,
        r#"willo_lever_sync_missing_permissions{tenant="acme"} 0"#,
        r#"willo_lever_sync_full_pass_repairs_total{tenant="acme"} 0"#,
        r#"willo_lever_sync_tenant_connected{tenant="acme"} 1"#,
    ] {
        assert!(text.contains(series), "{series} missing:\n{text}");
    }
    let version = format!(
        r#"willo_lever_sync_build_info{{version="{}","#,
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.contains(&version), "{text}");
    let rss = text
        .lines()
        .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
        .and_then(|v| v.parse::<f64>().ok());
    assert!(rss.is_some_and(|v| v > 1e6), "{text}");
    let fds = text
        .lines()
        .find_map(|l| l.strip_prefix("process_open_fds "))
        .and_then(|v| v.parse::<f64>().ok());
    assert!(fds.is_some_and(|v| v >= 3.0), "{text}");

    // promtool parses and lints the text format as Prometheus would.
    let out = run(
        &promtool(),
        &["check", "metrics"],
        Some(&text),
        Duration::from_secs(60),
    )
    .await;
    assert!(out.status.success(), "{}\n{text}", printed(&out));
    d.signal(SIGTERM);
    assert_eq!(d.exit_code().await, 0);
}
