//! Pins the Lever simulator's fidelity to Lever's documented API (docs/simulators.md), through plain HTTP.

use crate::sim_support;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use sim_support::{client, within};
use willo_lever_sync::sim::lever::{LeverSim, LeverSimConfig, OppSeed, PostingSeed, UserSeed};
use willo_lever_sync::sim::{RateLimit, SimError};

const KEY: &str = "lever-key";

async fn start() -> LeverSim {
    let lever = LeverSim::start(LeverSimConfig::for_tests()).await.unwrap();
    lever.add_api_key(KEY);
    lever
}

async fn get(lever: &LeverSim, path: &str) -> (u16, Value) {
    let r = client()
        .get(format!("{}{path}", lever.base_url()))
        .basic_auth(KEY, Some(""))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

async fn post(lever: &LeverSim, path: &str, body: Value) -> (u16, Value) {
    let r = client()
        .post(format!("{}{path}", lever.base_url()))
        .basic_auth(KEY, Some(""))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// Follows `next` until `hasNext` is false; returns every `data` item.
async fn all_pages(lever: &LeverSim, path: &str) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut out = Vec::new();
    let mut offset: Option<String> = None;
    loop {
        let url = match &offset {
            None => path.to_owned(),
            Some(t) => format!("{path}{sep}offset={}", urlencode(t)),
        };
        let (status, body) = get(lever, &url).await;
        assert_eq!(status, 200, "{body}");
        out.extend(body["data"].as_array().unwrap().iter().cloned());
        if body["hasNext"] == json!(true) {
            offset = Some(body["next"].as_str().unwrap().to_owned());
        } else {
            assert!(
                body.get("next").is_none(),
                "last page must omit next: {body}"
            );
            return out;
        }
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn ids(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

// ---- auth -------------------------------------------------------------------------------

#[tokio::test]
async fn basic_auth_takes_the_key_as_user_name_with_empty_password() {
    let lever = start().await;
    let url = format!("{}/stages", lever.base_url());
    let ok = client()
        .get(&url)
        .basic_auth(KEY, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);

    for req in [
        client().get(&url).basic_auth("wrong", Some("")),
        client().get(&url),
        client().get(&url).bearer_auth(KEY),
    ] {
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "UnauthorizedError");
        assert!(body["message"].is_string());
    }
    lever.remove_api_key(KEY);
    let r = client()
        .get(&url)
        .basic_auth(KEY, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a removed (rotated) key is refused");
}

#[tokio::test]
async fn revoke_makes_every_call_401_until_restored() {
    let lever = start().await;
    lever.add_oauth_client("app", "secret", "http://127.0.0.1:1/cb");
    let tokens = lever.issue_oauth_tokens("app", "offline_access opportunities:read:admin");
    lever.revoke();
    assert_eq!(get(&lever, "/stages").await.0, 401);
    let r = client()
        .get(format!("{}/stages", lever.base_url()))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = client()
        .post(lever.oauth_token_url())
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "app"),
            ("client_secret", "secret"),
            ("refresh_token", tokens.refresh_token.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
    lever.restore();
    assert_eq!(get(&lever, "/stages").await.0, 200);
}

// ---- lists ------------------------------------------------------------------------------

#[tokio::test]
async fn lists_use_the_data_next_hasnext_envelope_and_omit_next_at_the_end() {
    let lever = start().await;
    for name in ["New lead", "New applicant", "Video Interview"] {
        lever.add_stage(name);
    }
    let (status, body) = get(&lever, "/stages?limit=2").await;
    assert_eq!(status, 200);
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["hasNext"], true);
    assert!(body["next"].is_string());
    let (_, last) = get(
        &lever,
        &format!(
            "/stages?limit=2&offset={}",
            urlencode(body["next"].as_str().unwrap())
        ),
    )
    .await;
    assert_eq!(last["data"].as_array().unwrap().len(), 1);
    assert_eq!(last["data"][0]["text"], "Video Interview");
    assert_eq!(last["hasNext"], false);
    assert!(last.get("next").is_none());
    assert_eq!(
        all_pages(&lever, "/stages?limit=1").await.len(),
        3,
        "stages come in pipeline order, one page each"
    );
}

#[tokio::test]
async fn limit_defaults_to_100_and_must_be_1_to_100() {
    let lever = start().await;
    lever.add_stage("New applicant");
    let seeds = (0..150).map(|i| OppSeed::new(&format!("C{i}"), &format!("c{i}@example.com")));
    lever.add_opportunities(seeds).unwrap();
    let (status, body) = get(&lever, "/opportunities").await;
    assert_eq!(status, 200);
    assert_eq!(body["data"].as_array().unwrap().len(), 100);
    assert_eq!(body["hasNext"], true);
    for bad in ["0", "101", "ten", "-1"] {
        let (status, body) = get(&lever, &format!("/opportunities?limit={bad}")).await;
        assert_eq!(status, 400, "limit={bad}");
        assert_eq!(body["code"], "BadRequestError");
    }
    assert_eq!(get(&lever, "/opportunities?limit=1").await.0, 200);
    assert_eq!(get(&lever, "/opportunities?limit=100").await.0, 200);
}

#[tokio::test]
async fn offset_tokens_are_opaque_and_only_valid_for_their_query() {
    let lever = start().await;
    lever.add_stage("New applicant");
    for i in 0..5 {
        lever
            .add_opportunity(OppSeed::new(&format!("C{i}"), "").tag("a").tag("b"))
            .unwrap();
    }
    let (_, page) = get(&lever, "/opportunities?tag=a&limit=2").await;
    let token = page["next"].as_str().unwrap().to_owned();
    assert!(token.parse::<i64>().is_err(), "not a plain number: {token}");

    // Same query, different limit: still fine (limit is not part of the binding).
    let (status, _) = get(
        &lever,
        &format!("/opportunities?tag=a&limit=3&offset={}", urlencode(&token)),
    )
    .await;
    assert_eq!(status, 200);

    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == '0' { '1' } else { '0' });
    for (query, why) in [
        (
            format!("tag=b&limit=2&offset={}", urlencode(&token)),
            "other query",
        ),
        (
            format!("tag=a&limit=2&offset={}", urlencode(&tampered)),
            "tampered",
        ),
        ("tag=a&limit=2&offset=2".to_owned(), "numeric offset"),
        (
            "tag=a&limit=2&offset=0.1414895548650.a6070140".to_owned(),
            "foreign token",
        ),
    ] {
        let (status, body) = get(&lever, &format!("/opportunities?{query}")).await;
        assert_eq!(status, 400, "{why}");
        assert_eq!(body["code"], "BadRequestError", "{why}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("Invalid offset token: "),
            "{why}: {body}"
        );
    }
}

#[tokio::test]
async fn paging_returns_every_match_exactly_once() {
    let lever = start().await;
    let a = lever.add_stage("A");
    let b = lever.add_stage("B");
    let mut want = BTreeSet::new();
    for i in 0..120 {
        let stage = if i % 3 == 0 { &a } else { &b };
        let id = lever
            .add_opportunity(OppSeed::new(&format!("C{i}"), "").stage(stage))
            .unwrap();
        if i % 3 == 0 {
            want.insert(id);
        }
    }
    let got = all_pages(&lever, &format!("/opportunities?stage_id={a}&limit=7")).await;
    assert_eq!(got.len(), want.len(), "no duplicates");
    assert_eq!(ids(&got), want);
    let everything = all_pages(&lever, "/opportunities?limit=13").await;
    assert_eq!(everything.len(), 120);
}

#[tokio::test]
async fn paging_misses_nothing_when_the_world_changes_between_pages() {
    let lever = start().await;
    let s = lever.add_stage("Trigger");
    let other = lever.add_stage("Other");
    let mut trigger = Vec::new();
    let mut rest = Vec::new();
    for i in 0..6 {
        trigger.push(
            lever
                .add_opportunity(OppSeed::new(&format!("t{i}"), "").stage(&s))
                .unwrap(),
        );
        rest.push(
            lever
                .add_opportunity(OppSeed::new(&format!("o{i}"), "").stage(&other))
                .unwrap(),
        );
    }
    lever.advance_clock(60_000);
    let since = lever.now();
    for id in trigger.iter().take(3).chain(rest.iter().take(3)) {
        lever.touch(id).unwrap();
    }
    let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<String>>();
    // The server walks the stage index (id order) or the updatedAt index ((updatedAt, id)
    // order, chosen when the window is the smaller set); both must survive a write between
    // pages. A write can make a row appear twice in updatedAt order, never vanish.
    let cases = [
        (format!("stage_id={s}&limit=2"), set(&trigger)),
        (
            format!("stage_id={s}&updated_at_start={since}&limit=2"),
            set(&trigger[..3]),
        ),
        (
            format!("updated_at_start={since}&limit=2"),
            set(&[&trigger[..3], &rest[..3]].concat()),
        ),
    ];
    for (query, want) in cases {
        let (_, first) = get(&lever, &format!("/opportunities?{query}")).await;
        let mut seen = ids(first["data"].as_array().unwrap());
        let touched = seen.iter().next().unwrap().clone();
        lever
            .add_tags_by_hand(&touched, &[&format!("between-{}", lever.now())])
            .unwrap();
        lever.advance_clock(1);
        let mut offset = first["next"].as_str().map(str::to_owned);
        while let Some(t) = offset {
            let (status, page) = get(
                &lever,
                &format!("/opportunities?{query}&offset={}", urlencode(&t)),
            )
            .await;
            assert_eq!(status, 200, "{page}");
            seen.extend(ids(page["data"].as_array().unwrap()));
            offset = page["next"].as_str().map(str::to_owned);
        }
        assert_eq!(seen, want, "{query}");
    }
}

#[tokio::test]
async fn repeated_filter_keys_are_a_union_and_different_filters_intersect() {
    let lever = start().await;
    let s1 = lever.add_stage("S1");
    let s2 = lever.add_stage("S2");
    let s3 = lever.add_stage("S3");
    let p1 = lever.add_posting(PostingSeed::new("P1")).unwrap();
    let p2 = lever.add_posting(PostingSeed::new("P2")).unwrap();
    let o1 = lever
        .add_opportunity(OppSeed::new("o1", "").stage(&s1).tag("x").posting(&p1))
        .unwrap();
    let o2 = lever
        .add_opportunity(OppSeed::new("o2", "").stage(&s2).tag("y").posting(&p2))
        .unwrap();
    let o3 = lever
        .add_opportunity(OppSeed::new("o3", "").stage(&s3).tag("z"))
        .unwrap();
    let o4 = lever
        .add_opportunity(OppSeed::new("o4", "").stage(&s3).tag("x").tag("y"))
        .unwrap();

    let set = |v: &[&String]| v.iter().map(|s| (*s).clone()).collect::<BTreeSet<_>>();
    let q = |query: String| {
        let lever = lever.clone();
        async move { ids(&all_pages(&lever, &format!("/opportunities?{query}")).await) }
    };
    let both = all_pages(&lever, "/opportunities?tag=x&tag=y").await;
    assert_eq!(
        both.len(),
        3,
        "an opportunity carrying both tags is listed once"
    );
    assert_eq!(ids(&both), set(&[&o1, &o2, &o4]));
    assert_eq!(
        q(format!("stage_id={s1}&stage_id={s3}")).await,
        set(&[&o1, &o3, &o4])
    );
    assert_eq!(
        q(format!("posting_id={p1}&posting_id={p2}")).await,
        set(&[&o1, &o2])
    );
    assert_eq!(
        q(format!("tag=x&tag=z&stage_id={s3}")).await,
        set(&[&o3, &o4])
    );
    assert_eq!(q("tag=X".into()).await, set(&[]), "tags are case-sensitive");
}

#[tokio::test]
async fn updated_at_window_is_inclusive_in_ms_and_never_matches_null() {
    let lever = start().await;
    lever.add_stage("S");
    let a = lever.add_opportunity(OppSeed::new("a", "")).unwrap();
    let b = lever.add_opportunity(OppSeed::new("b", "")).unwrap();
    let c = lever.add_opportunity(OppSeed::new("c", "")).unwrap();
    let never = lever
        .add_opportunity(OppSeed::new("n", "").null_updated_at())
        .unwrap();
    let ua = lever.opportunity(&a).unwrap().updated_at.unwrap();
    let ub = lever.opportunity(&b).unwrap().updated_at.unwrap();
    let uc = lever.opportunity(&c).unwrap().updated_at.unwrap();
    assert!(
        ua < ub && ub < uc,
        "stamps strictly increase on a frozen clock"
    );
    assert_eq!(lever.opportunity(&never).unwrap().updated_at, None);

    let window = |s: i64, e: i64| format!("/opportunities?updated_at_start={s}&updated_at_end={e}");
    assert_eq!(
        ids(&all_pages(&lever, &window(ub, uc)).await),
        BTreeSet::from([b.clone(), c.clone()])
    );
    assert_eq!(
        ids(&all_pages(&lever, &window(ua, ua)).await),
        BTreeSet::from([a.clone()])
    );
    let open = all_pages(&lever, &format!("/opportunities?updated_at_start={ua}")).await;
    assert!(!ids(&open).contains(&never));
    let all = all_pages(&lever, "/opportunities").await;
    assert!(ids(&all).contains(&never), "without a window it is listed");
    let (_, one) = get(&lever, &format!("/opportunities/{never}")).await;
    assert_eq!(one["data"]["updatedAt"], Value::Null);

    // A write bumps updatedAt past the window's old end.
    lever.add_tags_by_hand(&a, &["t"]).unwrap();
    let after = lever.opportunity(&a).unwrap().updated_at.unwrap();
    assert!(after > uc);
    let since = all_pages(&lever, &format!("/opportunities?updated_at_start={after}")).await;
    assert_eq!(ids(&since), BTreeSet::from([a]));
    assert_eq!(
        get(&lever, "/opportunities?updated_at_start=yesterday")
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn archived_email_and_confidentiality_filters() {
    let lever = start().await;
    lever.add_stage("S");
    let active = lever
        .add_opportunity(OppSeed::new("a", "Ada@Example.com"))
        .unwrap();
    let archived = lever
        .add_opportunity(OppSeed::new("b", "b@example.com").archived("hired"))
        .unwrap();
    let secret = lever
        .add_opportunity(OppSeed::new("c", "c@example.com").confidential())
        .unwrap();

    let q = |query: &str| {
        let lever = lever.clone();
        let query = query.to_owned();
        async move { ids(&all_pages(&lever, &format!("/opportunities?{query}")).await) }
    };
    assert_eq!(q("archived=false").await, BTreeSet::from([active.clone()]));
    assert_eq!(q("archived=true").await, BTreeSet::from([archived.clone()]));
    assert_eq!(
        q("").await,
        BTreeSet::from([active.clone(), archived.clone()]),
        "non-confidential by default"
    );
    assert_eq!(
        q("confidentiality=confidential").await,
        BTreeSet::from([secret.clone()])
    );
    assert_eq!(q("confidentiality=all").await.len(), 3);
    assert_eq!(
        q("email=ada%40example.com").await,
        BTreeSet::from([active]),
        "canonical email match"
    );
    let (status, body) = get(&lever, "/opportunities?email=not-an-email").await;
    assert_eq!(status, 400);
    assert_eq!(body["message"], "Email address is not valid");
    assert_eq!(get(&lever, "/opportunities?archived=maybe").await.0, 400);
    assert_eq!(
        get(&lever, "/opportunities?confidentiality=some").await.0,
        400
    );
}

#[tokio::test]
async fn expand_applications_inlines_application_objects_else_ids() {
    let lever = start().await;
    lever.add_stage("S");
    let posting = lever.add_posting(PostingSeed::new("Engineer")).unwrap();
    let opp = lever
        .add_opportunity(OppSeed::new("a", "a@example.com").posting(&posting))
        .unwrap();
    let bare = lever.add_opportunity(OppSeed::new("b", "")).unwrap();

    let (_, plain) = get(&lever, &format!("/opportunities/{opp}")).await;
    let apps = plain["data"]["applications"].as_array().unwrap();
    assert_eq!(apps.len(), 1);
    assert!(apps[0].is_string(), "ids without expand: {apps:?}");

    let (_, listed) = get(&lever, "/opportunities?expand=applications").await;
    let row = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == opp.as_str())
        .unwrap();
    let app = &row["applications"][0];
    assert_eq!(app["posting"], posting.as_str());
    assert_eq!(app["type"], "posting");
    assert!(app["id"].is_string());
    assert!(app["createdAt"].is_i64());
    assert!(app.get("archived").is_some());
    let row = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == bare.as_str())
        .unwrap();
    assert_eq!(row["applications"], json!([]));

    let (status, body) = get(&lever, "/opportunities?expand=applications,stage").await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("is not expandable")
    );
    let (status, body) = get(
        &lever,
        &format!("/opportunities/{opp}?expand=stage&expand=applications"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["stage"]["text"], "S");
}

#[tokio::test]
async fn opportunity_json_is_shaped_like_the_documentation() {
    let lever = start().await;
    let s = lever.add_stage("New applicant");
    let owner = lever.add_user(UserSeed {
        name: "Owner".into(),
        email: "owner@example.com".into(),
        access_role: None,
    });
    let mut seed = OppSeed::new("Shane Smith", "shane@example.com")
        .stage(&s)
        .tag("t");
    seed.owner = Some(owner.clone());
    seed.sources = vec!["linkedin".into()];
    let opp = lever.add_opportunity(seed).unwrap();
    let (status, body) = get(&lever, &format!("/opportunities/{opp}")).await;
    assert_eq!(status, 200);
    let o = &body["data"];
    for key in [
        "id",
        "name",
        "headline",
        "contact",
        "emails",
        "phones",
        "confidentiality",
        "location",
        "links",
        "createdAt",
        "updatedAt",
        "lastInteractionAt",
        "lastAdvancedAt",
        "snoozedUntil",
        "archivedAt",
        "archiveReason",
        "stage",
        "stageChanges",
        "owner",
        "tags",
        "sources",
        "origin",
        "applications",
        "followers",
        "urls",
        "dataProtection",
        "isAnonymized",
        "archived",
    ] {
        assert!(o.get(key).is_some(), "missing {key}: {o}");
    }
    assert_eq!(o["emails"], json!(["shane@example.com"]));
    assert_eq!(o["stage"], s.as_str());
    assert_eq!(o["owner"], owner.as_str());
    assert_eq!(o["tags"], json!(["t"]));
    assert_eq!(o["sources"], json!(["linkedin"]));
    assert_eq!(o["origin"], "applied");
    assert_eq!(o["confidentiality"], "non-confidential");
    assert_eq!(o["archived"], Value::Null);
    assert_eq!(o["dataProtection"], Value::Null);
    assert_eq!(o["isAnonymized"], false);
    let created = o["createdAt"].as_i64().unwrap();
    assert!(created > 1_000_000_000_000, "ms, 13 digits: {created}");
    assert_eq!(o["stageChanges"][0]["toStageId"], s.as_str());
    assert_eq!(o["stageChanges"][0]["toStageIndex"], 0);
    assert!(o["urls"]["show"].as_str().unwrap().ends_with(&opp));

    lever.archive(&opp, "hired").unwrap();
    lever.set_contact_consent(&opp, false).unwrap();
    let (_, body) = get(&lever, &format!("/opportunities/{opp}")).await;
    let o = &body["data"];
    assert_eq!(o["archived"]["reason"], "hired");
    assert!(o["archived"]["archivedAt"].is_i64());
    assert_eq!(
        o["archivedAt"], o["archived"]["archivedAt"],
        "legacy field kept"
    );
    assert_eq!(o["archiveReason"], "hired");
    assert_eq!(
        o["dataProtection"]["contact"],
        json!({"allowed": false, "expiresAt": null})
    );
    assert_eq!(o["dataProtection"]["store"]["allowed"], true);

    lever.anonymize(&opp).unwrap();
    let (_, body) = get(&lever, &format!("/opportunities/{opp}")).await;
    assert_eq!(body["data"]["isAnonymized"], true);
    assert_eq!(body["data"]["emails"], json!([]));
}

#[tokio::test]
async fn stage_moves_record_stage_changes_and_last_advanced_at() {
    let lever = start().await;
    let a = lever.add_stage("A");
    let b = lever.add_stage("B");
    let opp = lever
        .add_opportunity(OppSeed::new("x", "").stage(&a))
        .unwrap();
    let before = lever.opportunity(&opp).unwrap();
    lever.move_stage(&opp, &b).unwrap();
    let after = lever.opportunity(&opp).unwrap();
    assert_eq!(after.stage, b);
    assert_eq!(after.stage_changes.len(), 2);
    assert_eq!(after.stage_changes[1].to_stage_index, 1);
    assert!(after.last_advanced_at > before.last_advanced_at);
    assert_eq!(after.updated_at, Some(after.last_advanced_at));
    assert!(matches!(
        lever.move_stage(&opp, "nope"),
        Err(SimError::Unknown { kind: "stage", .. })
    ));
}

#[tokio::test]
async fn unknown_or_deleted_opportunities_are_404_and_deleted_ones_are_listed() {
    let lever = start().await;
    lever.add_stage("S");
    let keep = lever.add_opportunity(OppSeed::new("k", "")).unwrap();
    let gone = lever.add_opportunity(OppSeed::new("g", "")).unwrap();
    let (status, body) = get(&lever, "/opportunities/nope").await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "ResourceNotFound");

    let mark = lever.now();
    lever.delete_opportunity(&gone).unwrap();
    let (status, body) = get(&lever, &format!("/opportunities/{gone}")).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "ResourceNotFound");
    assert_eq!(
        ids(&all_pages(&lever, "/opportunities").await),
        BTreeSet::from([keep.clone()])
    );
    assert_eq!(
        post(
            &lever,
            &format!("/opportunities/{gone}/addTags"),
            json!({"tags": ["x"]})
        )
        .await
        .0,
        404
    );

    let deleted = all_pages(
        &lever,
        &format!("/opportunities/deleted?deleted_at_start={mark}"),
    )
    .await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["id"], gone.as_str());
    assert!(deleted[0]["deletedAt"].as_i64().unwrap() >= mark);
    assert!(deleted[0].get("deletedBy").is_some());
    let later = deleted[0]["deletedAt"].as_i64().unwrap() + 1;
    assert!(
        all_pages(
            &lever,
            &format!("/opportunities/deleted?deleted_at_start={later}")
        )
        .await
        .is_empty()
    );
}

