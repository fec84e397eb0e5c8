//! Properties of the planner over random worlds (small pools of ids, titles, tags, emails and
//! states, so that collisions — shared emails, shared titles, renames, stale rows — are common).

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use proptest::prelude::*;
use proptest::sample::subsequence;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use willo_lever_sync::domain::attention::AttentionReason;
use willo_lever_sync::domain::email::email_key;
use willo_lever_sync::domain::invite::InviteState;
use willo_lever_sync::domain::tags::TagTemplate;
use willo_lever_sync::plan::{
    Action, Interview, InviteRecord, KnownInterview, KnownParticipant, Opportunity, Participant,
};

const INTERVIEWS: [&str; 3] = ["i1", "i2", "i3"];
/// "Sales " renders like "Sales"; "Invited" renders a status tag under `Willo:{title}`.
const TITLES: [&str; 5] = ["Sales", "Sales ", "Support", "Ops", "Invited"];
const TEMPLATES: [&str; 2] = [TagTemplate::DEFAULT, "Willo:{title}"];
const POSTINGS: [&str; 3] = ["post1", "post2", "post3"];
const OPPS: [&str; 6] = ["o1", "o2", "o3", "o4", "o5", "cat"];
const EMAILS: [&str; 6] = [
    "ada@x.com",
    " ADA@x.com",
    "bob@x.com",
    "",
    "cy@x.com",
    "Bob@X.com ",
];
const PARTICIPANTS: [&str; 5] = ["p1", "p2", "p3", "p4", "p5"];
const STATES: [Option<&str>; 8] = [
    None,
    Some("invited"),
    Some("Completed"),
    Some("accepted"),
    Some("rejected"),
    Some("on hold"),
    Some("to_review"),
    Some("Hired"),
];
const TIMES: [i64; 4] = [0, 500, NOW - 1, NOW];

/// Every tag a random world may put on an opportunity, posting or catalog.
fn tag_pool() -> Vec<String> {
    let mut tags: BTreeSet<String> = [INVITED, TO_REVIEW, ACCEPTED, REJECTED]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for t in TEMPLATES {
        let template = TagTemplate::parse(t).unwrap();
        for title in TITLES {
            tags.insert(template.render(title, "Acme"));
        }
    }
    tags.extend(["vip", "Willo:Custom", "Sales", "willo:invited"].map(String::from));
    tags.into_iter().collect()
}

/// Interview tags that connect under one template or the other, drawn more often than the
/// rest of the pool so that connected opportunities are common.
const LIKELY_TAGS: [&str; 6] = [
    "Willo:Sales-Acme",
    "Willo:Support-Acme",
    "Willo:Ops-Acme",
    "Willo:Sales",
    "Willo:Support",
    "Willo:Ops",
];

fn tags() -> impl Strategy<Value = BTreeSet<String>> {
    let likely: Vec<String> = LIKELY_TAGS.iter().map(|s| s.to_string()).collect();
    (subsequence(likely, 1..=2), subsequence(tag_pool(), 0..=3))
        .prop_map(|(a, b)| a.into_iter().chain(b).collect())
}

fn pick<T: Clone + std::fmt::Debug + 'static>(items: &[T]) -> impl Strategy<Value = T> + use<T> {
    proptest::sample::select(items.to_vec())
}

fn opportunity(id: &'static str) -> impl Strategy<Value = Opportunity> {
    (
        proptest::collection::vec(pick(&EMAILS), 0..=2),
        pick(&[
            Some(TRIGGER),
            Some(TRIGGER),
            Some(TRIGGER),
            Some("stage-offer"),
            None,
        ]),
        tags(),
        pick(&[
            None,
            Some("post1"),
            Some("post2"),
            Some("post3"),
            Some("post9"),
        ]),
        prop::bool::weighted(0.15),
        prop::bool::weighted(0.1),
        pick(&[None, None, Some(true), Some(false)]),
    )
        .prop_map(
            move |(emails, stage, tags, posting, archived, anonymized, contact_allowed)| {
                Opportunity {
                    id: id.into(),
                    name: "Ada Lovelace".into(),
                    emails: emails.into_iter().map(String::from).collect(),
                    stage_id: stage.map(String::from),
                    tags,
                    posting_id: posting.map(String::from),
                    archived,
                    anonymized,
                    contact_allowed,
                    updated_at: Some(NOW - 5),
                    link: None,
                }
            },
        )
}

fn invite_record() -> impl Strategy<Value = InviteRecord> {
    (
        pick(&OPPS),
        pick(&INTERVIEWS),
        pick(&EMAILS),
        pick(&[
            None,
            Some("p1"),
            Some("p2"),
            Some("p3"),
            Some("p4"),
            Some("p5"),
        ]),
        pick(&InviteState::ALL),
    )
        .prop_map(|(o, i, e, p, state)| InviteRecord {
            opportunity_id: o.into(),
            interview_key: i.into(),
            email: e.into(),
            // done rows always know their participant; others may or may not
            participant_key: match (state, p) {
                (InviteState::Done, None) => Some("p1".into()),
                (_, p) => p.map(String::from),
            },
            state,
        })
}

