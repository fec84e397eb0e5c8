//! Willo's JSON as it arrives (DRF style). Private. Rows are read as raw JSON and each field is
//! taken out tolerantly, in one place: Willo publishes no schema, so a field the daemon does not
//! need must never fail a page because of its type (a phone as an object, timestamps as
//! numbers, nested objects where text was expected).

use serde_json::Value;

use crate::http::ApiError;
use crate::http::decode::decode;
use crate::http::observer::Api;

/// One list page: DRF's `{count, next, previous, results}`, or a bare array of rows (then there
/// is no next page).
#[derive(Debug)]
pub(crate) struct Page {
    pub next: Option<String>,
    pub results: Vec<Value>,
    /// DRF's `count` of every row of the listing, when given (a bare array: its length).
    pub count: Option<u64>,
    /// A bare array rather than an envelope: nothing says whether more rows follow.
    pub bare: bool,
}

impl Page {
    /// True when the page is a bare array exactly as long as a page: it may be the first page
    /// of a longer list whose paging Willo did not describe (reading it as the whole list would
    /// hide the rest, and a person on page 2 would be invited again), or a whole list that
    /// happens to be that long. The caller asks for the next page number to tell which.
    pub(crate) fn bare_and_full(&self, page_size: usize) -> bool {
        self.bare && self.results.len() == page_size
    }
}

/// Reads a list page. A body that is not JSON is a `Decode` error; JSON that is neither an
/// envelope with a `results` list nor a bare array is a `Protocol` error, never an empty page.
pub(crate) fn page(route: &'static str, body: &[u8]) -> Result<Page, ApiError> {
    let protocol = |what: &str| ApiError::Protocol {
        api: Api::Willo,
        route,
        message: format!("the list page has no `results` list ({what})"),
    };
    match decode::<Value>(Api::Willo, route, body)? {
        Value::Array(results) => Ok(Page {
            next: None,
            count: u64::try_from(results.len()).ok(),
            results,
            bare: true,
        }),
        Value::Object(mut map) => {
            let results = match map.remove("results") {
                Some(Value::Array(rows)) => rows,
                None => return Err(protocol("missing")),
                Some(Value::Null) => return Err(protocol("null")),
                Some(_) => return Err(protocol("not a list")),
            };
            Ok(Page {
                next: map.get("next").and_then(text),
                count: map.get("count").and_then(Value::as_u64),
                results,
                bare: false,
            })
        }
        _ => Err(protocol("the body is not an object")),
    }
}

/// Trimmed, non-empty text, or `None` (also for every non-string value).
pub(crate) fn text(v: &Value) -> Option<String> {
    v.as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `v[name]` as text.
pub(crate) fn field(v: &Value, name: &str) -> Option<String> {
    v.get(name).and_then(text)
}

/// A reference: a key string, or an object with `key`.
pub(crate) fn key_of(v: &Value) -> Option<String> {
    text(v).or_else(|| v.get("key").and_then(text))
}

/// A phone: text, or an object carrying the number (`{"number", "country_code"}`).
pub(crate) fn phone(v: &Value) -> Option<String> {
    text(v).or_else(|| {
        ["number", "phone", "e164"]
            .iter()
            .find_map(|k| v.get(*k).and_then(text))
    })
}

/// `external_id` may come back as a string or a number.
pub(crate) fn external_id(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        other => text(other),
    }
}

/// Below this, an epoch number is read as seconds; at or above it, as milliseconds. 10^11 s is
/// the year 5138, and 10^11 ms is March 1973, long before any Willo record.
const EPOCH_MS_THRESHOLD: f64 = 1e11;

/// A time as ms since the epoch: ISO 8601 text, or an epoch number in seconds or ms (numeric
/// text too). Anything else is unknown (tolerant read).
pub(crate) fn millis(v: &Value) -> Option<i64> {
    let number = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
                return Some(d.timestamp_millis());
            }
            s.parse::<f64>().ok()
        }
        _ => None,
    }?;
    if !number.is_finite() {
        return None;
    }
    let ms = if number.abs() < EPOCH_MS_THRESHOLD {
        number * 1000.0
    } else {
        number
    };
    Some(ms as i64)
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
    fn pages_are_envelopes_or_bare_arrays_and_nothing_else() {
        let p = page(
            "/r",
            br#"{"count":1,"next":"http://h/x?page=2","results":[{"key":"a"}]}"#,
        )
        .unwrap();
        assert_eq!(p.next.as_deref(), Some("http://h/x?page=2"));
        assert_eq!(p.results.len(), 1);
        let p = page("/r", br#"[{"key":"a"},{"key":"b"}]"#).unwrap();
        assert_eq!((p.next, p.results.len()), (None, 2));
        for broken in [
            &br#"{"count":1,"next":null}"#[..],
            br#"{"results":null}"#,
            br#"{"results":{"key":"a"}}"#,
            br#""results""#,
        ] {
            let e = page("/r", broken).unwrap_err();
            assert_eq!(e.metric_label(), "protocol", "{e}");
        }
        assert_eq!(page("/r", b"<html>").unwrap_err().metric_label(), "decode");
    }

    #[test]
    fn references_are_keys_or_objects() {
        assert_eq!(key_of(&json!("abc")).as_deref(), Some("abc"));
        assert_eq!(
            key_of(&json!({"key": "abc", "title": "T"})).as_deref(),
            Some("abc")
        );
        assert_eq!(key_of(&Value::Null), None);
        assert_eq!(key_of(&json!(3)), None);
    }

    #[test]
    fn phones_are_text_or_objects() {
        assert_eq!(phone(&json!("+44 1")).as_deref(), Some("+44 1"));
        assert_eq!(
            phone(&json!({"number": "+44 1", "country_code": null})).as_deref(),
            Some("+44 1")
        );
        assert_eq!(phone(&json!({"country_code": "GB"})), None);
        assert_eq!(phone(&json!("")), None);
    }

    #[test]
    fn timestamps_are_iso_8601_or_epoch_seconds_or_milliseconds() {
        assert_eq!(millis(&json!("1970-01-01T00:00:01.500Z")), Some(1500));
        assert_eq!(
            millis(&json!("2026-01-01T01:00:00+01:00")),
            Some(1_767_225_600_000)
        );
        assert_eq!(millis(&json!(1_767_225_600)), Some(1_767_225_600_000));
        assert_eq!(
            millis(&json!(1_767_225_600_123_i64)),
            Some(1_767_225_600_123)
        );
        assert_eq!(millis(&json!("1767225600")), Some(1_767_225_600_000));
        assert_eq!(millis(&json!("yesterday")), None);
        assert_eq!(millis(&json!({"at": 1})), None);
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
}
