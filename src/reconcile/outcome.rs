//! What one applied action did, as one value: recording it updates the pass's counts, the
//! metrics and the log together, so the three never disagree.

use std::collections::{BTreeMap, BTreeSet};

use super::apply::Applied;
use super::tenant::Tenant;
use crate::domain::attention::AttentionReason;
use crate::domain::{InterviewKey, OpportunityId, ParticipantKey};
use crate::error_chain::chain;
use crate::http::ApiError;
use crate::plan::Opportunity;
use crate::store::StoreError;

/// An action that completed (or ended in a way the journal already accounts for).
#[derive(Debug)]
pub(crate) enum Done {
    /// A participant was created: one invite email went out.
    Invited {
        ids: Vec<OpportunityId>,
        interview: InterviewKey,
        participant: ParticipantKey,
    },
    /// An existing participant was recorded for these opportunities; no invite email.
    /// `found` when the pre-invite lookup found it (rather than the planner); `retag` when its
    /// state is not the "invited" the planned status tags assumed.
    Adopted {
        ids: Vec<OpportunityId>,
        interview: InterviewKey,
        participant: ParticipantKey,
        found: bool,
        retag: bool,
    },
    /// The listing could not prove the person absent (participants without an email): nothing
    /// sent, a needs-attention item recorded.
    Inconclusive {
        ids: Vec<OpportunityId>,
        interview: InterviewKey,
        without_email: usize,
    },
    /// Every journal row was already past `planned`: another run owns this invite.
    NotOurs,
    /// Willo refused the invite: journalled `failed`, needs attention, no retry.
    Refused {
        ids: Vec<OpportunityId>,
        interview: InterviewKey,
        error: String,
    },
    TagsWritten {
        id: OpportunityId,
        tags: BTreeSet<String>,
        add: bool,
        /// The opportunity's tags as Lever returned them after the write, when it did.
        after: Option<BTreeSet<String>>,
    },
    /// The completion note was posted (rule: completion note).
    NotePosted {
        id: OpportunityId,
        interview: InterviewKey,
        /// Lever's id, when its answer carried one.
        note_id: Option<String>,
    },
    /// The completion note was already in Lever (found by its marker): recorded, not posted.
    NoteFound,
    /// The opportunity answered 404 to a write: deleted since it was read.
    Vanished { id: OpportunityId },
    Attention {
        id: OpportunityId,
        reason: AttentionReason,
        recorded: bool,
    },
}

impl Done {
    /// True when it changed Lever, Willo or the journal for its opportunities.
    pub fn wrote(&self) -> bool {
        matches!(
            self,
            Done::Invited { .. }
                | Done::Adopted { .. }
                | Done::TagsWritten { .. }
                | Done::NotePosted { .. }
        )
    }

    /// Whether the status tags planned with this invite must wait, and why.
    pub fn tags_wait(&self) -> Option<Wait> {
        match self {
            // No `done` journal row: the status tag would claim something untrue.
            Done::NotOurs | Done::Refused { .. } => Some(Wait::Failed),
            Done::Inconclusive { .. } | Done::Adopted { retag: true, .. } => Some(Wait::Deferred),
            _ => None,
        }
    }

    /// Counts, measures and logs what happened. `observed` names the candidates: each action
    /// line carries their names and Lever links next to the ids.
    pub fn record(&self, tenant: &Tenant, observed: &Observed<'_>, stats: &mut Applied) {
        let (t, m) = (&tenant.id, &tenant.metrics);
        match self {
            Done::Invited {
                ids,
                interview,
                participant,
            } => {
                stats.invites_sent += 1;
                m.invite(t, "sent");
                let (candidates, links) = who(observed, ids);
                tracing::info!(tenant = %t, action = "invite", opportunities = ?ids,
                    candidates = ?candidates, links = ?links, interview = %interview,
                    participant = %participant, "invited: one invite email sent");
            }
            Done::Adopted {
                ids,
                interview,
                participant,
                found,
                ..
            } => {
                stats.invites_adopted += count(ids.len());
                m.invite(t, "adopted");
                let (candidates, links) = who(observed, ids);
                // The planner saw the participant in the pass, or the lookup right before the
                // create found it: the same event either way.
                let seen_by = if *found { "lookup" } else { "plan" };
                tracing::info!(tenant = %t, action = "adopt", opportunities = ?ids,
                    candidates = ?candidates, links = ?links, interview = %interview,
                    participant = %participant, seen_by,
                    "adopted the participant already in Willo: no invite email");
            }
            Done::NotOurs | Done::NoteFound => {}
            Done::Inconclusive {
                ids,
                interview,
                without_email,
            } => {
                m.invite(t, "inconclusive");
                let (candidates, links) = who(observed, ids);
                tracing::warn!(tenant = %t, action = "invite", opportunities = ?ids,
                    candidates = ?candidates, links = ?links, interview = %interview,
                    without_email, "not invited: the interview lists participants without an email, so this candidate may be one of them; needs attention");
            }
            Done::Refused {
                ids,
                interview,
                error,
            } => {
                stats.invites_failed += 1;
                m.invite(t, "rejected");
                let (candidates, links) = who(observed, ids);
                tracing::warn!(tenant = %t, action = "invite", opportunities = ?ids,
                    candidates = ?candidates, links = ?links, interview = %interview,
                    error = %error, "invite refused by Willo; needs attention");
            }
            Done::TagsWritten { id, tags, add, .. } => {
                record_tags(tenant, observed, id, tags, *add, stats);
            }
            Done::NotePosted {
                id,
                interview,
                note_id,
            } => {
                stats.notes_posted += 1;
                let (candidate, link) = one(observed, id);
                tracing::info!(tenant = %t, action = "post_note", opportunity = %id, candidate,
                    link, interview = %interview, note = note_id.as_deref().unwrap_or(""),
                    "completion note posted");
            }
            Done::Vanished { id } => {
                let (candidate, link) = one(observed, id);
                tracing::info!(tenant = %t, action = "tags", opportunity = %id, candidate,
                    link, "opportunity deleted in Lever before its tags were written");
            }
            Done::Attention {
                id,
                reason,
                recorded: true,
            } => {
                stats.attention_recorded += 1;
                let (candidate, link) = one(observed, id);
                tracing::warn!(tenant = %t, action = "record_attention", opportunity = %id,
                    candidate, link, reason = %reason, "needs attention");
            }
            Done::Attention {
                recorded: false, ..
            } => stats.attention_cleared += 1,
        }
    }
}