// ---- writes -----------------------------------------------------------------------------

#[tokio::test]
async fn add_and_remove_tags_have_set_semantics_and_bump_updated_at_only_on_change() {
    let lever = start().await;
    lever.add_stage("S");
    let opp = lever
        .add_opportunity(OppSeed::new("x", "").tag("Keep"))
        .unwrap();
    let u0 = lever.opportunity(&opp).unwrap().updated_at;

    let (status, body) = post(
        &lever,
        &format!("/opportunities/{opp}/addTags"),
        json!({"tags": ["Willo:Invited", "Keep"]}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["id"],
        opp.as_str(),
        "answers {{data: <opportunity>}}"
    );
    assert_eq!(body["data"]["tags"], json!(["Keep", "Willo:Invited"]));
    let u1 = body["data"]["updatedAt"].as_i64();
    assert!(u1 > u0);

    let (_, body) = post(
        &lever,
        &format!("/opportunities/{opp}/addTags"),
        json!({"tags": ["Willo:Invited"]}),
    )
    .await;
    assert_eq!(
        body["data"]["tags"],
        json!(["Keep", "Willo:Invited"]),
        "no duplicate"
    );
    assert_eq!(body["data"]["updatedAt"].as_i64(), u1, "no change, no bump");

    let (_, body) = post(
        &lever,
        &format!("/opportunities/{opp}/removeTags"),
        json!({"tags": ["Absent"]}),
    )
    .await;
    assert_eq!(
        body["data"]["updatedAt"].as_i64(),
        u1,
        "removing an absent tag is a no-op"
    );

    let (status, body) = post(
        &lever,
        &format!("/opportunities/{opp}/removeTags"),
        json!({"tags": ["Willo:Invited"]}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["tags"], json!(["Keep"]));
    assert!(body["data"]["updatedAt"].as_i64() > u1);
}

#[tokio::test]
async fn tag_writes_validate_body_and_perform_as() {
    let lever = start().await;
    lever.add_stage("S");
    let user = lever.add_user(UserSeed {
        name: "Integration".into(),
        email: "int@example.com".into(),
        access_role: Some("admin".into()),
    });
    let opp = lever.add_opportunity(OppSeed::new("x", "")).unwrap();
    let path = format!("/opportunities/{opp}/addTags");
    for body in [json!({}), json!({"tags": "a"}), json!({"tags": [1]})] {
        let (status, err) = post(&lever, &path, body.clone()).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(err["code"], "BadRequestError");
    }
    assert_eq!(
        post(
            &lever,
            &format!("{path}?perform_as=nobody"),
            json!({"tags": ["a"]})
        )
        .await
        .0,
        400
    );
    assert_eq!(
        post(
            &lever,
            &format!("{path}?perform_as={user}"),
            json!({"tags": ["a"]})
        )
        .await
        .0,
        200
    );
    lever.deactivate_user(&user).unwrap();
    assert_eq!(
        post(
            &lever,
            &format!("{path}?perform_as={user}"),
            json!({"tags": ["b"]})
        )
        .await
        .0,
        400
    );
}

#[tokio::test]
async fn notes_are_created_with_201_and_a_note_id() {
    let lever = start().await;
    lever.add_stage("S");
    let opp = lever.add_opportunity(OppSeed::new("x", "")).unwrap();
    let u0 = lever.opportunity(&opp).unwrap().updated_at.unwrap();
    let (status, body) = post(
        &lever,
        &format!("/opportunities/{opp}/notes"),
        json!({"value": "Willo interview completed"}),
    )
    .await;
    assert_eq!(status, 201);
    let note_id = body["data"]["noteId"].as_str().unwrap().to_owned();
    let notes = lever.notes(&opp);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].id, note_id);
    assert_eq!(notes[0].value, "Willo interview completed");
    assert!(
        lever.opportunity(&opp).unwrap().updated_at.unwrap() > u0,
        "notes count as interaction"
    );
    let listed = all_pages(&lever, &format!("/opportunities/{opp}/notes")).await;
    assert_eq!(listed[0]["id"], note_id.as_str());
    assert_eq!(listed[0]["fields"][0]["value"], "Willo interview completed");
    assert_eq!(
        post(&lever, &format!("/opportunities/{opp}/notes"), json!({}))
            .await
            .0,
        400
    );
    assert_eq!(
        post(&lever, "/opportunities/nope/notes", json!({"value": "x"}))
            .await
            .0,
        404
    );
}

