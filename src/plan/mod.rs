//! The planner: a pure function from (tenant rules, what a pass observed, what the store
//! remembers, now) to the actions that make Lever and Willo agree (the rules of docs/behaviour.md).
//!
//! It does no I/O, reads no clock, knows no wire format or SQL, and logs nothing: warnings are
//! data. Its output does not depend on the order of its inputs.
//!
//! Decisions it makes (each is part of a rule in docs/behaviour.md: fresh reads only, left alone, status tags only where invited, ambiguous interview tags, once per (email, interview), invited at once, owned tags):
//! - Only opportunities observed fresh get actions, and not those deleted, in backoff
//!   (`backoff_until > now`) or configured as the catalog. Anonymized ones get no Lever or
//!   Willo action either; only their no-email / no-consent items are cleared.
//! - Status tags are only managed on opportunities with a `done` invite (or one planned now);
//!   a status tag found on any other opportunity is left alone.
//! - A tag claimed by several open interviews connects only to the one whose current tag it
//!   is, or to none (see `interviews`); a status tag never connects.
//! - When an unresolved invite (`in_flight`, `ambiguous`, or `failed` without a participant)
//!   exists for the same (email, interview), other opportunities with that email wait.
//! - Invite/Adopt do not imply tags: the resulting status tag is planned as ordinary tag
//!   actions that the apply step runs only once the invite succeeded (see [`Action`]).
//! - A completion note is planned once per (opportunity, interview) whose `done` invite's
//!   participant completed, while the note journal shows none could exist (see `note`).
//! - Defence in depth: a tag action naming a tag the daemon does not own is dropped.

mod action;
mod catalog;
pub mod checks;
mod connect;
mod input;
mod interviews;
mod invite;
mod journal;
mod note;
mod rules;
mod status;

use std::collections::{BTreeMap, BTreeSet};

pub use action::{Action, Plan, Remember, Warning};
pub use input::{
    Interview, InviteRecord, KnownInterview, KnownParticipant, Memory, Observed, Opportunity,
    Participant, Scope,
};
pub use invite::first_email;
pub use rules::Rules;

use crate::domain::attention::AttentionReason;
use crate::domain::{Millis, OpportunityId, ParticipantKey};
use connect::Connector;
use journal::Journal;

/// Plans one pass. See the module documentation for the rules it decides.
pub fn plan(rules: &Rules, observed: &Observed, memory: &Memory, now: Millis) -> Plan {
    let interviews = interviews::resolve(rules, observed, memory);
    let connector = Connector {
        index: &interviews.index,
        posting_tags: observed.postings.as_ref().unwrap_or(&memory.posting_tags),
        match_posting_tags: rules.match_posting_tags,
    };
    let journal = Journal::new(&memory.invites);
    let observed_participants = participants_by_key(&observed.participants);
    let participants = status::participants(rules, &observed_participants, memory, now);

    let in_backoff = |id: &OpportunityId| memory.backoff_until.get(id).is_some_and(|t| *t > now);
    let catalog_id = rules.catalog_opportunity_id.as_ref();
    let opportunities = one_per_key(&observed.opportunities, |o| &o.id);
    let (actionable, deferred): (Vec<&Opportunity>, Vec<&Opportunity>) = opportunities
        .values()
        .copied()
        .filter(|o| !observed.deleted.contains(&o.id) && Some(&o.id) != catalog_id)
        .partition(|o| !in_backoff(&o.id));

    let invites = invite::plan_invites(
        rules,
        &actionable,
        &connector,
        &journal,
        &observed.participants,
        &memory.attention,
    );
    let mut actions = invites.actions;
    // Read fresh, so Lever shows it again: a "no access" item is over.
    actions.extend(
        actionable
            .iter()
            .filter(|o| {
                memory
                    .attention
                    .contains(&(o.id.clone(), AttentionReason::NoAccess))
            })
            .map(|o| Action::ClearAttention {
                opportunity_id: o.id.clone(),
                reason: AttentionReason::NoAccess,
            }),
    );
    actions.extend(status::plan_status(
        rules,
        &actionable,
        &journal,
        &invites.new_links,
        &participants,
        now,
    ));
    actions.extend(note::plan_notes(
        rules,
        &actionable,
        &journal,
        &participants,
        observed,
        memory,
    ));
    let mut catalog_warning = None;
    // The catalog follows the interviews only when they were listed: a stale view must not
    // strip tags from it.
    if let (Some(id), Some(catalog), Some(_)) =
        (catalog_id, &observed.catalog, &observed.interviews)
        && catalog.id == *id
        && !observed.deleted.contains(id)
        && !in_backoff(id)
    {
        match catalog::plan_catalog(catalog, &interviews, rules.catalog_max_tags) {
            Ok(catalog_actions) => actions.extend(catalog_actions),
            Err(too_large) => catalog_warning = Some(too_large),
        }
    }
    let mut actions = only_owned(actions, &interviews.owned);
    actions.sort();

    let mut warnings = interviews.warnings;
    warnings.extend(catalog_warning);
    warnings.extend(invites.warnings);
    warnings.extend(participants.warnings);
    warnings.sort();
    warnings.dedup();

    Plan {
        actions,
        remember: Remember {
            interviews: interviews.changed,
            participants: participants.changed,
            posting_tags: observed.postings.clone(),
            deleted: observed.deleted.clone(),
        },
        warnings,
        deferred: deferred.into_iter().map(|o| o.id.clone()).collect(),
    }
}

/// One item per key; when a listing repeats a key (a page boundary moving under us), the
/// greatest item by `Ord` is kept so the choice does not depend on the listing's order.
fn one_per_key<'a, T: Ord, K: Ord + ?Sized + 'a>(
    items: &'a [T],
    key: impl Fn(&'a T) -> &'a K,
) -> BTreeMap<&'a K, &'a T> {
    let mut out: BTreeMap<&K, &T> = BTreeMap::new();
    for item in items {
        let slot = out.entry(key(item)).or_insert(item);
        if item > *slot {
            *slot = item;
        }
    }
    out
}

fn participants_by_key(items: &[Participant]) -> BTreeMap<ParticipantKey, Participant> {
    one_per_key(items, |p| &p.key)
        .into_iter()
        .map(|(k, p)| (k.clone(), p.clone()))
        .collect()
}

/// Drops any tag the daemon does not own from tag actions (and actions left empty). The rules
/// above never produce one; this keeps a future mistake from ever reaching a customer's tags.
fn only_owned(actions: Vec<Action>, owned: &BTreeSet<String>) -> Vec<Action> {
    actions
        .into_iter()
        .filter_map(|a| match a {
            Action::AddTags {
                opportunity_id,
                tags,
            } => {
                let tags = owned_subset(tags, owned);
                (!tags.is_empty()).then_some(Action::AddTags {
                    opportunity_id,
                    tags,
                })
            }
            Action::RemoveTags {
                opportunity_id,
                tags,
            } => {
                let tags = owned_subset(tags, owned);
                (!tags.is_empty()).then_some(Action::RemoveTags {
                    opportunity_id,
                    tags,
                })
            }
            other => Some(other),
        })
        .collect()
}

fn owned_subset(tags: BTreeSet<String>, owned: &BTreeSet<String>) -> BTreeSet<String> {
    let before = tags.len();
    let kept: BTreeSet<String> = tags.into_iter().filter(|t| owned.contains(t)).collect();
    debug_assert_eq!(
        kept.len(),
        before,
        "the planner named a tag it does not own"
    );
    kept
}
