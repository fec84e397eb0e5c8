//! Pins the Willo simulator's fidelity to Willo's API as documented in docs/simulators.md, through plain HTTP.

use crate::sim_support;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use sim_support::{Receiver, client, within};
use willo_lever_sync::sim::willo::{
    InterviewForm, ParticipantSeed, StateForm, WebhookBodyForm, WilloEvent, WilloSim,
    WilloSimConfig,
};
use willo_lever_sync::sim::{DeliveryOutcome, DropRule, HoldRule, RateLimit};

const KEY: &str = "willo-key";
const PARTICIPANTS: &str = "/api/integrations/v2/participants/";

async fn start() -> WilloSim {
    let willo = WilloSim::start(WilloSimConfig::for_tests()).await.unwrap();
    willo.add_api_key(KEY);
    willo
}

async fn get_url(url: &str) -> (u16, Value) {
    let r = client()
        .get(url)
        .header("Authorization", KEY)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

async fn get(willo: &WilloSim, path: &str) -> (u16, Value) {
    get_url(&format!("{}{path}", willo.base_url())).await
}

async fn invite(willo: &WilloSim, body: Value) -> (u16, Value) {
    let r = client()
        .post(format!("{}/participants/", willo.base_url()))
        .header("Authorization", KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// Follows `next` as given until it is null.
async fn all_results(willo: &WilloSim, path: &str) -> Vec<Value> {
    let mut url = format!("{}{path}", willo.base_url());
    let mut out = Vec::new();
    loop {
        let (status, page) = get_url(&url).await;
        assert_eq!(status, 200, "{page}");
        out.extend(page["results"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => url = next.to_owned(),
            None => return out,
        }
    }
}

fn is_key(s: &str) -> bool {
    s.len() == 32
        && s.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

#[tokio::test]
async fn the_bare_key_authenticates_and_nothing_else_does() {
    let willo = start().await;
    let url = format!("{}/interviews/", willo.base_url());
    assert_eq!(get_url(&url).await.0, 200);
    for auth in [
        Some(format!("Bearer {KEY}")),
        Some(format!("Token {KEY}")),
        Some("other".into()),
        None,
    ] {
        let mut req = client().get(&url);
        if let Some(a) = &auth {
            req = req.header("Authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401, "{auth:?}");
        assert!(r.json::<Value>().await.unwrap()["detail"].is_string());
    }
    willo.revoke();
    assert_eq!(get_url(&url).await.0, 401);
    willo.restore();
    willo.remove_api_key(KEY);
    assert_eq!(get_url(&url).await.0, 401);
}

#[tokio::test]
async fn lists_use_drf_page_number_pagination_with_absolute_urls() {
    let willo = start().await;
    for i in 0..35 {
        willo.add_interview(&format!("Interview {i:02}"));
    }
    let (status, first) = get(&willo, "/interviews/").await;
    assert_eq!(status, 200);
    assert_eq!(first["count"], 35);
    assert_eq!(
        first["results"].as_array().unwrap().len(),
        10,
        "default page size"
    );
    assert_eq!(first["previous"], Value::Null);
    let next = first["next"].as_str().unwrap();
    assert_eq!(
        next,
        format!("{}/interviews/?page=2", willo.base_url()),
        "absolute URL"
    );

    let (_, second) = get_url(next).await;
    assert_eq!(
        second["previous"],
        format!("{}/interviews/", willo.base_url()),
        "page 1 drops the param"
    );
    let (_, third) = get_url(second["next"].as_str().unwrap()).await;
    assert_eq!(
        third["previous"],
        format!("{}/interviews/?page=2", willo.base_url())
    );

    let (_, big) = get(&willo, "/interviews/?page_size=100").await;
    assert_eq!(
        big["results"].as_array().unwrap().len(),
        30,
        "page_size is clamped to 30"
    );
    assert_eq!(
        big["next"],
        format!("{}/interviews/?page=2&page_size=100", willo.base_url())
    );
    let (_, fallback) = get(&willo, "/interviews/?page_size=zero").await;
    assert_eq!(
        fallback["results"].as_array().unwrap().len(),
        10,
        "invalid page_size = default"
    );
    let (_, last) = get(&willo, "/interviews/?page=last&page_size=30").await;
    assert_eq!(last["results"].as_array().unwrap().len(), 5);
    assert_eq!(last["next"], Value::Null);

    for bad in ["99", "0", "abc", "-1"] {
        let (status, body) = get(&willo, &format!("/interviews/?page={bad}")).await;
        assert_eq!(status, 404, "page={bad}");
        assert_eq!(body, json!({"detail": "Invalid page."}));
    }
    let titles: BTreeSet<String> = all_results(&willo, "/interviews/?page_size=7")
        .await
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(titles.len(), 35, "following next visits everything once");

    let empty_account = start().await;
    let (status, empty) = get(&empty_account, "/interviews/").await;
    assert_eq!(
        (status, empty["count"].as_u64(), empty["next"].clone()),
        (200, Some(0), Value::Null),
        "an empty first page is fine"
    );
}

#[tokio::test]
async fn interviews_are_added_renamed_and_removed() {
    let willo = start().await;
    let a = willo.add_interview("Researcher");
    let b = willo.add_interview("Engineer");
    assert!(is_key(&a));
    let (_, one) = get(&willo, &format!("/interviews/{a}/")).await;
    assert_eq!(one["key"], a.as_str());
    assert_eq!(one["title"], "Researcher");
    assert!(one["owner"]["email"].is_string());
    willo.rename_interview(&a, "Senior Researcher").unwrap();
    willo.remove_interview(&b).unwrap();
    let listed = all_results(&willo, "/interviews/").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["title"], "Senior Researcher");
    assert_eq!(get(&willo, &format!("/interviews/{b}/")).await.0, 404);
}

#[tokio::test]
async fn creating_a_participant_requires_interview_name_and_email_with_drf_errors() {
    let willo = start().await;
    let interview = willo.add_interview("PM");
    let (status, body) = invite(&willo, json!({})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({
            "interview": ["This field is required."],
            "name": ["This field is required."],
            "email": ["This field is required."],
        })
    );
    let (status, body) = invite(
        &willo,
        json!({"interview": interview, "name": "", "email": null}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["name"], json!(["This field may not be blank."]));
    assert_eq!(body["email"], json!(["This field may not be null."]));
    let (status, body) = invite(
        &willo,
        json!({"interview": "0".repeat(32), "name": "A", "email": "a@example.com"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["interview"],
        json!([format!(
            "Invalid pk \"{}\" - object does not exist.",
            "0".repeat(32)
        )])
    );
    let (status, body) = invite(
        &willo,
        json!({"interview": interview, "name": "A", "email": "nope"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body, json!({"email": ["Enter a valid email address."]}));
    let (status, body) = invite(&willo, json!([1])).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
    );
    assert!(willo.invites_sent().is_empty(), "nothing was created");

    willo.remove_interview(&interview).unwrap();
    let (status, body) = invite(
        &willo,
        json!({"interview": interview, "name": "A", "email": "a@example.com"}),
    )
    .await;
    assert_eq!(status, 400, "a removed interview takes no participants");
    assert!(
        body["interview"][0]
            .as_str()
            .unwrap()
            .starts_with("Invalid pk")
    );
}

#[tokio::test]
async fn every_post_creates_a_new_participant_and_sends_an_invite_even_for_a_repeated_email() {
    let willo = start().await;
    let interview = willo.add_interview("PM");
    let body = json!({
        "interview": interview, "name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace",
        "email": "ada@example.com", "phone": "+441234567890", "external_id": "opp-1",
    });
    let (s1, p1) = invite(&willo, body.clone()).await;
    let (s2, p2) = invite(&willo, body).await;
    assert_eq!((s1, s2), (201, 201));
    let (k1, k2) = (p1["key"].as_str().unwrap(), p2["key"].as_str().unwrap());
    assert!(is_key(k1) && is_key(k2));
    assert_ne!(k1, k2, "duplicates are allowed: the worst case");
    assert_eq!(willo.participants(&interview).len(), 2);
    let sent = willo.invites_sent();
    assert_eq!(sent.len(), 2, "two invite emails");
    assert!(
        sent.iter()
            .all(|i| i.email == "ada@example.com" && i.interview == interview)
    );
    assert_eq!(p1["interview"], interview.as_str());
    assert_eq!(p1["name"], "Ada Lovelace");
    assert_eq!(p1["first_name"], "Ada");
    assert_eq!(p1["phone"], "+441234567890");
    assert_eq!(p1["external_id"], "opp-1");
    assert_eq!(p1["stage"]["name"], "Invited");

    let (_, got) = get(&willo, &format!("/participants/{k1}/")).await;
    assert_eq!(got, p1, "GET by key returns what POST returned");
    let (status, body) = get(&willo, &format!("/participants/{}/", "f".repeat(32))).await;
    assert_eq!((status, body), (404, json!({"detail": "Not found."})));

    willo.drop_external_id(true);
    let (_, p3) = invite(&willo, json!({"interview": interview, "name": "B", "email": "b@example.com", "external_id": "opp-2"})).await;
    assert_eq!(p3["external_id"], Value::Null, "the real API may drop it");
    assert_eq!(p3["first_name"], "B", "first name derived from name");
}

#[tokio::test]
async fn the_interview_filter_is_honoured_unless_switched_off() {
    let willo = start().await;
    let a = willo.add_interview("A");
    let b = willo.add_interview("B");
    for i in 0..3 {
        willo
            .add_participant(ParticipantSeed::new(
                &a,
                &format!("a{i}"),
                &format!("a{i}@example.com"),
            ))
            .unwrap();
    }
    willo
        .add_participant(ParticipantSeed::new(&b, "b", "b@example.com"))
        .unwrap();
    let of_a = all_results(&willo, &format!("/participants/?interview={a}&page_size=2")).await;
    assert_eq!(of_a.len(), 3);
    assert!(of_a.iter().all(|p| p["interview"] == a.as_str()));
    willo.ignore_interview_filter(true);
    let ignored = all_results(&willo, &format!("/participants/?interview={a}")).await;
    assert_eq!(
        ignored.len(),
        4,
        "the filter may be ignored: rows from other interviews appear"
    );
    let (_, page) = get(&willo, &format!("/participants/?interview={a}&page_size=1")).await;
    assert!(
        page["next"]
            .as_str()
            .unwrap()
            .contains(&format!("interview={a}")),
        "next keeps the query"
    );
}

#[tokio::test]
async fn participant_state_and_interview_appear_in_each_form_the_model_allows() {
    let willo = start().await;
    let i = willo.add_interview("PM");
    let p = willo
        .add_participant(ParticipantSeed::new(&i, "Ada", "ada@example.com"))
        .unwrap();
    let read = || {
        let willo = willo.clone();
        let p = p.clone();
        async move { get(&willo, &format!("/participants/{p}/")).await.1 }
    };
    let before = read().await;
    willo.advance_clock(60_000);
    willo.set_participant_state(&p, "accepted").unwrap();
    let obj = read().await;
    assert_eq!(obj["stage"]["name"], "accepted");
    assert!(obj["stage"]["key"].is_string());
    assert!(obj.get("status").is_none());
    assert_ne!(
        obj["updated_at"], before["updated_at"],
        "state changes move updated_at"
    );
    let created = obj["created_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok(),
        "ISO 8601: {created}"
    );

    willo.set_state_form(&p, StateForm::StageString).unwrap();
    assert_eq!(read().await["stage"], "accepted");
    willo.set_state_form(&p, StateForm::StatusString).unwrap();
    let s = read().await;
    assert_eq!(s["status"], "accepted");
    assert!(s.get("stage").is_none());
    willo.set_state_form(&p, StateForm::Missing).unwrap();
    let m = read().await;
    assert!(m.get("stage").is_none() && m.get("status").is_none());

    let q = willo
        .add_participant(ParticipantSeed::new(&i, "Bo", "bo@example.com").state("Rejected"))
        .unwrap();
    willo.set_default_state_form(StateForm::StatusString);
    let (_, bo) = get(&willo, &format!("/participants/{q}/")).await;
    assert_eq!(
        bo["status"], "Rejected",
        "per-participant override beats the default only when set"
    );

    assert_eq!(read().await["interview"], i.as_str());
    willo.set_interview_form(InterviewForm::Object);
    assert_eq!(read().await["interview"], json!({"key": i, "title": "PM"}));
}

#[tokio::test]
async fn webhooks_are_unsigned_posts_to_the_registered_url_in_each_body_form() {
    let willo = start().await;
    let rx = Receiver::start(&[]).await;
    let i = willo.add_interview("PM");
    let p = willo
        .add_participant(ParticipantSeed::new(&i, "Ada", "ada@example.com"))
        .unwrap();
    let url = format!("{}/acme?token=s3cret&event=new_response", rx.url());
    willo.register_webhook(&url, WilloEvent::NewResponse);
    willo.register_webhook(
        &format!("{}/acme?token=s3cret&event=stage_change", rx.url()),
        WilloEvent::StageChange,
    );

    let forms = [
        (
            WebhookBodyForm::ParticipantKey,
            json!({"participant": p, "interview": i}),
        ),
        (
            WebhookBodyForm::ParticipantKeyField,
            json!({"participant_key": p, "interview_key": i}),
        ),
        (WebhookBodyForm::Key, json!({"key": p, "interview": i})),
        (
            WebhookBodyForm::ParticipantObject,
            json!({"participant": {"key": p, "name": "Ada", "email": "ada@example.com"}, "interview": {"key": i, "title": "PM"}}),
        ),
    ];
    for (form, _) in &forms {
        willo.set_webhook_body(*form);
        willo.emit(WilloEvent::NewResponse, &p).unwrap();
    }
    willo.emit(WilloEvent::StageChange, &p).unwrap();
    within(willo.webhooks_settled()).await;
    let hits = rx.hits();
    assert_eq!(hits.len(), 5);
    let mut bodies: Vec<Value> = hits[..4].iter().map(|h| h.json()).collect();
    let mut want: Vec<Value> = forms.iter().map(|(_, b)| b.clone()).collect();
    bodies.sort_by_key(|b| b.to_string());
    want.sort_by_key(|b| b.to_string());
    assert_eq!(bodies, want);
    for h in &hits {
        assert_eq!(h.path, "/hook/acme");
        assert!(h.query.as_deref().unwrap().contains("token=s3cret"));
        assert!(h.headers.get("x-signature").is_none() && h.headers.get("authorization").is_none());
    }
    let events: Vec<String> = willo
        .webhook_deliveries()
        .iter()
        .map(|d| d.event.clone())
        .collect();
    assert_eq!(events.iter().filter(|e| *e == "stage_change").count(), 1);
    assert!(willo.emit(WilloEvent::NewResponse, "nope").is_err());
}

#[tokio::test]
async fn webhook_deliveries_retry_and_can_be_dropped() {
    let willo = start().await;
    let rx = Receiver::start(&[500]).await;
    let i = willo.add_interview("PM");
    let p = willo
        .add_participant(ParticipantSeed::new(&i, "Ada", "ada@example.com"))
        .unwrap();
    willo.register_webhook(&rx.url(), WilloEvent::StageChange);
    willo.emit(WilloEvent::StageChange, &p).unwrap();
    willo.drop_webhooks(DropRule::All);
    willo.emit(WilloEvent::StageChange, &p).unwrap();
    within(willo.webhooks_settled()).await;
    let d = willo.webhook_deliveries();
    assert_eq!(d[0].attempts.len(), 2);
    assert_eq!(d[0].outcome, DeliveryOutcome::Delivered);
    assert_eq!(d[1].outcome, DeliveryOutcome::Dropped);
}

#[tokio::test]
async fn throttling_answers_429_with_an_optional_retry_after() {
    let willo = start().await;
    willo.set_rate_limit(Some(RateLimit::per_period(Duration::from_secs(3600), 2)));
    assert_eq!(get(&willo, "/interviews/").await.0, 200);
    assert_eq!(get(&willo, "/interviews/").await.0, 200);
    let r = client()
        .get(format!("{}/interviews/", willo.base_url()))
        .header("Authorization", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    willo.set_retry_after(None);
    let r = client()
        .get(format!("{}/interviews/", willo.base_url()))
        .header("Authorization", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_none());
    assert_eq!(
        r.json::<Value>().await.unwrap()["detail"],
        "Request was throttled."
    );
}

#[tokio::test]
async fn paths_without_the_trailing_slash_redirect_and_unknown_paths_404() {
    let willo = start().await;
    let r = client()
        .get(format!("{}/interviews?page=1", willo.base_url()))
        .header("Authorization", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 301);
    assert_eq!(
        r.headers()["location"],
        "/api/integrations/v2/interviews/?page=1"
    );
    let r = client()
        .get(format!("{}/nothing/", willo.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn a_held_invite_exists_in_willo_before_the_client_sees_the_201() {
    let willo = start().await;
    let i = willo.add_interview("PM");
    let hold = willo.hold(HoldRule::new("POST", PARTICIPANTS));
    let req = client()
        .post(format!("{}/participants/", willo.base_url()))
        .header("Authorization", KEY)
        .json(&json!({"interview": i, "name": "Ada", "email": "ada@example.com"}));
    let pending = tokio::spawn(req.send());
    within(hold.held()).await;
    assert_eq!(willo.participants(&i).len(), 1, "created and emailed");
    assert_eq!(willo.invites_sent().len(), 1);
    pending.abort(); // the client "crashes" mid-POST
    let _ = pending.await;
    hold.release();
    assert_eq!(
        willo.accounting().count_status("POST", PARTICIPANTS, 201),
        1
    );
}
