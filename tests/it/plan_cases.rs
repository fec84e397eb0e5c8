//! One case per rule of docs/behaviour.md that the planner decides. Each case builds a world and lists
//! the plan it expects, one line per action or warning (see `common::action_line`). `check`
//! also applies the plan and plans again, which must yield no actions.

use crate::common;

use common::*;
use willo_lever_sync::domain::tags::{StatusTag, TagTemplate};
use willo_lever_sync::plan::{Action, KnownInterview, KnownParticipant, Plan};

const SALES: &str = "Willo:Sales-Acme";
const SUPPORT: &str = "Willo:Support-Acme";

/// Plans `world`, asserts the plan's lines equal `expected` (in any order), then asserts that
/// applying the plan and planning again yields no actions. Returns the plan for extra checks.
fn check(world: World, expected: &[&str]) -> Plan {
    let p = world.plan();
    let mut got = plan_lines(&p);
    got.sort();
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want, "plan differs from the expected one");
    let again = simulate(&world, &p).plan();
    assert_eq!(
        plan_lines(&Plan {
            warnings: Vec::new(),
            ..again
        }),
        Vec::<String>::new(),
        "planning again after applying the plan must yield no actions"
    );
    p
}

// ---- trigger stages -------------------------------------------------------------------------

#[test]
fn connected_opportunity_in_a_trigger_stage_is_invited_and_tagged_invited() {
    check(
        World::new()
            .interview("i1", "Sales")
            .opp(opp("o1").tags(&[SALES])),
        &["invite i1 o1@example.com o1", "add o1: Willo:Invited"],
    );
}

#[test]
fn opportunity_outside_the_trigger_stages_is_not_invited() {
    let mut no_stage = opp("o3").tags(&[SALES]);
    no_stage.0.stage_id = None;
    check(
        World::new()
            .interview("i1", "Sales")
            .opp(opp("o1").tags(&[SALES]).stage("stage-offer"))
            .opp(no_stage),
        &[],
    );
}

#[test]
fn every_configured_trigger_stage_counts() {
    check(
        World::new()
            .rules(|r| {
                r.trigger_stage_ids.insert("stage-phone".into());
            })
            .interview("i1", "Sales")
            .opp(opp("o1").tags(&[SALES]).stage("stage-phone"))
            .opp(opp("o2").tags(&[SALES])),
        &[
            "invite i1 o1@example.com o1",
            "add o1: Willo:Invited",
            "invite i1 o2@example.com o2",
            "add o2: Willo:Invited",
        ],
    );
}

// ---- connection: tags, aliases, postings -----------------------------------------------------

#[test]
fn unconnected_opportunity_and_customer_look_alike_tags_connect_nothing() {
    check(
        World::new().interview("i1", "Sales").opp(opp("o1").tags(&[
            "Sales",
            "willo:sales-acme",
            "Willo:Sales",
        ])),
        &[],
    );
}

#[test]
fn custom_template_renders_the_connecting_tag() {
    check(
        World::new()
            .rules(|r| r.tag_template = TagTemplate::parse("Willo:{title} ({account})").unwrap())
            .interview("i1", " Sales ")
            .opp(opp("o1").tags(&["Willo:Sales (Acme)"]))
            .opp(opp("o2").tags(&[SALES])),
        &["invite i1 o1@example.com o1", "add o1: Willo:Invited"],
    );
}

#[test]
fn opportunity_is_invited_to_each_connected_interview() {
    check(
        World::new()
            .interview("i1", "Sales")
            .interview("i2", "Support")
            .opp(opp("o1").tags(&[SALES, SUPPORT])),
        &[
            "invite i1 o1@example.com o1",
            "invite i2 o1@example.com o1",
            "add o1: Willo:Invited",
        ],
    );
}

#[test]
fn posting_tag_connects_candidates_added_before_the_posting_was_tagged() {
    check(
        World::new()
            .interview("i1", "Sales")
            .posting("post1", &[SALES, "Full-time"])
            .opp(opp("o1").posting("post1"))
            .opp(opp("o2").posting("post2")),
        &["invite i1 o1@example.com o1", "add o1: Willo:Invited"],
    );
}

#[test]
fn posting_tags_do_not_connect_when_matching_is_off() {
    check(
        World::new()
            .rules(|r| r.match_posting_tags = false)
            .interview("i1", "Sales")
            .posting("post1", &[SALES])
            .opp(opp("o1").posting("post1")),
        &[],
    );
}

