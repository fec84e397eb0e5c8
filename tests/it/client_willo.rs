//! The Willo client against the Willo simulator: DRF paging, the `next` host check, the row
//! check on participants, each state form, and a create that is never sent twice.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use secrecy::SecretString;
use url::Url;
use willo_lever_sync::http::{
    Api, ApiError, CountingObserver, HttpConfig, RequestsPerSecond, RetryPolicy,
};
use willo_lever_sync::sim::faults::{Fault, FaultPlan, FaultRule};
use willo_lever_sync::sim::hold::HoldRule;
use willo_lever_sync::sim::willo::{
    InterviewForm, ParticipantSeed, StateForm, WilloSim, WilloSimConfig,
};
use willo_lever_sync::willo::{NewParticipant, WilloClient, WilloClientConfig};

const KEY: &str = "willo-test-key";
const PARTICIPANTS: &str = "/api/integrations/v2/participants/";

fn http() -> HttpConfig {
    HttpConfig {
        requests_per_second: RequestsPerSecond::new(1000.0).unwrap(),
        burst: NonZeroU32::new(100).unwrap(),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            initial_interval: Duration::from_millis(5),
            max_interval: Duration::from_millis(50),
            multiplier: 2.0,
            max_elapsed: Duration::from_secs(5),
        },
    }
}

async fn sim() -> WilloSim {
    let willo = WilloSim::start(WilloSimConfig::for_tests()).await.unwrap();
    willo.add_api_key(KEY);
    willo
}

fn client_with(
    base: &str,
    key: &str,
    page_size: u8,
    http: HttpConfig,
) -> (WilloClient, Arc<CountingObserver>) {
    let counter = Arc::new(CountingObserver::new());
    let mut config = WilloClientConfig::new(Url::parse(base).unwrap(), SecretString::from(key));
    config.http = http;
    config.page_size = page_size;
    (WilloClient::new(config, counter.clone()).unwrap(), counter)
}

fn client(willo: &WilloSim) -> (WilloClient, Arc<CountingObserver>) {
    client_with(&willo.base_url(), KEY, 30, http())
}

fn new_participant(interview: &str, email: &str) -> NewParticipant {
    NewParticipant {
        interview: interview.to_owned(),
        name: "Ada Lovelace".into(),
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        email: email.to_owned(),
        phone: None,
        external_id: Some("opp-1".into()),
    }
}

#[tokio::test]
async fn interviews_are_listed_across_pages() {
    let willo = sim().await;
    let keys: HashSet<String> = (0..23)
        .map(|i| willo.add_interview(&format!("Interview {i}")))
        .collect();
    let (client, counter) = client_with(&willo.base_url(), KEY, 10, http());

    let interviews = client.interviews().await.unwrap();

    assert_eq!(
        interviews
            .iter()
            .map(|i| i.key.clone())
            .collect::<HashSet<_>>(),
        keys
    );
    assert!(interviews.iter().any(|i| i.title == "Interview 7"));
    assert_eq!(willo.count("GET", "/api/integrations/v2/interviews/"), 3);
    assert_eq!(counter.calls(Api::Willo), 3);
    assert!(
        willo
            .requests()
            .iter()
            .all(|r| r.credential.as_deref() == Some(KEY)),
        "bare key"
    );
}

#[tokio::test]
async fn participants_are_paged_and_each_state_form_is_read() {
    let willo = sim().await;
    let interview = willo.add_interview("Researcher");
    let mut keys = Vec::new();
    for i in 0..12 {
        let seed =
            ParticipantSeed::new(&interview, &format!("P {i}"), &format!("p{i}@example.com"))
                .state("Accepted");
        keys.push(willo.add_participant(seed).unwrap());
    }
    willo
        .set_state_form(&keys[0], StateForm::StageObject)
        .unwrap();
    willo
        .set_state_form(&keys[1], StateForm::StageString)
        .unwrap();
    willo
        .set_state_form(&keys[2], StateForm::StatusString)
        .unwrap();
    willo.set_state_form(&keys[3], StateForm::Missing).unwrap();
    willo.set_interview_form(InterviewForm::Object);
    let (client, _) = client_with(&willo.base_url(), KEY, 5, http());

    let rows: Vec<_> = client.participants(&interview).try_collect().await.unwrap();

    assert_eq!(rows.len(), 12);
    assert_eq!(willo.count("GET", PARTICIPANTS), 3);
    let state = |k: &str| rows.iter().find(|p| p.key == k).unwrap().state.clone();
    assert_eq!(state(&keys[0]).as_deref(), Some("Accepted"));
    assert_eq!(state(&keys[1]).as_deref(), Some("Accepted"));
    assert_eq!(state(&keys[2]).as_deref(), Some("Accepted"));
    assert_eq!(
        state(&keys[3]),
        None,
        "missing state reads as None (= invited)"
    );
    assert!(
        rows.iter()
            .all(|p| p.interview_key.as_deref() == Some(interview.as_str()))
    );

    let one = client.participant(&keys[5]).await.unwrap();
    assert_eq!(one.email.as_deref(), Some("p5@example.com"));
    assert!(one.created_at.is_some());
}

