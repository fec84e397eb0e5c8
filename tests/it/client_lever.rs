//! The Lever client against the Lever simulator: paging through opaque tokens, a restarted
//! listing, rate limiting under a 429 storm, retries, error kinds, tag and note writes.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::TryStreamExt;
use secrecy::SecretString;
use url::Url;
use willo_lever_sync::http::{
    Api, ApiError, CountingObserver, HttpConfig, RequestsPerSecond, RetryPolicy,
};
use willo_lever_sync::lever::{LeverAuth, LeverClient, LeverClientConfig, OpportunityQuery};
use willo_lever_sync::sim::faults::{Fault, FaultPlan, FaultRule};
use willo_lever_sync::sim::lever::{LeverSim, LeverSimConfig, OppSeed, PostingSeed, UserSeed};

const KEY: &str = "test-key";

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

/// Fast retries and a generous rate: tests that are not about pacing must not wait for it.
fn http(rps: u32, burst: u32) -> HttpConfig {
    HttpConfig {
        requests_per_second: RequestsPerSecond::new(f64::from(rps)).unwrap(),
        burst: nz(burst),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            initial_interval: Duration::from_millis(5),
            max_interval: Duration::from_millis(50),
            multiplier: 2.0,
            max_elapsed: Duration::from_secs(10),
        },
    }
}

async fn sim() -> LeverSim {
    let lever = LeverSim::start(LeverSimConfig::for_tests()).await.unwrap();
    lever.add_api_key(KEY);
    lever
}

fn client_at(base: &str, http: HttpConfig) -> (LeverClient, Arc<CountingObserver>) {
    let counter = Arc::new(CountingObserver::new());
    let mut config = LeverClientConfig::new(
        Url::parse(base).unwrap(),
        LeverAuth::ApiKey(SecretString::from(KEY).into()),
    );
    config.http = http;
    (
        LeverClient::new(config, counter.clone(), None).unwrap(),
        counter,
    )
}

fn client(lever: &LeverSim) -> (LeverClient, Arc<CountingObserver>) {
    client_at(&lever.base_url(), http(1000, 100))
}

fn integration_user() -> UserSeed {
    UserSeed {
        name: "Integration".into(),
        email: "integration@example.com".into(),
        access_role: None,
    }
}

fn seed_many(lever: &LeverSim, n: usize, stage: &str) -> HashSet<String> {
    let seeds = (0..n).map(|i| {
        OppSeed::new(&format!("Candidate {i}"), &format!("c{i}@example.com")).stage(stage)
    });
    lever
        .add_opportunities(seeds)
        .unwrap()
        .into_iter()
        .collect()
}

#[tokio::test]
async fn lists_more_than_a_thousand_opportunities_through_opaque_tokens() {
    let lever = sim().await;
    let stage = lever.add_stage("Video Interview");
    let other = lever.add_stage("Offer");
    let expected = seed_many(&lever, 1_050, &stage);
    seed_many(&lever, 30, &other);
    let (client, counter) = client(&lever);

    let query = OpportunityQuery {
        stage_ids: vec![stage],
        expand_applications: true,
        ..Default::default()
    };
    let opps: Vec<_> = client.opportunities(&query).try_collect().await.unwrap();

    let ids: HashSet<String> = opps.iter().map(|o| o.id.clone()).collect();
    assert_eq!(opps.len(), 1_050, "no duplicates");
    assert_eq!(ids, expected);
    // 100 per page (Lever's default): 11 pages, each after the first sent with the token Lever
    // returned, and every other parameter unchanged.
    let pages: Vec<_> = lever
        .requests()
        .into_iter()
        .filter(|r| r.route == "/v1/opportunities")
        .collect();
    assert_eq!(pages.len(), 11);
    assert!(pages.iter().all(|r| r.status == 200));
    assert!(!pages[0].query.as_deref().unwrap_or("").contains("offset="));
    assert!(
        pages[1..]
            .iter()
            .all(|r| r.query.as_deref().unwrap_or("").contains("offset="))
    );
    assert_eq!(counter.calls(Api::Lever), 11);
}