#[test]
fn remembered_posting_tags_connect_when_postings_were_not_observed() {
    check(
        World::new()
            .interview("i1", "Sales")
            .postings_unobserved()
            .known_posting("post1", &[SALES])
            .opp(opp("o1").posting("post1")),
        &["invite i1 o1@example.com o1", "add o1: Willo:Invited"],
    );
}

#[test]
fn observed_postings_replace_the_remembered_ones() {
    let p = check(
        World::new()
            .interview("i1", "Sales")
            .known_posting("post1", &[SALES])
            .posting("post1", &["Full-time"])
            .opp(opp("o1").posting("post1")),
        &[],
    );
    let postings = p.remember.posting_tags.expect("postings were observed");
    assert_eq!(postings["post1"], ["Full-time".to_string()].into());
}

#[test]
fn only_listed_interviews_connect() {
    let p = check(
        World::new()
            .interview("i2", "Support")
            .known_interview("i1", "Sales", &[], true)
            .opp(opp("o1").tags(&[SALES])),
        &[],
    );
    let closed: Vec<&KnownInterview> = p
        .remember
        .interviews
        .iter()
        .filter(|i| i.key == "i1")
        .collect();
    assert_eq!(closed.len(), 1);
    assert!(
        !closed[0].open,
        "an interview no longer listed is remembered as closed"
    );
}

#[test]
fn remembered_open_interviews_connect_when_interviews_were_not_observed() {
    let p = check(
        World::new()
            .interviews_unobserved()
            .known_interview("i1", "Sales", &[], true)
            .known_interview("i2", "Support", &[], false)
            .opp(opp("o1").tags(&[SALES]))
            .opp(opp("o2").tags(&[SUPPORT])),
        &["invite i1 o1@example.com o1", "add o1: Willo:Invited"],
    );
    assert!(
        p.remember.interviews.is_empty(),
        "nothing learned about interviews"
    );
}

// ---- renames and aliases ----------------------------------------------------------------------

#[test]
fn rename_issues_the_new_tag_keeps_the_old_as_alias_and_warns_about_postings() {
    let p = check(
        World::new()
            .known_interview("i1", "Sales", &[], true)
            .interview("i1", "Sales EU")
            .posting("post1", &[SALES])
            .posting("post2", &["Willo:Sales EU-Acme"])
            .opp(opp("o1").posting("post1"))
            .opp(opp("o2").tags(&[SALES])),
        &[
            "invite i1 o1@example.com o1",
            "add o1: Willo:Invited",
            "invite i1 o2@example.com o2",
            "add o2: Willo:Invited",
            "warn renamed i1 Willo:Sales-Acme on post1",
        ],
    );
    assert_eq!(
        p.remember.interviews,
        vec![KnownInterview {
            key: "i1".into(),
            title: "Sales EU".into(),
            current_tag: "Willo:Sales EU-Acme".into(),
            issued_tags: [SALES.to_string(), "Willo:Sales EU-Acme".to_string()].into(),
            open: true,
        }]
    );
}

#[test]
fn a_new_interview_is_remembered_with_its_tag() {
    let p = check(World::new().interview("i1", "Sales"), &[]);
    assert_eq!(
        p.remember.interviews,
        vec![KnownInterview {
            key: "i1".into(),
            title: "Sales".into(),
            current_tag: SALES.into(),
            issued_tags: [SALES.to_string()].into(),
            open: true,
        }]
    );
    let again = World::new()
        .interview("i1", "Sales")
        .known_interview("i1", "Sales", &[], true)
        .plan();
    assert!(
        again.remember.interviews.is_empty(),
        "an unchanged interview is not re-remembered"
    );
}

#[test]
fn two_open_interviews_with_one_tag_connect_to_neither() {
    check(
        World::new()
            .interview("i1", "Sales")
            .interview("i2", " Sales")
            .opp(opp("o1").tags(&[SALES])),
        &["warn ambiguous Willo:Sales-Acme i1,i2 -> none"],
    );
}

#[test]
fn a_current_tag_wins_over_another_interviews_alias() {
    // i1 was "Sales" and is now "Sales EU"; i2 is a new interview called "Sales".
    check(
        World::new()
            .known_interview("i1", "Sales", &[], true)
            .interview("i1", "Sales EU")
            .interview("i2", "Sales")
            .opp(opp("o1").tags(&[SALES])),
        &[
            "invite i2 o1@example.com o1",
            "add o1: Willo:Invited",
            "warn ambiguous Willo:Sales-Acme i1,i2 -> i2",
        ],
    );
}

