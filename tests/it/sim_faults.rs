//! Pins the shared machinery of both simulators: fault injection, holds, request accounting.

use crate::sim_support;

use std::time::Duration;

use serde_json::{Value, json};
use sim_support::{client, within};
use willo_lever_sync::sim::lever::{LeverSim, LeverSimConfig, OppSeed};
use willo_lever_sync::sim::willo::{WilloSim, WilloSimConfig};
use willo_lever_sync::sim::{Fault, FaultPlan, FaultRule, HoldRule, PageDefect};

const KEY: &str = "lever-key";
const ADD_TAGS: &str = "/v1/opportunities/{id}/addTags";
const GET_OPP: &str = "/v1/opportunities/{id}";

async fn lever_with_opp() -> (LeverSim, String) {
    let lever = LeverSim::start(LeverSimConfig::for_tests()).await.unwrap();
    lever.add_api_key(KEY);
    lever.add_stage("S");
    let opp = lever
        .add_opportunity(OppSeed::new("x", "x@example.com"))
        .unwrap();
    (lever, opp)
}

fn add_tag(lever: &LeverSim, opp: &str, tag: &str) -> reqwest::RequestBuilder {
    client()
        .post(format!("{}/opportunities/{opp}/addTags", lever.base_url()))
        .basic_auth(KEY, Some(""))
        .json(&json!({"tags": [tag]}))
}

fn get_opp(lever: &LeverSim, opp: &str) -> reqwest::RequestBuilder {
    client()
        .get(format!("{}/opportunities/{opp}", lever.base_url()))
        .basic_auth(KEY, Some(""))
}

#[tokio::test]
async fn status_faults_answer_without_applying_the_request() {
    let (lever, opp) = lever_with_opp().await;
    lever.faults().set(
        FaultPlan::seeded(1).with(
            FaultRule::new(Fault::Status(503))
                .on("POST", ADD_TAGS)
                .first(1),
        ),
    );
    let r = add_tag(&lever, &opp, "a").send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "ServiceUnavailable"
    );
    assert!(lever.tags_of(&opp).is_empty(), "not applied");
    let r = add_tag(&lever, &opp, "a").send().await.unwrap();
    assert_eq!(r.status(), 200, "only the first matching request");
    assert_eq!(lever.tags_of(&opp), ["a"]);
    let recs = lever.requests();
    assert_eq!(recs[0].fault.as_deref(), Some("status 503"));
    assert_eq!(recs[1].fault, None);
}

#[tokio::test]
async fn status_after_apply_commits_the_write_but_reports_an_error() {
    let (lever, opp) = lever_with_opp().await;
    lever.faults().add(
        FaultRule::new(Fault::StatusAfterApply(500))
            .on("POST", ADD_TAGS)
            .nth(1),
    );
    let r = add_tag(&lever, &opp, "a").send().await.unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(lever.tags_of(&opp), ["a"], "the write happened");
}

#[tokio::test]
async fn a_share_of_5xx_replays_identically_from_its_seed() {
    async fn statuses(seed: u64) -> Vec<u16> {
        let (lever, opp) = lever_with_opp().await;
        lever.faults().set(
            FaultPlan::seeded(seed)
                .with(FaultRule::new(Fault::Status(500)).route(GET_OPP).share(0.2))
                .with(FaultRule::new(Fault::Status(503)).route(GET_OPP).share(0.2)),
        );
        let mut out = Vec::new();
        for _ in 0..40 {
            out.push(
                get_opp(&lever, &opp)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16(),
            );
        }
        out
    }
    let a = statuses(11).await;
    assert_eq!(a, statuses(11).await, "same seed, same faults");
    assert!(
        a.contains(&500) && a.contains(&503) && a.contains(&200),
        "{a:?}"
    );
    assert_ne!(a, statuses(12).await);
}

#[tokio::test]
async fn latency_is_added_before_handling() {
    let (lever, opp) = lever_with_opp().await;
    lever
        .faults()
        .add(FaultRule::new(Fault::Latency(Duration::from_millis(40))).route(GET_OPP));
    assert_eq!(get_opp(&lever, &opp).send().await.unwrap().status(), 200);
    let rec = lever.requests().pop().unwrap();
    assert_eq!(rec.fault.as_deref(), Some("latency 40ms"));
    // A lower bound only: the simulator slept at least this long (never flaky).
    assert!(
        rec.server_time >= Duration::from_millis(40),
        "{:?}",
        rec.server_time
    );
}

