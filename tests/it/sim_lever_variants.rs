//! Pins each switchable Lever behaviour (the documented default and its plausible
//! alternative) through plain HTTP, so daemon tests can rely on the switches.

use crate::sim_support;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sim_support::client;
use willo_lever_sync::sim::lever::{
    ArchivedForm, CONFIDENTIAL_SCOPE, CheckOrder, ConfidentialDenial, Distribution, Endpoint,
    LeverSim, LeverSimConfig, NoteStamp, OppSeed, PostingSeed, UserSeed,
};

const KEY: &str = "lever-key";

async fn start() -> LeverSim {
    let lever = LeverSim::start(LeverSimConfig::for_tests()).await.unwrap();
    lever.add_api_key(KEY);
    lever.add_stage("S");
    lever
}

async fn call(
    lever: &LeverSim,
    key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}{path}", lever.base_url());
    let req = match method {
        "GET" => client().get(url),
        _ => client().post(url),
    };
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    let r = req.basic_auth(key, Some("")).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get_as(lever: &LeverSim, key: &str, path: &str) -> (u16, Value) {
    call(lever, key, "GET", path, None).await
}

async fn get(lever: &LeverSim, path: &str) -> (u16, Value) {
    get_as(lever, KEY, path).await
}

fn ids(page: &Value) -> BTreeSet<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

fn is_forbidden(status: u16, body: &Value) -> bool {
    status == 403 && body["code"] == "ForbiddenError" && body["message"].is_string()
}

// ---- permissions ------------------------------------------------------------------------

#[tokio::test]
async fn a_key_lacking_an_endpoint_gets_403_there_while_bad_credentials_stay_401() {
    let lever = start().await;
    let stage = lever.stages()[0].id.clone();
    let user = lever.add_user(UserSeed {
        name: "U".into(),
        email: "u@example.com".into(),
        access_role: None,
    });
    let posting = lever.add_posting(PostingSeed::new("P")).unwrap();
    let opp = lever.add_opportunity(OppSeed::new("a", "")).unwrap();
    let tags = json!({"tags": ["x"]});
    let note = json!({"value": "n"});
    let calls: Vec<(Endpoint, &str, String, Option<Value>)> = vec![
        (Endpoint::Stages, "GET", "/stages".into(), None),
        (Endpoint::Stages, "GET", format!("/stages/{stage}"), None),
        (Endpoint::Users, "GET", "/users".into(), None),
        (Endpoint::Users, "GET", format!("/users/{user}"), None),
        (Endpoint::Postings, "GET", "/postings".into(), None),
        (
            Endpoint::Postings,
            "GET",
            format!("/postings/{posting}"),
            None,
        ),
        (Endpoint::Tags, "GET", "/tags".into(), None),
        (
            Endpoint::OpportunitiesList,
            "GET",
            "/opportunities".into(),
            None,
        ),
        (
            Endpoint::OpportunityRead,
            "GET",
            format!("/opportunities/{opp}"),
            None,
        ),
        (
            Endpoint::DeletedOpportunities,
            "GET",
            "/opportunities/deleted".into(),
            None,
        ),
        (
            Endpoint::TagWrites,
            "POST",
            format!("/opportunities/{opp}/addTags"),
            Some(tags.clone()),
        ),
        (
            Endpoint::TagWrites,
            "POST",
            format!("/opportunities/{opp}/removeTags"),
            Some(tags),
        ),
        (
            Endpoint::NotesRead,
            "GET",
            format!("/opportunities/{opp}/notes"),
            None,
        ),
        (
            Endpoint::NotesWrite,
            "POST",
            format!("/opportunities/{opp}/notes"),
            Some(note),
        ),
    ];
    for (endpoint, method, path, body) in calls {
        let others: Vec<Endpoint> = Endpoint::ALL
            .into_iter()
            .filter(|e| *e != endpoint)
            .collect();
        lever.restrict_api_key("without", &others);
        lever.restrict_api_key("only", &[endpoint]);
        let (status, err) = call(&lever, "without", method, &path, body.clone()).await;
        assert!(
            is_forbidden(status, &err),
            "{method} {path} without {endpoint:?}: {status} {err}"
        );
        let (status, ok) = call(&lever, "only", method, &path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path} with only {endpoint:?}: {status} {ok}"
        );
    }
    assert_eq!(get_as(&lever, "unknown-key", "/stages").await.0, 401);
    lever.restrict_api_key("nothing", &[]);
    let (status, body) = get_as(&lever, "nothing", "/stages").await;
    assert!(
        is_forbidden(status, &body),
        "a key with no endpoints is valid but refused"
    );
}

