//! When to invite (docs/behaviour.md, "Inviting"): eligibility, the no-email / no-consent attention items, once per
//! (opportunity, interview), and one participant per (email, interview).

use std::collections::{BTreeMap, BTreeSet};

use super::action::{Action, Warning};
use super::connect::Connector;
use super::input::{Opportunity, Participant};
use super::journal::{EmailInterview, Journal};
use super::rules::Rules;
use crate::domain::attention::AttentionReason;
use crate::domain::email::email_key;
use crate::domain::{InterviewKey, OpportunityId, ParticipantKey};

/// Interview → the participant recorded for it (`None` = created by an `Invite` of this plan).
pub(crate) type NewLinks = BTreeMap<InterviewKey, Option<ParticipantKey>>;

#[derive(Debug, Default)]
pub(crate) struct Invites {
    pub actions: Vec<Action>,
    pub warnings: Vec<Warning>,
    /// Opportunity → the participants this plan records for it.
    pub new_links: BTreeMap<OpportunityId, NewLinks>,
}

/// Plans invites, adoptions and the attention items that stand in for an invite.
///
/// `opportunities` are the ones observed fresh that may get actions this pass (not deleted,
/// not the catalog, not in backoff); `participants` are every participant row observed fresh.
/// Rows are not deduplicated here on purpose: if any row shows the email in the interview,
/// sending a second invite email is the mistake to avoid.
pub(crate) fn plan_invites(
    rules: &Rules,
    opportunities: &[&Opportunity],
    connector: &Connector<'_>,
    journal: &Journal,
    participants: &[Participant],
    attention: &BTreeSet<(OpportunityId, AttentionReason)>,
) -> Invites {
    let mut out = Invites::default();
    // (email key, interview) → opportunities due an invite, by id (so the first is the least).
    let mut due: BTreeMap<EmailInterview, BTreeMap<&OpportunityId, &Opportunity>> = BTreeMap::new();

    for opp in opportunities {
        let wanted = wanted_interviews(rules, opp, connector, journal);
        let email = first_email(opp);
        let no_consent = !wanted.is_empty() && opp.contact_allowed == Some(false);
        let no_email = !wanted.is_empty() && email.is_none();
        for (reason, holds) in [
            (AttentionReason::NoEmail, no_email),
            (AttentionReason::NoConsent, no_consent),
        ] {
            // Only changes are planned, so an item already recorded causes no churn.
            let recorded = attention.contains(&(opp.id.clone(), reason));
            let opportunity_id = opp.id.clone();
            if holds && !recorded {
                out.actions.push(Action::RecordAttention {
                    opportunity_id,
                    reason,
                });
            } else if !holds && recorded {
                out.actions.push(Action::ClearAttention {
                    opportunity_id,
                    reason,
                });
            }
        }
        if no_consent {
            continue;
        }
        let Some(email) = email.and_then(email_key) else {
            continue;
        };
        for interview in wanted {
            due.entry((email.clone(), interview))
                .or_default()
                .insert(&opp.id, opp);
        }
    }

    let mut seen: BTreeMap<EmailInterview, &ParticipantKey> = BTreeMap::new();
    for p in participants {
        if let Some(email) = p.email.as_deref().and_then(email_key) {
            let slot = seen
                .entry((email, p.interview_key.clone()))
                .or_insert(&p.key);
            if p.key < **slot {
                *slot = &p.key;
            }
        }
    }

    for (key, opps) in due {
        let interview_key = key.1.clone();
        // A participant the journal already names wins over one merely listed, so two
        // opportunities of one person end up on the same participant.
        let existing = journal
            .recorded_participant(&key)
            .or_else(|| seen.get(&key).copied());
        if let Some(participant_key) = existing {
            for (id, opp) in &opps {
                out.actions.push(Action::Adopt {
                    interview_key: interview_key.clone(),
                    participant_key: participant_key.clone(),
                    opportunity_id: (*id).clone(),
                    email: first_email(opp)
                        .map(str::trim)
                        .unwrap_or_default()
                        .to_owned(),
                });
                out.new_links
                    .entry((*id).clone())
                    .or_default()
                    .insert(interview_key.clone(), Some(participant_key.clone()));
            }
            continue;
        }
        let opportunity_ids: Vec<OpportunityId> = opps.keys().map(|id| (*id).clone()).collect();
        if let Some(row) = journal.unresolved(&key) {
            out.warnings.push(Warning::InviteWaitsForUnresolved {
                interview_key,
                opportunity_ids,
                unresolved_opportunity_id: row.opportunity_id.clone(),
                unresolved_state: row.state.as_str().to_owned(),
            });
            continue;
        }
        let Some(first) = opps.values().next() else {
            continue;
        };
        let email = first_email(first).map(str::trim).unwrap_or_default();
        let (name, first_name, last_name) = names(&first.name, email);
        for id in &opportunity_ids {
            out.new_links
                .entry(id.clone())
                .or_default()
                .insert(interview_key.clone(), None);
        }
        out.actions.push(Action::Invite {
            interview_key,
            email: email.to_owned(),
            name,
            first_name,
            last_name,
            opportunity_ids,
        });
    }
    out
}

/// The open interviews this opportunity is due an invite to, ignoring email and consent:
/// rule "eligible to invite" (docs/behaviour.md) without its email and consent conditions. Anonymized opportunities never are (their data is gone on
/// purpose); archived ones are not either.
fn wanted_interviews(
    rules: &Rules,
    opp: &Opportunity,
    connector: &Connector<'_>,
    journal: &Journal,
) -> BTreeSet<InterviewKey> {
    let in_trigger_stage = opp
        .stage_id
        .as_ref()
        .is_some_and(|s| rules.trigger_stage_ids.contains(s));
    if opp.archived || opp.anonymized || !in_trigger_stage {
        return BTreeSet::new();
    }
    connector
        .connected(opp)
        .into_iter()
        .filter(|i| !journal.blocks(&opp.id, i))
        .collect()
}

/// The first non-blank address, as Lever orders them (rule: first non-blank email, docs/behaviour.md).
pub fn first_email(opp: &Opportunity) -> Option<&str> {
    opp.emails
        .iter()
        .map(String::as_str)
        .find(|e| email_key(e).is_some())
}

/// Willo's `name` (required), `first_name` and `last_name`: the first word is the first name
/// and the rest the last name, as a person typing them into Willo's form would mostly do.
fn names(name: &str, email: &str) -> (String, Option<String>, Option<String>) {
    let words: Vec<&str> = name.split_whitespace().collect();
    match words.split_first() {
        None => (email.to_owned(), None, None),
        Some((first, rest)) => (
            words.join(" "),
            Some((*first).to_owned()),
            (!rest.is_empty()).then(|| rest.join(" ")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::names;

    #[test]
    fn names_split_first_word_from_the_rest() {
        assert_eq!(
            names(" Mary  Ann Smith ", "m@x"),
            (
                "Mary Ann Smith".into(),
                Some("Mary".into()),
                Some("Ann Smith".into())
            )
        );
        assert_eq!(
            names("Cher", "c@x"),
            ("Cher".into(), Some("Cher".into()), None)
        );
        assert_eq!(names("  ", "c@x"), ("c@x".into(), None, None));
    }
}