#[test]
fn a_closed_interviews_tags_do_not_make_an_open_one_ambiguous() {
    check(
        World::new()
            .known_interview("i1", "Sales", &[], false)
            .interview("i2", "Sales")
            .opp(opp("o1").tags(&[SALES])),
        &["invite i2 o1@example.com o1", "add o1: Willo:Invited"],
    );
}

#[test]
fn a_title_rendering_a_status_tag_connects_nothing() {
    check(
        World::new()
            .rules(|r| r.tag_template = TagTemplate::parse("Willo:{title}").unwrap())
            .interview("i1", "Invited")
            .opp(opp("o1").tags(&[INVITED])),
        &["warn collides i1 Willo:Invited"],
    );
}

// ---- who is never invited ------------------------------------------------------------------

#[test]
fn archived_anonymized_and_deleted_opportunities_get_nothing() {
    check(
        World::new()
            .interview("i1", "Sales")
            .opp(opp("o1").tags(&[SALES]).archived())
            .opp(opp("o2").tags(&[SALES]).anonymized().emails(&[]))
            .opp(opp("o3").tags(&[SALES]))
            .deleted("o3")
            .deleted("o4"),
        &[],
    );
}

#[test]
fn anonymized_opportunities_get_no_status_tags_either() {
    check(
        World::new()
            .opp(opp("o1").anonymized().tags(&[INVITED]))
            .invite_row("o1", "i1", "o1@example.com", Some("p1"), "done")
            .participant("p1", "i1", "o1@example.com", Some("rejected")),
        &[],
    );
}

#[test]
fn deleted_opportunities_are_remembered_as_deleted_and_get_no_status_repair() {
    let p = check(
        World::new()
            .interview("i1", "Sales")
            .opp(opp("o1").tags(&[SALES]))
            .invite_row("o1", "i1", "o1@example.com", Some("p1"), "done")
            .deleted("o1"),
        &[],
    );
    assert_eq!(p.remember.deleted, ["o1".to_string()].into());
}

#[test]
fn no_email_records_attention_once_and_invites_nobody() {
    let world = World::new()
        .interview("i1", "Sales")
        .opp(opp("o1").tags(&[SALES]).emails(&[]))
        .opp(opp("o2").tags(&[SALES]).emails(&["  "]));
    check(world.clone(), &["record o1 no_email", "record o2 no_email"]);
    check(
        world
            .attention("o1", reason("no_email"))
            .attention("o2", reason("no_email")),
        &[],
    );
}

#[test]
fn the_first_non_blank_email_is_used() {
    check(
        World::new()
            .interview("i1", "Sales")
            .opp(
                opp("o1")
                    .tags(&[SALES])
                    .emails(&[" ", " Ada@Example.com ", "other@example.com"]),
            ),
        &["invite i1 Ada@Example.com o1", "add o1: Willo:Invited"],
    );
}

#[test]
fn invite_names_come_from_the_opportunity() {
    let p = World::new()
        .interview("i1", "Sales")
        .opp(opp("o1").tags(&[SALES]).name("Grace Brewster Hopper"))
        .opp(opp("o2").tags(&[SALES]).name(" "))
        .plan();
    let invites: Vec<_> = p
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Invite {
                name,
                first_name,
                last_name,
                ..
            } => Some((name.as_str(), first_name.as_deref(), last_name.as_deref())),
            _ => None,
        })
        .collect();
    assert_eq!(
        invites,
        [
            (
                "Grace Brewster Hopper",
                Some("Grace"),
                Some("Brewster Hopper")
            ),
            ("o2@example.com", None, None)
        ]
    );
}

#[test]
fn declined_contact_records_no_consent_and_invites_nobody() {
    check(
        World::new()
            .interview("i1", "Sales")
            .opp(opp("o1").tags(&[SALES]).consent(Some(false)))
            .opp(opp("o2").tags(&[SALES]).consent(Some(false)).emails(&[]))
            .opp(opp("o3").tags(&[SALES]).consent(Some(true))),
        &[
            "record o1 no_consent",
            "record o2 no_consent",
            "record o2 no_email",
            "invite i1 o3@example.com o3",
            "add o3: Willo:Invited",
        ],
    );
}