// ---- reference data ---------------------------------------------------------------------

#[tokio::test]
async fn tags_are_derived_from_current_opportunities_with_counts() {
    let lever = start().await;
    lever.add_stage("S");
    let a = lever
        .add_opportunity(OppSeed::new("a", "").tag("Willo:Invited").tag("x"))
        .unwrap();
    lever
        .add_opportunity(OppSeed::new("b", "").tag("Willo:Invited"))
        .unwrap();
    let tags = all_pages(&lever, "/tags").await;
    assert_eq!(
        tags,
        vec![
            json!({"text": "Willo:Invited", "count": 2}),
            json!({"text": "x", "count": 1})
        ]
    );
    lever.delete_opportunity(&a).unwrap();
    let tags = all_pages(&lever, "/tags").await;
    assert_eq!(tags, vec![json!({"text": "Willo:Invited", "count": 1})]);
}

#[tokio::test]
async fn postings_users_and_stages_are_listed_with_their_filters() {
    let lever = start().await;
    let s = lever.add_stage("Video Interview");
    let (_, one) = get(&lever, &format!("/stages/{s}")).await;
    assert_eq!(one["data"], json!({"id": s, "text": "Video Interview"}));

    let tagged = lever
        .add_posting(PostingSeed::new("PM").tag("Willo:PM-Acme"))
        .unwrap();
    let closed = lever
        .add_posting(PostingSeed::new("Old").tag("Willo:PM-Acme").state("closed"))
        .unwrap();
    lever.add_posting(PostingSeed::new("Other")).unwrap();
    let q = |query: &str| {
        let lever = lever.clone();
        let query = query.to_owned();
        async move { ids(&all_pages(&lever, &format!("/postings?{query}")).await) }
    };
    assert_eq!(
        q("tag=Willo%3APM-Acme").await,
        BTreeSet::from([tagged.clone(), closed.clone()])
    );
    assert_eq!(
        q("tag=Willo%3APM-Acme&state=published").await,
        BTreeSet::from([tagged.clone()])
    );
    assert_eq!(q("state=published&state=closed").await.len(), 3);
    let (_, p) = get(&lever, &format!("/postings/{tagged}")).await;
    assert_eq!(p["data"]["tags"], json!(["Willo:PM-Acme"]));
    assert_eq!(p["data"]["text"], "PM");
    assert_eq!(
        get(&lever, "/postings?updated_at_start=1&state=published")
            .await
            .0,
        400
    );

    let active = lever.add_user(UserSeed {
        name: "A".into(),
        email: "a@example.com".into(),
        access_role: None,
    });
    let gone = lever.add_user(UserSeed {
        name: "B".into(),
        email: "b@example.com".into(),
        access_role: None,
    });
    lever.deactivate_user(&gone).unwrap();
    assert_eq!(
        ids(&all_pages(&lever, "/users").await),
        BTreeSet::from([active.clone()])
    );
    assert_eq!(
        all_pages(&lever, "/users?includeDeactivated=true")
            .await
            .len(),
        2
    );
    let users = all_pages(&lever, "/users").await;
    assert_eq!(users[0]["accessRole"], "super admin");
    assert!(users[0].get("deactivatedAt").is_some());
}

