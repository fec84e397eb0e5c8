//! Webhooks that must not cost the daemon more than they are worth: a flood of rejected
//! deliveries writes a bounded number of log lines (the counters count every one), and a
//! signed Lever delivery whose opportunity id is not an id is refused before any Lever call.

use crate::support;

use std::time::Duration;

use support::World;
use support::daemon::{
    Daemon, SIGNATURE_TOKEN, SIGTERM, WILLO_TOKEN, now_ms, signed_body, world_for_daemon,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_rejected_webhooks_writes_a_bounded_number_of_log_lines() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let d = Daemon::start(&w, &[]).await;
    d.wait_ready().await;
    const FLOOD: usize = 1500;
    let now = now_ms();
    let forged = |i: usize| signed_body("opp", &format!("tok-{i}"), now, "not-the-key");
    let (dr, forged) = (&d, &forged);
    for chunk in (0..FLOOD).collect::<Vec<_>>().chunks(50) {
        let sent = chunk.iter().map(|&i| async move {
            let lever = dr.post("/webhooks/lever/acme", forged(i)).await.0;
            let willo = dr
                .post(
                    "/webhooks/willo/acme?token=wrong&event=new_response",
                    br#"{"participant": "0123456789abcdef0123456789abcdef"}"#.to_vec(),
                )
                .await
                .0;
            (lever, willo)
        });
        for codes in futures::future::join_all(sent).await {
            assert_eq!(codes, (401, 401));
        }
    }
    // Every rejection is counted...
    for source in ["lever", "willo"] {
        let series = format!(
            r#"willo_lever_sync_hints_total{{tenant="acme",source="{source}",outcome="rejected"}}"#
        );
        assert_eq!(d.metric(&series).await, Some(FLOOD as f64), "{source}");
    }
    // ...but the log says so a bounded number of times, with how many it did not repeat.
    let log = d.log();
    let lines = log.lines().filter(|l| l.contains("rejected")).count();
    assert!(
        (2..=8).contains(&lines),
        "{lines} log lines for {} rejected webhooks:\n{}",
        2 * FLOOD,
        log.lines().take(20).collect::<Vec<_>>().join("\n")
    );
    d.signal(SIGTERM);
    assert_eq!(d.exit_code().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_lever_webhook_naming_dot_or_dotdot_is_refused_before_any_lever_call() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let d = Daemon::start(&w, &[]).await;
    d.wait_ready().await;
    let before = w.lever.accounting().mark();
    let now = now_ms();
    for (i, id) in [
        ".", "..", "...", "a.b", "-", "_", "-_-", "a/b", "%2e%2e", "a b", "",
    ]
    .iter()
    .enumerate()
    {
        let body = signed_body(id, &format!("tok-dot-{i}"), now, SIGNATURE_TOKEN);
        let (code, text) = d.post("/webhooks/lever/acme", body).await;
        assert_eq!(code, 400, "{id:?}: {text}");
    }
    // A Willo key must be 32 hex characters wherever it is found.
    for key in [
        "..",
        "0123456789abcdef",
        "../../interviews/x",
        "g123456789abcdef0123456789abcdef",
    ] {
        let body = serde_json::to_vec(&serde_json::json!({ "participant": key })).unwrap();
        let (code, text) = d
            .post(
                &format!("/webhooks/willo/acme?token={WILLO_TOKEN}&event=new_response"),
                body,
            )
            .await;
        assert_eq!(code, 200, "{key:?}: {text}");
        assert!(text.contains("unrecognised"), "{key:?}: {text}");
    }
    // Give a wrongly queued hint the time to reach Lever, then check none did.
    let (code, _) = d
        .post(
            "/webhooks/lever/acme",
            signed_body("real-opportunity-id", "tok-real", now, SIGNATURE_TOKEN),
        )
        .await;
    assert_eq!(code, 202);
    let reached = support::daemon::eventually(Duration::from_secs(10), || {
        w.lever
            .accounting()
            .requests_since(before)
            .iter()
            .any(|r| r.path.contains("real-opportunity-id"))
    })
    .await;
    assert!(reached, "the valid hint never reached Lever\n{}", d.log());
    let paths: Vec<String> = w
        .lever
        .accounting()
        .requests_since(before)
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert!(
        paths.iter().all(|p| p.contains("real-opportunity-id")),
        "calls made for refused ids: {paths:?}"
    );
    d.signal(SIGTERM);
    assert_eq!(d.exit_code().await, 0);
}
