//! What the planner returns: actions to apply, state to remember, and warnings.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::input::{KnownInterview, KnownParticipant};
use crate::domain::attention::AttentionReason;
use crate::domain::{InterviewKey, OpportunityId, ParticipantKey, PostingId};

/// The result of one planning run.
///
/// `actions` are sorted (by kind in declaration order, then by ids) and `warnings` are sorted and
/// deduplicated, so equal inputs give byte-equal plans whatever order the inputs came in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub actions: Vec<Action>,
    pub remember: Remember,
    pub warnings: Vec<Warning>,
    /// Observed opportunities left alone because they wait out the backoff of an earlier
    /// failure: work this pass defers (rule: per-opportunity backoff).
    pub deferred: BTreeSet<OpportunityId>,
}

/// One change to make in Willo, Lever or the needs-attention list.
///
/// # Contract with the apply step
/// - `Invite` and `Adopt` record their participant for each named opportunity as `done` in the
///   journal (`Invite` through the `planned → in_flight → done` protocol), and the apply step
///   saves a newly created participant as a [`KnownParticipant`] with the state Willo returned
///   (or `None`) and `changed_at = now`.
/// - The status tag an opportunity gets from an `Invite`/`Adopt` (normally `Willo:Invited`, or
///   the adopted participant's mapped state) is **not implied**: it is planned as ordinary
///   `AddTags`/`RemoveTags` actions on that opportunity. Those tag actions depend on the invite:
///   apply them only after the opportunity's `Invite`/`Adopt` succeeded, and skip them when it
///   did not (failed or ambiguous; the next pass plans them again).
///   [`Plan::opportunities_awaiting_invite`] lists the opportunities this applies to.
/// - `AddTags` before `RemoveTags` on the same opportunity, so a status change never leaves the
///   opportunity without a status tag in between.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// Create ONE participant for (email, interview) and record it for every listed opportunity
    /// (the same person can hold several opportunities: one participant, one invite email).
    Invite {
        interview_key: InterviewKey,
        /// Trimmed, as written on the first listed opportunity.
        email: String,
        /// Willo requires a name; the opportunity's name, or the email when that is blank.
        name: String,
        first_name: Option<String>,
        last_name: Option<String>,
        /// Sorted; never empty.
        opportunity_ids: Vec<OpportunityId>,
    },
    /// A participant with this email already exists in this interview: record it for this
    /// opportunity. No invite email is sent.
    Adopt {
        interview_key: InterviewKey,
        participant_key: ParticipantKey,
        opportunity_id: OpportunityId,
        /// The opportunity's first email, trimmed, for the journal row.
        email: String,
    },
    AddTags {
        opportunity_id: OpportunityId,
        tags: BTreeSet<String>,
    },
    RemoveTags {
        opportunity_id: OpportunityId,
        tags: BTreeSet<String>,
    },
    /// Post the one completion note of (opportunity, interview) (rule: completion note). The
    /// apply step journals it `in_flight` before the POST and never repeats an unknown outcome
    /// without finding the marker first. `text` ends with the marker line.
    PostNote {
        opportunity_id: OpportunityId,
        interview_key: InterviewKey,
        text: String,
    },
    RecordAttention {
        opportunity_id: OpportunityId,
        reason: AttentionReason,
    },
    ClearAttention {
        opportunity_id: OpportunityId,
        reason: AttentionReason,
    },
}

impl Action {
    /// A stable name for summaries and metric labels.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Invite { .. } => "invite",
            Action::Adopt { .. } => "adopt",
            Action::AddTags { .. } => "add_tags",
            Action::RemoveTags { .. } => "remove_tags",
            Action::PostNote { .. } => "post_note",
            Action::RecordAttention { .. } => "record_attention",
            Action::ClearAttention { .. } => "clear_attention",
        }
    }

    /// The opportunities this action touches (the apply step never runs two actions on one
    /// opportunity at once).
    pub fn opportunity_ids(&self) -> Vec<&OpportunityId> {
        match self {
            Action::Invite {
                opportunity_ids, ..
            } => opportunity_ids.iter().collect(),
            Action::Adopt { opportunity_id, .. }
            | Action::AddTags { opportunity_id, .. }
            | Action::RemoveTags { opportunity_id, .. }
            | Action::PostNote { opportunity_id, .. }
            | Action::RecordAttention { opportunity_id, .. }
            | Action::ClearAttention { opportunity_id, .. } => vec![opportunity_id],
        }
    }

    /// The tags this action writes, if it writes tags.
    pub fn tags(&self) -> Option<&BTreeSet<String>> {
        match self {
            Action::AddTags { tags, .. } | Action::RemoveTags { tags, .. } => Some(tags),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
            items
                .into_iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
        match self {
            Action::Invite {
                interview_key,
                email,
                opportunity_ids,
                ..
            } => write!(
                f,
                "invite {email} to interview {interview_key} for opportunity {}",
                opportunity_ids.join(", ")
            ),
            Action::Adopt {
                interview_key,
                participant_key,
                opportunity_id,
                ..
            } => write!(
                f,
                "adopt participant {participant_key} of interview {interview_key} for opportunity {opportunity_id}"
            ),
            Action::AddTags {
                opportunity_id,
                tags,
            } => write!(f, "add tags {} to opportunity {opportunity_id}", list(tags)),
            Action::RemoveTags {
                opportunity_id,
                tags,
            } => write!(
                f,
                "remove tags {} from opportunity {opportunity_id}",
                list(tags)
            ),
            Action::PostNote {
                opportunity_id,
                interview_key,
                ..
            } => write!(
                f,
                "post the completion note of interview {interview_key} on opportunity {opportunity_id}"
            ),
            Action::RecordAttention {
                opportunity_id,
                reason,
            } => write!(
                f,
                "record needs attention ({reason}) for opportunity {opportunity_id}"
            ),
            Action::ClearAttention {
                opportunity_id,
                reason,
            } => write!(
                f,
                "clear needs attention ({reason}) for opportunity {opportunity_id}"
            ),
        }
    }
}