#[tokio::test]
async fn pages_are_fetched_only_as_the_stream_is_consumed() {
    let lever = sim().await;
    let stage = lever.add_stage("Video Interview");
    seed_many(&lever, 250, &stage);
    let (client, _) = client(&lever);

    let query = OpportunityQuery {
        stage_ids: vec![stage],
        limit: Some(50),
        ..Default::default()
    };
    let mut stream = std::pin::pin!(client.opportunities(&query));
    for _ in 0..60 {
        stream.try_next().await.unwrap().unwrap();
    }
    // 60 items need two pages of 50, not all five.
    assert_eq!(lever.count("GET", "/v1/opportunities"), 2);
}

/// Forwards every request to `upstream`, replacing the `offset` of the offset-bearing requests
/// for which `tamper(n)` (1-based) is true: the simulator then refuses the token as Lever does.
async fn tampering_proxy(
    upstream: String,
    tamper: impl Fn(usize) -> bool + Send + Sync + 'static,
) -> SocketAddr {
    use axum::body::Bytes;
    use axum::extract::{Request, State};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};

    struct Proxy {
        upstream: String,
        http: reqwest::Client,
        offsets: AtomicUsize,
        tamper: Box<dyn Fn(usize) -> bool + Send + Sync>,
    }
    async fn forward(State(p): State<Arc<Proxy>>, req: Request) -> Response {
        let mut pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
                .into_owned()
                .collect();
        if pairs.iter().any(|(k, _)| k == "offset") {
            let n = p.offsets.fetch_add(1, Ordering::SeqCst) + 1;
            if (p.tamper)(n) {
                for (k, v) in pairs.iter_mut() {
                    if k == "offset" {
                        v.insert(0, 'x');
                    }
                }
            }
        }
        let mut url = Url::parse(&format!("{}{}", p.upstream, req.uri().path())).unwrap();
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        let mut out = p.http.request(req.method().clone(), url);
        for (name, value) in req.headers() {
            if name != "host" {
                out = out.header(name, value);
            }
        }
        let body: Bytes = axum::body::to_bytes(req.into_body(), usize::MAX)
            .await
            .unwrap();
        let resp = out.body(body).send().await.unwrap();
        let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
        (
            status,
            [("content-type", "application/json")],
            resp.bytes().await.unwrap(),
        )
            .into_response()
    }

    let proxy = Arc::new(Proxy {
        upstream,
        http: reqwest::Client::new(),
        offsets: AtomicUsize::new(0),
        tamper: Box::new(tamper),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn a_refused_offset_token_restarts_the_listing_once() {
    let lever = sim().await;
    let stage = lever.add_stage("Video Interview");
    let expected = seed_many(&lever, 230, &stage);
    // The third token is refused: pages 1–3 were read, then the listing starts over.
    let proxy = tampering_proxy(lever.origin(), |n| n == 3).await;
    let (client, _) = client_at(&format!("http://{proxy}/v1"), http(1000, 100));

    let query = OpportunityQuery {
        stage_ids: vec![stage],
        limit: Some(50),
        ..Default::default()
    };
    let opps: Vec<_> = client.opportunities(&query).try_collect().await.unwrap();

    let ids: Vec<String> = opps.iter().map(|o| o.id.clone()).collect();
    assert_eq!(ids.len(), 230, "ids already yielded are not yielded again");
    assert_eq!(ids.into_iter().collect::<HashSet<_>>(), expected);
    let statuses: Vec<u16> = lever.requests().iter().map(|r| r.status).collect();
    // 3 pages + the refusal + 5 pages from scratch.
    assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 1);
    assert_eq!(statuses.len(), 9, "{statuses:?}");
}

#[tokio::test]
async fn an_offset_token_refused_with_any_4xx_status_restarts_the_listing_once() {
    for status in [400, 422, 404] {
        let lever = sim().await;
        lever.set_offset_error_status(status);
        let stage = lever.add_stage("Video Interview");
        let expected = seed_many(&lever, 120, &stage);
        let proxy = tampering_proxy(lever.origin(), |n| n == 1).await;
        let (client, _) = client_at(&format!("http://{proxy}/v1"), http(1000, 100));

        let query = OpportunityQuery {
            stage_ids: vec![stage],
            limit: Some(50),
            ..Default::default()
        };
        let opps: Vec<_> = client.opportunities(&query).try_collect().await.unwrap();

        let ids: HashSet<String> = opps.iter().map(|o| o.id.clone()).collect();
        assert_eq!(ids, expected, "HTTP {status}");
        let statuses: Vec<u16> = lever.requests().iter().map(|r| r.status).collect();
        // page 1, the refusal, then pages 1–3 from scratch.
        assert_eq!(statuses, [200, status, 200, 200, 200], "HTTP {status}");
    }
}

#[tokio::test]
async fn a_second_refused_offset_token_is_a_protocol_error() {
    let lever = sim().await;
    let stage = lever.add_stage("Video Interview");
    seed_many(&lever, 120, &stage);
    let proxy = tampering_proxy(lever.origin(), |_| true).await;
    let (client, _) = client_at(&format!("http://{proxy}/v1"), http(1000, 100));

    let query = OpportunityQuery {
        stage_ids: vec![stage],
        limit: Some(50),
        ..Default::default()
    };
    let err = client
        .opportunities(&query)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();

    assert!(matches!(err, ApiError::Protocol { .. }), "{err}");
    assert_eq!(err.metric_label(), "protocol");
    // page 1, refused token, page 1 again, refused again: then it stops.
    assert_eq!(lever.requests().len(), 4);
}

/// The largest number of requests the simulator saw in any window, compared with what a token
/// bucket of `rps`/`burst` can release: `burst + rps × window`. `slack` absorbs the scheduling
/// jitter between the client's release and the server's arrival stamp.
fn assert_within_bucket(
    times: &[std::time::Instant],
    rps: f64,
    burst: f64,
    slack: Duration,
) -> f64 {
    let mut worst_rate: f64 = 0.0;
    for i in 0..times.len() {
        for j in i + 1..times.len() {
            let window = times[j].duration_since(times[i]);
            let count = (j - i + 1) as f64;
            let allowed = burst + rps * (window + slack).as_secs_f64();
            assert!(
                count <= allowed,
                "{count} requests within {window:?}: a bucket of {rps}/s burst {burst} allows {allowed:.1}"
            );
            if window >= Duration::from_secs(1) {
                worst_rate = worst_rate.max((count - burst) / window.as_secs_f64());
            }
        }
    }
    worst_rate
}

#[tokio::test]
async fn a_429_storm_is_survived_without_exceeding_the_configured_rate() {
    let lever = sim().await;
    let stage = lever.add_stage("Video Interview");
    seed_many(&lever, 40, &stage);
    let (rps, burst) = (20, 4);
    let (client, counter) = client_at(&lever.base_url(), http(rps, burst));

    lever.faults().storm_429(Duration::from_millis(800), None);
    // Eight concurrent readers of one page each, then a paged listing, all under one limiter.
    let query = OpportunityQuery {
        stage_ids: vec![stage],
        limit: Some(5),
        ..Default::default()
    };
    let sample: Vec<String> = client
        .opportunities(&query)
        .map_ok(|o| o.id)
        .try_collect()
        .await
        .unwrap();
    let singles =
        futures::future::join_all(sample.iter().take(8).map(|id| client.opportunity(id))).await;

    assert_eq!(sample.len(), 40);
    assert!(singles.iter().all(Result::is_ok));
    let limited = counter.rate_limited(Api::Lever);
    assert!(limited > 0, "the storm was felt");
    let times: Vec<_> = lever.requests().iter().map(|r| r.at).collect();
    assert_eq!(times.len() as u64, counter.calls(Api::Lever));
    let worst = assert_within_bucket(
        &times,
        f64::from(rps),
        f64::from(burst),
        Duration::from_millis(100),
    );
    println!(
        "{} requests, {limited} answered 429, worst sustained rate {worst:.1}/s (limit {rps}/s)",
        times.len()
    );
}

#[tokio::test]
async fn retry_after_is_honoured_before_the_next_attempt() {
    let lever = sim().await;
    let stage = lever.add_stage("Video Interview");
    let (client, counter) = client(&lever);
    lever.faults().set(
        FaultPlan::seeded(1).with(
            FaultRule::new(Fault::TooManyRequests {
                retry_after: Some(1),
            })
            .on("GET", "/v1/stages")
            .first(1),
        ),
    );

    let stages = client.stages().await.unwrap();

    assert_eq!(
        stages.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        [stage]
    );
    let reqs = lever.requests();
    assert_eq!(
        reqs.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 200]
    );
    assert!(
        reqs[1].at.duration_since(reqs[0].at) >= Duration::from_millis(900),
        "waited as told"
    );
    assert_eq!(counter.rate_limited(Api::Lever), 1);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let lever = sim().await;
    let stage = lever.add_stage("Video Interview");
    let opp = lever
        .add_opportunity(OppSeed::new("Ada", "ada@example.com").stage(&stage))
        .unwrap();
    let (client, counter) = client(&lever);
    lever.faults().set(
        FaultPlan::seeded(1)
            .with(
                FaultRule::new(Fault::Status(503))
                    .on("GET", "/v1/opportunities/{id}")
                    .first(2),
            )
            .with(
                FaultRule::new(Fault::Status(500))
                    .on("GET", "/v1/opportunities/{id}")
                    .nth(3),
            ),
    );

    let o = client.opportunity(&opp).await.unwrap();

    assert_eq!(o.id, opp);
    assert_eq!(o.emails, ["ada@example.com"]);
    let statuses: Vec<u16> = lever.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 500, 200]);
    assert_eq!(counter.calls(Api::Lever), 4);
}