#[tokio::test]
async fn tag_writes_check_the_permission_before_the_lookup_unless_switched() {
    let lever = start().await;
    let opp = lever.add_opportunity(OppSeed::new("a", "")).unwrap();
    lever.restrict_api_key("reader", &[Endpoint::OpportunitiesList]);
    lever.restrict_api_key("writer", &[Endpoint::TagWrites]);
    let missing = "/opportunities/00000000-0000-4000-8000-000000000000/addTags";
    let body = || Some(json!({"tags": ["Willo:Invited"]}));

    let (status, err) = call(&lever, "reader", "POST", missing, body()).await;
    assert!(is_forbidden(status, &err), "default: 403 before the lookup");
    let (status, err) = call(&lever, "writer", "POST", missing, body()).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (404, Some("ResourceNotFound")),
        "with the permission an unknown id is 404: proof of permission without a write"
    );

    lever.set_write_check_order(CheckOrder::LookupFirst);
    let (status, _) = call(&lever, "reader", "POST", missing, body()).await;
    assert_eq!(status, 404, "lookup first: 404 whatever the key may do");
    let (status, _) = call(&lever, "writer", "POST", missing, body()).await;
    assert_eq!(status, 404);
    let existing = format!("/opportunities/{opp}/addTags");
    let (status, err) = call(&lever, "reader", "POST", &existing, body()).await;
    assert!(
        is_forbidden(status, &err),
        "a real opportunity still needs the permission"
    );
    assert!(lever.tags_of(&opp).is_empty(), "nothing was written");
    assert!(
        lever.writes().iter().all(|r| r.status >= 400),
        "no write succeeded"
    );
}

// ---- confidential data ------------------------------------------------------------------

#[tokio::test]
async fn confidential_data_needs_confidential_access_and_is_refused_or_omitted() {
    let lever = start().await;
    let open = lever.add_opportunity(OppSeed::new("a", "")).unwrap();
    let secret = lever
        .add_opportunity(OppSeed::new("b", "").confidential())
        .unwrap();
    let secret_posting = lever
        .add_posting(PostingSeed::new("CEO").confidential())
        .unwrap();
    let open_posting = lever.add_posting(PostingSeed::new("PM")).unwrap();
    let on_secret_posting = lever
        .add_opportunity(OppSeed::new("c", "").posting(&secret_posting))
        .unwrap();
    assert_eq!(
        lever
            .opportunity(&on_secret_posting)
            .unwrap()
            .confidentiality,
        willo_lever_sync::sim::lever::Confidentiality::Confidential,
        "a candidate on a confidential posting is confidential"
    );
    lever.add_api_key("plain");
    lever.set_confidential_access("plain", false);

    let (status, page) = get_as(&lever, "plain", "/opportunities").await;
    assert_eq!(
        (status, ids(&page)),
        (200, BTreeSet::from([open.clone()])),
        "the default listing leaves confidential rows out for everyone"
    );
    for q in ["all", "confidential"] {
        let (status, err) = get_as(
            &lever,
            "plain",
            &format!("/opportunities?confidentiality={q}"),
        )
        .await;
        assert!(
            is_forbidden(status, &err),
            "default: 403 for confidentiality={q}"
        );
        let (status, err) =
            get_as(&lever, "plain", &format!("/postings?confidentiality={q}")).await;
        assert!(is_forbidden(status, &err), "postings too: {q}");
    }
    let (status, err) = get_as(&lever, "plain", &format!("/opportunities/{secret}")).await;
    assert!(
        is_forbidden(status, &err),
        "a confidential opportunity by id"
    );
    let (status, err) = get_as(&lever, "plain", &format!("/postings/{secret_posting}")).await;
    assert!(is_forbidden(status, &err), "a confidential posting by id");
    let (status, _) = call(
        &lever,
        "plain",
        "POST",
        &format!("/opportunities/{secret}/addTags"),
        Some(json!({"tags": ["x"]})),
    )
    .await;
    assert_eq!(
        status, 403,
        "no writes to confidential opportunities either"
    );

    lever.set_confidential_denial(ConfidentialDenial::Omit);
    let (status, page) = get_as(&lever, "plain", "/opportunities?confidentiality=all").await;
    assert_eq!(
        (status, ids(&page)),
        (200, BTreeSet::from([open.clone()])),
        "omit variant: silently without the confidential rows"
    );
    let (status, page) = get_as(
        &lever,
        "plain",
        "/opportunities?confidentiality=confidential",
    )
    .await;
    assert_eq!((status, ids(&page).len()), (200, 0));
    let (_, page) = get_as(&lever, "plain", "/postings?confidentiality=all").await;
    assert_eq!(ids(&page), BTreeSet::from([open_posting.clone()]));

    let (_, page) = get(&lever, "/opportunities?confidentiality=all").await;
    assert_eq!(
        ids(&page),
        BTreeSet::from([open, secret.clone(), on_secret_posting]),
        "add_api_key grants confidential access"
    );
    assert_eq!(
        get(&lever, &format!("/opportunities/{secret}")).await.0,
        200
    );
}

