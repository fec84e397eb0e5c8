//! The Willo client against each of the simulator's variants (docs/simulators.md): 403 for a
//! non-Admin key, `next` links behind a proxy or on another host, tolerant reads and the bare
//! array, malformed pages, every state form with the right `state_fields`, the interview
//! scope, and participant rows of other interviews.

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
use willo_lever_sync::sim::PageDefect;
use willo_lever_sync::sim::faults::{Fault, FaultPlan, FaultRule};
use willo_lever_sync::sim::willo::{
    DepartmentForm, InterviewSeed, ListEnvelope, NonAdminListing, PageLinks, ParticipantSeed,
    PhoneForm, StateForm, TimestampForm, WilloSim, WilloSimConfig, stage_key,
};
use willo_lever_sync::willo::{
    InterviewScope, Participant, StateFields, WilloClient, WilloClientConfig,
};

const KEY: &str = "willo-variants-key";
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

fn client_with(willo: &WilloSim, key: &str, page_size: u8, fields: StateFields) -> WilloClient {
    let mut config = WilloClientConfig::new(
        Url::parse(&willo.base_url()).unwrap(),
        SecretString::from(key),
    );
    config.http = http();
    config.page_size = page_size;
    config.state_fields = fields;
    WilloClient::new(config, Arc::new(CountingObserver::new())).unwrap()
}

fn client(willo: &WilloSim) -> WilloClient {
    client_with(willo, KEY, 30, StateFields::default())
}

/// An interview with `n` participants in state `state`; returns (interview, participant keys).
fn seeded(willo: &WilloSim, n: usize, state: &str) -> (String, Vec<String>) {
    let interview = willo.add_interview("Researcher");
    let keys = (0..n)
        .map(|i| {
            let seed =
                ParticipantSeed::new(&interview, "P Q", &format!("p{i}@example.com")).state(state);
            willo.add_participant(seed).unwrap()
        })
        .collect();
    (interview, keys)
}

async fn all(client: &WilloClient, interview: &str) -> Result<Vec<Participant>, ApiError> {
    client.participants(interview).try_collect().await
}

// ---- 403 --------------------------------------------------------------------------------

#[tokio::test]
async fn a_willo_403_is_forbidden_and_asks_for_an_admin_key_without_disconnecting() {
    let willo = sim().await;
    let user = willo.add_user("recruiter@example.com", "Recruiter");
    willo.add_api_key_for("standard", &user);
    willo.set_non_admin_listing(NonAdminListing::Forbidden);
    let client = client_with(&willo, "standard", 30, StateFields::default());

    let err = client.interviews().await.unwrap_err();

    assert!(matches!(err, ApiError::Forbidden { .. }), "{err}");
    assert!(!err.is_disconnect());
    assert_eq!(
        err.grant().map(|g| g.needs),
        Some("an Admin user's API key")
    );
    assert!(err.to_string().contains("Admin user's API key"), "{err}");
    let wrong = client_with(&willo, "nobody", 30, StateFields::default());
    let err = wrong.interviews().await.unwrap_err();
    assert!(
        matches!(err, ApiError::Unauthorized { status: 401, .. }),
        "{err}"
    );
    assert!(err.is_disconnect());
}

// ---- next links -------------------------------------------------------------------------

#[tokio::test]
async fn next_links_naming_another_scheme_and_port_are_rebuilt_on_the_configured_base() {
    let willo = sim().await;
    let (interview, keys) = seeded(&willo, 23, "Invited");
    willo.set_page_links(PageLinks::Proxied {
        scheme: "https".into(),
        port: 8443,
    });
    let client = client_with(&willo, KEY, 10, StateFields::default());

    let rows = all(&client, &interview).await.unwrap();

    assert_eq!(
        rows.iter().map(|p| p.key.clone()).collect::<BTreeSet<_>>(),
        keys.into_iter().collect()
    );
    let pages: Vec<String> = willo
        .requests()
        .into_iter()
        .filter(|r| r.route == PARTICIPANTS)
        .map(|r| r.query.unwrap_or_default())
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert!(
        pages[1].contains("page=2") && pages[2].contains("page=3"),
        "query kept: {pages:?}"
    );
    assert!(
        pages
            .iter()
            .all(|q| q.contains(&format!("interview={interview}")))
    );
    assert_eq!(client.rebuilt_links(), 2);
}