#[tokio::test]
async fn persistent_server_errors_give_up_as_transient_after_the_budget() {
    let lever = sim().await;
    lever.add_stage("Video Interview");
    let mut config = http(1000, 100);
    config.retry.max_elapsed = Duration::from_millis(300);
    let (client, _) = client_at(&lever.base_url(), config);
    lever
        .faults()
        .set(FaultPlan::seeded(1).with(FaultRule::new(Fault::Status(502)).on("GET", "/v1/stages")));

    let err = client.stages().await.unwrap_err();

    assert!(
        matches!(
            err,
            ApiError::Transient {
                status: Some(502),
                ..
            }
        ),
        "{err}"
    );
    assert!(
        lever.count("GET", "/v1/stages") > 1,
        "retried before giving up"
    );
}

#[tokio::test]
async fn a_truncated_body_is_a_decode_error_with_its_path() {
    let lever = sim().await;
    let stage = lever.add_stage("Video Interview");
    seed_many(&lever, 20, &stage);
    let (client, _) = client(&lever);
    lever
        .faults()
        .set(FaultPlan::seeded(1).with(
            FaultRule::new(Fault::TruncateBody { keep: 0.6 }).on("GET", "/v1/opportunities"),
        ));

    let query = OpportunityQuery {
        stage_ids: vec![stage],
        ..Default::default()
    };
    let err = client
        .opportunities(&query)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();

    match &err {
        ApiError::Decode { path, route, .. } => {
            assert!(path.starts_with("data["), "path {path}");
            assert_eq!(*route, "/opportunities");
        }
        other => panic!("expected Decode, got {other}"),
    }
    assert_eq!(err.metric_label(), "decode");
    assert_eq!(
        lever.count("GET", "/v1/opportunities"),
        1,
        "a decode error is not retried"
    );
}

