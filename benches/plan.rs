//! The pure planner's cost: one full-pass plan over worlds of growing size (issue 12's target 8:
//! planner µs per opportunity at 10k, 100k and 1M; divan's throughput column is opportunities
//! per second). Figures are recorded in docs/performance.md. Run: `cargo bench --bench plan`
//! (one size: `cargo bench --bench plan -- full_pass_plan_1m`).

use std::collections::{BTreeMap, BTreeSet};

use divan::Bencher;
use willo_lever_sync::domain::invite::InviteState;
use willo_lever_sync::domain::status_map::StatusMap;
use willo_lever_sync::domain::tags::TagTemplate;
use willo_lever_sync::plan::{
    Interview, InviteRecord, KnownInterview, KnownParticipant, Memory, Observed, Opportunity,
    Participant, Rules, Scope, plan,
};

fn main() {
    divan::main();
}

const INTERVIEWS: usize = 20;
const NOW: i64 = 1_800_000_000_000;

/// `n` trigger-stage opportunities spread over 20 interviews' postings; half were invited
/// already (with a participant in a mix of states), the other half are due an invite.
fn world(n: usize) -> (Rules, Observed, Memory) {
    let rules = Rules {
        account_name: "Acme".into(),
        tag_template: TagTemplate::default(),
        trigger_stage_ids: BTreeSet::from(["trigger".to_owned()]),
        match_posting_tags: true,
        status_map: StatusMap::default(),
        catalog_opportunity_id: None,
        catalog_max_tags: 500,
        completion_note: true,
    };
    let interviews: Vec<Interview> = (0..INTERVIEWS)
        .map(|i| Interview {
            key: format!("{i:032x}"),
            title: format!("Role {i}"),
        })
        .collect();
    let postings: BTreeMap<String, BTreeSet<String>> = (0..INTERVIEWS)
        .map(|i| {
            (
                format!("posting-{i}"),
                BTreeSet::from([rules.interview_tag(&format!("Role {i}"))]),
            )
        })
        .collect();
    let states = ["invited", "completed", "accepted", "rejected"];
    let mut memory = Memory {
        interviews: interviews
            .iter()
            .map(|i| KnownInterview {
                key: i.key.clone(),
                title: i.title.clone(),
                current_tag: rules.interview_tag(&i.title),
                issued_tags: BTreeSet::from([rules.interview_tag(&i.title)]),
                open: true,
            })
            .collect(),
        posting_tags: postings.clone(),
        ..Memory::default()
    };
    let mut opportunities = Vec::with_capacity(n);
    let mut participants = Vec::new();
    for k in 0..n {
        let iv = k % INTERVIEWS;
        let id = format!("opp-{k:08}");
        let email = format!("c{k}@example.com");
        let mut tags = BTreeSet::from([rules.interview_tag(&format!("Role {iv}"))]);
        if k % 2 == 0 {
            let key = format!("p{k:031x}");
            let state = states[k % states.len()];
            memory.invites.push(InviteRecord {
                opportunity_id: id.clone(),
                interview_key: interviews[iv].key.clone(),
                email: email.clone(),
                participant_key: Some(key.clone()),
                state: InviteState::Done,
            });
            memory.participants.insert(
                key.clone(),
                KnownParticipant {
                    state: Some(state.to_owned()),
                    changed_at: NOW - 1000,
                    response_link: None,
                },
            );
            participants.push(Participant {
                key,
                interview_key: interviews[iv].key.clone(),
                email: Some(email.clone()),
                state: Some(state.to_owned()),
                updated_at: None,
                response_link: None,
            });
            tags.insert("Willo:Invited".to_owned());
        }
        opportunities.push(Opportunity {
            id,
            name: format!("Candidate {k}"),
            emails: vec![email],
            stage_id: Some("trigger".into()),
            tags,
            posting_id: Some(format!("posting-{iv}")),
            archived: false,
            anonymized: false,
            contact_allowed: None,
            updated_at: Some(NOW - k as i64),
            link: None,
        });
    }
    let observed = Observed {
        scope: Scope::Full,
        interviews: Some(interviews),
        postings: Some(postings),
        opportunities,
        deleted: BTreeSet::new(),
        participants,
        catalog: None,
    };
    (rules, observed, memory)
}

#[divan::bench(args = [10_000, 100_000], sample_count = 10)]
fn full_pass_plan(bencher: Bencher, n: usize) {
    let (rules, observed, memory) = world(n);
    bencher
        .counter(divan::counter::ItemsCount::new(n))
        .bench(|| plan(&rules, &observed, &memory, NOW));
}

/// A million opportunities: fewer samples, each takes seconds.
#[divan::bench(sample_count = 3)]
fn full_pass_plan_1m(bencher: Bencher) {
    let n = 1_000_000;
    let (rules, observed, memory) = world(n);
    bencher
        .counter(divan::counter::ItemsCount::new(n))
        .bench(|| plan(&rules, &observed, &memory, NOW));
}
