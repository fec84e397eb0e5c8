//! Lever's JSON as it arrives: private serde structs, tolerant of nulls, missing fields, legacy
//! fields and expanded-or-not references. Converted into `model` types at once; nothing outside
//! `lever/` sees these.

use serde::{Deserialize, Deserializer};

pub(crate) use crate::http::decode::{lenient, null_default};

/// Milliseconds since the epoch, tolerating floats, numeric strings and null; any other value
/// reads as unknown rather than failing the page.
pub(crate) fn opt_millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    let n = match &v {
        serde_json::Value::Number(n) => Some(n.clone()),
        serde_json::Value::String(s) => s.trim().parse::<serde_json::Number>().ok(),
        _ => None,
    };
    Ok(n.and_then(|n| {
        n.as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
    }))
}

/// `{data, next, hasNext}`. `data` missing or null is `None`: the pager refuses such a page
/// rather than read it as empty.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "T: Deserialize<'de>"))]
pub(crate) struct ListEnvelope<T> {
    #[serde(default = "Option::default")]
    pub data: Option<Vec<T>>,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub has_next: Option<bool>,
}

/// `{data: {...}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct DataEnvelope<T> {
    pub data: T,
}

/// A reference that is an id, or the object itself when expanded.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum IdOrObject {
    Id(String),
    Object { id: String },
}

impl IdOrObject {
    pub fn id(self) -> String {
        match self {
            IdOrObject::Id(id) | IdOrObject::Object { id } => id,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum ApplicationRef {
    Id(String),
    Expanded(Application),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Application {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub posting: Option<IdOrObject>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Archived {
    #[serde(default, deserialize_with = "opt_millis")]
    pub archived_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Consent {
    #[serde(default)]
    pub allowed: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DataProtection {
    #[serde(default)]
    pub contact: Option<Consent>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Urls {
    #[serde(default, deserialize_with = "lenient")]
    pub show: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Opportunity {
    pub id: String,
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub headline: Option<String>,
    #[serde(default)]
    pub contact: Option<IdOrObject>,
    #[serde(default, deserialize_with = "null_default")]
    pub emails: Vec<Option<String>>,
    #[serde(default)]
    pub stage: Option<IdOrObject>,
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<Option<String>>,
    #[serde(default, deserialize_with = "null_default")]
    pub applications: Vec<ApplicationRef>,
    #[serde(default)]
    pub archived: Option<Archived>,
    /// Legacy top-level form of `archived.archivedAt`, still in the documentation's example.
    #[serde(default, deserialize_with = "opt_millis")]
    pub archived_at: Option<i64>,
    /// Legacy top-level form of `archived.reason`.
    #[serde(default, deserialize_with = "lenient")]
    pub archive_reason: Option<String>,
    #[serde(default)]
    pub data_protection: Option<DataProtection>,
    #[serde(default)]
    pub is_anonymized: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub confidentiality: Option<String>,
    #[serde(default, deserialize_with = "opt_millis")]
    pub created_at: Option<i64>,
    #[serde(default, deserialize_with = "opt_millis")]
    pub updated_at: Option<i64>,
    #[serde(default, deserialize_with = "opt_millis")]
    pub last_advanced_at: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub urls: Option<Urls>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Stage {
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub text: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct User {
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub access_role: Option<String>,
    #[serde(default, deserialize_with = "opt_millis")]
    pub deactivated_at: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Tag {
    pub text: String,
    #[serde(default, deserialize_with = "null_default")]
    pub count: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Posting {
    pub id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub text: String,
    #[serde(default, deserialize_with = "lenient")]
    pub state: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<Option<String>>,
    #[serde(default, deserialize_with = "lenient")]
    pub confidentiality: Option<String>,
    #[serde(default, deserialize_with = "opt_millis")]
    pub updated_at: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeletedOpportunity {
    pub id: String,
    #[serde(default, deserialize_with = "opt_millis")]
    pub deleted_at: Option<i64>,
    #[serde(default)]
    pub deleted_by: Option<IdOrObject>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NoteCreated {
    #[serde(default)]
    pub note_id: Option<String>,
}

/// Lever's error body `{code, message}`, or an OAuth error `{error, error_description}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// Reads a Lever (or OAuth endpoint) error body into one line.
pub(crate) fn error_message(body: &[u8]) -> Option<String> {
    let e: ErrorBody = serde_json::from_slice(body).ok()?;
    let pair = |a: Option<String>, b: Option<String>| match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a}: {b}")),
        (a, b) => a.or(b),
    };
    pair(e.code, e.message).or_else(|| pair(e.error, e.error_description))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_read_as_one_line() {
        assert_eq!(
            error_message(br#"{"code":"ResourceNotFound","message":"stages x was not found"}"#)
                .as_deref(),
            Some("ResourceNotFound: stages x was not found")
        );
        assert_eq!(
            error_message(br#"{"error":"invalid_grant","error_description":"expired"}"#).as_deref(),
            Some("invalid_grant: expired")
        );
        assert_eq!(
            error_message(br#"{"message":"only"}"#).as_deref(),
            Some("only")
        );
        assert_eq!(error_message(b"<html>"), None);
    }
}

/// A row of `GET /opportunities/:id/notes`. Only what finding a note by its text needs; every
/// field tolerant, since a note that cannot be read must not hide the others. `fields` stays
/// raw JSON so that one odd field cannot make the rest unreadable.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Note {
    pub id: String,
    #[serde(default, deserialize_with = "lenient")]
    pub text: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub fields: Vec<serde_json::Value>,
    #[serde(default, deserialize_with = "opt_millis")]
    pub deleted_at: Option<i64>,
}
