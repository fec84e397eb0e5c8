//! What the store remembers, as the planner's `Memory`: all of it for a pass, or only what
//! concerns a few opportunities for a hint's reconcile (read by index, so a hint costs the same
//! whatever the size of the journal).

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use crate::domain::attention::AttentionReason;
use crate::plan::{InviteRecord, KnownInterview, KnownParticipant, Memory, Observed};
use crate::store::COMPLETION_NOTES_FROM;
use crate::store::{InterviewRow, InviteRow, ParticipantRow, PostingRow, Reader, StoreError};

/// What a pass's account-wide step plans over: every interview and posting, and the backoff
/// of the catalog placeholder (the only opportunity that step acts on).
pub fn load_account(
    r: &Reader<'_>,
    tenant: &str,
    catalog: &[String],
    now: i64,
) -> Result<Memory, StoreError> {
    Ok(Memory {
        interviews: r.interviews(tenant)?.into_iter().map(interview).collect(),
        posting_tags: r.postings(tenant)?.into_iter().map(posting).collect(),
        backoff_until: r.backoffs_of(tenant, catalog, now)?.into_iter().collect(),
        ..Memory::default()
    })
}

/// What the store remembers about the opportunities of a targeted observation: their journal
/// rows and those of anyone with the same email, the participants those rows and the
/// observation name, their postings' tags, attention items and backoffs, and every interview.
pub fn load_around(
    r: &Reader<'_>,
    tenant: &str,
    observed: &Observed,
    now: i64,
) -> Result<Memory, StoreError> {
    let ids: Vec<String> = observed
        .opportunities
        .iter()
        .map(|o| o.id.clone())
        .chain(observed.deleted.iter().cloned())
        .collect();
    let emails: Vec<String> = observed
        .opportunities
        .iter()
        .filter_map(crate::plan::first_email)
        .map(|e| e.trim().to_owned())
        .collect();
    let mut rows: BTreeMap<(String, String), InviteRow> = BTreeMap::new();
    for row in r
        .invites_of_opportunities(tenant, &ids)?
        .into_iter()
        .chain(r.invites_by_email(tenant, &emails)?)
    {
        rows.insert((row.opportunity_id.clone(), row.interview_key.clone()), row);
    }
    let keys: Vec<String> = rows
        .values()
        .filter_map(|i| i.participant_key.clone())
        .chain(observed.participants.iter().map(|p| p.key.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let postings: Vec<String> = observed
        .opportunities
        .iter()
        .filter_map(|o| o.posting_id.clone())
        .collect();
    Ok(Memory {
        invites: rows.into_values().map(invite).collect(),
        interviews: r.interviews(tenant)?.into_iter().map(interview).collect(),
        participants: r
            .participants_by_keys(tenant, &keys)?
            .into_iter()
            .map(participant)
            .collect(),
        posting_tags: r
            .postings_by_ids(tenant, &postings)?
            .into_iter()
            .map(posting)
            .collect(),
        attention: attention(r.attention_of(tenant, &ids)?),
        backoff_until: r.backoffs_of(tenant, &ids, now)?.into_iter().collect(),
        notes: r
            .notes_of_opportunities(tenant, &ids)?
            .into_iter()
            .map(|n| ((n.opportunity_id, n.interview_key), n.state))
            .collect(),
        notes_from: r
            .fact(tenant, COMPLETION_NOTES_FROM)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    })
}

fn invite(i: InviteRow) -> InviteRecord {
    InviteRecord {
        opportunity_id: i.opportunity_id,
        interview_key: i.interview_key,
        email: i.email,
        participant_key: i.participant_key,
        state: i.state,
    }
}

fn interview(i: InterviewRow) -> KnownInterview {
    KnownInterview {
        key: i.key,
        title: i.title,
        current_tag: i.current_tag,
        issued_tags: i.tags.into_iter().collect(),
        open: i.open,
    }
}

fn participant(p: ParticipantRow) -> (String, KnownParticipant) {
    (
        p.key,
        KnownParticipant {
            state: p.state,
            changed_at: p.changed_at,
            response_link: p.response_link,
        },
    )
}

fn posting(p: PostingRow) -> (String, BTreeSet<String>) {
    (p.id, p.tags.into_iter().collect())
}

/// Attention items the planner knows; a reason this build does not know (written by a newer
/// one) is not the planner's business: it stays in the store for `status` to show.
fn attention(
    items: impl IntoIterator<Item = (String, String)>,
) -> BTreeSet<(String, AttentionReason)> {
    items
        .into_iter()
        .filter_map(|(id, reason)| Some((id, AttentionReason::from_str(&reason).ok()?)))
        .collect()
}
