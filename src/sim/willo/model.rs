//! The Willo world's records, the seeds tests create them from, and the wire forms the
//! model allows (their JSON is built in `json`).

/// How a participant's state appears in its JSON. The first four are the forms the project's
/// Willo model reads; the rest are plausible shapes of the real, unpublished schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateForm {
    /// `"stage": {"key": "...", "name": "Accepted"}`
    #[default]
    StageObject,
    /// `"stage": "Accepted"`
    StageString,
    /// `"status": "Accepted"`
    StatusString,
    /// No state field at all (the model reads this as "invited").
    Missing,
    /// `"stage": {"key": "...", "title": "Accepted"}` (no `name`).
    StageTitle,
    /// `"current_stage": {"key": "...", "name": "Accepted"}` (no `stage`/`status`).
    CurrentStageName,
    /// `"pipeline_stage": "Accepted"` (no `stage`/`status`).
    PipelineStage,
    /// `"stage": "<32-hex stage key>"`: the board stage's key instead of its name
    /// (see [`crate::sim::willo::stage_key`]).
    StageKey,
}

/// How a participant's `interview` field appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InterviewForm {
    /// `"interview": "<key>"`
    #[default]
    Key,
    /// `"interview": {"key": "<key>", "title": "..."}`
    Object,
}

/// A Willo webhook event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WilloEvent {
    /// A participant submitted their responses.
    NewResponse,
    /// A participant was moved on the board.
    StageChange,
}

impl WilloEvent {
    /// The event's name as Willo writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            WilloEvent::NewResponse => "new_response",
            WilloEvent::StageChange => "stage_change",
        }
    }
}

/// Where the participant key sits in a webhook body. The first four are the forms the
/// project's model names; the live evidence says real `new_response` bodies carried the key
/// under none of them, so the rest model what was seen and worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WebhookBodyForm {
    /// `{"participant": "<key>", "interview": "<key>"}`
    #[default]
    ParticipantKey,
    /// `{"participant": {"key", "name", "email"}, "interview": {"key", "title"}}`
    ParticipantObject,
    /// `{"participant_key": "<key>", "interview_key": "<key>"}`
    ParticipantKeyField,
    /// `{"key": "<participant key>", "interview": "<key>"}`
    Key,
    /// `{"data": {"candidate": {"uuid": "<key>", "name", "email"}, "interview": {"uuid": "<key>"}}}`
    DataCandidateUuid,
    /// `{"response": {"participant_id": "<key>", "interview_id": "<key>", "submitted_at"}}`
    ResponseParticipantId,
    /// The two keys only as bare 32-hex values under meaningless names, the interview key
    /// first: `{"api_version": "v1", "refs": ["<interview key>", "<participant key>"], ...}`.
    BareHexValues,
    /// No participant key at all: `{"api_version": "v1", "interview": "<key>", ...}`.
    NoParticipantKey,
}

/// An interview's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// 32-hex key.
    pub key: String,
    /// Email.
    pub email: String,
    /// Full name.
    pub full_name: String,
}

/// A department ("Company" in Willo's UI: a brand or business unit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    /// 32-hex key.
    pub key: String,
    /// Name.
    pub name: String,
}

/// An interview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interview {
    /// 32-hex key.
    pub key: String,
    /// Title.
    pub title: String,
    /// Department key, if any.
    pub department: Option<String>,
    /// Owner.
    pub owner: Owner,
    /// ms.
    pub created_at: i64,
    /// Removed interviews are no longer listed or invitable.
    pub removed: bool,
    /// Closed (old) interviews: not listed, not readable and not invitable, unless
    /// `list_closed_interviews(true)` lists them (still not invitable).
    pub closed: bool,
}

/// What a test gives to create an interview. Start from [`InterviewSeed::new`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterviewSeed {
    /// Title.
    pub title: String,
    /// Department key.
    pub department: Option<String>,
    /// Owner user key; `None` = the account admin.
    pub owner: Option<String>,
    /// `created_at` ms; `None` = now.
    pub created_at: Option<i64>,
    /// Closed (see [`Interview::closed`]).
    pub closed: bool,
}

impl InterviewSeed {
    /// An open interview owned by the account admin.
    pub fn new(title: &str) -> Self {
        InterviewSeed {
            title: title.to_owned(),
            ..InterviewSeed::default()
        }
    }

    /// In this department (key).
    pub fn department(mut self, key: &str) -> Self {
        self.department = Some(key.to_owned());
        self
    }

    /// Owned by this user (key, from `WilloSim::add_user`).
    pub fn owner(mut self, user: &str) -> Self {
        self.owner = Some(user.to_owned());
        self
    }

    /// Created at this time (ms).
    pub fn created_at(mut self, ms: i64) -> Self {
        self.created_at = Some(ms);
        self
    }

    /// Closed.
    pub fn closed(mut self) -> Self {
        self.closed = true;
        self
    }
}

/// A participant (one candidate in one interview).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// 32-hex key.
    pub key: String,
    /// Interview key.
    pub interview: String,
    /// Full name.
    pub name: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email.
    pub email: String,
    /// Phone.
    pub phone: Option<String>,
    /// `external_id` as stored (dropped when the simulator is told to drop it).
    pub external_id: Option<String>,
    /// State text as set on the board ("Invited", "accepted", ...).
    pub state: String,
    /// Per-participant override of the state form.
    pub state_form: Option<StateForm>,
    /// ms.
    pub created_at: i64,
    /// ms.
    pub updated_at: i64,
}

/// What a test gives to add a participant by hand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParticipantSeed {
    /// Interview key.
    pub interview: String,
    /// Full name.
    pub name: String,
    /// Email.
    pub email: String,
    /// State text; `None` = the configured initial state.
    pub state: Option<String>,
    /// `external_id`.
    pub external_id: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
}

impl ParticipantSeed {
    /// A participant of `interview` with a name and email.
    pub fn new(interview: &str, name: &str, email: &str) -> Self {
        ParticipantSeed {
            interview: interview.to_owned(),
            name: name.to_owned(),
            email: email.to_owned(),
            ..ParticipantSeed::default()
        }
    }

    /// In this state.
    pub fn state(mut self, state: &str) -> Self {
        self.state = Some(state.to_owned());
        self
    }

    /// With this phone number.
    pub fn phone(mut self, phone: &str) -> Self {
        self.phone = Some(phone.to_owned());
        self
    }
}

/// An invite email Willo sent (every participant creation sends one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteEmail {
    /// The participant created.
    pub participant: String,
    /// Its interview.
    pub interview: String,
    /// Recipient.
    pub email: String,
    /// ms.
    pub at: i64,
    /// When the simulator stored it, on this machine's monotonic clock: benchmarks time
    /// webhook → POST with it instead of with how often they poll.
    pub stored: std::time::Instant,
}