#[tokio::test]
async fn oauth_tokens_get_confidential_access_from_their_scope_and_endpoints_when_enforced() {
    let lever = start().await;
    lever
        .add_opportunity(OppSeed::new("b", "").confidential())
        .unwrap();
    lever.add_oauth_client("app", "secret", "http://127.0.0.1:1/cb");
    let bearer = |token: String, path: &'static str| {
        let url = format!("{}{path}", lever.base_url());
        async move {
            let r = client().get(url).bearer_auth(token).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let plain = lever.issue_oauth_tokens("app", "opportunities:read:admin");
    let confidential = lever.issue_oauth_tokens(
        "app",
        &format!("opportunities:read:admin {CONFIDENTIAL_SCOPE}"),
    );
    let (status, err) = bearer(
        plain.access_token.clone(),
        "/opportunities?confidentiality=all",
    )
    .await;
    assert!(is_forbidden(status, &err), "{status} {err}");
    let (status, page) = bearer(
        confidential.access_token.clone(),
        "/opportunities?confidentiality=all",
    )
    .await;
    assert_eq!((status, ids(&page).len()), (200, 1));

    assert_eq!(
        bearer(plain.access_token.clone(), "/stages").await.0,
        200,
        "by default scopes do not restrict endpoints"
    );
    lever.enforce_oauth_scopes(true);
    let (status, err) = bearer(plain.access_token.clone(), "/stages").await;
    assert!(is_forbidden(status, &err), "enforced: no stages:read:admin");
    assert_eq!(bearer(plain.access_token, "/opportunities").await.0, 200);
}

// ---- postings' job sites ----------------------------------------------------------------

#[tokio::test]
async fn published_postings_default_to_the_public_job_site() {
    let lever = start().await;
    let public = lever
        .add_posting(PostingSeed::new("Public").distribution(Distribution::Public))
        .unwrap();
    let internal = lever
        .add_posting(PostingSeed::new("Internal").distribution(Distribution::Internal))
        .unwrap();
    let both = lever.add_posting(PostingSeed::new("Both")).unwrap();
    let closed = lever
        .add_posting(
            PostingSeed::new("Closed")
                .state("closed")
                .distribution(Distribution::Internal),
        )
        .unwrap();
    let q = |query: &str| {
        let lever = lever.clone();
        let path = format!("/postings?{query}");
        async move { ids(&get(&lever, &path).await.1) }
    };
    assert_eq!(
        q("").await,
        BTreeSet::from([public.clone(), both.clone(), closed.clone()]),
        "internal-only postings are left out by default"
    );
    assert_eq!(
        q("state=published").await,
        BTreeSet::from([public.clone(), both.clone()]),
        "the query a client sends without distributionChannel misses internal-only jobs"
    );
    let all = BTreeSet::from([
        public.clone(),
        internal.clone(),
        both.clone(),
        closed.clone(),
    ]);
    assert_eq!(
        q("distributionChannel=public&distributionChannel=internal").await,
        all
    );
    assert_eq!(
        q("distributionChannel=internal").await,
        BTreeSet::from([internal.clone(), both.clone(), closed])
    );
    assert_eq!(
        get(&lever, "/postings?distributionChannel=intranet")
            .await
            .0,
        400
    );
    let (_, p) = get(&lever, &format!("/postings/{internal}")).await;
    assert_eq!(p["data"]["distributionChannels"], json!(["internal"]));
    let (_, p) = get(&lever, &format!("/postings/{both}")).await;
    assert_eq!(
        p["data"]["distributionChannels"],
        json!(["public", "internal"])
    );

    lever
        .set_posting_distribution(&internal, Distribution::Both)
        .unwrap();
    assert!(
        q("").await.contains(&internal),
        "now on the public site too"
    );
}

// ---- archived forms ---------------------------------------------------------------------

#[tokio::test]
async fn the_archive_state_renders_in_each_form() {
    let lever = start().await;
    let active = lever.add_opportunity(OppSeed::new("a", "")).unwrap();
    let gone = lever
        .add_opportunity(OppSeed::new("b", "").archived("hired"))
        .unwrap();
    let read = |id: &str| {
        let lever = lever.clone();
        let path = format!("/opportunities/{id}");
        async move { get(&lever, &path).await.1["data"].clone() }
    };
    let a = read(&active).await;
    assert_eq!(
        (a["archived"].clone(), a["archivedAt"].clone()),
        (Value::Null, Value::Null)
    );
    let g = read(&gone).await;
    assert_eq!(g["archived"]["reason"], "hired");
    assert_eq!(g["archivedAt"], g["archived"]["archivedAt"]);

    lever.set_archived_form(ArchivedForm::NullObjectWhenActive);
    let a = read(&active).await;
    assert_eq!(a["archived"], json!({"archivedAt": null, "reason": null}));
    assert_eq!(read(&gone).await["archived"]["reason"], "hired");
    let (_, page) = get(&lever, "/opportunities?archived=false").await;
    assert_eq!(
        page["data"][0]["archived"],
        json!({"archivedAt": null, "reason": null}),
        "lists render the same form"
    );

    lever.set_archived_form(ArchivedForm::LegacyOnly);
    let g = read(&gone).await;
    assert!(g.get("archived").is_none(), "no archived field: {g}");
    assert!(g["archivedAt"].is_i64());
    assert_eq!(g["archiveReason"], "hired");
    let a = read(&active).await;
    assert!(a.get("archived").is_none() && a["archivedAt"].is_null());
}

// ---- offset-token errors ----------------------------------------------------------------

#[tokio::test]
async fn invalid_offset_tokens_answer_the_configured_status() {
    let lever = start().await;
    for status in [400, 422, 404] {
        lever.set_offset_error_status(status);
        let (got, body) = get(&lever, "/opportunities?offset=0.1414895548650.a6070140").await;
        assert_eq!(got, status);
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("Invalid offset token"),
            "{body}"
        );
        assert!(body["code"].is_string());
    }
    assert_eq!(
        get(&lever, "/opportunities?limit=0").await.0,
        400,
        "other bad parameters stay 400"
    );
}

