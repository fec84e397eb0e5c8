//! Willo's JSON as it arrives (DRF style). Private; the polymorphic fields (`interview`,
//! `stage`, `status`) are read as raw JSON and interpreted in one place.

use serde::Deserialize;
use serde_json::Value;

use crate::http::decode::null_default;

/// DRF page-number pagination: `{count, next, previous, results}`.
#[derive(Debug, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub(crate) struct Page<T> {
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default = "Vec::new", deserialize_with = "null_default")]
    pub results: Vec<T>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Interview {
    pub key: String,
    #[serde(default, deserialize_with = "null_default")]
    pub title: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Participant {
    pub key: String,
    #[serde(default)]
    pub interview: Value,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub external_id: Option<Value>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub stage: Value,
    #[serde(default)]
    pub status: Value,
}

/// Trimmed, non-empty text, or `None`.
fn text(v: &Value) -> Option<String> {
    v.as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `interview` as a key string or an object with `key`.
pub(crate) fn interview_key(v: &Value) -> Option<String> {
    text(v).or_else(|| v.get("key").and_then(text))
}

/// The participant's state, the first present of: `stage` as a string; `stage` as an
/// object's `name` (or `title`); `status` as a string. `None` when none is present.
pub(crate) fn state(stage: &Value, status: &Value) -> Option<String> {
    text(stage)
        .or_else(|| stage.get("name").and_then(text))
        .or_else(|| stage.get("title").and_then(text))
        .or_else(|| text(status))
}

/// `external_id` may come back as a string or a number.
pub(crate) fn external_id(v: &Option<Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// ISO 8601 → ms since the epoch; unparseable text is ignored (tolerant read).
pub(crate) fn iso_millis(v: &Option<String>) -> Option<i64> {
    let s = v.as_deref()?;
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.timestamp_millis())
}

/// Flattens a DRF error body into one readable line:
/// `{"detail": "x"}` → `x`; `{"name": ["This field is required."], "email": ["Enter a valid
/// email address."]}` → `name: This field is required.; email: Enter a valid email address.`
pub(crate) fn error_message(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let line = flatten(&v);
    (!line.is_empty()).then_some(line)
}

fn flatten(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(flatten)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        Value::Object(map) => {
            // Sorted by field so the same error always reads the same.
            let mut fields: Vec<_> = map.iter().collect();
            fields.sort_by(|a, b| a.0.cmp(b.0));
            fields
                .into_iter()
                .map(|(k, v)| match k.as_str() {
                    "detail" | "non_field_errors" => flatten(v),
                    _ => format!("{k}: {}", flatten(v)),
                })
                .collect::<Vec<_>>()
                .join("; ")
        }
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn state_follows_the_model_order() {
        assert_eq!(
            state(&json!(" Accepted "), &json!("new")).as_deref(),
            Some("Accepted")
        );
        assert_eq!(
            state(&json!({"name": "To Review"}), &json!("x")).as_deref(),
            Some("To Review")
        );
        assert_eq!(
            state(&json!({"title": "Rejected"}), &Value::Null).as_deref(),
            Some("Rejected")
        );
        assert_eq!(
            state(&json!({"name": null, "title": "Hired"}), &Value::Null).as_deref(),
            Some("Hired")
        );
        assert_eq!(
            state(&Value::Null, &json!("completed")).as_deref(),
            Some("completed")
        );
        assert_eq!(state(&json!(""), &json!("  ")), None);
        assert_eq!(state(&Value::Null, &Value::Null), None);
        assert_eq!(state(&json!(3), &Value::Null), None);
    }

    #[test]
    fn interview_is_a_key_or_an_object() {
        assert_eq!(interview_key(&json!("abc")).as_deref(), Some("abc"));
        assert_eq!(
            interview_key(&json!({"key": "abc", "title": "T"})).as_deref(),
            Some("abc")
        );
        assert_eq!(interview_key(&Value::Null), None);
    }

    #[test]
    fn drf_errors_flatten_to_one_line() {
        assert_eq!(
            error_message(br#"{"name": ["This field is required."], "email": ["Enter a valid email address."]}"#)
                .as_deref(),
            Some("email: Enter a valid email address.; name: This field is required.")
        );
        assert_eq!(
            error_message(br#"{"detail": "Invalid page."}"#).as_deref(),
            Some("Invalid page.")
        );
        assert_eq!(
            error_message(br#"{"non_field_errors": ["a", "b"]}"#).as_deref(),
            Some("a b")
        );
        assert_eq!(error_message(b"not json"), None);
    }

    #[test]
    fn timestamps_parse_as_iso_8601() {
        assert_eq!(
            iso_millis(&Some("1970-01-01T00:00:01.500Z".into())),
            Some(1500)
        );
        assert_eq!(
            iso_millis(&Some("2026-01-01T01:00:00+01:00".into())),
            Some(1_767_225_600_000)
        );
        assert_eq!(iso_millis(&Some("yesterday".into())), None);
    }
}
