//! Pins each switchable Willo behaviour (the model's reading and its plausible alternatives)
//! through plain HTTP, so daemon tests can rely on the switches.

use crate::sim_support;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sim_support::{Receiver, client, within};
use willo_lever_sync::sim::willo::{
    DepartmentForm, InterviewSeed, ListEnvelope, NonAdminListing, PageLinks, ParticipantOrder,
    ParticipantSeed, PhoneForm, StateForm, TimestampForm, WebhookBodyForm, WilloEvent, WilloSim,
    WilloSimConfig, stage_key,
};

const KEY: &str = "willo-key";

async fn start() -> WilloSim {
    let willo = WilloSim::start(WilloSimConfig::for_tests()).await.unwrap();
    willo.add_api_key(KEY);
    willo
}

async fn get_url_as(key: &str, url: &str) -> (u16, Value) {
    let r = client()
        .get(url)
        .header("Authorization", key)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

async fn get_as(willo: &WilloSim, key: &str, path: &str) -> (u16, Value) {
    get_url_as(key, &format!("{}{path}", willo.base_url())).await
}

async fn get(willo: &WilloSim, path: &str) -> (u16, Value) {
    get_as(willo, KEY, path).await
}

/// Follows `next` as given until it is null; every row's `key`, in order.
async fn all_keys(willo: &WilloSim, key: &str, path: &str) -> Vec<String> {
    let mut url = format!("{}{path}", willo.base_url());
    let mut out = Vec::new();
    loop {
        let (status, page) = get_url_as(key, &url).await;
        assert_eq!(status, 200, "{page}");
        out.extend(
            page["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["key"].as_str().unwrap().to_owned()),
        );
        match page["next"].as_str() {
            Some(next) => url = next.to_owned(),
            None => return out,
        }
    }
}

fn seed(willo: &WilloSim, interview: &str, n: usize) -> Vec<String> {
    willo
        .add_participants((0..n).map(|i| {
            ParticipantSeed::new(interview, &format!("P{i}"), &format!("p{i}@example.com"))
        }))
        .unwrap()
}

/// Every string in a JSON value, depth first.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(m) => m.values().for_each(|i| strings(i, out)),
        _ => {}
    }
}

