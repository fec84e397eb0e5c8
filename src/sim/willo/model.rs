//! The Willo world's records, seeds, the wire forms the model allows, and their JSON.

use serde_json::{Map, Value, json};

/// How a participant's state appears in its JSON (willo-model.md allows all of these).
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

/// Where the participant key sits in a webhook body (the model allows each).
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
}

/// ISO 8601 in UTC with microseconds, as Django REST framework writes datetimes.
pub(crate) fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .unwrap_or_default()
}

/// A stable key for a board stage name.
fn stage_key(name: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(name.to_lowercase().as_bytes())[..16])
}

pub(crate) fn interview_json(i: &Interview) -> Value {
    json!({
        "key": i.key,
        "title": i.title,
        "department": i.department,
        "owner": {"key": i.owner.key, "email": i.owner.email, "full_name": i.owner.full_name},
        "created_at": iso(i.created_at),
    })
}

pub(crate) fn participant_json(
    p: &Participant,
    interview: Option<&Interview>,
    form: StateForm,
    interview_form: InterviewForm,
) -> Value {
    let mut m = Map::new();
    m.insert("key".into(), json!(p.key));
    m.insert(
        "interview".into(),
        match (interview_form, interview) {
            (InterviewForm::Object, Some(i)) => json!({"key": i.key, "title": i.title}),
            _ => json!(p.interview),
        },
    );
    m.insert("name".into(), json!(p.name));
    m.insert("first_name".into(), json!(p.first_name));
    m.insert("last_name".into(), json!(p.last_name));
    m.insert("email".into(), json!(p.email));
    m.insert("phone".into(), json!(p.phone));
    m.insert("external_id".into(), json!(p.external_id));
    m.insert("created_at".into(), json!(iso(p.created_at)));
    m.insert("updated_at".into(), json!(iso(p.updated_at)));
    match p.state_form.unwrap_or(form) {
        StateForm::StageObject => {
            m.insert(
                "stage".into(),
                json!({"key": stage_key(&p.state), "name": p.state}),
            );
        }
        StateForm::StageString => {
            m.insert("stage".into(), json!(p.state));
        }
        StateForm::StatusString => {
            m.insert("status".into(), json!(p.state));
        }
        StateForm::Missing => {}
    }
    Value::Object(m)
}

pub(crate) fn webhook_body(form: WebhookBodyForm, p: &Participant, i: Option<&Interview>) -> Value {
    match form {
        WebhookBodyForm::ParticipantKey => json!({"participant": p.key, "interview": p.interview}),
        WebhookBodyForm::ParticipantObject => json!({
            "participant": {"key": p.key, "name": p.name, "email": p.email},
            "interview": {"key": p.interview, "title": i.map(|i| i.title.as_str())},
        }),
        WebhookBodyForm::ParticipantKeyField => {
            json!({"participant_key": p.key, "interview_key": p.interview})
        }
        WebhookBodyForm::Key => json!({"key": p.key, "interview": p.interview}),
    }
}