#[tokio::test]
async fn opportunities_inherit_posting_tags_at_creation_without_backfill() {
    let lever = start().await;
    lever.add_stage("S");
    let posting = lever
        .add_posting(PostingSeed::new("PM").tag("Willo:PM-Acme"))
        .unwrap();
    let early = lever
        .add_opportunity(OppSeed::new("early", "").posting(&posting).tag("own"))
        .unwrap();
    assert_eq!(lever.tags_of(&early), ["Willo:PM-Acme", "own"]);

    let bare = lever.add_posting(PostingSeed::new("Bare")).unwrap();
    let before = lever
        .add_opportunity(OppSeed::new("before", "").posting(&bare))
        .unwrap();
    lever.tag_posting(&bare, &["Willo:Bare-Acme"]).unwrap();
    let after = lever
        .add_opportunity(OppSeed::new("after", "").posting(&bare))
        .unwrap();
    assert!(lever.tags_of(&before).is_empty(), "no back-fill");
    assert_eq!(lever.tags_of(&after), ["Willo:Bare-Acme"]);
    let (_, page) = get(
        &lever,
        &format!("/opportunities?posting_id={bare}&expand=applications"),
    )
    .await;
    assert_eq!(
        page["data"].as_array().unwrap().len(),
        2,
        "both are on the posting"
    );
}

