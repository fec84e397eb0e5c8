//! Client models → planner inputs, and planner state → store rows. The only place that knows
//! both vocabularies.

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

/// A participant of a known interview. Rows that do not say which interview they belong to are
/// attributed to the interview that was listed (the client already dropped foreign rows).
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
    }
}

pub fn interview(i: &willo::Interview) -> plan::Interview {
    plan::Interview {
        key: i.key.clone(),
        title: i.title.clone(),
    }
}
