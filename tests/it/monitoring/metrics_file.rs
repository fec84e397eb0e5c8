//! `--once --metrics-file` as a process: the file node_exporter's textfile collector reads.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::tools::{printed, promtool, run as run_tool};
use crate::support::{LEVER_KEY, World, run};
use willo_lever_sync::sim::faults::{Fault, FaultPlan, FaultRule};
use willo_lever_sync::sim::lever::Endpoint;

fn textfile_dir(w: &World) -> PathBuf {
    let dir = w.dir.path().join("textfile_collector");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series))
        .and_then(|v| v.trim().parse().ok())
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

const LAST_FULL: &str =
    r#"willo_lever_sync_last_success_timestamp_seconds{tenant="acme",kind="full"} "#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_leaves_its_metrics_for_node_exporter_replacing_the_file_whole() {
    let w = World::new().await;
    let (_, posting) = w.interview_with_posting("Pilot");
    w.candidate("Ann", "ann@example.com", &posting);
    let dir = textfile_dir(&w);
    let file = dir.join("willo_lever_sync.prom");
    std::fs::write(&file, "stale 1\n").unwrap();

    let first = run(&w, &["--once", "--metrics-file", file.to_str().unwrap()]).await;
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("stale"), "{text}");
    for series in [
        r#"willo_lever_sync_passes_total{tenant="acme",kind="full",result="converged"} 1"#,
        r#"willo_lever_sync_invites_total{tenant="acme",outcome="sent"} 1"#,
        r#"willo_lever_sync_tenant_connected{tenant="acme"} 1"#,
        r#"willo_lever_sync_needs_attention{tenant="acme"} 0"#,
        r#"willo_lever_sync_failing_opportunities{tenant="acme"} 0"#,
        r#"willo_lever_sync_deferred_work{tenant="acme"} 0"#,
        r#"willo_lever_sync_missing_permissions{tenant="acme"} 0"#,
        "# TYPE willo_lever_sync_passes_total counter",
    ] {
        assert!(text.contains(series), "{series} missing:\n{text}");
    }
    let finished = value(&text, LAST_FULL).expect("the full pass's time");
    let now = willo_lever_sync::clock::now_ms() as f64 / 1000.0;
    assert!((now - finished).abs() < 120.0, "{finished} vs {now}");
    // node_exporter has process metrics of its own, and the format has no end marker.
    assert!(!text.contains("process_"), "{text}");
    assert!(!text.contains("# EOF"), "{text}");
    let check = run_tool(
        &promtool(),
        &["check", "metrics"],
        Some(&text),
        Duration::from_secs(60),
    )
    .await;
    assert!(check.status.success(), "{}\n{text}", printed(&check));
    // Renamed into place: nothing else left in the directory, readable by another user.
    assert_eq!(names_in(&dir), ["willo_lever_sync.prom"]);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o644);

    // The next run replaces it with its own figures (counters are per run).
    let second = run(&w, &["--once", "--metrics-file", file.to_str().unwrap()]).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    let again = std::fs::read_to_string(&file).unwrap();
    assert!(
        !again.contains(r#"willo_lever_sync_invites_total{tenant="acme",outcome="sent"}"#),
        "{again}"
    );
    assert!(value(&again, LAST_FULL).unwrap() >= finished);
    assert_eq!(names_in(&dir), ["willo_lever_sync.prom"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_run_still_reports_when_the_last_full_pass_completed() {
    let w = World::new().await;
    w.interview_with_posting("Pilot");
    let file = textfile_dir(&w).join("wls.prom");
    let path = file.to_str().unwrap();
    assert_eq!(run(&w, &["--once", "--metrics-file", path]).await.code, 0);
    let completed = value(&std::fs::read_to_string(&file).unwrap(), LAST_FULL).unwrap();

    w.lever.revoke();
    let out = run(&w, &["--once", "--metrics-file", path]).await;
    assert_eq!(out.code, 77, "{}", out.stderr);
    let text = std::fs::read_to_string(&file).unwrap();
    // Read from the store: the timer's alert on the age of the last full pass keeps working.
    assert_eq!(value(&text, LAST_FULL), Some(completed), "{text}");
    for series in [
        r#"willo_lever_sync_tenant_connected{tenant="acme"} 0"#,
        r#"willo_lever_sync_passes_total{tenant="acme",kind="full",result="disconnected"} 1"#,
        r#"willo_lever_sync_pass_failures_total{tenant="acme",reason="disconnected"} 1"#,
    ] {
        assert!(text.contains(series), "{series} missing:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_counts_refused_parts_and_failing_work() {
    let w = World::new().await;
    let (_, posting) = w.interview_with_posting("Pilot");
    let failing = w.candidate("Bo", "bo@example.com", &posting);
    let all_but_postings: Vec<Endpoint> = Endpoint::ALL
        .into_iter()
        .filter(|e| *e != Endpoint::Postings)
        .collect();
    w.lever.restrict_api_key(LEVER_KEY, &all_but_postings);
    w.lever.faults().set(
        FaultPlan::seeded(13).with(
            FaultRule::new(Fault::Status(400))
                .on("POST", "/v1/opportunities/{id}/addTags")
                .path_contains(&failing),
        ),
    );
    let file = textfile_dir(&w).join("wls.prom");
    let out = run(&w, &["--once", "--metrics-file", file.to_str().unwrap()]).await;
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let text = std::fs::read_to_string(&file).unwrap();
    for series in [
        r#"willo_lever_sync_missing_permissions{tenant="acme"} 1"#,
        r#"willo_lever_sync_failing_opportunities{tenant="acme"} 1"#,
        r#"willo_lever_sync_api_requests_total{api="lever",route="/opportunities/{id}/addTags",status="4xx"} 1"#,
        r#"willo_lever_sync_api_requests_total{api="lever",route="/postings",status="403"}"#,
    ] {
        assert!(text.contains(series), "{series} missing:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_file_that_cannot_be_written_is_refused_before_any_pass() {
    let w = World::new().await;
    let missing = w.dir.path().join("no-such-dir").join("wls.prom");
    let out = run(&w, &["--once", "--metrics-file", missing.to_str().unwrap()]).await;
    assert_eq!(out.code, 64, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "--metrics-file {}: the directory {} does not exist",
            missing.display(),
            missing.parent().unwrap().display()
        )),
        "{}",
        out.stderr
    );
    assert!(w.lever.requests().is_empty(), "a pass ran");
    assert!(!w.state_dir().exists(), "the state was touched");
    for args in [
        vec!["--metrics-file", "x.prom"],
        vec!["--once", "--dry-run", "--metrics-file", "x.prom"],
    ] {
        let out = run(&w, &args).await;
        assert_eq!(out.code, 64, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("--metrics-file"), "{}", out.stderr);
    }
}
