//! Willo objects as the rest of the product sees them. Each is read from a raw JSON row, field
//! by field and tolerantly (`wire`): only a missing `key` makes a row unreadable.

use serde::Serialize;
use serde_json::Value;

use super::state::{StateFields, looks_like_key};
use super::wire;

/// A Willo interview (listed = open; rule: only listed interviews connect, docs/behaviour.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interview {
    pub key: String,
    pub title: String,
    /// `department` as a key, or the `key` of a department object.
    pub department_key: Option<String>,
    /// The department object's `name`, when Willo sends an object.
    pub department_name: Option<String>,
    /// `owner.key` (or `owner` as a key).
    pub owner_key: Option<String>,
    /// `owner.email`. Personal data: used for the interview scope, never printed.
    pub owner_email: Option<String>,
}

impl Interview {
    /// Reads one listed row; `None` when it has no key.
    pub(crate) fn from_json(v: &Value) -> Option<Interview> {
        let department = v.get("department").unwrap_or(&Value::Null);
        let owner = v.get("owner").unwrap_or(&Value::Null);
        Some(Interview {
            key: wire::field(v, "key")?,
            title: wire::field(v, "title").unwrap_or_default(),
            department_key: wire::key_of(department),
            department_name: wire::field(department, "name"),
            owner_key: wire::key_of(owner),
            owner_email: wire::field(owner, "email"),
        })
    }
}

/// One candidate in one interview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub key: String,
    /// The interview the row says it belongs to (`None` if the row did not say). Listings may
    /// hold rows of other interviews than the one asked for: callers must check.
    pub interview_key: Option<String>,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Echo of the `external_id` we sent, if Willo keeps it.
    pub external_id: Option<String>,
    /// The state text found at the first of the tenant's `state_fields` that holds any,
    /// trimmed; `None` when none does, which the status map reads as "invited".
    pub state: Option<String>,
    /// The state looks like a key (32 hex characters) rather than a name: the configured
    /// path points at a board stage's key. It maps only through a `status_map` entry for
    /// that key.
    pub state_is_key: bool,
    /// ms since the epoch.
    pub created_at: Option<i64>,
    /// ms since the epoch.
    pub updated_at: Option<i64>,
    /// The link to the participant's response, from the tenant's `response_link_fields`
    /// (filled in by the client, which holds that configuration); `None` when no such field
    /// holds a web address.
    pub response_link: Option<String>,
}

impl Participant {
    /// Reads one row, its state from `state_fields`; `None` when it has no key.
    pub(crate) fn from_json(v: &Value, state_fields: &StateFields) -> Option<Participant> {
        Self::read(v, state_fields).map(|(p, _)| p)
    }

    /// Like [`Participant::from_json`], also naming the path the state came from.
    pub(crate) fn read<'a>(
        v: &Value,
        state_fields: &'a StateFields,
    ) -> Option<(Participant, Option<&'a str>)> {
        let null = Value::Null;
        let get = |name: &str| v.get(name).unwrap_or(&null);
        let found = state_fields.find(v);
        let state_is_key = found.as_ref().is_some_and(|(_, s)| looks_like_key(s));
        let path = found.as_ref().map(|(p, _)| *p);
        let p = Participant {
            key: wire::field(v, "key")?,
            interview_key: wire::key_of(get("interview")),
            name: wire::field(v, "name").unwrap_or_default(),
            first_name: wire::field(v, "first_name"),
            last_name: wire::field(v, "last_name"),
            email: wire::field(v, "email"),
            phone: wire::phone(get("phone")),
            external_id: wire::external_id(get("external_id")),
            state: found.map(|(_, s)| s),
            state_is_key,
            created_at: wire::millis(get("created_at")),
            updated_at: wire::millis(get("updated_at")),
            response_link: None,
        };
        Some((p, path))
    }
}

/// The body of `POST /participants/` (creating one sends the invite email).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewParticipant {
    /// Interview key.
    pub interview: String,
    /// Full name (required by Willo).
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The Lever opportunity id (Willo may drop it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}
