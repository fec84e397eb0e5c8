//! What the store remembers, as the planner's `Memory`.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use crate::domain::attention::AttentionReason;
use crate::plan::{InviteRecord, KnownInterview, KnownParticipant, Memory};
use crate::store::{Reader, StoreError};

pub fn load(r: &Reader<'_>, tenant: &str, now: i64) -> Result<Memory, StoreError> {
    let invites = r
        .invites(tenant)?
        .into_iter()
        .map(|i| InviteRecord {
            opportunity_id: i.opportunity_id,
            interview_key: i.interview_key,
            email: i.email,
            participant_key: i.participant_key,
            state: i.state,
        })
        .collect();
    let interviews = r
        .interviews(tenant)?
        .into_iter()
        .map(|i| KnownInterview {
            key: i.key,
            title: i.title,
            current_tag: i.current_tag,
            issued_tags: i.tags.into_iter().collect(),
            open: i.open,
        })
        .collect();
    let participants = r
        .participants(tenant)?
        .into_iter()
        .map(|p| {
            (
                p.key,
                KnownParticipant {
                    state: p.state,
                    changed_at: p.changed_at,
                },
            )
        })
        .collect();
    let posting_tags = r
        .postings(tenant)?
        .into_iter()
        .map(|p| (p.id, p.tags.into_iter().collect::<BTreeSet<_>>()))
        .collect();
    let mut attention = BTreeSet::new();
    for a in r.attention(tenant)? {
        // A reason this build does not know (written by a newer one) is not the planner's
        // business; it stays in the store for `status` to show.
        if let Ok(reason) = AttentionReason::from_str(&a.reason) {
            attention.insert((a.opportunity_id, reason));
        }
    }
    let backoff_until: BTreeMap<_, _> = r.opportunity_backoffs(tenant, now)?.into_iter().collect();
    Ok(Memory {
        invites,
        interviews,
        participants,
        posting_tags,
        attention,
        backoff_until,
    })
}
