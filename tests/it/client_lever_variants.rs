//! The Lever client against each of the simulator's variants (docs/simulators.md): permissions
//! (403 is a permission, 401 a disconnect), confidential rows, internal-only postings, the
//! archived forms, malformed pages and offset-token refusals under any 4xx status.

use std::collections::BTreeSet;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use secrecy::SecretString;
use url::Url;
use willo_lever_sync::http::{
    ApiError, CountingObserver, HttpConfig, RequestsPerSecond, RetryPolicy,
};
use willo_lever_sync::lever::permission::CONFIDENTIAL_SCOPE;
use willo_lever_sync::lever::{
    LeverAuth, LeverClient, LeverClientConfig, OpportunityQuery, PostingQuery,
};
use willo_lever_sync::sim::PageDefect;
use willo_lever_sync::sim::faults::{Fault, FaultPlan, FaultRule};
use willo_lever_sync::sim::lever::{
    ArchivedForm, ConfidentialDenial, Distribution, Endpoint, LeverSim, LeverSimConfig, OppSeed,
    PostingSeed, UserSeed,
};

const KEY: &str = "variants-key";

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

async fn sim() -> LeverSim {
    let lever = LeverSim::start(LeverSimConfig::for_tests()).await.unwrap();
    lever.add_api_key(KEY);
    lever.add_stage("New Lead");
    lever
}

fn client_with(lever: &LeverSim, key: &str, include_confidential: bool) -> LeverClient {
    let mut config = LeverClientConfig::new(
        Url::parse(&lever.base_url()).unwrap(),
        LeverAuth::ApiKey(SecretString::from(key).into()),
    );
    config.http = http();
    config.include_confidential = include_confidential;
    LeverClient::new(config, Arc::new(CountingObserver::new()), None).unwrap()
}

fn client(lever: &LeverSim) -> LeverClient {
    client_with(lever, KEY, false)
}

/// The query strings of the requests to `route`.
fn queries(lever: &LeverSim, route: &str) -> Vec<String> {
    lever
        .requests()
        .into_iter()
        .filter(|r| r.route == route)
        .map(|r| r.query.unwrap_or_default())
        .collect()
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> BTreeSet<String> {
    items.iter().map(|i| id(i).to_owned()).collect()
}

// ---- 403 is a permission, 401 a disconnect ----------------------------------------------

#[tokio::test]
async fn a_403_is_forbidden_names_the_permission_and_neither_disconnects_nor_retries() {
    let lever = sim().await;
    lever.add_posting(PostingSeed::new("PM")).unwrap();
    lever.restrict_api_key(KEY, &[Endpoint::Stages]);
    let client = client(&lever);

    let err = client.postings(&PostingQuery::default()).await.unwrap_err();

    assert!(matches!(err, ApiError::Forbidden { .. }), "{err}");
    assert_eq!(err.metric_label(), "forbidden");
    assert!(!err.is_disconnect() && !err.is_retryable());
    let grant = err.grant().expect("a Lever 403 names what to grant");
    assert!(grant.needs.contains("\"Postings: read\""), "{grant}");
    assert_eq!(grant.oauth_scopes, ["postings:read:admin"]);
    assert!(err.to_string().contains("Postings: read"), "{err}");
    assert_eq!(lever.count("GET", "/v1/postings"), 1, "not retried");
    assert!(client.stages().await.is_ok(), "the key itself still works");
}

#[tokio::test]
async fn a_401_is_unauthorized_and_disconnects() {
    let lever = sim().await;
    let err = client_with(&lever, "not-a-key", false)
        .stages()
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::Unauthorized { status: 401, .. }),
        "{err}"
    );
    assert!(err.is_disconnect());
    assert_eq!(err.grant(), None);
}