// ---- rate limit -------------------------------------------------------------------------

#[tokio::test]
async fn rate_limit_is_a_token_bucket_per_credential_answering_429_without_retry_after() {
    let lever = start().await;
    lever.add_api_key("other");
    lever.set_rate_limit(Some(RateLimit::per_period(Duration::from_secs(3600), 3)));
    for _ in 0..3 {
        assert_eq!(get(&lever, "/stages").await.0, 200);
    }
    let r = client()
        .get(format!("{}/stages", lever.base_url()))
        .basic_auth(KEY, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(
        r.headers().get("retry-after").is_none(),
        "Lever documents no Retry-After"
    );
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "TooManyRequests");
    let other = client()
        .get(format!("{}/stages", lever.base_url()))
        .basic_auth("other", Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200, "buckets are per credential");

    lever.set_retry_after(Some(7));
    let r = client()
        .get(format!("{}/stages", lever.base_url()))
        .basic_auth(KEY, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(lever.accounting().count_status("GET", "/v1/stages", 429), 2);
}

#[tokio::test]
async fn default_config_follows_the_documented_limits() {
    let c = LeverSimConfig::default();
    assert_eq!(c.rate_limit, Some(RateLimit::per_second(10, 20)));
    assert_eq!(c.retry_after, None);
    assert_eq!(c.oauth_expires_in, 3600);
    assert_eq!(c.webhook_retry.max_retries, 5);
}

#[tokio::test]
async fn default_rate_limit_allows_a_burst_of_20() {
    let lever = LeverSim::start(LeverSimConfig::default()).await.unwrap();
    lever.add_api_key(KEY);
    // A full bucket holds 20 tokens; refills only add more, so this cannot depend on timing.
    for i in 0..20 {
        assert_eq!(get(&lever, "/stages").await.0, 200, "request {i}");
    }
    within(lever.shutdown()).await;
}

// ---- OAuth ------------------------------------------------------------------------------

const CALLBACK: &str = "http://127.0.0.1:9/callback";

fn authorize_url(lever: &LeverSim, client_id: &str, redirect: &str, scope: &str) -> String {
    let mut url = url::Url::parse(&lever.oauth_authorize_url()).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect)
        .append_pair("response_type", "code")
        .append_pair("state", "xyz-state")
        .append_pair("audience", &lever.audience())
        .append_pair("scope", scope)
        .append_pair("prompt", "consent");
    url.into()
}

