//! The daemon as a process — readiness, webhook hints (and what is refused), metrics,
//! systemd notifications and SIGTERM — against the simulators. Schedules are set a year away,
//! so anything that happens is the start-up pass or a hint.

use crate::support;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use support::World;
use support::daemon::{
    Daemon, SIGINT, SIGNATURE_TOKEN, SIGTERM, WILLO_TOKEN, eventually, now_ms, signed_body,
    world_for_daemon,
};
use willo_lever_sync::sim::hold::HoldRule;
use willo_lever_sync::sim::willo::WilloEvent;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_after_the_first_pass_and_not_ready_once_credentials_are_rejected() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let d = Daemon::start(&w, &[]).await;
    assert_eq!(d.get("/healthz").await.0, 200);
    d.wait_ready().await;
    // Access revoked in Lever: the next reconcile of that tenant finds out.
    w.lever.revoke();
    let body = signed_body(
        "some-opportunity",
        "tok-revoked-1",
        now_ms(),
        SIGNATURE_TOKEN,
    );
    assert_eq!(d.post("/webhooks/lever/acme", body).await.0, 202);
    let until = Instant::now() + Duration::from_secs(10);
    let last = loop {
        let (code, body) = d.get("/readyz").await;
        if code == 503 {
            break body;
        }
        assert!(Instant::now() < until, "still ready: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let v: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(v["ready"], false);
    assert!(
        v["reasons"][0].as_str().unwrap().contains("disconnected"),
        "{last}"
    );
    d.signal(SIGTERM);
    assert_eq!(d.exit_code().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_lever_webhook_leads_to_the_invite_within_a_second() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let (interview, posting) = w.interview_with_posting("Pilot");
    let opp = w
        .lever
        .add_opportunity(
            willo_lever_sync::sim::lever::OppSeed::new("Amelia", "amelia@example.com")
                .posting(&posting)
                .stage(&w.other),
        )
        .unwrap();
    let d = Daemon::start(&w, &[]).await;
    d.wait_ready().await;
    w.lever
        .register_webhook(&d.url("/webhooks/lever/acme"), SIGNATURE_TOKEN);
    let moved = Instant::now();
    w.lever.move_stage(&opp, &w.trigger).unwrap();
    let invited = eventually(Duration::from_secs(1), || {
        w.willo.participants(&interview).len() == 1
    })
    .await;
    assert!(
        invited,
        "no invite within 1 s of the stage change:\n{}",
        d.log()
    );
    eprintln!("webhook → invite took {:?}", moved.elapsed());
    let tagged = eventually(Duration::from_secs(2), || {
        w.lever.tags_of(&opp).contains(&"Willo:Invited".to_owned())
    })
    .await;
    assert!(tagged);
    let deliveries = w.lever.webhook_deliveries();
    assert!(
        deliveries
            .iter()
            .any(|x| x.outcome == willo_lever_sync::sim::webhook::DeliveryOutcome::Delivered),
        "{deliveries:?}"
    );
    d.signal(SIGTERM);
    assert_eq!(d.exit_code().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_stale_replayed_oversized_and_malformed_webhooks_change_nothing() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let (interview, posting) = w.interview_with_posting("Pilot");
    let opp = w
        .lever
        .add_opportunity(
            willo_lever_sync::sim::lever::OppSeed::new("Amelia", "amelia@example.com")
                .posting(&posting)
                .stage(&w.other),
        )
        .unwrap();
    let d = Daemon::start(&w, &[]).await;
    d.wait_ready().await;
    // The candidate is now in the trigger stage, but only a *valid* hint may trigger a
    // reconcile before the (far away) next pass.
    w.lever.move_stage(&opp, &w.trigger).unwrap();
    let marks = w.marks();
    let now = now_ms();
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "forged",
            signed_body(&opp, "tok-forged", now, "not-the-token"),
            401,
        ),
        (
            "unsigned",
            {
                let mut v: serde_json::Value =
                    serde_json::from_slice(&signed_body(&opp, "tok-u", now, SIGNATURE_TOKEN))
                        .unwrap();
                v.as_object_mut().unwrap().remove("signature");
                serde_json::to_vec(&v).unwrap()
            },
            401,
        ),
        ("malformed", b"{\"triggeredAt\": ".to_vec(), 400),
        (
            "missing opportunity",
            {
                let mut v: serde_json::Value =
                    serde_json::from_slice(&signed_body(&opp, "tok-m", now, SIGNATURE_TOKEN))
                        .unwrap();
                v["data"].as_object_mut().unwrap().remove("opportunityId");
                serde_json::to_vec(&v).unwrap()
            },
            400,
        ),
        (
            "from the future",
            signed_body(&opp, "tok-future", now + 10 * 60 * 1000, SIGNATURE_TOKEN),
            400,
        ),
        (
            "oversized",
            {
                let mut v: serde_json::Value =
                    serde_json::from_slice(&signed_body(&opp, "tok-big", now, SIGNATURE_TOKEN))
                        .unwrap();
                v["padding"] = "x".repeat(70 * 1024).into();
                serde_json::to_vec(&v).unwrap()
            },
            413,
        ),
        (
            "stale (acknowledged, not queued)",
            signed_body(&opp, "tok-stale", now - 2 * 60 * 60 * 1000, SIGNATURE_TOKEN),
            200,
        ),
    ];
    for (name, body, expected) in cases {
        let (code, text) = d.post("/webhooks/lever/acme", body).await;
        assert_eq!(code, expected, "{name}: {text}");
    }
    assert_eq!(
        d.post(
            "/webhooks/lever/nobody",
            signed_body(&opp, "t", now, SIGNATURE_TOKEN)
        )
        .await
        .0,
        404
    );
    let (code, _) = d
        .post(
            "/webhooks/willo/acme?token=wrong&event=stage_change",
            br#"{"participant":"0123456789abcdef0123456789abcdef"}"#.to_vec(),
        )
        .await;
    assert_eq!(code, 401);
    let (code, _) = d
        .post(
            &format!("/webhooks/willo/acme?token={WILLO_TOKEN}&event=stage_change"),
            b"not json".to_vec(),
        )
        .await;
    // Authenticated: acknowledged (Willo would retry anything else) and not queued.
    assert_eq!(code, 200);

    // A genuine delivery, then its replay: the replay is acknowledged but not queued.
    let (code, text) = d
        .post(
            "/webhooks/lever/acme",
            signed_body(&opp, "tok-real", now, SIGNATURE_TOKEN),
        )
        .await;
    assert_eq!(code, 202, "{text}");
    // Both of the hint's writes (the invite, then the status tag) before anything is compared:
    // the participant shows up before the tag is written.
    assert!(
        eventually(Duration::from_secs(5), || w
            .willo
            .participants(&interview)
            .len()
            == 1
            && w.writes_since(marks).len() >= 2)
        .await
    );
    let (code, text) = d
        .post(
            "/webhooks/lever/acme",
            signed_body(&opp, "tok-real", now, SIGNATURE_TOKEN),
        )
        .await;
    assert_eq!((code, text.contains("replayed")), (200, true), "{text}");

    // Nothing but the genuine hint's invite and tag was written.
    let writes = w.writes_since(marks);
    assert_eq!(
        writes,
        vec![
            "lever POST /v1/opportunities/{id}/addTags".to_owned(),
            "willo POST /api/integrations/v2/participants/".to_owned(),
        ],
        "{}",
        d.log()
    );
    let (_, metrics) = d.get("/metrics").await;
    assert!(
        metrics.contains(
            r#"willo_lever_sync_hints_total{tenant="acme",source="lever",outcome="rejected"} 6"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"willo_lever_sync_hints_total{tenant="acme",source="lever",outcome="replayed"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"willo_lever_sync_hints_total{tenant="acme",source="lever",outcome="stale"} 1"#
        ),
        "{metrics}"
    );
    d.signal(SIGTERM);
    assert_eq!(d.exit_code().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_willo_hint_updates_the_status_tag() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let (interview, posting) = w.interview_with_posting("Pilot");
    let opp = w.candidate("Amelia", "amelia@example.com", &posting);
    let d = Daemon::start(&w, &[]).await;
    d.wait_ready().await;
    assert!(
        w.lever.tags_of(&opp).contains(&"Willo:Invited".to_owned()),
        "start-up pass invited"
    );
    w.willo.register_webhook(
        &d.url(&format!(
            "/webhooks/willo/acme?token={WILLO_TOKEN}&event=stage_change"
        )),
        WilloEvent::StageChange,
    );
    let key = w.willo.participants(&interview)[0].key.clone();
    w.willo.set_participant_state(&key, "accepted").unwrap();
    w.willo.emit(WilloEvent::StageChange, &key).unwrap();
    let accepted = eventually(Duration::from_secs(5), || {
        let tags = w.lever.tags_of(&opp);
        tags.contains(&"Willo:Accepted".to_owned()) && !tags.contains(&"Willo:Invited".to_owned())
    })
    .await;
    assert!(accepted, "{:?}\n{}", w.lever.tags_of(&opp), d.log());
    d.signal(SIGINT);
    assert_eq!(d.exit_code().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_pass_lets_the_invite_in_flight_finish_and_exits_0() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let (interview, posting) = w.interview_with_posting("Pilot");
    let first = w.candidate("Amelia", "amelia@example.com", &posting);
    w.candidate("Bessie", "bessie@example.com", &posting);
    w.candidate("Jackie", "jackie@example.com", &posting);
    w.daemon_extra.push_str("\nconcurrency = 1");
    let hold = w
        .willo
        .hold(HoldRule::new("POST", "/api/integrations/v2/participants/"));
    let d = Daemon::start(&w, &[]).await;
    tokio::time::timeout(Duration::from_secs(20), hold.held())
        .await
        .expect("no invite started");
    d.signal(SIGTERM);
    // The daemon waits for the action in flight; let it complete.
    assert!(eventually(Duration::from_secs(5), || d.log().contains("shutting down")).await);
    hold.release();
    assert_eq!(d.exit_code().await, 0);
    // Exactly the action in flight finished; nothing new started; the journal says so.
    assert_eq!(w.willo.participants(&interview).len(), 1);
    let rows = w.store().read(|r| r.invites("acme")).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        rows[0].state,
        willo_lever_sync::domain::invite::InviteState::Done
    );
    assert_eq!(rows[0].opportunity_id, first);
    let passes = w.store().read(|r| r.recent_passes("acme", 1)).unwrap();
    assert_eq!(
        passes[0].result,
        Some(willo_lever_sync::domain::PassResult::Interrupted),
        "{passes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_status_and_watchdog_reach_the_notify_socket() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let sock_path = w.dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let d = Daemon::start(
        &w,
        &[
            ("NOTIFY_SOCKET", sock_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "200000"),
        ],
    )
    .await;
    let mut seen = Vec::new();
    let until = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 4096];
    while Instant::now() < until {
        if let Ok(n) = sock.recv(&mut buf) {
            seen.push(String::from_utf8_lossy(&buf[..n]).trim().to_owned());
        }
        let watchdogs = seen.iter().filter(|m| *m == "WATCHDOG=1").count();
        if seen.iter().any(|m| m == "READY=1")
            && seen
                .iter()
                .any(|m| m.starts_with("STATUS=acme: full pass converged"))
            && watchdogs >= 3
        {
            break;
        }
    }
    assert!(seen.iter().any(|m| m == "READY=1"), "{seen:?}");
    assert!(
        seen.iter().any(|m| m.starts_with("STATUS=acme: full pass")),
        "{seen:?}"
    );
    assert!(
        seen.iter().filter(|m| *m == "WATCHDOG=1").count() >= 3,
        "{seen:?}"
    );
    d.signal(SIGTERM);
    assert_eq!(d.exit_code().await, 0);
    // After the stop request systemd hears STOPPING=1.
    let mut stopping = false;
    while let Ok(n) = sock.recv(&mut buf) {
        stopping |= String::from_utf8_lossy(&buf[..n]).contains("STOPPING=1");
    }
    assert!(stopping, "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_text_parses_as_openmetrics() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let (_interview, posting) = w.interview_with_posting("Pilot");
    w.candidate("Amelia", "amelia@example.com", &posting);
    let d = Daemon::start(&w, &[]).await;
    d.wait_ready().await;
    let r = d.http.get(d.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    let text = r.text().await.unwrap();
    let samples = parse_openmetrics(&text);
    let value = |name: &str, labels: &str| {
        samples
            .iter()
            .find(|(n, l, _)| n == name && l.contains(labels))
            .map(|(_, _, v)| *v)
    };
    assert_eq!(
        value(
            "willo_lever_sync_passes_total",
            r#"kind="full",result="converged""#
        ),
        Some(1.0)
    );
    assert_eq!(
        value("willo_lever_sync_invites_total", r#"outcome="sent""#),
        Some(1.0)
    );
    assert_eq!(
        value("willo_lever_sync_tag_writes_total", r#"op="add""#),
        Some(1.0)
    );
    assert_eq!(
        value("willo_lever_sync_tenant_connected", r#"tenant="acme""#),
        Some(1.0)
    );
    assert!(
        value(
            "willo_lever_sync_api_requests_total",
            r#"api="lever",route="/opportunities",status="2xx""#
        )
        .unwrap()
            >= 1.0
    );
    assert!(
        value(
            "willo_lever_sync_last_success_timestamp_seconds",
            r#"kind="full""#
        )
        .unwrap()
            > 1.6e9
    );
    assert_eq!(value("willo_lever_sync_hint_queue_depth", ""), Some(0.0));
    d.signal(SIGTERM);
    assert_eq!(d.exit_code().await, 0);
}

/// A strict reader of the OpenMetrics text format: every line is a `# TYPE/HELP/UNIT`
/// comment, `# EOF` (last), or `name{labels} value`. Returns (name, labels, value).
fn parse_openmetrics(text: &str) -> Vec<(String, String, f64)> {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "missing # EOF");
    let mut out = Vec::new();
    for line in &lines[..lines.len() - 1] {
        if let Some(rest) = line.strip_prefix("# ") {
            let kind = rest.split_whitespace().next().unwrap_or("");
            assert!(
                ["TYPE", "HELP", "UNIT"].contains(&kind),
                "bad comment: {line}"
            );
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((n, l)) => {
                assert!(l.ends_with('}'), "unclosed labels: {line}");
                (n, &l[..l.len() - 1])
            }
            None => (series, ""),
        };
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name: {line}"
        );
        for pair in labels.split("\",").filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once("=\"")
                .unwrap_or_else(|| panic!("bad label: {line}"));
            assert!(
                k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "bad label name: {line}"
            );
            let _ = v;
        }
        out.push((name.to_owned(), labels.to_owned(), value));
    }
    out
}
