//! Willo webhook bodies of every shape the simulator can send (its `WebhookBodyForm`
//! variants), against the daemon as a process. The only live evidence says real deliveries
//! carried the participant key under no documented name, so an authenticated delivery is
//! always answered 2xx (Willo retries anything else), its participant is looked for under any
//! name and then among the bare 32-hex values that name a participant the daemon recorded, and
//! a body naming none is counted and its shape logged once.

use crate::support;

use std::time::Duration;

use support::World;
use support::daemon::{Daemon, WILLO_TOKEN, eventually, world_for_daemon};
use willo_lever_sync::sim::webhook::DeliveryOutcome;
use willo_lever_sync::sim::willo::{ParticipantSeed, WebhookBodyForm, WilloEvent};

/// Every form, listed through an exhaustive match so a new variant cannot be left out.
fn every_form() -> Vec<WebhookBodyForm> {
    use WebhookBodyForm::*;
    let all = vec![
        ParticipantKey,
        ParticipantObject,
        ParticipantKeyField,
        Key,
        DataCandidateUuid,
        ResponseParticipantId,
        BareHexValues,
        NoParticipantKey,
    ];
    for f in &all {
        match f {
            ParticipantKey
            | ParticipantObject
            | ParticipantKeyField
            | Key
            | DataCandidateUuid
            | ResponseParticipantId
            | BareHexValues
            | NoParticipantKey => {}
        }
    }
    all
}

const UNRECOGNISED: &str =
    r#"willo_lever_sync_hints_total{tenant="acme",source="willo",outcome="unrecognised"}"#;

/// Emits `event` about `participant` and returns the HTTP status of each attempt.
async fn deliver(w: &World, participant: &str) -> Vec<Option<u16>> {
    let before = w.willo.webhook_deliveries().len();
    w.willo.emit(WilloEvent::NewResponse, participant).unwrap();
    tokio::time::timeout(Duration::from_secs(20), w.willo.webhooks_settled())
        .await
        .expect("deliveries did not settle");
    let deliveries = w.willo.webhook_deliveries();
    let d = deliveries.get(before).expect("no delivery was made");
    assert_eq!(d.outcome, DeliveryOutcome::Delivered, "{d:?}");
    d.attempts.iter().map(|a| a.status).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_willo_webhook_body_form_is_answered_2xx_and_hints_a_recorded_participant() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let (interview, posting) = w.interview_with_posting("Pilot");
    let opp = w.candidate("Amelia", "amelia@example.com", &posting);
    // Someone the daemon never invited: its key means nothing to the daemon.
    let stranger = w
        .willo
        .add_participant(ParticipantSeed::new(&interview, "Zed", "zed@example.com"))
        .unwrap();
    let d = Daemon::start(&w, &[]).await;
    d.wait_ready().await;
    let key = w
        .willo
        .participants(&interview)
        .into_iter()
        .find(|p| p.email == "amelia@example.com")
        .expect("the start-up pass invited Amelia")
        .key;
    w.willo.register_webhook(
        &d.url(&format!(
            "/webhooks/willo/acme?token={WILLO_TOKEN}&event=new_response"
        )),
        WilloEvent::NewResponse,
    );
    // Each delivery follows a state change that moves the status tag somewhere new.
    let states = [
        ("completed", "Willo:To Review"),
        ("accepted", "Willo:Accepted"),
        ("rejected", "Willo:Rejected"),
        ("invited", "Willo:Invited"),
    ];
    let mut shown = 0;
    for (i, form) in every_form().into_iter().enumerate() {
        w.willo.set_webhook_body(form);
        if form == WebhookBodyForm::NoParticipantKey {
            let attempts = deliver(&w, &key).await;
            assert_eq!(attempts, vec![Some(200)], "{form:?}\n{}", d.log());
            continue;
        }
        let (state, tag) = states[shown % states.len()];
        shown += 1;
        w.willo.set_participant_state(&key, state).unwrap();
        let attempts = deliver(&w, &key).await;
        assert_eq!(attempts, vec![Some(202)], "{form:?} (#{i})\n{}", d.log());
        let followed = eventually(Duration::from_secs(10), || {
            let tags = w.lever.tags_of(&opp);
            tags.contains(&tag.to_owned())
                && tags.iter().filter(|t| t.starts_with("Willo:")).count() == 2
        })
        .await;
        assert!(
            followed,
            "{form:?}: the hint did not lead to {tag}: {:?}\n{}",
            w.lever.tags_of(&opp),
            d.log()
        );
    }
    assert_eq!(d.metric(UNRECOGNISED).await, Some(1.0));

    // The same unrecognised shape again, and bare hex values naming nobody the daemon
    // recorded (the interview key comes first, then a participant it never invited): both are
    // acknowledged and counted, and each shape is logged once.
    w.willo.set_webhook_body(WebhookBodyForm::NoParticipantKey);
    assert_eq!(deliver(&w, &key).await, vec![Some(200)]);
    w.willo.set_webhook_body(WebhookBodyForm::BareHexValues);
    assert_eq!(deliver(&w, &stranger).await, vec![Some(200)]);
    assert_eq!(deliver(&w, &stranger).await, vec![Some(200)]);
    assert_eq!(d.metric(UNRECOGNISED).await, Some(4.0));
    let log = d.log();
    let shapes: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("no participant the daemon knows"))
        .collect();
    assert_eq!(shapes.len(), 2, "one line per shape:\n{log}");
    assert!(
        shapes[0].contains("api_version: string")
            && shapes[0].contains("interview: string")
            && shapes[0].contains("sent_at: string"),
        "{}",
        shapes[0]
    );
    assert!(shapes[1].contains("refs[]: string"), "{}", shapes[1]);
    // Paths and types only: no key, no value.
    for secret in [key.as_str(), stranger.as_str(), interview.as_str(), "v1"] {
        assert!(
            shapes.iter().all(|l| !l.contains(secret)),
            "{secret} leaked into {shapes:?}"
        );
    }
    // Webhooks never write: nothing was invited for the stranger's hint.
    assert_eq!(w.willo.participants(&interview).len(), 2);
    d.signal(support::daemon::SIGTERM);
    assert_eq!(d.exit_code().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authenticated_willo_delivery_that_is_not_json_is_acknowledged_not_retried() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let d = Daemon::start(&w, &[]).await;
    let path = format!("/webhooks/willo/acme?token={WILLO_TOKEN}&event=new_response");
    let (code, text) = d.post(&path, b"not json".to_vec()).await;
    assert_eq!(code, 200, "{text}");
    assert_eq!(d.metric(UNRECOGNISED).await, Some(1.0));
    // Without the token it is still refused.
    let (code, _) = d
        .post(
            "/webhooks/willo/acme?token=wrong&event=new_response",
            b"not json".to_vec(),
        )
        .await;
    assert_eq!(code, 401);
    d.signal(support::daemon::SIGTERM);
    assert_eq!(d.exit_code().await, 0);
}