#[tokio::test]
async fn rows_of_other_interviews_are_returned_naming_their_interview_when_the_filter_is_ignored() {
    let willo = sim().await;
    let mine = willo.add_interview("Mine");
    let other = willo.add_interview("Other");
    for i in 0..4 {
        willo
            .add_participant(ParticipantSeed::new(
                &mine,
                "M",
                &format!("m{i}@example.com"),
            ))
            .unwrap();
    }
    for i in 0..6 {
        willo
            .add_participant(ParticipantSeed::new(
                &other,
                "O",
                &format!("o{i}@example.com"),
            ))
            .unwrap();
    }
    willo.ignore_interview_filter(true);
    let (client, _) = client(&willo);

    let rows: Vec<_> = client.participants(&mine).try_collect().await.unwrap();

    // Every row Willo sent, each naming its own interview: the caller sorts them out.
    assert_eq!(rows.len(), 10);
    let named = |k: &str| {
        rows.iter()
            .filter(|p| p.interview_key.as_deref() == Some(k))
            .count()
    };
    assert_eq!((named(&mine), named(&other)), (4, 6));
}

/// Forwards to `upstream`, replacing `from` with `to` in every response body when given.
async fn rewriting_proxy(upstream: String, rewrite: Option<(String, String)>) -> SocketAddr {
    use axum::extract::{Request, State};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};

    struct Proxy {
        upstream: String,
        rewrite: Option<(String, String)>,
        http: reqwest::Client,
    }
    async fn forward(State(p): State<Arc<Proxy>>, req: Request) -> Response {
        let path_and_query = req
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str().to_owned())
            .unwrap_or_default();
        let mut out = p.http.request(
            req.method().clone(),
            format!("{}{path_and_query}", p.upstream),
        );
        for (name, value) in req.headers() {
            if name != "host" {
                out = out.header(name, value);
            }
        }
        let resp = out.send().await.unwrap();
        let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
        let mut body = resp.text().await.unwrap();
        if let Some((from, to)) = &p.rewrite {
            body = body.replace(from, to);
        }
        (status, [("content-type", "application/json")], body).into_response()
    }
    let proxy = Arc::new(Proxy {
        upstream,
        rewrite,
        http: reqwest::Client::new(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn a_next_url_on_another_host_is_refused() {
    let willo = sim().await;
    let interview = willo.add_interview("Researcher");
    for i in 0..8 {
        willo
            .add_participant(ParticipantSeed::new(
                &interview,
                "P",
                &format!("p{i}@example.com"),
            ))
            .unwrap();
    }
    // The proxy is our configured host; the page it returns sends us to another one.
    let origin = willo.origin();
    let proxy = rewriting_proxy(
        origin.clone(),
        Some((origin, "http://willo.attacker.invalid".into())),
    )
    .await;
    let (client, _) = client_with(
        &format!("http://{proxy}/api/integrations/v2"),
        KEY,
        5,
        http(),
    );

    let mut stream = std::pin::pin!(client.participants(&interview));
    let mut first_page = 0;
    let err = loop {
        match stream.try_next().await {
            Ok(Some(_)) => first_page += 1,
            Ok(None) => panic!("the foreign next page was followed"),
            Err(e) => break e,
        }
    };

    assert!(matches!(err, ApiError::Protocol { .. }), "{err}");
    assert!(err.to_string().contains("willo.attacker.invalid"), "{err}");
    assert!(!err.to_string().contains(KEY));
    assert_eq!(
        first_page, 0,
        "the page whose next is foreign is refused whole"
    );
    assert_eq!(
        willo.count("GET", PARTICIPANTS),
        1,
        "only the first page was requested"
    );
}

#[tokio::test]
async fn a_next_url_on_another_port_of_the_same_host_is_rebuilt_on_the_base() {
    let willo = sim().await;
    let interview = willo.add_interview("Researcher");
    for i in 0..8 {
        willo
            .add_participant(ParticipantSeed::new(
                &interview,
                "P",
                &format!("p{i}@example.com"),
            ))
            .unwrap();
    }
    // Through a plain proxy the simulator names its own port in `next`: same host, other port.
    let proxy = rewriting_proxy(willo.origin(), None).await;
    let (client, _) = client_with(
        &format!("http://{proxy}/api/integrations/v2"),
        KEY,
        5,
        http(),
    );

    let rows = client
        .participants(&interview)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();

    assert_eq!(rows.len(), 8);
    assert_eq!(
        willo.count("GET", PARTICIPANTS),
        2,
        "both pages, through the proxy"
    );
    assert_eq!(client.rebuilt_links(), 1);
}

#[tokio::test]
async fn create_participant_returns_it_and_sends_one_invite() {
    let willo = sim().await;
    let interview = willo.add_interview("Researcher");
    let (client, _) = client(&willo);

    let p = client
        .create_participant(&new_participant(&interview, "ada@example.com"))
        .await
        .unwrap();

    assert_eq!(p.interview_key.as_deref(), Some(interview.as_str()));
    assert_eq!(p.email.as_deref(), Some("ada@example.com"));
    assert_eq!(p.key.len(), 32);
    assert_eq!(willo.participants(&interview).len(), 1);
    assert_eq!(willo.invites_sent().len(), 1);
    let fetched = client.participant(&p.key).await.unwrap();
    assert_eq!(fetched.key, p.key);
}

#[tokio::test]
async fn a_timed_out_create_is_ambiguous_and_sent_once() {
    let willo = sim().await;
    let interview = willo.add_interview("Researcher");
    let mut config = http();
    config.request_timeout = Duration::from_millis(300);
    let (client, _) = client_with(&willo.base_url(), KEY, 30, config);
    // Willo applies the POST, then the response never comes back in time.
    let hold = willo.hold(HoldRule::new("POST", PARTICIPANTS));

    let err = client
        .create_participant(&new_participant(&interview, "ada@example.com"))
        .await
        .unwrap_err();
    hold.release();

    assert!(matches!(err, ApiError::Ambiguous { .. }), "{err}");
    assert_eq!(err.metric_label(), "ambiguous");
    assert_eq!(willo.count("POST", PARTICIPANTS), 1, "never sent twice");
    assert_eq!(willo.participants(&interview).len(), 1);
    assert_eq!(willo.invites_sent().len(), 1);
    // The caller resolves it by looking up.
    let found: Vec<_> = client.participants(&interview).try_collect().await.unwrap();
    assert_eq!(found[0].email.as_deref(), Some("ada@example.com"));
}

#[tokio::test]
async fn a_create_answered_with_a_server_error_is_ambiguous_and_not_retried() {
    let willo = sim().await;
    let interview = willo.add_interview("Researcher");
    let (client, _) = client(&willo);
    willo.faults().set(
        FaultPlan::seeded(7)
            .with(FaultRule::new(Fault::StatusAfterApply(502)).on("POST", PARTICIPANTS)),
    );

    let err = client
        .create_participant(&new_participant(&interview, "ada@example.com"))
        .await
        .unwrap_err();

    assert!(matches!(err, ApiError::Ambiguous { .. }), "{err}");
    assert_eq!(willo.count("POST", PARTICIPANTS), 1);
    assert_eq!(willo.participants(&interview).len(), 1);
}

#[tokio::test]
async fn a_connection_dropped_after_a_create_is_ambiguous() {
    let willo = sim().await;
    let interview = willo.add_interview("Researcher");
    let (client, _) = client(&willo);
    willo.faults().set(
        FaultPlan::seeded(7).with(
            FaultRule::new(Fault::DropConnection { after_bytes: 10 }).on("POST", PARTICIPANTS),
        ),
    );

    let err = client
        .create_participant(&new_participant(&interview, "ada@example.com"))
        .await
        .unwrap_err();

    assert!(matches!(err, ApiError::Ambiguous { .. }), "{err}");
    assert_eq!(willo.count("POST", PARTICIPANTS), 1);
    assert_eq!(willo.participants(&interview).len(), 1);
}

#[tokio::test]
async fn a_throttled_create_is_retried_and_creates_one_participant() {
    let willo = sim().await;
    let interview = willo.add_interview("Researcher");
    let (client, counter) = client(&willo);
    willo.faults().set(
        FaultPlan::seeded(7).with(
            FaultRule::new(Fault::TooManyRequests { retry_after: None })
                .on("POST", PARTICIPANTS)
                .first(2),
        ),
    );

    let p = client
        .create_participant(&new_participant(&interview, "ada@example.com"))
        .await
        .unwrap();

    assert_eq!(
        willo.count("POST", PARTICIPANTS),
        3,
        "a 429 means Willo did nothing: safe to resend"
    );
    assert_eq!(counter.rate_limited(Api::Willo), 2);
    assert_eq!(
        willo
            .participants(&interview)
            .iter()
            .map(|x| x.key.clone())
            .collect::<Vec<_>>(),
        [p.key]
    );
}

#[tokio::test]
async fn validation_errors_are_rejected_with_the_field_messages() {
    let willo = sim().await;
    let (client, _) = client(&willo);

    let err = client
        .create_participant(&new_participant(
            "0123456789abcdef0123456789abcdef",
            "ada@example.com",
        ))
        .await
        .unwrap_err();

    match &err {
        ApiError::Rejected {
            status: 400,
            message,
            ..
        } => {
            assert!(message.starts_with("interview: Invalid pk"), "{message}")
        }
        other => panic!("expected Rejected, got {other}"),
    }
    assert_eq!(willo.count("POST", PARTICIPANTS), 1, "a 400 is not retried");
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized_and_a_missing_participant_not_found() {
    let willo = sim().await;
    let (bad, _) = client_with(&willo.base_url(), "not-the-key", 30, http());
    let err = bad.interviews().await.unwrap_err();
    assert!(
        matches!(err, ApiError::Unauthorized { status: 401, .. }),
        "{err}"
    );
    assert!(err.is_disconnect());
    assert!(!err.to_string().contains("not-the-key"));

    let (good, _) = client(&willo);
    let err = good
        .participant("ffffffffffffffffffffffffffffffff")
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::NotFound { .. }), "{err}");
}