#[tokio::test]
async fn revoked_access_is_unauthorized_and_not_retried() {
    let lever = sim().await;
    lever.add_stage("Video Interview");
    let (client, _) = client(&lever);
    lever.revoke();

    let err = client.stages().await.unwrap_err();

    assert!(
        matches!(err, ApiError::Unauthorized { status: 401, .. }),
        "{err}"
    );
    assert!(err.is_disconnect());
    assert_eq!(lever.count("GET", "/v1/stages"), 1);
    assert!(!err.to_string().contains(KEY), "no secret in {err}");
}

#[tokio::test]
async fn unknown_opportunity_is_not_found() {
    let lever = sim().await;
    let (client, _) = client(&lever);
    let err = client.opportunity("no-such-id").await.unwrap_err();
    assert!(matches!(err, ApiError::NotFound { .. }), "{err}");
    assert!(!err.is_disconnect());
}

#[tokio::test]
async fn tag_writes_return_the_opportunity_and_carry_perform_as() {
    let lever = sim().await;
    let stage = lever.add_stage("Video Interview");
    let user = lever.add_user(integration_user());
    let posting = lever
        .add_posting(PostingSeed::new("Engineer").tag("Willo:Engineer-Acme"))
        .unwrap();
    let opp = lever
        .add_opportunity(
            OppSeed::new("Ada", "ada@example.com")
                .stage(&stage)
                .posting(&posting),
        )
        .unwrap();
    let mut config = LeverClientConfig::new(
        Url::parse(&lever.base_url()).unwrap(),
        LeverAuth::ApiKey(KEY.into()),
    );
    config.http = http(1000, 100);
    config.perform_as = Some(user.clone());
    let client = LeverClient::new(config, Arc::new(CountingObserver::new()), None).unwrap();

    let added = client
        .add_tags(&opp, &["Willo:Invited".into(), "Customer tag".into()])
        .await
        .unwrap();
    let removed = client
        .remove_tags(&opp, &["Customer tag".into()])
        .await
        .unwrap();
    let nothing = client.add_tags(&opp, &[]).await.unwrap();

    let added = added.expect("the simulator answers with the opportunity");
    assert!(added.tags.contains(&"Willo:Invited".to_owned()));
    assert_eq!(
        added.posting_id.as_deref(),
        None,
        "write responses are not expanded"
    );
    let removed = removed.unwrap();
    assert!(!removed.tags.contains(&"Customer tag".to_owned()));
    assert!(nothing.is_none());
    assert_eq!(
        lever
            .tags_of(&opp)
            .iter()
            .filter(|t| t.starts_with("Willo:Invited"))
            .count(),
        1
    );
    let writes = lever.writes();
    assert_eq!(writes.len(), 2, "an empty tag list sends nothing");
    assert!(
        writes
            .iter()
            .all(|w| w.query.as_deref() == Some(&format!("perform_as={user}")[..]))
    );

    let read = client.opportunity(&opp).await.unwrap();
    assert_eq!(read.posting_id.as_deref(), Some(posting.as_str()));
}