#[tokio::test]
async fn every_route_refused_for_lack_of_its_endpoint_names_its_own_permission() {
    let lever = sim().await;
    let user = lever.add_user(UserSeed {
        name: "Integration".into(),
        email: "integration@example.com".into(),
        access_role: None,
    });
    let opp = lever
        .add_opportunity(OppSeed::new("Ada", "ada@example.com"))
        .unwrap();
    lever.restrict_api_key(KEY, &[]);
    let c = client(&lever);
    let tags = vec!["Willo:Invited".to_owned()];
    let cases: Vec<(&str, Result<(), ApiError>, &str, &str)> = vec![
        (
            "stages",
            c.stages().await.map(drop),
            "Stages: read",
            "stages:read:admin",
        ),
        (
            "users",
            c.users().await.map(drop),
            "Users: read",
            "users:read:admin",
        ),
        (
            "user",
            c.user(&user).await.map(drop),
            "Users: read",
            "users:read:admin",
        ),
        (
            "tags",
            c.tags().await.map(drop),
            "Tags: read",
            "tags:read:admin",
        ),
        (
            "opportunities",
            c.opportunities(&OpportunityQuery::default())
                .try_collect::<Vec<_>>()
                .await
                .map(drop),
            "Opportunities: read",
            "opportunities:read:admin",
        ),
        (
            "opportunity",
            c.opportunity(&opp).await.map(drop),
            "Opportunities: read",
            "opportunities:read:admin",
        ),
        (
            "deleted",
            c.deleted_opportunities(0).await.map(drop),
            "Opportunities: read",
            "opportunities:read:admin",
        ),
        (
            "addTags",
            c.add_tags(&opp, &tags).await.map(drop),
            "Opportunities: write",
            "opportunities:write:admin",
        ),
        (
            "removeTags",
            c.remove_tags(&opp, &tags).await.map(drop),
            "Opportunities: write",
            "opportunities:write:admin",
        ),
        (
            "notes",
            c.add_note(&opp, "hello").await.map(drop),
            "Notes: write",
            "notes:write:admin",
        ),
    ];
    for (name, result, permission, scope) in cases {
        let err = result.expect_err(name);
        let grant = err.grant().unwrap_or_else(|| panic!("{name}: {err}"));
        assert!(!err.is_disconnect(), "{name}");
        assert!(grant.needs.contains(permission), "{name}: {grant}");
        assert!(grant.oauth_scopes.contains(&scope), "{name}: {grant}");
    }
    assert!(lever.tags_of(&opp).is_empty() && lever.notes(&opp).is_empty());
}

// ---- confidential rows ------------------------------------------------------------------

/// One open and one confidential opportunity, and one open and one confidential posting.
fn seed_confidential(lever: &LeverSim) -> (String, String, String, String) {
    let open_posting = lever.add_posting(PostingSeed::new("PM")).unwrap();
    let secret_posting = lever
        .add_posting(PostingSeed::new("CEO").confidential())
        .unwrap();
    let open = lever
        .add_opportunity(OppSeed::new("a", "a@example.com"))
        .unwrap();
    let secret = lever
        .add_opportunity(OppSeed::new("b", "b@example.com").confidential())
        .unwrap();
    (open, secret, open_posting, secret_posting)
}

#[tokio::test]
async fn include_confidential_sends_confidentiality_all_and_sees_confidential_rows() {
    let lever = sim().await;
    let (open, secret, open_posting, secret_posting) = seed_confidential(&lever);
    let client = client_with(&lever, KEY, true);

    let opps: Vec<_> = client
        .opportunities(&OpportunityQuery::default())
        .try_collect()
        .await
        .unwrap();
    let postings = client.postings(&PostingQuery::default()).await.unwrap();

    assert_eq!(ids(&opps, |o| &o.id), BTreeSet::from([open, secret]));
    assert_eq!(
        ids(&postings, |p| &p.id),
        BTreeSet::from([open_posting, secret_posting])
    );
    for route in ["/v1/opportunities", "/v1/postings"] {
        let q = queries(&lever, route);
        assert!(
            q.iter().all(|q| q.contains("confidentiality=all")),
            "{route}: {q:?}"
        );
    }
}

#[tokio::test]
async fn without_include_confidential_confidential_rows_are_not_seen() {
    let lever = sim().await;
    let (open, _, open_posting, _) = seed_confidential(&lever);
    let client = client(&lever);

    let opps: Vec<_> = client
        .opportunities(&OpportunityQuery::default())
        .try_collect()
        .await
        .unwrap();
    let postings = client.postings(&PostingQuery::default()).await.unwrap();

    assert_eq!(ids(&opps, |o| &o.id), BTreeSet::from([open]));
    assert_eq!(ids(&postings, |p| &p.id), BTreeSet::from([open_posting]));
    assert!(
        queries(&lever, "/v1/opportunities")
            .iter()
            .all(|q| !q.contains("confidentiality")),
        "Lever's default is asked for"
    );
}