/// Runs `/authorize` and returns the Location's query pairs.
async fn consent(lever: &LeverSim, scope: &str) -> std::collections::HashMap<String, String> {
    let r = client()
        .get(authorize_url(lever, "app", CALLBACK, scope))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(CALLBACK));
    location.query_pairs().into_owned().collect()
}

async fn token_call(lever: &LeverSim, form: &[(&str, &str)]) -> (u16, Value) {
    let r = client()
        .post(lever.oauth_token_url())
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

async fn bearer_get(lever: &LeverSim, token: &str) -> u16 {
    client()
        .get(format!("{}/stages", lever.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn authorization_code_flow_issues_bearer_tokens() {
    let lever = start().await;
    lever.add_oauth_client("app", "secret", CALLBACK);
    let back = consent(&lever, "offline_access opportunities:write:admin").await;
    assert_eq!(back["state"], "xyz-state", "state is echoed");
    let code = back["code"].clone();

    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", "app"),
        ("client_secret", "secret"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
    ];
    let (status, tokens) = token_call(&lever, &form).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], "offline_access opportunities:write:admin");
    assert!(tokens["refresh_token"].as_str().unwrap().starts_with("v1."));
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(access.split('.').count(), 3, "JWT-shaped");
    assert_eq!(bearer_get(&lever, access).await, 200);

    let (status, err) = token_call(&lever, &form).await;
    assert_eq!(status, 400, "codes are single-use");
    assert_eq!(err["error"], "invalid_grant");
    let requests = lever.requests();
    let rec = requests
        .iter()
        .rev()
        .find(|r| r.route == "/v1/stages")
        .unwrap();
    assert_eq!(
        rec.credential.as_deref(),
        Some(access),
        "accounting records the credential"
    );
}

#[tokio::test]
async fn authorize_checks_the_client_and_callback_and_can_be_denied() {
    let lever = start().await;
    lever.add_oauth_client("app", "secret", CALLBACK);
    for url in [
        authorize_url(&lever, "stranger", CALLBACK, "offline_access"),
        authorize_url(
            &lever,
            "app",
            "http://127.0.0.1:9/elsewhere",
            "offline_access",
        ),
    ] {
        let r = client().get(url).send().await.unwrap();
        assert_eq!(
            r.status(),
            400,
            "never redirect to an unregistered callback"
        );
    }
    lever.deny_consent(true);
    let back = consent(&lever, "offline_access").await;
    assert_eq!(back["error"], "access_denied");
    assert_eq!(back["state"], "xyz-state");
    assert!(!back.contains_key("code"));

    let (status, err) = token_call(
        &lever,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "app"),
            ("client_secret", "wrong"),
            ("code", "x"),
            ("redirect_uri", CALLBACK),
        ],
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(err["error"], "invalid_client");
}

#[tokio::test]
async fn every_refresh_rotates_the_refresh_token_and_the_old_one_dies() {
    let lever = start().await;
    lever.add_oauth_client("app", "secret", CALLBACK);
    let first = lever.issue_oauth_tokens("app", "offline_access stages:read:admin");
    let r1 = first.refresh_token.clone().unwrap();
    let refresh = |rt: String| {
        let lever = lever.clone();
        async move {
            token_call(
                &lever,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", "app"),
                    ("client_secret", "secret"),
                    ("refresh_token", rt.as_str()),
                ],
            )
            .await
        }
    };
    let (status, second) = refresh(r1.clone()).await;
    assert_eq!(status, 200);
    let r2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r2, r1, "a NEW refresh token on every refresh");
    assert_ne!(second["access_token"].as_str().unwrap(), first.access_token);
    assert_eq!(
        bearer_get(&lever, second["access_token"].as_str().unwrap()).await,
        200
    );

    let (status, err) = refresh(r1).await;
    assert_eq!(status, 400);
    assert_eq!(
        err["error"], "invalid_grant",
        "the old refresh token is rejected"
    );
    let (status, _) = refresh(r2).await;
    assert_eq!(status, 200, "the new one works once");
}

