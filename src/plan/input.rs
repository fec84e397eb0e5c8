//! What the planner is given: what a pass observed in Lever and Willo, and what the store
//! remembers. Plain data, already translated from the wire formats by the clients and from
//! SQL rows by the store.

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::attention::AttentionReason;
use crate::domain::invite::InviteState;
use crate::domain::note::NoteState;
use crate::domain::{InterviewKey, Millis, OpportunityId, ParticipantKey, PostingId, StageId};

/// What an observation covers. Informational: the rules only look at which parts of
/// [`Observed`] are present, so a caller cannot make the planner act on data it did not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything: interviews, postings, every trigger-stage and status-tagged opportunity.
    Full,
    /// Trigger-stage opportunities updated since the cursor, plus open invites' participants.
    Incremental,
    /// One opportunity or one participant, re-read for a hint.
    Targeted,
}

/// One pass's observation of Lever and Willo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub scope: Scope,
    /// Willo interviews listed now (listed = open). `None` = not observed this time: the
    /// remembered open interviews are used, and nothing about interviews is learned.
    pub interviews: Option<Vec<Interview>>,
    /// Posting id → tags. `None` = not observed: the remembered posting tags are used.
    pub postings: Option<BTreeMap<PostingId, BTreeSet<String>>>,
    /// Opportunities read fresh from Lever in this pass (any stage). Only these get actions:
    /// the planner cannot diff tags it did not read.
    pub opportunities: Vec<Opportunity>,
    /// Opportunities Lever reports deleted, or that answered 404 when re-read.
    pub deleted: BTreeSet<OpportunityId>,
    /// Participants read fresh from Willo in this pass.
    pub participants: Vec<Participant>,
    /// The catalog opportunity as read now (when one is configured and was read).
    pub catalog: Option<Opportunity>,
}

/// A Willo interview as listed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interview {
    pub key: InterviewKey,
    pub title: String,
}

/// A Lever opportunity as read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Opportunity {
    pub id: OpportunityId,
    pub name: String,
    /// In Lever's order; the first non-blank one is the one invited (rule: first non-blank email).
    pub emails: Vec<String>,
    pub stage_id: Option<StageId>,
    pub tags: BTreeSet<String>,
    /// From the opportunity's application (`expand=applications`).
    pub posting_id: Option<PostingId>,
    pub archived: bool,
    pub anonymized: bool,
    /// `dataProtection.contact.allowed`; `None` (absent or null) counts as allowed.
    pub contact_allowed: Option<bool>,
    pub updated_at: Option<Millis>,
    /// The opportunity's page in Lever (`urls.show`): not used by the rules, carried for the
    /// people who read about it.
    pub link: Option<String>,
}

/// A Willo participant as read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Participant {
    pub key: ParticipantKey,
    pub interview_key: InterviewKey,
    pub email: Option<String>,
    /// The state text as Willo shows it (stage name or status); `None` when it shows none.
    pub state: Option<String>,
    pub updated_at: Option<Millis>,
    /// The link to the participant's response, read from the tenant's `response_link_fields`
    /// when Willo gives one (rule: completion note).
    pub response_link: Option<String>,
}

/// What the store remembers for the tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Memory {
    /// The invite journal: at most one row per (opportunity, interview).
    pub invites: Vec<InviteRecord>,
    pub interviews: Vec<KnownInterview>,
    pub participants: BTreeMap<ParticipantKey, KnownParticipant>,
    /// Posting tags as last seen by a full pass.
    pub posting_tags: BTreeMap<PostingId, BTreeSet<String>>,
    /// Needs-attention items currently recorded.
    pub attention: BTreeSet<(OpportunityId, AttentionReason)>,
    /// Per-opportunity next check time; while it lies after `now` the opportunity is left alone.
    pub backoff_until: BTreeMap<OpportunityId, Millis>,
    /// The completion-note journal: (opportunity, interview) → state (rule: completion note).
    pub notes: BTreeMap<(OpportunityId, InterviewKey), NoteState>,
    /// Completions first seen before this time get no note: the tenant ran before completion
    /// notes existed, and those are history (0: every completion is noted).
    pub notes_from: Millis,
}

/// One row of the invite journal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct InviteRecord {
    pub opportunity_id: OpportunityId,
    pub interview_key: InterviewKey,
    /// The address the invite was (or will be) sent to, as sent.
    pub email: String,
    /// Known once the invite is `done` (created or adopted).
    pub participant_key: Option<ParticipantKey>,
    pub state: InviteState,
}

/// An interview the daemon has seen, with every tag it ever issued for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KnownInterview {
    pub key: InterviewKey,
    pub title: String,
    /// The tag rendered from the current title: the one the catalog shows.
    pub current_tag: String,
    /// Every tag ever issued for this interview, `current_tag` included. Those other than
    /// `current_tag` are rename aliases: they still connect, and the daemon still owns them.
    pub issued_tags: BTreeSet<String>,
    /// Listed by Willo at the last look.
    pub open: bool,
}

/// A participant's last seen state and when the daemon first saw that state.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KnownParticipant {
    pub state: Option<String>,
    pub changed_at: Millis,
    /// The last link to the response Willo gave, kept when later reads show none.
    pub response_link: Option<String>,
}