#[tokio::test]
async fn confidential_rows_without_confidential_access_are_forbidden_or_silently_left_out() {
    let lever = sim().await;
    let (open, _, _, _) = seed_confidential(&lever);
    lever.set_confidential_access(KEY, false);
    let client = client_with(&lever, KEY, true);

    // The documented answer: an access error that names the confidential permission.
    let err = client
        .opportunities(&OpportunityQuery::default())
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Forbidden { .. }), "{err}");
    let grant = err.grant().unwrap();
    assert!(grant.needs.contains("confidential"), "{grant}");
    assert!(grant.oauth_scopes.contains(&CONFIDENTIAL_SCOPE), "{grant}");
    assert!(!err.is_disconnect());

    // The silent reading: the rows are left out, nothing fails.
    lever.set_confidential_denial(ConfidentialDenial::Omit);
    let opps: Vec<_> = client
        .opportunities(&OpportunityQuery::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&opps, |o| &o.id), BTreeSet::from([open]));
}

// ---- postings on both job sites ---------------------------------------------------------

#[tokio::test]
async fn internal_only_postings_are_listed_with_public_ones() {
    let lever = sim().await;
    let public = lever
        .add_posting(PostingSeed::new("Public").distribution(Distribution::Public))
        .unwrap();
    let internal = lever
        .add_posting(PostingSeed::new("Internal").distribution(Distribution::Internal))
        .unwrap();
    let both = lever
        .add_posting(PostingSeed::new("Both").distribution(Distribution::Both))
        .unwrap();

    let postings = client(&lever)
        .postings(&PostingQuery::default())
        .await
        .unwrap();

    assert_eq!(
        ids(&postings, |p| &p.id),
        BTreeSet::from([public, internal, both])
    );
    let q = queries(&lever, "/v1/postings");
    assert!(
        q.iter().all(|q| q.contains("distributionChannel=public")
            && q.contains("distributionChannel=internal")),
        "{q:?}"
    );
}

// ---- archived forms ---------------------------------------------------------------------

#[tokio::test]
async fn archived_is_read_alike_in_every_archived_form() {
    let lever = sim().await;
    let active = lever
        .add_opportunity(OppSeed::new("a", "a@example.com"))
        .unwrap();
    let archived = lever
        .add_opportunity(OppSeed::new("b", "b@example.com").archived("reason-hired"))
        .unwrap();
    let client = client(&lever);
    for form in [
        ArchivedForm::Documented,
        ArchivedForm::NullObjectWhenActive,
        ArchivedForm::LegacyOnly,
    ] {
        lever.set_archived_form(form);
        let a = client.opportunity(&active).await.unwrap();
        let b = client.opportunity(&archived).await.unwrap();
        assert!(!a.archived, "{form:?}: an active candidate");
        assert_eq!((a.archived_at, a.archive_reason), (None, None), "{form:?}");
        assert!(b.archived, "{form:?}");
        assert!(b.archived_at.is_some(), "{form:?}");
        assert_eq!(
            b.archive_reason.as_deref(),
            Some("reason-hired"),
            "{form:?}"
        );
    }
}

// ---- malformed pages --------------------------------------------------------------------

#[tokio::test]
async fn each_malformed_page_defect_is_a_protocol_error_never_an_empty_page() {
    let lever = sim().await;
    lever
        .add_opportunity(OppSeed::new("a", "a@example.com"))
        .unwrap();
    let client = client(&lever);
    for defect in [
        PageDefect::MissingItems,
        PageDefect::ItemsObject,
        PageDefect::ItemsNull,
        PageDefect::BareArray,
    ] {
        lever.faults().set(
            FaultPlan::seeded(1)
                .with(FaultRule::new(Fault::MalformedPage(defect)).on("GET", "/v1/opportunities")),
        );
        let err = client
            .opportunities(&OpportunityQuery::default())
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        assert!(
            matches!(err, ApiError::Protocol { .. }),
            "{defect:?}: {err}"
        );
        assert!(err.to_string().contains("data"), "{defect:?}: {err}");
    }
}