#[test]
fn attention_is_cleared_when_its_reason_goes_away() {
    check(
        World::new()
            .interview("i1", "Sales")
            // got an email: invited, item cleared
            .opp(opp("o1").tags(&[SALES]))
            .attention("o1", reason("no_email"))
            // consent given: invited, item cleared
            .opp(opp("o2").tags(&[SALES]).consent(None))
            .attention("o2", reason("no_consent"))
            // left the trigger stage: nothing to do any more
            .opp(opp("o3").tags(&[SALES]).emails(&[]).stage("stage-offer"))
            .attention("o3", reason("no_email"))
            // not observed this pass: left as it is
            .attention("o4", reason("no_email"))
            // recorded by the apply step: not the planner's to clear
            .opp(opp("o5"))
            .attention("o5", reason("invite_rejected")),
        &[
            "clear o1 no_email",
            "invite i1 o1@example.com o1",
            "add o1: Willo:Invited",
            "clear o2 no_consent",
            "invite i1 o2@example.com o2",
            "add o2: Willo:Invited",
            "clear o3 no_email",
        ],
    );
}

// ---- once per (opportunity, interview) ------------------------------------------------------

#[test]
fn a_recorded_invite_is_never_repeated_whatever_its_state() {
    for state in ["in_flight", "done", "failed", "ambiguous"] {
        let participant = (state == "done").then_some("p1");
        let mut world = World::new()
            .interview("i1", "Sales")
            .opp(opp("o1").tags(&[SALES]))
            .invite_row("o1", "i1", "o1@example.com", participant, state);
        if participant.is_some() {
            world = world.known_participant("p1", Some("invited"), 0);
        }
        let expected: &[&str] = if participant.is_some() {
            &["add o1: Willo:Invited"]
        } else {
            &[]
        };
        check(world, expected);
    }
}

#[test]
fn re_entering_the_trigger_stage_never_re_invites() {
    check(
        World::new()
            .interview("i1", "Sales")
            .opp(opp("o1").tags(&[SALES, TO_REVIEW]))
            .invite_row("o1", "i1", "o1@example.com", Some("p1"), "done")
            .participant("p1", "i1", "o1@example.com", Some("completed"))
            .known_participant("p1", Some("completed"), 10),
        &[],
    );
}

#[test]
fn a_planned_row_does_not_block() {
    check(
        World::new()
            .interview("i1", "Sales")
            .opp(opp("o1").tags(&[SALES]))
            .invite_row("o1", "i1", "o1@example.com", None, "planned"),
        &["invite i1 o1@example.com o1", "add o1: Willo:Invited"],
    );
}

// ---- once per (email, interview) ------------------------------------------------------------

#[test]
fn one_email_on_several_opportunities_gets_one_invite() {
    check(
        World::new()
            .interview("i1", "Sales")
            .opp(opp("o2").tags(&[SALES]).emails(&[" ADA@example.com"]))
            .opp(opp("o1").tags(&[SALES]).emails(&["ada@example.com"]))
            .opp(opp("o3").tags(&[SALES]).emails(&["Ada@Example.com "])),
        &[
            "invite i1 ada@example.com o1,o2,o3",
            "add o1: Willo:Invited",
            "add o2: Willo:Invited",
            "add o3: Willo:Invited",
        ],
    );
}

#[test]
fn an_existing_participant_is_adopted_instead_of_invited() {
    check(
        World::new()
            .interview("i1", "Sales")
            .opp(opp("o1").tags(&[SALES]).emails(&["Ada@example.com"]))
            .participant("p9", "i1", "ada@example.com ", Some("completed"))
            .participant("p8", "i2", "ada@example.com", None),
        &["adopt i1 p9 o1", "add o1: Willo:To Review"],
    );
}

#[test]
fn a_participant_recorded_for_another_opportunity_is_adopted() {
    check(
        World::new()
            .interview("i1", "Sales")
            .opp(opp("o2").tags(&[SALES]).emails(&["ada@example.com"]))
            .invite_row("o1", "i1", "ADA@example.com", Some("p1"), "done")
            .known_participant("p1", Some("accepted"), 10)
            // another participant with that email is listed too: the recorded one wins
            .participant("p0", "i1", "ada@example.com", None),
        &["adopt i1 p1 o2", "add o2: Willo:Accepted"],
    );
}