#[tokio::test]
async fn next_links_on_another_host_are_refused_naming_both_hosts() {
    let willo = sim().await;
    let (interview, _) = seeded(&willo, 12, "Invited");
    willo.set_page_links(PageLinks::Host("https://api.willotalent.example".into()));
    let client = client_with(&willo, KEY, 10, StateFields::default());

    let err = all(&client, &interview).await.unwrap_err();

    assert!(matches!(err, ApiError::Protocol { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("api.willotalent.example"), "{text}");
    assert!(text.contains("127.0.0.1"), "{text}");
    assert!(!text.contains(KEY));
    assert_eq!(
        willo.count("GET", PARTICIPANTS),
        1,
        "the other host was not asked"
    );
}

// ---- tolerant reads ---------------------------------------------------------------------

#[tokio::test]
async fn phones_as_objects_epoch_timestamps_nested_and_extra_fields_do_not_fail_a_page() {
    let willo = sim().await;
    let interview = willo.add_interview("Researcher");
    let key = willo
        .add_participant(
            ParticipantSeed::new(&interview, "Ada Lovelace", "ada@example.com")
                .state("Accepted")
                .phone("+44 20 7946 0000"),
        )
        .unwrap();
    willo.set_phone_form(PhoneForm::Object);
    willo.set_nested_objects(true);
    willo.set_extra_fields(true);
    let client = client(&willo);
    let now = willo.now();
    for form in [
        TimestampForm::Iso,
        TimestampForm::EpochSeconds,
        TimestampForm::EpochMillis,
    ] {
        willo.set_timestamp_form(form);
        let rows = all(&client, &interview).await.unwrap();
        let one = client.participant(&key).await.unwrap();
        for p in [&rows[0], &one] {
            assert_eq!(p.key, key, "{form:?}");
            assert_eq!(p.state.as_deref(), Some("Accepted"), "{form:?}");
            assert_eq!(p.phone.as_deref(), Some("+44 20 7946 0000"), "{form:?}");
            let created = p.created_at.unwrap_or_else(|| panic!("{form:?}"));
            assert!((created - now).abs() < 1000, "{form:?}: {created} vs {now}");
        }
        let interviews = client.interviews().await.unwrap();
        assert_eq!(interviews[0].key, interview, "{form:?}");
    }
}

#[tokio::test]
async fn a_bare_array_is_read_where_the_drf_envelope_is_expected() {
    let willo = sim().await;
    let (interview, keys) = seeded(&willo, 40, "Invited");
    willo.set_list_envelope(ListEnvelope::BareArray);
    let client = client(&willo);

    let rows = all(&client, &interview).await.unwrap();
    assert_eq!(rows.len(), keys.len());
    assert_eq!(client.interviews().await.unwrap().len(), 1);

    willo.set_list_envelope(ListEnvelope::Paginated);
    willo.faults().set(
        FaultPlan::seeded(1).with(
            FaultRule::new(Fault::MalformedPage(PageDefect::BareArray)).on("GET", PARTICIPANTS),
        ),
    );
    let rows = all(&client, &interview).await.unwrap();
    assert!(!rows.is_empty(), "a bare page is read as the rows it holds");
}

/// Issue 11 (bad input, defect 3): a bare array exactly as long as a page may be a whole
/// unpaged list or the first page of a longer one. Both read right: the unpaged list once (the
/// next page number answers the same rows), the paged one to its end.
#[tokio::test]
async fn issue11_a_bare_array_as_long_as_a_page_is_read_whole_whether_paged_or_not() {
    let willo = sim().await;
    let (interview, keys) = seeded(&willo, 30, "Invited");
    willo.set_list_envelope(ListEnvelope::BareArray);
    let client = client(&willo);
    let rows = all(&client, &interview).await.unwrap();
    assert_eq!(
        rows.len(),
        keys.len(),
        "an unpaged list of one page is read once"
    );
    let page = client
        .participants_page(&interview, 1)
        .await
        .unwrap()
        .unwrap();
    assert!(
        page.last,
        "the same rows again mean the page was the whole list"
    );
    assert_eq!(page.rows.len(), 30);

    let (long, keys) = seeded(&willo, 65, "Invited");
    willo.set_list_envelope(ListEnvelope::Paginated);
    willo.faults().set(
        FaultPlan::seeded(1).with(
            FaultRule::new(Fault::MalformedPage(PageDefect::BareArray)).on("GET", PARTICIPANTS),
        ),
    );
    let rows = all(&client, &long).await.unwrap();
    let mut got: Vec<&str> = rows.iter().map(|p| p.key.as_str()).collect();
    got.sort_unstable();
    got.dedup();
    assert_eq!(
        got.len(),
        keys.len(),
        "every page of a paged bare list is read"
    );
    let page = client.participants_page(&long, 1).await.unwrap().unwrap();
    assert!(
        !page.last,
        "a full bare page followed by other rows is not the last"
    );
    let page = client.participants_page(&long, 3).await.unwrap().unwrap();
    assert!(page.last && page.rows.len() == 5, "{page:?}");
}

#[tokio::test]
async fn each_malformed_willo_page_is_a_protocol_error_never_an_empty_page() {
    let willo = sim().await;
    let (interview, _) = seeded(&willo, 3, "Invited");
    let client = client(&willo);
    for defect in [
        PageDefect::MissingItems,
        PageDefect::ItemsObject,
        PageDefect::ItemsNull,
    ] {
        willo
            .faults()
            .set(FaultPlan::seeded(1).with(FaultRule::new(Fault::MalformedPage(defect))));
        let err = all(&client, &interview).await.unwrap_err();
        assert!(
            matches!(err, ApiError::Protocol { .. }),
            "{defect:?}: {err}"
        );
        let err = client.interviews().await.unwrap_err();
        assert!(
            matches!(err, ApiError::Protocol { .. }),
            "{defect:?}: {err}"
        );
    }
}

// ---- participant state ------------------------------------------------------------------

#[tokio::test]
async fn every_state_form_is_read_with_the_state_fields_that_name_it() {
    let willo = sim().await;
    let (interview, keys) = seeded(&willo, 8, "Accepted");
    let forms = [
        StateForm::StageObject,
        StateForm::StageString,
        StateForm::StatusString,
        StateForm::StageTitle,
        StateForm::CurrentStageName,
        StateForm::PipelineStage,
        StateForm::StageKey,
        StateForm::Missing,
    ];
    for (key, form) in keys.iter().zip(forms) {
        willo.set_state_form(key, form).unwrap();
    }
    let read = |fields: StateFields| {
        let client = client_with(&willo, KEY, 30, fields);
        let interview = interview.clone();
        async move { all(&client, &interview).await.unwrap() }
    };
    let state_of = |rows: &[Participant], form: StateForm| {
        let i = forms.iter().position(|f| *f == form).unwrap();
        let p = rows.iter().find(|p| p.key == keys[i]).unwrap();
        (p.state.clone(), p.state_is_key)
    };
    let accepted = (Some("Accepted".to_owned()), false);

    let default = read(StateFields::default()).await;
    for form in [
        StateForm::StageObject,
        StateForm::StageString,
        StateForm::StatusString,
        StateForm::StageTitle,
    ] {
        assert_eq!(state_of(&default, form), accepted, "{form:?}");
    }
    assert_eq!(state_of(&default, StateForm::Missing), (None, false));
    assert_eq!(
        state_of(&default, StateForm::CurrentStageName),
        (None, false),
        "not a default path"
    );
    assert_eq!(
        state_of(&default, StateForm::StageKey),
        (Some(stage_key("Accepted")), true),
        "a key is read, and flagged as one"
    );

    let configured =
        read(StateFields::new(&["current_stage.name", "pipeline_stage"]).unwrap()).await;
    assert_eq!(state_of(&configured, StateForm::CurrentStageName), accepted);
    assert_eq!(state_of(&configured, StateForm::PipelineStage), accepted);
    assert_eq!(state_of(&configured, StateForm::StageObject), (None, false));
}

// ---- interview scope --------------------------------------------------------------------

#[tokio::test]
async fn the_interview_scope_narrows_listed_interviews_by_department_owner_and_title() {
    let willo = sim().await;
    let sales = willo.add_department("Sales");
    let support = willo.add_department("Support");
    let owner = willo.add_user("hiring@example.com", "Hiring Manager");
    let a = willo
        .add_interview_with(
            InterviewSeed::new("Sales Engineer 2026")
                .department(&sales)
                .owner(&owner),
        )
        .unwrap();
    let b = willo
        .add_interview_with(InterviewSeed::new("Sales Engineer 2019").department(&sales))
        .unwrap();
    let c = willo
        .add_interview_with(
            InterviewSeed::new("Support Agent")
                .department(&support)
                .owner(&owner),
        )
        .unwrap();
    let client = client(&willo);
    for form in [DepartmentForm::Key, DepartmentForm::Object] {
        willo.set_department_form(form);
        let listed = client.interviews().await.unwrap();
        let in_scope = |scope: &InterviewScope| -> BTreeSet<String> {
            listed
                .iter()
                .filter(|i| scope.contains(i))
                .map(|i| i.key.clone())
                .collect()
        };
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            in_scope(&InterviewScope::default()),
            BTreeSet::from([a.clone(), b.clone(), c.clone()]),
            "{form:?}"
        );
        assert_eq!(
            in_scope(&InterviewScope::new(own(&[&sales]), vec![], vec![])),
            BTreeSet::from([a.clone(), b.clone()]),
            "{form:?}"
        );
        assert_eq!(
            in_scope(&InterviewScope::new(
                vec![],
                own(&["HIRING@example.com"]),
                vec![]
            )),
            BTreeSet::from([a.clone(), c.clone()]),
            "{form:?}"
        );
        assert_eq!(
            in_scope(&InterviewScope::new(
                own(&[&sales]),
                vec![],
                own(&["*2026"])
            )),
            BTreeSet::from([a.clone()]),
            "{form:?}"
        );
        let with_name = listed.iter().find(|i| i.key == a).unwrap();
        assert_eq!(with_name.department_key.as_deref(), Some(sales.as_str()));
        if form == DepartmentForm::Object {
            assert_eq!(with_name.department_name.as_deref(), Some("Sales"));
        }
    }
}

// ---- rows of other interviews -----------------------------------------------------------

#[tokio::test]
async fn all_participants_lists_every_interview_and_a_filtered_listing_keeps_foreign_rows() {
    let willo = sim().await;
    let (mine, my_keys) = seeded(&willo, 3, "Invited");
    let (other, other_keys) = seeded(&willo, 4, "Invited");
    let client = client(&willo);

    let everyone: Vec<Participant> = client.all_participants().try_collect().await.unwrap();
    assert_eq!(everyone.len(), 7);
    let of = |rows: &[Participant], k: &str| -> BTreeSet<String> {
        rows.iter()
            .filter(|p| p.interview_key.as_deref() == Some(k))
            .map(|p| p.key.clone())
            .collect()
    };
    assert_eq!(of(&everyone, &mine), my_keys.iter().cloned().collect());
    assert_eq!(of(&everyone, &other), other_keys.iter().cloned().collect());
    assert!(
        willo.requests().iter().all(|r| !r
            .query
            .clone()
            .unwrap_or_default()
            .contains("interview=")),
        "no filter sent"
    );

    // Honoured filter: only mine. Ignored filter: everyone, each naming their interview.
    assert_eq!(all(&client, &mine).await.unwrap().len(), 3);
    willo.ignore_interview_filter(true);
    let rows = all(&client, &mine).await.unwrap();
    assert_eq!(rows.len(), 7);
    assert_eq!(of(&rows, &other), other_keys.into_iter().collect());
}
