//! Willo objects as the rest of the product sees them.

use serde::Serialize;

use super::wire;

/// A Willo interview (listed = open; rule: only listed interviews connect, docs/behaviour.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interview {
    pub key: String,
    pub title: String,
}

impl From<wire::Interview> for Interview {
    fn from(w: wire::Interview) -> Self {
        Interview {
            key: w.key,
            title: w.title,
        }
    }
}

/// One candidate in one interview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub key: String,
    /// The interview the row says it belongs to (`None` if the row did not say).
    pub interview_key: Option<String>,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Echo of the `external_id` we sent, if Willo keeps it.
    pub external_id: Option<String>,
    /// Raw state text (stage string → stage object name|title → status string), trimmed;
    /// `None` when absent, which the status map reads as "invited".
    pub state: Option<String>,
    /// ms since the epoch.
    pub created_at: Option<i64>,
    /// ms since the epoch.
    pub updated_at: Option<i64>,
}

impl From<wire::Participant> for Participant {
    fn from(w: wire::Participant) -> Self {
        Participant {
            interview_key: wire::interview_key(&w.interview),
            state: wire::state(&w.stage, &w.status),
            external_id: wire::external_id(&w.external_id),
            created_at: wire::iso_millis(&w.created_at),
            updated_at: wire::iso_millis(&w.updated_at),
            key: w.key,
            name: w.name.unwrap_or_default(),
            first_name: w.first_name.filter(|s| !s.is_empty()),
            last_name: w.last_name.filter(|s| !s.is_empty()),
            email: w
                .email
                .map(|e| e.trim().to_owned())
                .filter(|e| !e.is_empty()),
            phone: w.phone.filter(|s| !s.is_empty()),
        }
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