#[test]
fn an_unresolved_invite_to_the_same_email_blocks_new_invites() {
    for state in ["in_flight", "ambiguous", "failed"] {
        check(
            World::new()
                .interview("i1", "Sales")
                .opp(opp("o2").tags(&[SALES]).emails(&["ada@example.com"]))
                .invite_row("o1", "i1", "ada@example.com", None, state),
            &[&format!("warn waits i1 o2 on o1 {state}")],
        );
    }
}

#[test]
fn an_unresolved_invite_to_another_interview_does_not_block() {
    check(
        World::new()
            .interview("i1", "Sales")
            .opp(opp("o2").tags(&[SALES]).emails(&["ada@example.com"]))
            .invite_row("o1", "i2", "ada@example.com", None, "in_flight"),
        &["invite i1 ada@example.com o2", "add o2: Willo:Invited"],
    );
}

// ---- status tags ----------------------------------------------------------------------------

#[test]
fn exactly_one_status_tag_follows_the_participant() {
    check(
        World::new()
            .interview("i1", "Sales")
            .opp(opp("o1").tags(&[SALES, INVITED, REJECTED, "vip"]))
            .invite_row("o1", "i1", "o1@example.com", Some("p1"), "done")
            .participant("p1", "i1", "o1@example.com", Some("Completed")),
        &[
            "add o1: Willo:To Review",
            "remove o1: Willo:Invited | Willo:Rejected",
        ],
    );
}

#[test]
fn each_default_mapping_row_gives_its_tag() {
    let table: &[(&str, StatusTag)] = &[
        ("invited", StatusTag::Invited),
        ("pending", StatusTag::Invited),
        ("sent", StatusTag::Invited),
        ("in progress", StatusTag::Invited),
        ("started", StatusTag::Invited),
        ("to review", StatusTag::ToReview),
        ("completed", StatusTag::ToReview),
        ("new response", StatusTag::ToReview),
        ("responded", StatusTag::ToReview),
        ("submitted", StatusTag::ToReview),
        ("accepted", StatusTag::Accepted),
        ("shortlisted", StatusTag::Accepted),
        ("hired", StatusTag::Accepted),
        ("rejected", StatusTag::Rejected),
        ("declined", StatusTag::Rejected),
    ];
    for (state, tag) in table {
        // Start from a different status tag so every row has something to change.
        let other = if *tag == StatusTag::Rejected {
            StatusTag::Invited
        } else {
            StatusTag::Rejected
        };
        check(
            World::new()
                .interview("i1", "Sales")
                .opp(opp("o1").tags(&[other.as_str()]))
                .invite_row("o1", "i1", "o1@example.com", Some("p1"), "done")
                .participant("p1", "i1", "o1@example.com", Some(&state.to_uppercase())),
            &[
                &format!("add o1: {}", tag.as_str()),
                &format!("remove o1: {}", other.as_str()),
            ],
        );
    }
}

#[test]
fn a_tenant_mapping_overrides_the_default() {
    check(
        World::new()
            .rules(|r| {
                r.status_map = willo_lever_sync::domain::status_map::StatusMap::with_overrides([(
                    "on hold",
                    StatusTag::ToReview,
                )])
            })
            .opp(opp("o1").tags(&[INVITED]))
            .invite_row("o1", "i1", "o1@example.com", Some("p1"), "done")
            .participant("p1", "i1", "o1@example.com", Some("On Hold")),
        &["add o1: Willo:To Review", "remove o1: Willo:Invited"],
    );
}

#[test]
fn an_unknown_state_changes_nothing_and_warns() {
    check(
        World::new()
            .opp(opp("o1").tags(&[INVITED]))
            .invite_row("o1", "i1", "o1@example.com", Some("p1"), "done")
            .participant("p1", "i1", "o1@example.com", Some("On Hold")),
        &["warn unknown state p1 on hold"],
    );
}

#[test]
fn a_missing_state_means_invited() {
    check(
        World::new()
            .opp(opp("o1").tags(&[TO_REVIEW]))
            .invite_row("o1", "i1", "o1@example.com", Some("p1"), "done")
            .participant("p1", "i1", "o1@example.com", None),
        &["add o1: Willo:Invited", "remove o1: Willo:To Review"],
    );
}

