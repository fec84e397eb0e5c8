//! Each `doctor` check's verdict under the simulator's default and its alternatives: ok,
//! problem and unknown, with the fix named.

use crate::doctor_process::{doctor, healthy};
use crate::support::{self, LEVER_KEY, World};

use willo_lever_sync::sim::lever::{CheckOrder, ConfidentialDenial, Endpoint, OppSeed, UserSeed};
use willo_lever_sync::sim::willo::{PageLinks, ParticipantSeed, StateForm, stage_key};

/// Every endpoint but `without`.
fn all_but(without: Endpoint) -> Vec<Endpoint> {
    Endpoint::ALL
        .into_iter()
        .filter(|e| *e != without)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_endpoint_permission_is_a_problem_naming_what_to_grant() {
    let w = healthy().await;
    w.lever
        .restrict_api_key(LEVER_KEY, &all_but(Endpoint::Postings));
    let d = doctor(&w).await;
    assert_eq!(d.code, 1, "{}", d.stdout);
    assert_eq!(
        d.verdict("lever.credentials"),
        "ok",
        "a 403 is not a rejected key"
    );
    assert_eq!(d.verdict("lever.permission.postings"), "problem");
    assert!(
        d.fix("lever.permission.postings")
            .contains("\"Postings: read\"")
    );
    assert!(
        d.fix("lever.permission.postings")
            .contains("postings:read:admin")
    );
    assert_eq!(d.verdict("lever.permission.opportunities"), "ok");
}

/// (check order, key may write tags, an opportunity exists) → the verdict it must give.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_write_permission_is_judged_without_writing_under_both_check_orders() {
    use CheckOrder::{LookupFirst, PermissionFirst};
    let cases = [
        (PermissionFirst, true, true, "ok"),
        (PermissionFirst, false, true, "problem"),
        (LookupFirst, true, true, "ok"),
        (LookupFirst, false, true, "problem"),
        (PermissionFirst, false, false, "problem"),
        // 404 on an unknown id: proof only if the permission comes first, which is unknown.
        (PermissionFirst, true, false, "unknown"),
        (LookupFirst, true, false, "unknown"),
        (LookupFirst, false, false, "unknown"),
    ];
    for (order, may_write, has_opportunity, expected) in cases {
        let mut w = World::new().await;
        if has_opportunity {
            w.lever
                .add_opportunity(OppSeed::new("Someone", "someone@example.com"))
                .unwrap();
        }
        w.lever.set_write_check_order(order);
        if !may_write {
            w.lever
                .restrict_api_key(LEVER_KEY, &all_but(Endpoint::TagWrites));
        }
        w.log_level = "error".into();
        let marks = w.marks();
        let d = doctor(&w).await;
        let case = format!("{order:?}, may write {may_write}, opportunity {has_opportunity}");
        assert_eq!(
            d.verdict("lever.permission.tag_writes"),
            expected,
            "{case}: {}",
            d.stdout
        );
        if expected == "problem" {
            assert!(
                d.fix("lever.permission.tag_writes")
                    .contains("Opportunities: write"),
                "{case}"
            );
        }
        let writes = w.lever.accounting().writes_since(marks.0);
        assert!(
            writes.iter().all(|r| r.status >= 400),
            "{case}: a write succeeded"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confidential_access_is_ok_a_problem_or_unknown_as_the_account_answers() {
    let mut w = healthy().await;
    w.lever_extra.push_str("\ninclude_confidential = true");
    w.lever
        .add_opportunity(OppSeed::new("Secret", "secret@example.com").confidential())
        .unwrap();
    w.lever
        .add_posting(willo_lever_sync::sim::lever::PostingSeed::new("CEO").confidential())
        .unwrap();
    let d = doctor(&w).await;
    assert_eq!(
        d.verdict("lever.confidential.opportunities"),
        "ok",
        "{}",
        d.stdout
    );
    assert_eq!(d.verdict("lever.confidential.postings"), "ok");

    w.lever.set_confidential_access(LEVER_KEY, false);
    let d = doctor(&w).await;
    assert_eq!(
        d.verdict("lever.confidential.opportunities"),
        "problem",
        "{}",
        d.stdout
    );
    assert!(
        d.fix("lever.confidential.opportunities")
            .contains("confidential:access:admin")
    );

    // Lever may leave the rows out without saying so: then nothing can be told.
    w.lever.set_confidential_denial(ConfidentialDenial::Omit);
    let d = doctor(&w).await;
    assert_eq!(
        d.verdict("lever.confidential.opportunities"),
        "unknown",
        "{}",
        d.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_perform_as_user_must_exist_and_be_active() {
    let mut w = healthy().await;
    let user = w.lever.add_user(UserSeed {
        name: "Integration".into(),
        email: "integration@example.com".into(),
        access_role: None,
    });
    w.lever_extra
        .push_str(&format!("\nperform_as = \"{user}\""));
    assert_eq!(doctor(&w).await.verdict("lever.perform_as"), "ok");
    w.lever.deactivate_user(&user).unwrap();
    let d = doctor(&w).await;
    assert_eq!(d.verdict("lever.perform_as"), "problem");
    assert!(d.found("lever.perform_as").contains("deactivated"));
    assert!(!d.stdout.contains("integration@example.com"));
    w.lever_extra = w.lever_extra.replace(&user, "no-such-user");
    let d = doctor(&w).await;
    assert_eq!(d.verdict("lever.perform_as"), "problem");
    assert!(d.found("lever.perform_as").contains("no user"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_placeholder_that_does_not_exist_is_a_problem() {
    let mut w = healthy().await;
    w.tenant_extra = "catalog_opportunity_id = \"no-such-opportunity\"".into();
    let d = doctor(&w).await;
    assert_eq!(
        d.verdict("lever.catalog_opportunity"),
        "problem",
        "{}",
        d.stdout
    );
    assert_eq!(d.code, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_links_through_a_proxy_are_reported_and_another_host_is_a_problem() {
    let w = healthy().await;
    let interview = w.willo.interviews()[0].key.clone();
    for i in 0..31 {
        w.willo
            .add_participant(ParticipantSeed::new(
                &interview,
                "P",
                &format!("p{i}@example.com"),
            ))
            .unwrap();
    }
    let d = doctor(&w).await;
    assert!(
        d.found("willo.next_links").starts_with("every next link"),
        "{}",
        d.stdout
    );

    w.willo.set_page_links(PageLinks::Proxied {
        scheme: "https".into(),
        port: 8443,
    });
    let d = doctor(&w).await;
    assert_eq!(d.verdict("willo.next_links"), "ok", "{}", d.stdout);
    assert!(
        d.found("willo.next_links")
            .contains("another scheme or port")
    );

    w.willo
        .set_page_links(PageLinks::Host("https://willo.elsewhere.example".into()));
    let d = doctor(&w).await;
    assert_eq!(d.code, 69, "{}", d.stdout);
    let found = d.found("willo.participants");
    assert!(
        found.contains("willo.elsewhere.example") && found.contains("127.0.0.1"),
        "{found}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ignored_participant_filter_is_reported() {
    let w = healthy().await;
    w.willo.ignore_interview_filter(true);
    let d = doctor(&w).await;
    assert_eq!(d.verdict("willo.participant_filter"), "ok");
    assert!(
        d.found("willo.participant_filter").starts_with("ignored"),
        "{}",
        d.stdout
    );
    let w = support::World::new().await;
    let d = doctor(&w).await;
    assert_eq!(
        d.verdict("willo.participant_filter"),
        "unknown",
        "no participants yet"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participant_states_show_their_tags_and_flag_unmapped_values_and_keys() {
    let mut w = healthy().await;
    let interview = w.willo.interviews()[0].key.clone();
    let fresh = w
        .willo
        .add_participant(ParticipantSeed::new(&interview, "N", "n@example.com").state("New"))
        .unwrap();
    let d = doctor(&w).await;
    assert_eq!(
        d.verdict("willo.participant_states"),
        "problem",
        "{}",
        d.stdout
    );
    let found = d.found("willo.participant_states");
    assert!(
        found.contains("\"New\" (at stage.name, 1 rows) -> UNMAPPED"),
        "{found}"
    );
    assert!(
        found.contains("\"Accepted\" (at stage.name, 2 rows) -> Willo:Accepted"),
        "{found}"
    );
    assert!(d.fix("willo.participant_states").contains("status_map"));

    w.willo.set_state_form(&fresh, StateForm::StageKey).unwrap();
    let d = doctor(&w).await;
    let key = stage_key("New");
    assert!(
        d.found("willo.participant_states").contains(&key),
        "{}",
        d.stdout
    );
    assert!(
        d.found("willo.participant_states")
            .contains("a key rather than a name")
    );
    assert!(d.fix("willo.participant_states").contains("state_fields"));

    w.willo_extra.push_str(&format!(
        "\n[tenants.willo.status_map]\n\"{key}\" = \"Willo:To Review\""
    ));
    let d = doctor(&w).await;
    assert_eq!(d.verdict("willo.participant_states"), "ok", "{}", d.stdout);
    assert!(
        d.found("willo.participant_states")
            .contains("-> Willo:To Review")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_participant_shape_lists_paths_and_types_and_state_fields_change_what_is_read() {
    let mut w = healthy().await;
    w.willo.set_default_state_form(StateForm::CurrentStageName);
    let d = doctor(&w).await;
    let shape = d.found("willo.participant_shape");
    assert!(shape.contains("current_stage.name: string"), "{shape}");
    assert!(shape.contains("email: string"), "{shape}");
    assert_eq!(
        d.verdict("willo.participant_states"),
        "unknown",
        "{}",
        d.stdout
    );
    assert!(
        d.found("willo.participant_states")
            .contains("-> Willo:Invited")
    );

    w.willo_extra
        .push_str("\nstate_fields = [\"current_stage.name\"]");
    let d = doctor(&w).await;
    assert_eq!(d.verdict("willo.participant_states"), "ok", "{}", d.stdout);
    assert!(
        d.found("willo.participant_states")
            .contains("(at current_stage.name")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interviews_in_scope_are_counted_and_missing_webhook_tokens_are_problems() {
    let mut w = healthy().await;
    w.willo_extra
        .push_str("\n[tenants.willo.interview_scope]\ntitle_patterns = [\"writ*\"]");
    let d = doctor(&w).await;
    assert_eq!(
        d.found("willo.interviews"),
        "2 interviews listed, 1 in interview_scope"
    );
    w.lever_extra.clear();
    w.willo_extra.clear();
    let d = doctor(&w).await;
    assert_eq!(d.verdict("lever.webhook_token"), "problem");
    assert_eq!(d.verdict("willo.webhook_token"), "problem");
    assert_eq!(d.code, 1);
}
