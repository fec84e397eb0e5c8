//! Issue 10 ("field readiness") in the pass, against the simulators' variants: a 403 is a
//! permission (skip the object, or leave the part out and name it; never a disconnect), the
//! interview scope, the catalog's cap, an ignored participant filter and states given as keys.

use willo_lever_sync::domain::{PassKind, PassResult};
use willo_lever_sync::exit::ExitStatus;
use willo_lever_sync::sim::lever::{Endpoint, OppSeed};
use willo_lever_sync::sim::willo::{
    InterviewSeed, NonAdminListing, ParticipantSeed, StateForm, stage_key,
};

use crate::support::{LEVER_KEY, WILLO_KEY, World};

const INVITED: &str = "Willo:Invited";

/// Every Lever endpoint but `without`.
fn all_but(without: Endpoint) -> Vec<Endpoint> {
    Endpoint::ALL
        .iter()
        .copied()
        .filter(|e| *e != without)
        .collect()
}

fn connected(w: &World) -> bool {
    w.store()
        .read(|r| r.tenant("acme"))
        .unwrap()
        .is_none_or(|t| t.connected)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue10_a_403_on_one_opportunity_skips_it_needs_attention_and_the_pass_goes_on() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Curator");
    let old = w.candidate("Olga", "olga@example.com", &posting);
    w.full().await;
    // Olga leaves the trigger stage and her status tag is removed by hand: only a read by id
    // finds her now. Then the key loses "read one opportunity".
    w.lever.move_stage(&old, &w.other).unwrap();
    w.lever.remove_tags_by_hand(&old, &[INVITED]).unwrap();
    w.lever
        .restrict_api_key(LEVER_KEY, &all_but(Endpoint::OpportunityRead));
    let new = w.candidate("Nils", "nils@example.com", &posting);
    let out = w.try_pass(PassKind::Full).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(
        w.status_tags(&new),
        [INVITED],
        "the rest of the pass went on"
    );
    assert_eq!(w.willo.participants(&interview).len(), 2);
    let attention = w.store().read(|r| r.attention("acme")).unwrap();
    assert!(
        attention
            .iter()
            .any(|a| a.opportunity_id == old && a.reason == "no_access"),
        "{attention:?}"
    );
    assert!(connected(&w), "a 403 disconnected the tenant");
    // Readable again: the item goes.
    w.lever.restrict_api_key(LEVER_KEY, &Endpoint::ALL);
    w.full().await;
    let attention = w.store().read(|r| r.attention("acme")).unwrap();
    assert!(
        !attention.iter().any(|a| a.reason == "no_access"),
        "{attention:?}"
    );
    assert_eq!(w.status_tags(&old), [INVITED]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue10_forbidden_postings_leave_posting_tags_out_and_say_what_to_grant() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Cartographer");
    // One candidate carries the interview tag herself, one only through the posting.
    let own = w
        .lever
        .add_opportunity(
            OppSeed::new("Tess", "tess@example.com")
                .stage(&w.trigger)
                .tag(&World::tag_of("Cartographer")),
        )
        .unwrap();
    let through_posting = w.candidate("Pia", "pia@example.com", &posting);
    // The key can do everything but list postings.
    w.lever.set_tags(&through_posting, &[]).unwrap();
    w.lever
        .restrict_api_key(LEVER_KEY, &all_but(Endpoint::Postings));
    let out = w.try_pass(PassKind::Full).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.result, PassResult::Partial, "{}", out.summary);
    assert_eq!(out.exit_status(), ExitStatus::ActionsFailed);
    assert_eq!(
        w.status_tags(&own),
        [INVITED],
        "what could be done was done"
    );
    assert!(w.status_tags(&through_posting).is_empty());
    assert_eq!(w.willo.participants(&interview).len(), 1);
    let gap = &out.summary.missing[0];
    assert!(gap.refused.contains("/postings"), "{gap:?}");
    assert!(
        gap.grant.as_deref().is_some_and(|g| g.contains("Postings")),
        "{gap:?}"
    );
    let text = out.summary.to_string();
    assert!(text.contains("missing permission"), "{text}");
    assert!(connected(&w));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue10_forbidden_stages_use_the_stored_resolution_or_stop_the_pass_with_77() {
    let w = World::new().await;
    let (_, posting) = w.interview_with_posting("Glazier");
    w.lever
        .restrict_api_key(LEVER_KEY, &all_but(Endpoint::Stages));
    // Never resolved: the pass cannot tell which stages trigger invites.
    let out = w.try_pass(PassKind::Full).await;
    assert_eq!(out.result, PassResult::Failed, "{}", out.summary);
    assert_eq!(out.exit_status(), ExitStatus::Credentials);
    assert!(connected(&w), "a 403 disconnected the tenant");
    // Resolved once, then refused: the remembered ids serve and the gap is named.
    w.lever.restrict_api_key(LEVER_KEY, &Endpoint::ALL);
    w.full().await;
    w.lever
        .restrict_api_key(LEVER_KEY, &all_but(Endpoint::Stages));
    let opp = w.candidate("Gil", "gil@example.com", &posting);
    let out = w.try_pass(PassKind::Full).await;
    assert_eq!(out.result, PassResult::Partial, "{}", out.summary);
    assert_eq!(w.status_tags(&opp), [INVITED]);
    assert!(out.summary.missing[0].refused.contains("/stages"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue10_forbidden_deleted_opportunities_keep_their_cursor() {
    let w = World::new().await;
    w.interview_with_posting("Falconer");
    w.lever
        .restrict_api_key(LEVER_KEY, &all_but(Endpoint::DeletedOpportunities));
    let out = w.try_pass(PassKind::Full).await;
    assert_eq!(out.result, PassResult::Partial, "{}", out.summary);
    let cursor = w
        .store()
        .read(|r| r.cursor("acme", "opportunities.deleted_at"))
        .unwrap();
    assert_eq!(
        cursor, None,
        "the deleted-opportunities cursor moved past what it never read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue10_a_willo_403_for_a_non_admin_key_stops_the_pass_without_disconnecting() {
    let w = World::new().await;
    w.interview_with_posting("Herbalist");
    w.willo.set_key_admin(WILLO_KEY, false);
    w.willo.set_non_admin_listing(NonAdminListing::Forbidden);
    let out = w.try_pass(PassKind::Full).await;
    assert_eq!(
        out.exit_status(),
        ExitStatus::Credentials,
        "{}",
        out.summary
    );
    let error = out.summary.error.clone().unwrap_or_default();
    assert!(error.contains("Admin"), "{error}");
    assert!(connected(&w));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue10_an_out_of_scope_interview_with_the_same_title_never_blocks_the_in_scope_one() {
    let mut w = World::new().await;
    let ours = w.willo.add_department("Acme Retail");
    let theirs = w.willo.add_department("Acme Wholesale");
    let in_scope = w
        .willo
        .add_interview_with(InterviewSeed::new("Sales").department(&ours))
        .unwrap();
    w.willo
        .add_interview_with(InterviewSeed::new("Sales").department(&theirs))
        .unwrap();
    let opp = w
        .lever
        .add_opportunity(
            OppSeed::new("Sal", "sal@example.com")
                .stage(&w.trigger)
                .tag(&World::tag_of("Sales")),
        )
        .unwrap();
    // Without a scope both interviews claim the tag: it connects to neither.
    let out = w.full().await;
    assert_eq!(out.summary.applied.invites_sent, 0, "{}", out.summary);
    w.willo_extra = format!("[tenants.willo.interview_scope]\ndepartments = [\"{ours}\"]");
    w.full().await;
    assert_eq!(w.willo.participants(&in_scope).len(), 1);
    assert_eq!(w.status_tags(&opp), [INVITED]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue10_a_catalog_over_its_cap_is_left_alone_with_a_warning() {
    let mut w = World::new().await;
    w.interview_with_posting("Archivist");
    w.interview_with_posting("Bookbinder");
    let catalog = w
        .lever
        .add_opportunity(OppSeed::new("Willo tag catalog", ""))
        .unwrap();
    w.tenant_extra = format!("catalog_opportunity_id = \"{catalog}\"\ncatalog_max_tags = 5");
    let out = w.full().await;
    assert!(w.lever.tags_of(&catalog).is_empty());
    assert!(
        out.summary
            .warnings
            .iter()
            .any(|m| m.contains("catalog_max_tags")),
        "{:?}",
        out.summary.warnings
    );
    w.tenant_extra = format!("catalog_opportunity_id = \"{catalog}\"");
    w.full().await;
    assert_eq!(w.lever.tags_of(&catalog).len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue10_an_ignored_participant_filter_switches_to_one_shared_listing() {
    let w = World::new().await;
    let mut opps = Vec::new();
    for (i, title) in ["Potter", "Weaver", "Smith"].iter().enumerate() {
        let (_, posting) = w.interview_with_posting(title);
        opps.push(w.candidate(&format!("C{i}"), &format!("c{i}@example.com"), &posting));
    }
    w.full().await;
    w.willo.ignore_interview_filter(true);
    let route = "/api/integrations/v2/participants/";
    let before = w.willo.accounting().count("GET", route);
    // The first pass lists one interview, finds rows of the others, and switches.
    w.full().await;
    let first = w.willo.accounting().count("GET", route) - before;
    assert!(
        first <= 2,
        "{first} participant listings (one per interview would be 3)"
    );
    let fact = w
        .store()
        .read(|r| r.fact("acme", willo_lever_sync::store::PARTICIPANT_FILTER_IGNORED))
        .unwrap();
    assert_eq!(fact.as_deref(), Some("true"));
    // The next pass starts with the shared listing; states still land on the right people.
    let interview = w.willo.interviews()[1].key.clone();
    let p = w.participant_key(&interview, "c1@example.com");
    w.willo.set_participant_state(&p, "completed").unwrap();
    let before = w.willo.accounting().count("GET", route);
    w.full().await;
    assert_eq!(w.willo.accounting().count("GET", route) - before, 1);
    assert_eq!(w.status_tags(&opps[1]), ["Willo:To Review"]);
    assert_eq!(w.status_tags(&opps[0]), [INVITED]);
    assert_eq!(w.status_tags(&opps[2]), [INVITED]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue10_participant_states_given_as_keys_map_through_the_status_map() {
    let mut w = World::new().await;
    let completed = stage_key("completed");
    w.willo_extra = format!("[tenants.willo.status_map]\n\"{completed}\" = \"Willo:To Review\"");
    let (interview, posting) = w.interview_with_posting("Farrier");
    w.willo.set_default_state_form(StateForm::StageKey);
    w.willo
        .add_participant(
            ParticipantSeed::new(&interview, "Fay", "fay@example.com").state("completed"),
        )
        .unwrap();
    let opp = w.candidate("Fay", "fay@example.com", &posting);
    let out = w.full().await;
    assert_eq!(out.summary.applied.invites_adopted, 1, "{}", out.summary);
    assert_eq!(w.status_tags(&opp), ["Willo:To Review"]);
}