#[test]
fn remembered_state_is_used_when_the_participant_was_not_read() {
    check(
        World::new()
            .interviews_unobserved()
            .opp(opp("o1"))
            .invite_row("o1", "i1", "o1@example.com", Some("p1"), "done")
            .known_participant("p1", Some("shortlisted"), 5),
        &["add o1: Willo:Accepted"],
    );
}

#[test]
fn the_most_recently_changed_participant_decides() {
    let world = World::new()
        .opp(opp("o1").tags(&[REJECTED]))
        .invite_row("o1", "i1", "o1@example.com", Some("p1"), "done")
        .invite_row("o1", "i2", "o1@example.com", Some("p2"), "done")
        .known_participant("p1", Some("rejected"), 100)
        .known_participant("p2", Some("invited"), 50);
    // p1 changed last: rejected stands.
    check(world.clone(), &[]);
    // p2 is seen completed now: it changed last, so it decides.
    let p = check(
        world.participant("p2", "i2", "o1@example.com", Some("completed")),
        &["add o1: Willo:To Review", "remove o1: Willo:Rejected"],
    );
    assert_eq!(
        p.remember.participants.get("p2"),
        Some(&KnownParticipant {
            state: Some("completed".into()),
            changed_at: NOW,
            response_link: None,
        })
    );
}

#[test]
fn an_unchanged_participant_keeps_its_change_time() {
    let p = check(
        World::new()
            .opp(opp("o1").tags(&[REJECTED]))
            .invite_row("o1", "i1", "o1@example.com", Some("p1"), "done")
            .invite_row("o1", "i2", "o1@example.com", Some("p2"), "done")
            .known_participant("p1", Some("rejected"), 100)
            .known_participant("p2", Some("invited"), 50)
            .participant("p2", "i2", "o1@example.com", Some("invited")),
        &[],
    );
    assert!(p.remember.participants.is_empty());
}

#[test]
fn a_new_invite_decides_over_older_participants() {
    check(
        World::new()
            .interview("i2", "Support")
            .opp(opp("o1").tags(&[SUPPORT, REJECTED]))
            .invite_row("o1", "i1", "o1@example.com", Some("p1"), "done")
            .known_participant("p1", Some("rejected"), 100),
        &[
            "invite i2 o1@example.com o1",
            "add o1: Willo:Invited",
            "remove o1: Willo:Rejected",
        ],
    );
}

#[test]
fn a_status_tag_removed_by_hand_comes_back() {
    check(
        World::new()
            .interview("i1", "Sales")
            .opp(opp("o1").tags(&[SALES]))
            .invite_row("o1", "i1", "o1@example.com", Some("p1"), "done")
            .known_participant("p1", Some("accepted"), 100),
        &["add o1: Willo:Accepted"],
    );
}

#[test]
fn status_tags_follow_archived_and_out_of_stage_opportunities_too() {
    check(
        World::new()
            .opp(opp("o1").archived().stage("stage-offer").tags(&[TO_REVIEW]))
            .invite_row("o1", "i1", "o1@example.com", Some("p1"), "done")
            .participant("p1", "i1", "o1@example.com", Some("hired")),
        &["add o1: Willo:Accepted", "remove o1: Willo:To Review"],
    );
}

#[test]
fn status_tags_on_opportunities_never_invited_are_left_alone() {
    check(
        World::new()
            .opp(opp("o1").tags(&[INVITED, ACCEPTED]).stage("stage-offer"))
            .participant("p1", "i1", "o1@example.com", Some("rejected")),
        &[],
    );
}

#[test]
fn status_tags_are_only_changed_on_opportunities_read_this_pass() {
    check(
        World::new()
            .invite_row("o1", "i1", "o1@example.com", Some("p1"), "done")
            .participant("p1", "i1", "o1@example.com", Some("rejected")),
        &[],
    );
}

// ---- customer tags, backoff -----------------------------------------------------------------

#[test]
fn customer_tags_are_never_touched() {
    let p = check(
        World::new()
            .interview("i1", "Sales")
            .opp(opp("o1").tags(&[SALES, "vip", "Willo:Custom", "Willo:invited", ACCEPTED]))
            .invite_row("o1", "i1", "o1@example.com", Some("p1"), "done")
            .participant("p1", "i1", "o1@example.com", Some("rejected")),
        &["add o1: Willo:Rejected", "remove o1: Willo:Accepted"],
    );
    for a in &p.actions {
        for t in a.tags().into_iter().flatten() {
            assert!(
                [INVITED, TO_REVIEW, ACCEPTED, REJECTED].contains(&t.as_str()),
                "{t}"
            );
        }
    }
}