fn known_interview() -> impl Strategy<Value = (usize, usize, bool, Option<usize>)> {
    (
        0..INTERVIEWS.len(),
        0..TITLES.len(),
        any::<bool>(),
        proptest::option::of(0..TITLES.len()),
    )
}

prop_compose! {
    fn world()(
        template in pick(&[0, 0, 0, 1]),
        match_posting_tags in prop::bool::weighted(0.8),
        catalog_id in pick(&[None, Some("cat"), Some("o1")]),
        catalog_tags in tags(),
        catalog_observed in any::<bool>(),
        listed in proptest::option::weighted(0.85, proptest::collection::vec(proptest::option::weighted(0.8, 0..TITLES.len()), INTERVIEWS.len())),
        known in proptest::collection::vec(known_interview(), 0..=3),
        postings in proptest::option::weighted(0.7, proptest::collection::btree_map(pick(&POSTINGS), tags(), 0..=3)),
        known_postings in proptest::collection::btree_map(pick(&POSTINGS), tags(), 0..=3),
        present in proptest::collection::vec(prop::bool::weighted(0.75), OPPS.len()),
        opps in (opportunity("o1"), opportunity("o2"), opportunity("o3"), opportunity("o4"), opportunity("o5"), opportunity("cat")),
        participants in proptest::collection::vec((pick(&PARTICIPANTS), pick(&INTERVIEWS), pick(&EMAILS), pick(&STATES)), 0..=5),
        known_participants in proptest::collection::btree_map(pick(&PARTICIPANTS), (pick(&STATES), pick(&TIMES)), 0..=4),
        invites in proptest::collection::vec(invite_record(), 0..=6),
        attention in proptest::collection::btree_set((pick(&OPPS), pick(&AttentionReason::ALL)), 0..=3),
        backoff in proptest::collection::btree_map(pick(&OPPS), pick(&[NOW - 1, NOW, NOW + 1]), 0..=2),
        deleted in proptest::collection::btree_set(pick(&OPPS), 0..=1),
    ) -> World {
        let mut w = World::new();
        w.rules.tag_template = TagTemplate::parse(TEMPLATES[template]).unwrap();
        w.rules.match_posting_tags = match_posting_tags;
        w.rules.catalog_opportunity_id = catalog_id.map(String::from);
        w.observed.interviews = listed.map(|l| {
            l.into_iter()
                .zip(INTERVIEWS)
                .filter_map(|(t, k)| Some(Interview { key: k.into(), title: TITLES[t?].into() }))
                .collect()
        });
        for (k, t, open, alias) in known {
            let current = w.rules.interview_tag(TITLES[t]);
            let mut issued: BTreeSet<String> = [current.clone()].into();
            issued.extend(alias.map(|a| w.rules.interview_tag(TITLES[a])));
            w.memory.interviews.push(KnownInterview {
                key: INTERVIEWS[k].into(),
                title: TITLES[t].into(),
                current_tag: current,
                issued_tags: issued,
                open,
            });
        }
        w.observed.postings = postings.map(|p| p.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
        w.memory.posting_tags = known_postings.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let (a, b, c, d, e, f) = opps;
        w.observed.opportunities = [a, b, c, d, e, f]
            .into_iter()
            .zip(present)
            .filter(|(_, p)| *p)
            .map(|(o, _)| o)
            .collect();
        if catalog_observed && let Some(id) = catalog_id {
            w.observed.catalog = Some(Opportunity { id: id.into(), tags: catalog_tags, ..Opp::new(id).0 });
        }
        // A participant key always belongs to one interview, as in Willo.
        let mut seen_interview: BTreeMap<&str, &str> = BTreeMap::new();
        for (key, interview, email, state) in participants {
            let interview = *seen_interview.entry(key).or_insert(interview);
            w.observed.participants.push(Participant {
                key: key.into(),
                interview_key: interview.into(),
                email: (!email.is_empty()).then(|| email.to_string()),
                state: state.map(String::from),
                updated_at: None,
                response_link: None,
            });
        }
        w.memory.participants = known_participants
            .into_iter()
            .map(|(k, (s, t))| (k.to_string(), KnownParticipant { state: s.map(String::from), changed_at: t, response_link: None }))
            .collect();
        // The journal has at most one row per (opportunity, interview).
        let mut rows: BTreeMap<(String, String), InviteRecord> = BTreeMap::new();
        for r in invites {
            rows.entry((r.opportunity_id.clone(), r.interview_key.clone())).or_insert(r);
        }
        w.memory.invites = rows.into_values().collect();
        w.memory.attention = attention.into_iter().map(|(o, r)| (o.to_string(), r)).collect();
        w.memory.backoff_until = backoff.into_iter().map(|(o, t)| (o.to_string(), t)).collect();
        w.observed.deleted = deleted.into_iter().map(String::from).collect();
        w
    }
}

/// The same world with every unordered input listed in another order. (An opportunity's
/// `emails` keep their order: "the first email" is part of the data.)
fn shuffled(w: &World, seed: u64) -> World {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut w = w.clone();
    if let Some(i) = w.observed.interviews.as_mut() {
        i.shuffle(&mut rng);
    }
    w.observed.opportunities.shuffle(&mut rng);
    w.observed.participants.shuffle(&mut rng);
    w.memory.invites.shuffle(&mut rng);
    w.memory.interviews.shuffle(&mut rng);
    w
}

fn config() -> ProptestConfig {
    // Modest by default so CI stays quick; PROPTEST_CASES raises it for a deeper run.
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256),
        // Shrunk failures are printed; integration tests have no lib.rs to store them beside.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn applying_the_plan_then_planning_again_yields_no_actions(w in world()) {
        let first = w.plan();
        let applied = simulate(&w, &first);
        let second = applied.plan();
        prop_assert!(
            second.actions.is_empty(),
            "first plan: {:#?}\nsecond plan: {:#?}",
            plan_lines(&first),
            plan_lines(&second)
        );
        // and the state to remember has settled too
        prop_assert!(second.remember.interviews.is_empty(), "{:?}", second.remember.interviews);
        prop_assert!(second.remember.participants.is_empty(), "{:?}", second.remember.participants);
    }

    #[test]
    fn no_action_names_a_tag_the_daemon_does_not_own(w in world()) {
        let p = w.plan();
        let owned = owned_tags(&w, &p);
        for a in &p.actions {
            for t in a.tags().into_iter().flatten() {
                prop_assert!(owned.contains(t), "{a:?} names {t:?}, not owned: {owned:?}");
            }
        }
    }

    #[test]
    fn nothing_is_invited_twice(w in world()) {
        let p = w.plan();
        let mut opp_interview = BTreeSet::new();
        let mut email_interview = BTreeSet::new();
        let blocked: BTreeSet<(String, String)> = w
            .memory
            .invites
            .iter()
            .filter(|r| r.state.blocks_reinvite())
            .map(|r| (r.opportunity_id.clone(), r.interview_key.clone()))
            .collect();
        // (email, interview) pairs that already have a participant, or an invite whose
        // outcome is unknown: a new invite there could send a second email.
        let mut taken: BTreeSet<(String, String)> = w
            .memory
            .invites
            .iter()
            .filter(|r| r.state.blocks_reinvite())
            .filter_map(|r| Some((email_key(&r.email)?, r.interview_key.clone())))
            .collect();
        taken.extend(
            w.observed
                .participants
                .iter()
                .filter_map(|p| Some((email_key(p.email.as_deref()?)?, p.interview_key.clone()))),
        );
        for a in &p.actions {
            match a {
                Action::Invite { interview_key, email, opportunity_ids, .. } => {
                    let key = email_key(email).expect("invites carry an email");
                    prop_assert!(
                        !taken.contains(&(key.clone(), interview_key.clone())),
                        "invite to ({email}, {interview_key}), which has a participant or an unresolved invite"
                    );
                    prop_assert!(
                        email_interview.insert((key, interview_key.clone())),
                        "two invites for ({email}, {interview_key})"
                    );
                    prop_assert!(!opportunity_ids.is_empty());
                    for id in opportunity_ids {
                        prop_assert!(opp_interview.insert((id.clone(), interview_key.clone())));
                        prop_assert!(!blocked.contains(&(id.clone(), interview_key.clone())));
                    }
                }
                Action::Adopt { interview_key, opportunity_id, .. } => {
                    prop_assert!(opp_interview.insert((opportunity_id.clone(), interview_key.clone())));
                    prop_assert!(!blocked.contains(&(opportunity_id.clone(), interview_key.clone())));
                }
                _ => {}
            }
        }
    }

    #[test]
    fn no_action_touches_an_opportunity_that_must_be_left_alone(w in world()) {
        let p = w.plan();
        for a in &p.actions {
            for id in a.opportunity_ids() {
                prop_assert!(!w.observed.deleted.contains(id), "{a:?} on a deleted opportunity");
                prop_assert!(
                    w.memory.backoff_until.get(id).is_none_or(|t| *t <= w.now),
                    "{a:?} on an opportunity in backoff"
                );
                if w.rules.catalog_opportunity_id.as_ref() == Some(id) {
                    prop_assert!(
                        matches!(a, Action::AddTags { .. } | Action::RemoveTags { .. }),
                        "{a:?} on the catalog"
                    );
                } else {
                    prop_assert!(
                        w.observed.opportunities.iter().any(|o| &o.id == id),
                        "{a:?} on an opportunity not read this pass"
                    );
                }
            }
        }
    }

    #[test]
    fn the_plan_does_not_depend_on_input_order(w in world(), seed in any::<u64>()) {
        let p = w.plan();
        prop_assert_eq!(&p, &shuffled(&w, seed).plan());
        let mut reversed = w.clone();
        reversed.observed.opportunities.reverse();
        reversed.observed.participants.reverse();
        reversed.memory.invites.reverse();
        reversed.memory.interviews.reverse();
        if let Some(i) = reversed.observed.interviews.as_mut() {
            i.reverse();
        }
        prop_assert_eq!(&p, &reversed.plan());
    }
}