/// State the caller persists in the same transaction as the pass's results. Folding it into
/// [`Memory`](super::Memory) (and the applied tag actions into the observed opportunities)
/// and planning again yields no actions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Remember {
    /// Interviews that are new or changed (title, current tag, issued tags, open flag); upsert
    /// by key. `issued_tags` is the full set, never shrinking.
    pub interviews: Vec<KnownInterview>,
    /// Observed participants that are new or whose state changed, with `changed_at = now`.
    pub participants: BTreeMap<ParticipantKey, KnownParticipant>,
    /// The complete posting listing when postings were observed: replaces the remembered one.
    pub posting_tags: Option<BTreeMap<PostingId, BTreeSet<String>>>,
    /// Opportunities to mark deleted (their journal rows stay: the invites did happen).
    pub deleted: BTreeSet<OpportunityId>,
}

/// Something an operator should know; the plan goes ahead regardless.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Warning {
    /// A participant state the status map does not know: its opportunities' status tags are
    /// left as they are. `value` is the normalised text; the caller warns once per value.
    UnknownState {
        value: String,
        participant_key: ParticipantKey,
    },
    /// An open interview was renamed and these postings still carry an older tag. The old tag
    /// still connects (it is an alias), but the catalog no longer shows it.
    RenamedInterviewStillOnPostings {
        interview_key: InterviewKey,
        old_tag: String,
        postings: BTreeSet<PostingId>,
    },
    /// The interview's rendered tag is one of the four status tags, so it can never connect
    /// anything; rename the interview or change the tag template.
    TagCollidesWithStatusTag {
        interview_key: InterviewKey,
        tag: String,
    },
    /// Several open interviews claim one tag. When exactly one has it as its current tag, that
    /// one keeps it (`connects_to`) and the others' aliases are shadowed; otherwise the tag
    /// connects to none of them until the titles differ.
    AmbiguousInterviewTag {
        tag: String,
        interview_keys: BTreeSet<InterviewKey>,
        connects_to: Option<InterviewKey>,
    },
    /// These opportunities are due an invite, but an earlier invite to the same email and
    /// interview is unresolved (`in_flight`, `ambiguous` or `failed` without a participant),
    /// so nothing is sent until it is resolved.
    InviteWaitsForUnresolved {
        interview_key: InterviewKey,
        opportunity_ids: Vec<OpportunityId>,
        unresolved_opportunity_id: OpportunityId,
        unresolved_state: String,
    },
    /// The catalog would carry more tags than the tenant's cap: it is not written at all (a
    /// placeholder with thousands of tags helps nobody; the interview scope is the fix).
    CatalogTooLarge { tags: usize, cap: usize },
}

impl Warning {
    /// A stable name for metric labels.
    pub fn kind(&self) -> &'static str {
        match self {
            Warning::UnknownState { .. } => "unknown_state",
            Warning::RenamedInterviewStillOnPostings { .. } => {
                "renamed_interview_still_on_postings"
            }
            Warning::TagCollidesWithStatusTag { .. } => "tag_collides_with_status_tag",
            Warning::AmbiguousInterviewTag { .. } => "ambiguous_interview_tag",
            Warning::InviteWaitsForUnresolved { .. } => "invite_waits_for_unresolved",
            Warning::CatalogTooLarge { .. } => "catalog_too_large",
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::UnknownState {
                value,
                participant_key,
            } => write!(
                f,
                "participant {participant_key} has Willo state {value:?}, which the status map does not know; its status tag is left unchanged"
            ),
            Warning::RenamedInterviewStillOnPostings {
                interview_key,
                old_tag,
                postings,
            } => write!(
                f,
                "interview {interview_key} was renamed; postings {} still carry the old tag {old_tag:?}",
                postings.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            Warning::TagCollidesWithStatusTag { interview_key, tag } => write!(
                f,
                "interview {interview_key} renders the tag {tag:?}, which is a status tag; it connects nothing"
            ),
            Warning::AmbiguousInterviewTag {
                tag,
                interview_keys,
                connects_to,
            } => {
                let keys = interview_keys
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                match connects_to {
                    Some(k) => write!(
                        f,
                        "tag {tag:?} belongs to interviews {keys}; it connects to {k}, whose current tag it is"
                    ),
                    None => write!(
                        f,
                        "tag {tag:?} belongs to interviews {keys}; it connects to none of them until their titles differ"
                    ),
                }
            }
            Warning::InviteWaitsForUnresolved {
                interview_key,
                opportunity_ids,
                unresolved_opportunity_id,
                unresolved_state,
            } => write!(
                f,
                "opportunity {} waits for the {unresolved_state} invite of opportunity {unresolved_opportunity_id} to interview {interview_key} (same email)",
                opportunity_ids.join(", ")
            ),
            Warning::CatalogTooLarge { tags, cap } => write!(
                f,
                "the tag catalog would hold {tags} tags, more than catalog_max_tags ({cap}); the catalog opportunity is left as it is (narrow the interview scope or raise the cap)"
            ),
        }
    }
}

impl Plan {
    /// True when there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Opportunities named by an `Invite` or `Adopt`: their tag actions must wait for it and
    /// be skipped when it fails (see [`Action`]).
    pub fn opportunities_awaiting_invite(&self) -> BTreeSet<&OpportunityId> {
        self.actions
            .iter()
            .filter(|a| matches!(a, Action::Invite { .. } | Action::Adopt { .. }))
            .flat_map(Action::opportunity_ids)
            .collect()
    }
}