#[test]
fn an_opportunity_in_backoff_is_left_alone_until_its_next_check() {
    let world = World::new()
        .interview("i1", "Sales")
        .opp(opp("o1").tags(&[SALES]))
        .opp(opp("o2").tags(&[ACCEPTED]).emails(&[]))
        .invite_row("o2", "i1", "o2@example.com", Some("p2"), "done")
        .participant("p2", "i1", "o2@example.com", Some("rejected"));
    check(
        world
            .clone()
            .backoff("o1", NOW + 1)
            .backoff("o2", NOW + 60_000),
        &[],
    );
    check(
        world.backoff("o1", NOW).backoff("o2", NOW - 1),
        &[
            "invite i1 o1@example.com o1",
            "add o1: Willo:Invited",
            "add o2: Willo:Rejected",
            "remove o2: Willo:Accepted",
        ],
    );
}

#[test]
fn an_opportunity_in_backoff_does_not_hold_back_others_with_its_email() {
    check(
        World::new()
            .interview("i1", "Sales")
            .opp(opp("o1").tags(&[SALES]).emails(&["ada@example.com"]))
            .opp(opp("o2").tags(&[SALES]).emails(&["ada@example.com"]))
            .backoff("o1", NOW + 1),
        &["invite i1 ada@example.com o2", "add o2: Willo:Invited"],
    );
}

// ---- catalog --------------------------------------------------------------------------------

#[test]
fn the_catalog_carries_exactly_the_current_catalog() {
    check(
        World::new()
            .known_interview("i1", "Sales", &["Willo:Old Sales-Acme"], true)
            .known_interview("i3", "Gone", &[], true)
            .interview("i1", "Sales")
            .interview("i2", "Support")
            .catalog(
                "cat",
                &[
                    SALES,
                    "Willo:Old Sales-Acme",
                    "Willo:Gone-Acme",
                    INVITED,
                    "Willo:Custom",
                    "vip",
                ],
            ),
        &[
            "add cat: Willo:Accepted | Willo:Rejected | Willo:Support-Acme | Willo:To Review",
            "remove cat: Willo:Gone-Acme | Willo:Old Sales-Acme",
        ],
    );
}

#[test]
fn the_catalog_is_left_alone_when_interviews_were_not_listed() {
    check(
        World::new()
            .interviews_unobserved()
            .known_interview("i1", "Sales", &[], true)
            .catalog("cat", &[]),
        &[],
    );
}

#[test]
fn a_catalog_larger_than_its_cap_is_not_written_and_says_why() {
    check(
        World::new()
            .rules(|r| r.catalog_max_tags = 5)
            .interview("i1", "Sales")
            .interview("i2", "Support")
            .catalog("cat", &[]),
        &["warn catalog too large 6 > 5"],
    );
}

#[test]
fn the_catalog_opportunity_is_never_invited() {
    check(
        World::new()
            .interview("i1", "Sales")
            .opp(opp("cat").tags(&[SALES]))
            .catalog("cat", &[SALES, INVITED, TO_REVIEW, ACCEPTED, REJECTED]),
        &[],
    );
}

// ---- output shape ---------------------------------------------------------------------------

#[test]
fn each_action_reads_as_one_line_for_the_dry_run() {
    let p = World::new()
        .interview("i1", "Sales")
        .opp(opp("o1").tags(&[SALES]).consent(Some(false)))
        .opp(opp("o2").tags(&[SALES]).name("Ada Lovelace"))
        .plan();
    assert!(matches!(
        &p.actions[0],
        Action::Invite { first_name: Some(f), last_name: Some(l), .. } if f == "Ada" && l == "Lovelace"
    ));
    assert_eq!(p.remember.interviews[0].current_tag, SALES);
    assert!(p.warnings.is_empty());
    assert_eq!(
        p.actions
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "invite o2@example.com to interview i1 for opportunity o2",
            "add tags \"Willo:Invited\" to opportunity o2",
            "record needs attention (no_consent) for opportunity o1",
        ]
    );
    assert_eq!(
        p.opportunities_awaiting_invite()
            .into_iter()
            .collect::<Vec<_>>(),
        ["o2"]
    );
}