#[tokio::test]
async fn access_tokens_expire_by_the_simulated_clock_or_on_demand() {
    let lever = start().await;
    lever.add_oauth_client("app", "secret", CALLBACK);
    lever.set_oauth_expires_in(60);
    let t = lever.issue_oauth_tokens("app", "offline_access");
    assert_eq!(t.expires_in, 60);
    assert_eq!(bearer_get(&lever, &t.access_token).await, 200);
    lever.advance_clock(59_000);
    assert_eq!(bearer_get(&lever, &t.access_token).await, 200);
    lever.advance_clock(1_000);
    assert_eq!(
        bearer_get(&lever, &t.access_token).await,
        401,
        "expired at exactly expires_in"
    );

    let t2 = lever.issue_oauth_tokens("app", "offline_access");
    lever.expire_access_tokens();
    assert_eq!(bearer_get(&lever, &t2.access_token).await, 401);
    let (status, _) = token_call(
        &lever,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "app"),
            ("client_secret", "secret"),
            ("refresh_token", t2.refresh_token.as_deref().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 200, "refresh still works after access expiry");
}

#[tokio::test]
async fn no_refresh_token_without_offline_access_and_revoked_grants_die() {
    let lever = start().await;
    lever.add_oauth_client("app", "secret", CALLBACK);
    let t = lever.issue_oauth_tokens("app", "stages:read:admin");
    assert_eq!(t.refresh_token, None);
    let t = lever.issue_oauth_tokens("app", "offline_access");
    lever.revoke_oauth_grants();
    assert_eq!(bearer_get(&lever, &t.access_token).await, 401);
    let (status, err) = token_call(
        &lever,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "app"),
            ("client_secret", "secret"),
            ("refresh_token", t.refresh_token.as_deref().unwrap()),
        ],
    )
    .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let fresh = consent(&lever, "offline_access").await;
    assert!(
        fresh.contains_key("code"),
        "a new consent still works after revoking grants"
    );
}

// ---- webhooks ---------------------------------------------------------------------------

use sim_support::Receiver;
use willo_lever_sync::sim::{DeliveryOutcome, DropRule};