/// The opportunities a pass read, by id: where action lines find names and links.
pub(crate) type Observed<'p> = BTreeMap<&'p str, &'p Opportunity>;

/// The candidate's name and Lever link of one opportunity; a field the pass did not read
/// (the catalog placeholder's name, a link Lever did not send) is left out of the line.
fn one<'a>(observed: &'a Observed<'_>, id: &str) -> (Option<&'a str>, Option<&'a str>) {
    observed
        .get(id)
        .map_or((None, None), |o| (Some(o.name.as_str()), o.link.as_deref()))
}

/// The names and links of `ids`, in their order ("" for one not read).
fn who<'a>(observed: &'a Observed<'_>, ids: &[OpportunityId]) -> (Vec<&'a str>, Vec<&'a str>) {
    ids.iter()
        .map(|id| {
            let (name, link) = one(observed, id);
            (name.unwrap_or(""), link.unwrap_or(""))
        })
        .unzip()
}

/// Why the actions that depend on an invite wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// The invite failed or was refused: they are skipped.
    Failed,
    /// The invite is not settled yet: they are deferred to a later pass.
    Deferred,
}

/// Why an action failed. The opportunity is retried after its backoff.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ActionError {
    #[error(transparent)]
    Api(ApiError),
    /// The journal or another record could not be written: the pass stops taking actions,
    /// because the journal is what makes invites happen once.
    #[error(transparent)]
    Store(StoreError),
    /// The invite POST may have reached Willo: journalled `ambiguous`, settled by a lookup at
    /// the start of the next pass.
    #[error(transparent)]
    Ambiguous(ApiError),
    /// The invite POST provably took no effect: the journal row went back to `planned`.
    #[error(transparent)]
    NotSent(ApiError),
    /// The note POST may have reached Lever: its row stays `in_flight`, settled by the marker
    /// at the start of the next pass.
    #[error(transparent)]
    NoteUnknown(ApiError),
}

impl ActionError {
    /// A stable word for the error, for logs, metrics and `--json`.
    pub fn kind(&self) -> &'static str {
        match self {
            ActionError::Api(e) | ActionError::NotSent(e) => e.metric_label(),
            ActionError::Store(_) => "store",
            ActionError::Ambiguous(_) | ActionError::NoteUnknown(_) => "ambiguous",
        }
    }

    /// Counts, measures and logs the failure.
    pub fn record(&self, tenant: &Tenant, stats: &mut Applied) {
        let t = &tenant.id;
        stats.failed += 1;
        match self {
            ActionError::Ambiguous(e) => {
                stats.invites_ambiguous += 1;
                tenant.metrics.invite(t, "ambiguous");
                tracing::warn!(tenant = %t, error = %chain(e),
                    "invite outcome unknown; the next pass looks it up before anything else");
            }
            ActionError::NotSent(_) => tenant.metrics.invite(t, "not_sent"),
            ActionError::Store(e) => {
                tracing::error!(tenant = %t, error = %chain(e),
                    "state store write failed; stopping this pass's actions");
            }
            ActionError::NoteUnknown(e) => {
                stats.notes_unknown += 1;
                tracing::warn!(tenant = %t, error = %chain(e),
                    "completion note outcome unknown; the next pass looks for its marker before posting again");
            }
            ActionError::Api(_) => {}
        }
    }
}

fn record_tags(
    tenant: &Tenant,
    observed: &Observed<'_>,
    id: &str,
    tags: &BTreeSet<String>,
    add: bool,
    stats: &mut Applied,
) {
    let n = count(tags.len());
    let (op, action) = if add {
        stats.tags_added += n;
        ("add", "add_tags")
    } else {
        stats.tags_removed += n;
        ("remove", "remove_tags")
    };
    tenant.metrics.tag_write(&tenant.id, op, u64::from(n));
    let (candidate, link) = one(observed, id);
    let tags: Vec<&String> = tags.iter().collect();
    if add {
        tracing::info!(tenant = %tenant.id, action, opportunity = %id, candidate, link,
            tags = ?tags, "tags added");
    } else {
        tracing::info!(tenant = %tenant.id, action, opportunity = %id, candidate, link,
            tags = ?tags, "tags removed");
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
