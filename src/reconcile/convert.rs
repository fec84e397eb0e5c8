//! Client models → planner inputs, and planner state → store rows. The only place that knows
//! both vocabularies.

use super::tenant::Tenant;
use crate::lever;
use crate::plan;
use crate::willo;

pub fn opportunity(o: &lever::Opportunity) -> plan::Opportunity {
    plan::Opportunity {
        id: o.id.clone(),
        name: o.name.clone(),
        emails: o.emails.clone(),
        stage_id: o.stage_id.clone(),
        tags: o.tags.iter().cloned().collect(),
        posting_id: o.posting_id.clone(),
        archived: o.archived,
        anonymized: o.anonymized,
        contact_allowed: o.contact_allowed,
        updated_at: o.updated_at,
        link: o.show_url.clone(),
    }
}

/// A participant as the pass sees it, with a one-time warning when its state looks like a
/// stage key (32 hex) rather than a name: the status map can map keys, but an operator should
/// know that is what Willo sends (rule: unknown states).
pub fn participant_seen(
    tenant: &Tenant,
    p: &willo::Participant,
    listed_interview: &str,
) -> plan::Participant {
    if p.state_is_key
        && let Some(state) = &p.state
        && tenant.notices.first("state_is_key", state)
    {
        tracing::warn!(tenant = %tenant.id, state = %state,
            "a Willo participant's state is a key, not a name: map it in willo.status_map, or point willo.state_fields at the stage's name (doctor shows the fields)");
        tenant.metrics.warning(&tenant.id, "state_is_key");
    }
    participant(p, listed_interview)
}

/// A participant of a known interview. Rows that do not say which interview they belong to are
/// attributed to the interview that was listed (the directory leaves out rows that name
/// another one).
pub fn participant(p: &willo::Participant, listed_interview: &str) -> plan::Participant {
    plan::Participant {
        key: p.key.clone(),
        interview_key: p
            .interview_key
            .clone()
            .unwrap_or_else(|| listed_interview.to_owned()),
        email: p.email.clone(),
        state: p.state.clone(),
        updated_at: p.updated_at,
        response_link: p.response_link.clone(),
    }
}

pub fn interview(i: &willo::Interview) -> plan::Interview {
    plan::Interview {
        key: i.key.clone(),
        title: i.title.clone(),
    }
}