fn hmac_hex(key: &str, msg: &str) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(msg.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn a_stage_move_posts_a_signed_candidate_stage_change() {
    let lever = start().await;
    let rx = Receiver::start(&[]).await;
    let from = lever.add_stage("New applicant");
    let to = lever.add_stage("Video Interview");
    let opp = lever
        .add_opportunity(OppSeed::new("x", "x@example.com").stage(&from))
        .unwrap();
    lever.register_webhook(&format!("{}/acme", rx.url()), "sig-token-123");
    lever.move_stage(&opp, &to).unwrap();
    within(lever.webhooks_settled()).await;

    let hits = rx.hits();
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert_eq!(hit.path, "/hook/acme");
    assert_eq!(hit.headers["user-agent"], "Lever-Webhooks");
    assert_eq!(hit.headers["content-type"], "application/json");
    let body = hit.json();
    let keys: BTreeSet<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["triggeredAt", "event", "data", "token", "signature"])
    );
    assert_eq!(body["event"], "candidateStageChange");
    let o = lever.opportunity(&opp).unwrap();
    assert_eq!(
        body["data"],
        json!({"opportunityId": opp, "candidateId": opp, "contactId": o.contact, "fromStageId": from, "toStageId": to})
    );
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 48);
    let triggered = body["triggeredAt"].as_i64().unwrap();
    assert_eq!(triggered, o.last_advanced_at);
    assert_eq!(
        body["signature"].as_str().unwrap(),
        hmac_hex("sig-token-123", &format!("{token}{triggered}")),
        "hex HMAC-SHA256 over token + triggeredAt, keyed by the signature token"
    );
    let d = &lever.webhook_deliveries()[0];
    assert_eq!(d.outcome, DeliveryOutcome::Delivered);
    assert_eq!(d.attempts.len(), 1);
    assert_eq!(d.attempts[0].status, Some(200));
    assert_eq!(d.subject, opp);
}

#[tokio::test]
async fn deliveries_retry_five_times_on_non_2xx_including_3xx_without_following() {
    let lever = start().await;
    let rx = Receiver::start(&[302, 302, 302, 302, 302, 302]).await;
    let a = lever.add_stage("A");
    let b = lever.add_stage("B");
    let opp = lever
        .add_opportunity(OppSeed::new("x", "").stage(&a))
        .unwrap();
    lever.register_webhook(&rx.url(), "k");
    lever.move_stage(&opp, &b).unwrap();
    within(lever.webhooks_settled()).await;
    let d = &lever.webhook_deliveries()[0];
    assert_eq!(d.attempts.len(), 6, "one attempt plus five retries");
    assert!(d.attempts.iter().all(|a| a.status == Some(302)));
    assert_eq!(d.outcome, DeliveryOutcome::Failed);
    assert_eq!(rx.followed(), 0, "redirects are not followed");
    let bodies: BTreeSet<String> = rx
        .hits()
        .iter()
        .map(|h| String::from_utf8(h.body.to_vec()).unwrap())
        .collect();
    assert_eq!(bodies.len(), 1, "every retry carries the same body");
}

#[tokio::test]
async fn a_retry_that_succeeds_ends_the_delivery() {
    let lever = start().await;
    let rx = Receiver::start(&[500, 503]).await;
    let a = lever.add_stage("A");
    let b = lever.add_stage("B");
    let opp = lever
        .add_opportunity(OppSeed::new("x", "").stage(&a))
        .unwrap();
    lever.register_webhook(&rx.url(), "k");
    lever.move_stage(&opp, &b).unwrap();
    within(lever.webhooks_settled()).await;
    let d = &lever.webhook_deliveries()[0];
    let statuses: Vec<Option<u16>> = d.attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(500), Some(503), Some(200)]);
    assert_eq!(d.outcome, DeliveryOutcome::Delivered);
    assert_eq!(rx.hits().len(), 3);
}

#[tokio::test]
async fn drop_rules_lose_chosen_deliveries() {
    let lever = start().await;
    let rx = Receiver::start(&[]).await;
    let a = lever.add_stage("A");
    let b = lever.add_stage("B");
    let opps: Vec<String> = (0..4)
        .map(|i| {
            lever
                .add_opportunity(OppSeed::new(&format!("o{i}"), "").stage(&a))
                .unwrap()
        })
        .collect();
    lever.register_webhook(&rx.url(), "k");
    let flip = |o: &String| {
        let to = if lever.opportunity(o).unwrap().stage == a {
            &b
        } else {
            &a
        };
        lever.move_stage(o, to).unwrap();
    };

    lever.drop_webhooks(DropRule::All);
    flip(&opps[0]);
    lever.drop_webhooks(DropRule::NextN(1));
    flip(&opps[1]);
    flip(&opps[2]);
    lever.drop_webhooks(DropRule::Subject(opps[3].clone()));
    flip(&opps[3]);
    flip(&opps[0]);
    within(lever.webhooks_settled()).await;
    let outcomes: Vec<(String, DeliveryOutcome)> = lever
        .webhook_deliveries()
        .into_iter()
        .map(|d| (d.subject, d.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            (opps[0].clone(), DeliveryOutcome::Dropped),
            (opps[1].clone(), DeliveryOutcome::Dropped),
            (opps[2].clone(), DeliveryOutcome::Delivered),
            (opps[3].clone(), DeliveryOutcome::Dropped),
            (opps[0].clone(), DeliveryOutcome::Delivered),
        ]
    );
    assert_eq!(rx.hits().len(), 2, "dropped deliveries are never attempted");
    for d in lever
        .webhook_deliveries()
        .iter()
        .filter(|d| d.outcome == DeliveryOutcome::Dropped)
    {
        assert!(d.attempts.is_empty());
    }

    // A seeded share replays identically.
    let run = |seed: u64| {
        let lever = lever.clone();
        let opps = opps.clone();
        let (a, b) = (a.clone(), b.clone());
        async move {
            lever.drop_webhooks(DropRule::Share { share: 0.5, seed });
            let start = lever.webhook_deliveries().len();
            for i in 0..20 {
                let o = &opps[i % 4];
                let to = if lever.opportunity(o).unwrap().stage == a {
                    &b
                } else {
                    &a
                };
                lever.move_stage(o, to).unwrap();
            }
            lever.webhook_deliveries()[start..]
                .iter()
                .map(|d| d.outcome == DeliveryOutcome::Dropped)
                .collect::<Vec<bool>>()
        }
    };
    let first = run(7).await;
    let again = run(7).await;
    assert_eq!(first, again);
    assert!(first.contains(&true) && first.contains(&false), "{first:?}");
    within(lever.webhooks_settled()).await;
}