#[tokio::test]
async fn a_dropped_connection_is_a_client_error_never_a_clean_response() {
    let (lever, opp) = lever_with_opp().await;
    for after_bytes in [0, 10] {
        lever.faults().set(
            FaultPlan::seeded(0).with(
                FaultRule::new(Fault::DropConnection { after_bytes })
                    .route(GET_OPP)
                    .first(1),
            ),
        );
        let result = match get_opp(&lever, &opp).send().await {
            Ok(r) => r.bytes().await.map(|_| ()),
            Err(e) => Err(e),
        };
        assert!(
            result.is_err(),
            "after {after_bytes} bytes the client must see an error"
        );
        assert_eq!(
            get_opp(&lever, &opp).send().await.unwrap().status(),
            200,
            "next one is clean"
        );
    }
    // A dropped POST has still been applied.
    lever.faults().set(
        FaultPlan::seeded(0).with(
            FaultRule::new(Fault::DropConnection { after_bytes: 5 })
                .on("POST", ADD_TAGS)
                .first(1),
        ),
    );
    let result = match add_tag(&lever, &opp, "dropped").send().await {
        Ok(r) => r.bytes().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(result.is_err());
    assert_eq!(lever.tags_of(&opp), ["dropped"]);
    assert_eq!(
        lever.requests().last().unwrap().fault.as_deref(),
        Some("drop")
    );
}

#[tokio::test]
async fn a_truncated_body_is_clean_http_with_json_that_does_not_parse() {
    let (lever, opp) = lever_with_opp().await;
    let full = get_opp(&lever, &opp)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    lever.faults().add(
        FaultRule::new(Fault::TruncateBody { keep: 0.5 })
            .route(GET_OPP)
            .first(1),
    );
    let r = get_opp(&lever, &opp).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let cut = r
        .bytes()
        .await
        .expect("the HTTP message itself is complete");
    assert!(cut.len() < full.len());
    assert_eq!(&full[..cut.len()], &cut[..]);
    assert!(serde_json::from_slice::<Value>(&cut).is_err());
}

#[tokio::test]
async fn a_429_storm_refuses_everything_for_its_window() {
    let (lever, opp) = lever_with_opp().await;
    lever.faults().storm_429(Duration::from_secs(600), Some(3));
    let r = add_tag(&lever, &opp, "a").send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "3");
    assert!(
        lever.tags_of(&opp).is_empty(),
        "nothing applied during a storm"
    );
    lever.faults().storm_429(Duration::from_secs(600), None);
    let r = get_opp(&lever, &opp).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_none());
    lever.faults().end_storm();
    assert_eq!(get_opp(&lever, &opp).send().await.unwrap().status(), 200);

    // A short window ends by itself: poll with a deadline.
    lever.faults().storm_429(Duration::from_millis(30), None);
    assert_eq!(get_opp(&lever, &opp).send().await.unwrap().status(), 429);
    within(async {
        while get_opp(&lever, &opp).send().await.unwrap().status() == 429 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_hold_commits_the_request_and_withholds_the_response_until_released() {
    let (lever, opp) = lever_with_opp().await;
    let hold = lever.hold(HoldRule::new("POST", ADD_TAGS));
    let pending = tokio::spawn(add_tag(&lever, &opp, "Willo:Invited").send());
    within(hold.held()).await;
    assert!(hold.is_held());
    assert_eq!(
        lever.tags_of(&opp),
        ["Willo:Invited"],
        "the effect is committed"
    );
    assert!(!pending.is_finished(), "the response is withheld");
    assert_eq!(lever.count("POST", ADD_TAGS), 1, "recorded before the hold");
    hold.release();
    let r = within(pending).await.unwrap().unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_hold_targets_the_nth_matching_request_and_dropping_the_handle_releases() {
    let (lever, opp) = lever_with_opp().await;
    let hold = lever.hold(HoldRule::new("POST", ADD_TAGS).nth(2));
    assert_eq!(
        get_opp(&lever, &opp).send().await.unwrap().status(),
        200,
        "GETs do not count"
    );
    assert_eq!(
        add_tag(&lever, &opp, "one").send().await.unwrap().status(),
        200
    );
    let pending = tokio::spawn(add_tag(&lever, &opp, "two").send());
    within(hold.held()).await;
    assert_eq!(lever.tags_of(&opp), ["one", "two"]);
    drop(hold);
    assert_eq!(within(pending).await.unwrap().unwrap().status(), 200);
}

#[tokio::test]
async fn accounting_counts_by_method_route_and_status_and_knows_writes() {
    let (lever, opp) = lever_with_opp().await;
    let start = std::time::Instant::now();
    get_opp(&lever, &opp).send().await.unwrap();
    get_opp(&lever, "missing").send().await.unwrap();
    let mark = lever.accounting().mark();
    client()
        .get(format!("{}/opportunities", lever.base_url()))
        .basic_auth(KEY, Some(""))
        .send()
        .await
        .unwrap();
    assert!(
        lever.accounting().writes_since(mark).is_empty(),
        "this pass wrote nothing"
    );
    add_tag(&lever, &opp, "a").send().await.unwrap();
    client()
        .get(format!("{}/nowhere", lever.base_url()))
        .basic_auth(KEY, Some(""))
        .send()
        .await
        .unwrap();

    assert_eq!(lever.count("GET", GET_OPP), 2);
    assert_eq!(lever.accounting().count_status("GET", GET_OPP, 200), 1);
    assert_eq!(lever.accounting().count_status("GET", GET_OPP, 404), 1);
    assert_eq!(
        lever.count("post", ADD_TAGS),
        1,
        "method is case-insensitive"
    );
    let writes = lever.accounting().writes_since(mark);
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].route, ADD_TAGS);
    assert_eq!(writes[0].path, format!("/v1/opportunities/{opp}/addTags"));
    assert_eq!(writes[0].credential.as_deref(), Some(KEY));
    let all = lever.requests();
    assert_eq!(all.last().unwrap().route, "<unmatched>");
    assert_eq!(all.last().unwrap().status, 404);
    assert!(
        all.windows(2)
            .all(|w| w[0].at <= w[1].at && w[0].seq < w[1].seq)
    );
    assert!(all[0].at >= start);
    lever.accounting().clear();
    assert!(lever.requests().is_empty());
    assert_eq!(
        lever.accounting().mark(),
        all.last().unwrap().seq + 1,
        "seq keeps counting"
    );
}

#[tokio::test]
async fn willo_faults_follow_django_conventions() {
    let willo = WilloSim::start(WilloSimConfig::for_tests()).await.unwrap();
    willo.add_api_key("wk");
    let url = format!("{}/interviews/", willo.base_url());
    willo.faults().add(
        FaultRule::new(Fault::Status(500))
            .on("GET", "/api/integrations/v2/interviews/")
            .first(1),
    );
    let r = client()
        .get(&url)
        .header("Authorization", "wk")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("Server Error (500)"));

    willo.faults().storm_429(Duration::from_secs(600), Some(2));
    let r = client()
        .get(&url)
        .header("Authorization", "wk")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    assert_eq!(
        r.json::<Value>().await.unwrap()["detail"],
        "Request was throttled. Expected available in 2 seconds."
    );
    willo.faults().clear();
    let r = client()
        .get(&url)
        .header("Authorization", "wk")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn body_of(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn malformed_page_faults_break_the_lever_item_array_and_spare_other_answers() {
    let (lever, opp) = lever_with_opp().await;
    let list = || {
        client()
            .get(format!("{}/opportunities?limit=1", lever.base_url()))
            .basic_auth(KEY, Some(""))
    };
    let cases = [
        (PageDefect::MissingItems, None),
        (PageDefect::ItemsObject, Some(json!({}))),
        (PageDefect::ItemsNull, Some(Value::Null)),
    ];
    for (defect, data) in cases {
        lever.faults().set(
            FaultPlan::seeded(1)
                .with(FaultRule::new(Fault::MalformedPage(defect)).on("GET", "/v1/opportunities")),
        );
        let (status, body) = body_of(list()).await;
        assert_eq!(status, 200, "{defect:?}");
        assert_eq!(body.get("data").cloned(), data, "{defect:?}: {body}");
        assert_eq!(body["hasNext"], false, "the rest of the envelope stays");
    }
    lever.faults().set(FaultPlan::seeded(1).with(
        FaultRule::new(Fault::MalformedPage(PageDefect::BareArray)).route("/v1/opportunities"),
    ));
    let (_, body) = body_of(list()).await;
    assert_eq!(body[0]["id"], opp.as_str(), "the bare item array: {body}");
    let recs = lever.requests();
    assert_eq!(
        recs.last().unwrap().fault.as_deref(),
        Some("malformed page")
    );

    lever.faults().set(
        FaultPlan::seeded(1).with(FaultRule::new(Fault::MalformedPage(PageDefect::BareArray))),
    );
    let (status, one) = body_of(get_opp(&lever, &opp)).await;
    assert_eq!(
        (status, one["data"]["id"].as_str()),
        (200, Some(opp.as_str())),
        "not a list"
    );
    let (status, err) = body_of(
        client()
            .get(format!("{}/opportunities?limit=0", lever.base_url()))
            .basic_auth(KEY, Some("")),
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("BadRequestError")),
        "errors pass"
    );
}

#[tokio::test]
async fn malformed_page_faults_break_the_willo_results() {
    let willo = WilloSim::start(WilloSimConfig::for_tests()).await.unwrap();
    willo.add_api_key("wk");
    let interview = willo.add_interview("PM");
    let list = || {
        client()
            .get(format!("{}/interviews/", willo.base_url()))
            .header("Authorization", "wk")
    };
    let cases = [
        (PageDefect::MissingItems, None),
        (PageDefect::ItemsObject, Some(json!({}))),
        (PageDefect::ItemsNull, Some(Value::Null)),
    ];
    for (defect, results) in cases {
        willo
            .faults()
            .set(FaultPlan::seeded(1).with(FaultRule::new(Fault::MalformedPage(defect)).first(1)));
        let (status, body) = body_of(list()).await;
        assert_eq!(status, 200);
        assert_eq!(body.get("results").cloned(), results, "{defect:?}: {body}");
        assert_eq!(body["count"], 1);
    }
    willo.faults().set(
        FaultPlan::seeded(1)
            .with(FaultRule::new(Fault::MalformedPage(PageDefect::BareArray)).first(1)),
    );
    let (_, body) = body_of(list()).await;
    assert_eq!(body[0]["key"], interview.as_str());
    let (_, body) = body_of(list()).await;
    assert!(body["results"].is_array(), "only the first request was hit");
}