// ---- notes and users --------------------------------------------------------------------

#[tokio::test]
async fn notes_take_every_documented_field_and_a_variant_leaves_updated_at() {
    let lever = start().await;
    let user = lever.add_user(UserSeed {
        name: "Integration".into(),
        email: "int@example.com".into(),
        access_role: None,
    });
    let opp = lever.add_opportunity(OppSeed::new("a", "")).unwrap();
    let path = format!("/opportunities/{opp}/notes?perform_as={user}");
    let earlier = lever.now() - 60_000;
    let (status, body) = call(
        &lever,
        KEY,
        "POST",
        &path,
        Some(
            json!({"value": "Willo: completed", "secret": true, "score": 4,
                    "notifyFollowers": true, "createdAt": earlier}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let note_id = body["data"]["noteId"].as_str().unwrap().to_owned();
    let (status, _) = call(
        &lever,
        KEY,
        "POST",
        &format!("/opportunities/{opp}/notes?note_id={note_id}"),
        Some(json!({"value": "a comment"})),
    )
    .await;
    assert_eq!(status, 201);
    let (_, listed) = get(&lever, &format!("/opportunities/{opp}/notes")).await;
    let n = &listed["data"][0];
    assert_eq!(n["id"], note_id.as_str());
    assert_eq!(n["user"], user.as_str());
    assert_eq!(n["secret"], true);
    assert_eq!(n["createdAt"], earlier);
    assert!(n["text"].is_string() && n.get("completedAt").is_some());
    assert_eq!(n["fields"][0]["value"], "Willo: completed");
    assert_eq!(n["fields"][0]["score"], 4);
    assert_eq!(n["fields"][1]["value"], "a comment");
    assert!(lever.notes(&opp)[0].notify_followers);
    let (status, _) = call(
        &lever,
        KEY,
        "POST",
        &format!("/opportunities/{opp}/notes?note_id=nope"),
        Some(json!({"value": "x"})),
    )
    .await;
    assert_eq!(status, 404, "a comment on an unknown note");
    let (status, _) = call(
        &lever,
        KEY,
        "POST",
        &format!("/opportunities/{opp}/notes"),
        Some(json!({"value": "x", "notifyFollowers": "yes"})),
    )
    .await;
    assert_eq!(status, 400);

    lever.set_note_stamp(NoteStamp::Leaves);
    let before = lever.opportunity(&opp).unwrap().updated_at;
    let (status, _) = call(
        &lever,
        KEY,
        "POST",
        &format!("/opportunities/{opp}/notes"),
        Some(json!({"value": "quiet"})),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        lever.opportunity(&opp).unwrap().updated_at,
        before,
        "the variant leaves updatedAt"
    );
    lever.set_note_stamp(NoteStamp::Bumps);
    call(
        &lever,
        KEY,
        "POST",
        &format!("/opportunities/{opp}/notes"),
        Some(json!({"value": "loud"})),
    )
    .await;
    assert!(
        lever.opportunity(&opp).unwrap().updated_at > before,
        "default bumps"
    );
}

#[tokio::test]
async fn deactivated_users_are_read_by_id_with_deactivated_at_and_refused_as_perform_as() {
    let lever = start().await;
    let user = lever.add_user(UserSeed {
        name: "Gone".into(),
        email: "gone@example.com".into(),
        access_role: Some("admin".into()),
    });
    let (_, active) = get(&lever, &format!("/users/{user}")).await;
    assert_eq!(active["data"]["deactivatedAt"], Value::Null);
    lever.deactivate_user(&user).unwrap();
    let (status, gone) = get(&lever, &format!("/users/{user}")).await;
    assert_eq!(status, 200, "still readable by id");
    assert_eq!(gone["data"]["deactivatedAt"], lever.now());
    assert_eq!(gone["data"]["accessRole"], "admin");
    let (_, listed) = get(&lever, "/users").await;
    assert!(!ids(&listed).contains(&user));
    let opp = lever.add_opportunity(OppSeed::new("a", "")).unwrap();
    let (status, _) = call(
        &lever,
        KEY,
        "POST",
        &format!("/opportunities/{opp}/addTags?perform_as={user}"),
        Some(json!({"tags": ["x"]})),
    )
    .await;
    assert_eq!(status, 400);
}