#[tokio::test]
async fn tag_writes_are_retried_on_server_errors() {
    let lever = sim().await;
    let stage = lever.add_stage("Video Interview");
    let opp = lever
        .add_opportunity(OppSeed::new("Ada", "ada@example.com").stage(&stage))
        .unwrap();
    let (client, _) = client(&lever);
    lever.faults().set(
        FaultPlan::seeded(1).with(
            FaultRule::new(Fault::StatusAfterApply(502))
                .on("POST", "/v1/opportunities/{id}/addTags")
                .first(1),
        ),
    );

    client
        .add_tags(&opp, &["Willo:Invited".into()])
        .await
        .unwrap();

    assert_eq!(lever.count("POST", "/v1/opportunities/{id}/addTags"), 2);
    assert_eq!(
        lever
            .tags_of(&opp)
            .iter()
            .filter(|t| *t == "Willo:Invited")
            .count(),
        1,
        "set semantics"
    );
}

#[tokio::test]
async fn a_note_whose_response_is_lost_is_ambiguous_and_sent_once() {
    let lever = sim().await;
    let stage = lever.add_stage("Video Interview");
    let opp = lever
        .add_opportunity(OppSeed::new("Ada", "ada@example.com").stage(&stage))
        .unwrap();
    let (client, _) = client(&lever);
    lever.faults().set(
        FaultPlan::seeded(1).with(
            FaultRule::new(Fault::StatusAfterApply(503))
                .on("POST", "/v1/opportunities/{id}/notes")
                .first(1),
        ),
    );

    let err = client
        .add_note(&opp, "Willo interview completed")
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Ambiguous { .. }), "{err}");
    assert_eq!(lever.count("POST", "/v1/opportunities/{id}/notes"), 1);
    assert_eq!(
        lever.notes(&opp).len(),
        1,
        "the note exists although the client saw a 503"
    );

    let id = client.add_note(&opp, "second").await.unwrap();
    assert!(id.is_some());
    assert_eq!(lever.notes(&opp).len(), 2);
}