fn is_hex32(s: &str) -> bool {
    s.len() == 32
        && s.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

// ---- pagination links -------------------------------------------------------------------

#[tokio::test]
async fn page_links_may_name_a_proxy_port_or_another_host_and_work_rebuilt_on_the_base() {
    let willo = start().await;
    let i = willo.add_interview("PM");
    let keys = seed(&willo, &i, 5);
    let first = format!("/participants/?interview={i}&page_size=2");
    let rebuilt = |next: &str| {
        let url = url::Url::parse(next).unwrap();
        format!(
            "{}{}?{}",
            willo.origin(),
            url.path(),
            url.query().unwrap_or_default()
        )
    };

    willo.set_page_links(PageLinks::Proxied {
        scheme: "https".into(),
        port: 8443,
    });
    let (_, page) = get(&willo, &first).await;
    let next = page["next"].as_str().unwrap();
    assert!(
        next.starts_with("https://127.0.0.1:8443/api/integrations/v2/participants/?"),
        "{next}"
    );
    assert_ne!(willo.addr().port(), 8443);
    let (status, second) = get_url_as(KEY, &rebuilt(next)).await;
    assert_eq!(status, 200, "path and query work on the configured base");
    assert_eq!(second["results"][0]["key"], keys[2].as_str());
    assert!(
        second["previous"]
            .as_str()
            .unwrap()
            .starts_with("https://127.0.0.1:8443/")
    );

    willo.set_page_links(PageLinks::Host("https://api.willotalent.com".into()));
    let (_, page) = get(&willo, &first).await;
    let next = page["next"].as_str().unwrap();
    assert!(
        next.starts_with("https://api.willotalent.com/api/integrations/v2/participants/?"),
        "{next}"
    );
    let (_, second) = get_url_as(KEY, &rebuilt(next)).await;
    assert_eq!(second["results"][0]["key"], keys[2].as_str());

    willo.set_page_links(PageLinks::FromRequest);
    let (_, page) = get(&willo, &first).await;
    assert!(
        page["next"]
            .as_str()
            .unwrap()
            .starts_with(&willo.base_url())
    );
}

// ---- webhook bodies ---------------------------------------------------------------------

#[tokio::test]
async fn webhook_bodies_may_hide_the_participant_key_or_leave_it_out() {
    let willo = start().await;
    let rx = Receiver::start(&[]).await;
    let i = willo.add_interview("PM");
    let p = willo
        .add_participant(ParticipantSeed::new(&i, "Ada", "ada@example.com"))
        .unwrap();
    willo.register_webhook(
        &format!("{}?token=t&event=new_response", rx.url()),
        WilloEvent::NewResponse,
    );
    let forms = [
        WebhookBodyForm::DataCandidateUuid,
        WebhookBodyForm::ResponseParticipantId,
        WebhookBodyForm::BareHexValues,
        WebhookBodyForm::NoParticipantKey,
    ];
    for form in forms {
        willo.set_webhook_body(form);
        willo.emit(WilloEvent::NewResponse, &p).unwrap();
        within(willo.webhooks_settled()).await;
    }
    let bodies: Vec<Value> = rx.hits().iter().map(|h| h.json()).collect();
    assert_eq!(bodies.len(), 4);
    assert_eq!(bodies[0]["data"]["candidate"]["uuid"], p.as_str());
    assert_eq!(bodies[0]["data"]["interview"]["uuid"], i.as_str());
    assert_eq!(bodies[1]["response"]["participant_id"], p.as_str());
    assert_eq!(bodies[1]["response"]["interview_id"], i.as_str());
    for b in &bodies[2..] {
        for documented in ["participant", "participant_key", "key"] {
            assert!(b.get(documented).is_none(), "{b}");
        }
    }
    let mut hex = Vec::new();
    strings(&bodies[2], &mut hex);
    hex.retain(|s| is_hex32(s));
    assert_eq!(
        hex,
        [i.clone(), p.clone()],
        "only two bare 32-hex values, the interview key first"
    );
    let mut all = Vec::new();
    strings(&bodies[3], &mut all);
    assert!(
        !all.contains(&p),
        "no participant key anywhere: {}",
        bodies[3]
    );
    assert!(all.contains(&i), "the interview key is still there");
}

// ---- tolerant reads ---------------------------------------------------------------------

#[tokio::test]
async fn records_may_have_phone_objects_epoch_timestamps_nested_objects_and_extra_fields() {
    let willo = start().await;
    let dept = willo.add_department("Acme Robotics");
    let i = willo.add_interview_in("PM", &dept);
    let p = willo
        .add_participant(ParticipantSeed::new(&i, "Ada", "ada@example.com").phone("+441234567890"))
        .unwrap();
    let read = || {
        let willo = willo.clone();
        let path = format!("/participants/{p}/");
        async move { get(&willo, &path).await.1 }
    };
    let plain = read().await;
    assert_eq!(plain["phone"], "+441234567890");
    assert!(plain["created_at"].as_str().unwrap().ends_with('Z'));
    let created = willo.participant(&p).unwrap().created_at;

    willo.set_phone_form(PhoneForm::Object);
    willo.set_timestamp_form(TimestampForm::EpochSeconds);
    willo.set_nested_objects(true);
    willo.set_extra_fields(true);
    let odd = read().await;
    assert_eq!(odd["phone"]["number"], "+441234567890");
    assert_eq!(odd["created_at"], created / 1000);
    assert!(odd["updated_at"].is_i64());
    assert_eq!(odd["language"], json!({"code": "en", "name": "English"}));
    for extra in ["responses", "idv_status", "tags", "score", "meta"] {
        assert!(odd.get(extra).is_some(), "{extra} in {odd}");
    }
    assert_eq!(
        odd["email"], "ada@example.com",
        "the fields the sync needs stay"
    );
    willo.set_timestamp_form(TimestampForm::EpochMillis);
    assert_eq!(read().await["created_at"], created);

    let (_, interview) = get(&willo, &format!("/interviews/{i}/")).await;
    assert!(interview["created_at"].is_i64());
    assert!(interview["language"].is_object() && interview["questions"].is_array());
    assert_eq!(interview["department"], dept.as_str());
    willo.set_department_form(DepartmentForm::Object);
    let (_, interview) = get(&willo, &format!("/interviews/{i}/")).await;
    assert_eq!(
        interview["department"],
        json!({"key": dept, "name": "Acme Robotics"})
    );
}

#[tokio::test]
async fn a_list_may_answer_a_bare_array_of_every_row() {
    let willo = start().await;
    let i = willo.add_interview("PM");
    let keys = seed(&willo, &i, 12);
    willo.set_list_envelope(ListEnvelope::BareArray);
    let (status, body) = get(&willo, &format!("/participants/?interview={i}&page_size=5")).await;
    assert_eq!(status, 200);
    let rows = body.as_array().expect("a bare array");
    assert_eq!(rows.len(), 12, "every row, no paging");
    assert_eq!(rows[11]["key"], keys[11].as_str());
    let (_, interviews) = get(&willo, "/interviews/").await;
    assert_eq!(interviews.as_array().unwrap().len(), 1);
}

// ---- participant state ------------------------------------------------------------------

#[tokio::test]
async fn participant_state_may_sit_under_other_paths_or_come_as_a_stage_key() {
    let willo = start().await;
    let i = willo.add_interview("PM");
    let p = willo
        .add_participant(ParticipantSeed::new(&i, "Ada", "ada@example.com").state("Accepted"))
        .unwrap();
    let read = || {
        let willo = willo.clone();
        let path = format!("/participants/{p}/");
        async move { get(&willo, &path).await.1 }
    };
    willo.set_state_form(&p, StateForm::StageTitle).unwrap();
    let r = read().await;
    assert_eq!(r["stage"]["title"], "Accepted");
    assert!(r["stage"].get("name").is_none());

    willo
        .set_state_form(&p, StateForm::CurrentStageName)
        .unwrap();
    let r = read().await;
    assert_eq!(r["current_stage"]["name"], "Accepted");
    assert!(r.get("stage").is_none() && r.get("status").is_none());

    willo.set_state_form(&p, StateForm::PipelineStage).unwrap();
    let r = read().await;
    assert_eq!(r["pipeline_stage"], "Accepted");
    assert!(r.get("stage").is_none() && r.get("status").is_none());

    willo.set_default_state_form(StateForm::StageKey);
    let q = willo
        .add_participant(ParticipantSeed::new(&i, "Bo", "bo@example.com").state("Rejected"))
        .unwrap();
    let (_, r) = get(&willo, &format!("/participants/{q}/")).await;
    let key = r["stage"].as_str().unwrap();
    assert!(is_hex32(key), "{key}");
    assert_eq!(key, stage_key("rejected"), "stable per stage name");
    assert_ne!(key, stage_key("Accepted"));
}

// ---- interviews -------------------------------------------------------------------------

#[tokio::test]
async fn interviews_carry_department_and_owner_and_honour_list_filters_unless_ignored() {
    let willo = start().await;
    let acme = willo.add_department("Acme");
    let beta = willo.add_department("Beta Labs");
    let sam = willo.add_user("sam@example.com", "Sam Recruiter");
    let a = willo
        .add_interview_with(InterviewSeed::new("Researcher").department(&acme))
        .unwrap();
    let b = willo
        .add_interview_with(InterviewSeed::new("Engineer").department(&beta).owner(&sam))
        .unwrap();
    let c = willo.add_interview("Designer");
    let (_, one) = get(&willo, &format!("/interviews/{b}/")).await;
    assert_eq!(
        one["owner"],
        json!({"key": sam, "email": "sam@example.com", "full_name": "Sam Recruiter"})
    );
    assert_eq!(one["department"], beta.as_str());

    let q = |query: String| {
        let willo = willo.clone();
        async move {
            all_keys(&willo, KEY, &format!("/interviews/?{query}"))
                .await
                .into_iter()
                .collect::<BTreeSet<_>>()
        }
    };
    assert_eq!(
        q(format!("department={acme}")).await,
        BTreeSet::from([a.clone()])
    );
    assert_eq!(q(format!("owner={sam}")).await, BTreeSet::from([b.clone()]));
    assert_eq!(
        q("search=engin".into()).await,
        BTreeSet::from([b.clone()]),
        "title"
    );
    assert_eq!(
        q("search=SAM%40".into()).await,
        BTreeSet::from([b.clone()]),
        "owner email"
    );
    assert_eq!(
        q("search=beta".into()).await,
        BTreeSet::from([b.clone()]),
        "department name"
    );
    assert_eq!(
        q(format!("department={acme}&search=nothing")).await.len(),
        0
    );

    willo.ignore_interview_list_filters(true);
    assert_eq!(
        q(format!("department={acme}&owner={sam}&search=x")).await,
        BTreeSet::from([a, b, c]),
        "ignored filters list everything"
    );
}

#[tokio::test]
async fn thousands_of_old_and_closed_interviews_seed_cheaply_and_closed_ones_may_be_listed() {
    let willo = start().await;
    let old = willo.now() - 3 * 365 * 24 * 3600 * 1000;
    let keys = willo
        .add_interviews((0..3000).map(|n| {
            let s = InterviewSeed::new(&format!("Old {n}")).created_at(old + n);
            if n % 3 == 0 { s } else { s.closed() }
        }))
        .unwrap();
    let (_, page) = get(&willo, "/interviews/?page_size=30").await;
    assert_eq!(
        page["count"], 1000,
        "closed interviews are not listed by default"
    );
    assert_eq!(
        get(&willo, &format!("/interviews/{}/", keys[1])).await.0,
        404
    );
    willo.list_closed_interviews(true);
    let (_, page) = get(&willo, "/interviews/?page_size=30").await;
    assert_eq!(page["count"], 3000, "the alternative lists them all alike");
    assert_eq!(
        get(&willo, &format!("/interviews/{}/", keys[1])).await.0,
        200
    );
    let r = client()
        .post(format!("{}/participants/", willo.base_url()))
        .header("Authorization", KEY)
        .json(&json!({"interview": keys[1], "name": "A", "email": "a@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "a closed interview takes no participants");
    assert!(willo.invites_sent().is_empty());
}

// ---- participant listing ----------------------------------------------------------------

#[tokio::test]
async fn an_ignored_interview_filter_mixes_other_interviews_rows_across_pages_in_a_stable_order() {
    let willo = start().await;
    let a = willo.add_interview("A");
    let b = willo.add_interview("B");
    let mut created = Vec::new();
    for n in 0..7 {
        for (i, name) in [(&a, "a"), (&b, "b")] {
            created.push(
                willo
                    .add_participant(ParticipantSeed::new(
                        i,
                        &format!("{name}{n}"),
                        &format!("{name}{n}@example.com"),
                    ))
                    .unwrap(),
            );
        }
    }
    willo.ignore_interview_filter(true);
    let path = format!("/participants/?interview={a}&page_size=3");
    let first = all_keys(&willo, KEY, &path).await;
    assert_eq!(
        first, created,
        "everyone, in creation order, across 5 pages"
    );
    assert_eq!(
        all_keys(&willo, KEY, &path).await,
        first,
        "the same order every read"
    );
    let (_, page2) = get(&willo, &format!("{path}&page=2")).await;
    let interviews: BTreeSet<String> = page2["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["interview"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        interviews,
        BTreeSet::from([a, b]),
        "rows of both interviews on one page"
    );
}

#[tokio::test]
async fn participant_pages_are_in_creation_order_with_the_total_count_or_newest_first() {
    let willo = start().await;
    let i = willo.add_interview("PM");
    let keys = seed(&willo, &i, 25);
    let path = format!("/participants/?interview={i}&page_size=10");
    let (_, page) = get(&willo, &path).await;
    assert_eq!(page["count"], 25);
    assert_eq!(all_keys(&willo, KEY, &path).await, keys, "creation order");
    let (_, last) = get(&willo, &format!("{path}&page=last")).await;
    assert_eq!(
        last["results"].as_array().unwrap().len(),
        5,
        "count bounds the last page"
    );

    willo.set_participant_order(ParticipantOrder::NewestFirst);
    let mut newest_first = keys.clone();
    newest_first.reverse();
    assert_eq!(all_keys(&willo, KEY, &path).await, newest_first);
    let (_, page) = get(&willo, &path).await;
    assert_eq!(page["count"], 25);
    let added = seed(&willo, &i, 1);
    let (_, page) = get(&willo, &path).await;
    assert_eq!(
        page["results"][0]["key"],
        added[0].as_str(),
        "a new row lands on page 1 and shifts every page"
    );
}

// ---- key roles --------------------------------------------------------------------------

#[tokio::test]
async fn a_non_admin_key_sees_only_its_own_interviews_or_gets_403_on_listings() {
    let willo = start().await;
    let sam = willo.add_user("sam@example.com", "Sam");
    let own = willo
        .add_interview_with(InterviewSeed::new("Sam's").owner(&sam))
        .unwrap();
    let other = willo.add_interview("Admin's");
    let own_people = seed(&willo, &own, 2);
    let other_people = seed(&willo, &other, 2);
    willo.add_api_key_for("sam-key", &sam);

    let listed = all_keys(&willo, "sam-key", "/interviews/").await;
    assert_eq!(listed, std::slice::from_ref(&own));
    assert_eq!(
        all_keys(&willo, "sam-key", "/participants/").await,
        own_people
    );
    assert!(
        all_keys(
            &willo,
            "sam-key",
            &format!("/participants/?interview={other}")
        )
        .await
        .is_empty()
    );
    assert_eq!(
        get_as(
            &willo,
            "sam-key",
            &format!("/participants/{}/", other_people[0])
        )
        .await
        .0,
        404
    );
    assert_eq!(
        get_as(&willo, "sam-key", &format!("/interviews/{other}/"))
            .await
            .0,
        404
    );
    let r = client()
        .post(format!("{}/participants/", willo.base_url()))
        .header("Authorization", "sam-key")
        .json(&json!({"interview": other, "name": "A", "email": "a@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "another user's interview looks absent");

    willo.set_non_admin_listing(NonAdminListing::Forbidden);
    for path in ["/interviews/", "/participants/"] {
        let (status, body) = get_as(&willo, "sam-key", path).await;
        assert_eq!(status, 403, "{path}");
        assert!(body["detail"].is_string());
    }
    assert_eq!(
        all_keys(&willo, KEY, "/interviews/").await.len(),
        2,
        "Admins list everything"
    );

    willo.set_key_admin("sam-key", true);
    assert_eq!(all_keys(&willo, "sam-key", "/interviews/").await.len(), 2);
    willo.set_key_admin(KEY, false);
    let (status, _) = get(&willo, "/interviews/").await;
    assert_eq!(status, 403, "the default key made non-admin");
}
