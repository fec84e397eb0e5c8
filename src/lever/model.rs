//! Lever objects as the rest of the product sees them: clean, owned, no wire quirks.
//!
//! Conversions from the wire structs decide the quirks once: legacy archive fields, expanded or
//! plain references, null lists, blank emails.

use super::wire;

/// One candidacy: the unit everything is keyed on (docs/behaviour.md, vocabulary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opportunity {
    pub id: String,
    pub name: String,
    pub headline: Option<String>,
    /// The contact (person) id; not stable across profile merges, never a key.
    pub contact_id: Option<String>,
    /// Non-blank emails, in Lever's order (the first is the one to invite).
    pub emails: Vec<String>,
    pub stage_id: Option<String>,
    /// Tags exactly as Lever returns them (case-sensitive text, Lever's order).
    pub tags: Vec<String>,
    /// The posting of the first application; present only with `expand=applications`.
    pub posting_id: Option<String>,
    /// Application ids (with or without expansion).
    pub application_ids: Vec<String>,
    pub archived: bool,
    pub archived_at: Option<i64>,
    /// Archive reason id (the current `archived.reason` or the legacy `archiveReason`).
    pub archive_reason: Option<String>,
    pub anonymized: bool,
    /// `dataProtection.contact.allowed`; `None` when Lever does not say.
    pub contact_allowed: Option<bool>,
    pub confidentiality: Option<String>,
    pub created_at: Option<i64>,
    /// Can be null for old, never-updated records.   [citation dropped; Lever documents it]
    pub updated_at: Option<i64>,
    pub last_advanced_at: Option<i64>,
    /// Link to the opportunity in Lever's UI, for operators.
    pub show_url: Option<String>,
}

impl From<wire::Opportunity> for Opportunity {
    fn from(w: wire::Opportunity) -> Self {
        let mut posting_id = None;
        let mut application_ids = Vec::new();
        for app in w.applications {
            match app {
                wire::ApplicationRef::Id(id) => application_ids.push(id),
                wire::ApplicationRef::Expanded(a) => {
                    if posting_id.is_none() {
                        posting_id = a.posting.map(wire::IdOrObject::id);
                    }
                    application_ids.extend(a.id);
                }
            }
        }
        let (archived_at, archive_reason) = match &w.archived {
            Some(a) => (
                a.archived_at.or(w.archived_at),
                a.reason.clone().or(w.archive_reason.clone()),
            ),
            None => (w.archived_at, w.archive_reason.clone()),
        };
        Opportunity {
            id: w.id,
            name: w.name.unwrap_or_default(),
            headline: w.headline,
            contact_id: w.contact.map(wire::IdOrObject::id),
            emails: w
                .emails
                .into_iter()
                .flatten()
                .map(|e| e.trim().to_owned())
                .filter(|e| !e.is_empty())
                .collect(),
            stage_id: w.stage.map(wire::IdOrObject::id),
            tags: w.tags.into_iter().flatten().collect(),
            posting_id,
            application_ids,
            // Only an archive time means archived: an `archived` object whose fields are null
            // is an active candidate.
            archived: archived_at.is_some(),
            archived_at,
            archive_reason,
            anonymized: w.is_anonymized.unwrap_or(false),
            contact_allowed: w
                .data_protection
                .and_then(|d| d.contact)
                .and_then(|c| c.allowed),
            confidentiality: w.confidentiality,
            created_at: w.created_at,
            updated_at: w.updated_at,
            last_advanced_at: w.last_advanced_at,
            show_url: w.urls.and_then(|u| u.show),
        }
    }
}

/// A pipeline stage. Names are editable; keep ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub id: String,
    pub text: String,
}

impl From<wire::Stage> for Stage {
    fn from(w: wire::Stage) -> Self {
        Stage {
            id: w.id,
            text: w.text,
        }
    }
}

/// A Lever user (candidate for `perform_as`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub access_role: Option<String>,
    pub deactivated_at: Option<i64>,
}

impl From<wire::User> for User {
    fn from(w: wire::User) -> Self {
        User {
            id: w.id,
            name: w.name,
            email: w.email,
            access_role: w.access_role,
            deactivated_at: w.deactivated_at,
        }
    }
}

/// A tag and how many candidates carry it (tags have no id: the text is the identity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub text: String,
    pub count: u64,
}

impl From<wire::Tag> for Tag {
    fn from(w: wire::Tag) -> Self {
        Tag {
            text: w.text,
            count: w.count,
        }
    }
}

/// A job posting and its tags (opportunities inherit these when linked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub id: String,
    pub text: String,
    pub state: Option<String>,
    pub tags: Vec<String>,
    pub confidentiality: Option<String>,
    pub updated_at: Option<i64>,
}

impl From<wire::Posting> for Posting {
    fn from(w: wire::Posting) -> Self {
        Posting {
            id: w.id,
            text: w.text,
            state: w.state,
            tags: w.tags.into_iter().flatten().collect(),
            confidentiality: w.confidentiality,
            updated_at: w.updated_at,
        }
    }
}

/// An opportunity Lever reports as deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedOpportunity {
    pub id: String,
    pub deleted_at: Option<i64>,
    pub deleted_by: Option<String>,
}

impl From<wire::DeletedOpportunity> for DeletedOpportunity {
    fn from(w: wire::DeletedOpportunity) -> Self {
        DeletedOpportunity {
            id: w.id,
            deleted_at: w.deleted_at,
            deleted_by: w.deleted_by.map(wire::IdOrObject::id),
        }
    }
}

/// A note on an opportunity, as far as the daemon reads one: its id and every text it holds
/// (the note's `text` and each field's `value`), so a marker line can be searched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub id: String,
    pub texts: Vec<String>,
    pub deleted: bool,
}

impl Note {
    /// True when any of the note's texts contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.texts.iter().any(|t| t.contains(needle))
    }
}

impl From<wire::Note> for Note {
    fn from(w: wire::Note) -> Self {
        let values = w.fields.into_iter().filter_map(|f| match f {
            serde_json::Value::Object(mut m) => match m.remove("value") {
                Some(serde_json::Value::String(s)) => Some(s),
                _ => None,
            },
            _ => None,
        });
        Note {
            id: w.id,
            texts: w.text.into_iter().chain(values).collect(),
            deleted: w.deleted_at.is_some(),
        }
    }
}