#[tokio::test]
async fn reference_lists_and_deleted_opportunities() {
    let lever = sim().await;
    let stage = lever.add_stage("Video Interview");
    lever.add_user(integration_user());
    let posting = lever
        .add_posting(PostingSeed::new("Engineer").tag("Willo:Engineer-Acme"))
        .unwrap();
    let gone = lever
        .add_opportunity(
            OppSeed::new("Ada", "ada@example.com")
                .stage(&stage)
                .posting(&posting),
        )
        .unwrap();
    let since = lever.now();
    lever.advance_clock(1_000);
    lever.delete_opportunity(&gone).unwrap();
    let (client, _) = client(&lever);

    let stages = client.stages().await.unwrap();
    let users = client.users().await.unwrap();
    let postings = client.postings(&Default::default()).await.unwrap();
    let tags = client.tags().await.unwrap();
    let deleted = client.deleted_opportunities(since).await.unwrap();

    assert!(
        stages
            .iter()
            .any(|s| s.id == stage && s.text == "Video Interview")
    );
    assert!(
        users
            .iter()
            .any(|u| u.email.as_deref() == Some("integration@example.com"))
    );
    assert_eq!(
        postings.iter().find(|p| p.id == posting).unwrap().tags,
        ["Willo:Engineer-Acme"]
    );
    assert!(tags.iter().all(|t| !t.text.is_empty()));
    assert_eq!(
        deleted.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        [gone.as_str()]
    );
    assert!(deleted[0].deleted_at.is_some());
    let err = client.opportunity(&gone).await.unwrap_err();
    assert!(matches!(err, ApiError::NotFound { .. }));
}

#[tokio::test]
async fn default_pacing_stays_under_lever_s_documented_limit() {
    // Lever's documented bucket (10/s, bursts of 20) against the default pacing (8/s, 16; rule: paced and retried calls).
    let lever = LeverSim::start(LeverSimConfig::default()).await.unwrap();
    lever.add_api_key(KEY);
    let stage = lever.add_stage("Video Interview");
    let ids: Vec<String> = seed_many(&lever, 30, &stage).into_iter().collect();
    let mut config = HttpConfig::lever();
    config.retry = http(1, 1).retry;
    let (client, counter) = client_at(&lever.base_url(), config);

    let reads = futures::future::join_all(ids.iter().map(|id| client.opportunity(id))).await;

    assert!(reads.iter().all(Result::is_ok));
    assert_eq!(counter.calls(Api::Lever), 30);
    assert_eq!(
        counter.rate_limited(Api::Lever),
        0,
        "the client paced itself"
    );
}

/// Records every attempt the client reports.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<(String, String, &'static str)>>);

impl willo_lever_sync::http::ApiObserver for Recorder {
    fn on_attempt(&self, a: &willo_lever_sync::http::Attempt<'_>) {
        self.0
            .lock()
            .unwrap()
            .push((a.method.to_owned(), a.route.to_owned(), a.status.as_str()));
    }
}

#[tokio::test]
async fn every_attempt_is_observed_with_its_route_template_and_status_class() {
    let lever = sim().await;
    let stage = lever.add_stage("Video Interview");
    let opp = lever
        .add_opportunity(OppSeed::new("Ada", "ada@example.com").stage(&stage))
        .unwrap();
    let recorder = Arc::new(Recorder::default());
    let counter = Arc::new(CountingObserver::new());
    let fan = willo_lever_sync::http::FanOut::new(vec![recorder.clone(), counter.clone()]);
    let mut config = LeverClientConfig::new(
        Url::parse(&lever.base_url()).unwrap(),
        LeverAuth::ApiKey(KEY.into()),
    );
    config.http = http(1000, 100);
    let client = LeverClient::new(config, Arc::new(fan), None).unwrap();
    lever.faults().set(
        FaultPlan::seeded(1)
            .with(
                FaultRule::new(Fault::Status(503))
                    .on("GET", "/v1/opportunities/{id}")
                    .first(1),
            )
            .with(
                FaultRule::new(Fault::TooManyRequests { retry_after: None })
                    .on("POST", "/v1/opportunities/{id}/addTags")
                    .first(1),
            ),
    );

    client.opportunity(&opp).await.unwrap();
    client
        .add_tags(&opp, &["Willo:Invited".into()])
        .await
        .unwrap();
    let _ = client.opportunity("missing").await;

    let seen = recorder.0.lock().unwrap().clone();
    let expected: Vec<(String, String, &str)> = [
        ("GET", "/opportunities/{id}", "5xx"),
        ("GET", "/opportunities/{id}", "2xx"),
        ("POST", "/opportunities/{id}/addTags", "429"),
        ("POST", "/opportunities/{id}/addTags", "2xx"),
        ("GET", "/opportunities/{id}", "4xx"),
    ]
    .into_iter()
    .map(|(m, r, s)| (m.to_owned(), r.to_owned(), s))
    .collect();
    assert_eq!(seen, expected);
    assert_eq!(
        (counter.calls(Api::Lever), counter.rate_limited(Api::Lever)),
        (5, 1)
    );
}
