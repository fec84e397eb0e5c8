//! The remembered invite journal, indexed the ways the rules ask about it.

use std::collections::{BTreeMap, BTreeSet};

use super::input::InviteRecord;
use crate::domain::email::email_key;
use crate::domain::invite::InviteState;
use crate::domain::{InterviewKey, OpportunityId, ParticipantKey};

/// (email key, interview key).
pub(crate) type EmailInterview = (String, InterviewKey);

#[derive(Debug, Default)]
pub(crate) struct Journal {
    /// (opportunity, interview) pairs with a row that counts as an invite: any state but
    /// `planned` (a planned row never left the process).
    blocked: BTreeSet<(OpportunityId, InterviewKey)>,
    /// Participants recorded for an (email, interview) by any opportunity.
    recorded: BTreeMap<EmailInterview, BTreeSet<ParticipantKey>>,
    /// Rows whose POST may have reached Willo but whose participant is not known.
    unresolved: BTreeMap<EmailInterview, InviteRecord>,
    /// Opportunity → interview → participant of its `done` invite.
    done: BTreeMap<OpportunityId, BTreeMap<InterviewKey, ParticipantKey>>,
}

impl Journal {
    pub fn new(rows: &[InviteRecord]) -> Journal {
        let mut j = Journal::default();
        for r in rows.iter().filter(|r| r.state.blocks_reinvite()) {
            j.blocked
                .insert((r.opportunity_id.clone(), r.interview_key.clone()));
            if r.state == InviteState::Done
                && let Some(p) = &r.participant_key
            {
                let slot = j
                    .done
                    .entry(r.opportunity_id.clone())
                    .or_default()
                    .entry(r.interview_key.clone())
                    .or_insert_with(|| p.clone());
                // Two rows for one pair cannot exist in the store; pick one independently of
                // row order anyway.
                if p < slot {
                    *slot = p.clone();
                }
            }
            let Some(email) = email_key(&r.email) else {
                continue;
            };
            let key = (email, r.interview_key.clone());
            match &r.participant_key {
                Some(p) => {
                    j.recorded.entry(key).or_default().insert(p.clone());
                }
                None => {
                    let slot = j.unresolved.entry(key).or_insert_with(|| r.clone());
                    if r < slot {
                        *slot = r.clone();
                    }
                }
            }
        }
        j
    }

    /// True when (opportunity, interview) was ever invited (or may have been).
    pub fn blocks(&self, opportunity_id: &str, interview_key: &str) -> bool {
        self.blocked
            .contains(&(opportunity_id.to_owned(), interview_key.to_owned()))
    }

    /// A participant some opportunity already recorded for this (email, interview).
    pub fn recorded_participant(&self, key: &EmailInterview) -> Option<&ParticipantKey> {
        self.recorded.get(key).and_then(|s| s.first())
    }

    /// An invite to this (email, interview) whose outcome is not known.
    pub fn unresolved(&self, key: &EmailInterview) -> Option<&InviteRecord> {
        self.unresolved.get(key)
    }

    /// The interviews this opportunity has a `done` invite to, with their participants.
    pub fn done_for(
        &self,
        opportunity_id: &str,
    ) -> Option<&BTreeMap<InterviewKey, ParticipantKey>> {
        self.done.get(opportunity_id)
    }
}
