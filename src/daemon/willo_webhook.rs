//! Checking Willo webhook deliveries (rule: webhooks are hints, docs/behaviour.md).
//!
//! Willo does not sign deliveries; the registered URL carries a secret `token`, compared in
//! constant time. The body's shape is not published, and the only live deliveries seen carried
//! the participant key under no documented name, so the body is searched, never parsed
//! against a schema: first for a key under a participant name, anywhere; failing that, every
//! 32-hex string in it is a candidate, which the caller keeps only if it names a participant
//! the daemon recorded. The daemon re-reads that participant and trusts what it reads, never
//! the body. A delivery with the right token is always acknowledged: Willo would retry
//! anything else, and no retry can change its shape.

use std::collections::BTreeSet;

use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::config::Secret;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("missing or wrong token")]
    BadToken,
    #[error("no webhook token is configured for this tenant")]
    NotConfigured,
}

impl Rejection {
    pub fn status(&self) -> u16 {
        401
    }

    pub fn metric_label(&self) -> &'static str {
        match self {
            Rejection::BadToken => "bad_token",
            Rejection::NotConfigured => "not_configured",
        }
    }
}

/// Checks the URL token against the tenant's tokens (current first), in constant time.
pub fn check_token(given: Option<&str>, tokens: &[&Secret]) -> Result<(), Rejection> {
    if tokens.is_empty() {
        return Err(Rejection::NotConfigured);
    }
    let given = given.ok_or(Rejection::BadToken)?;
    // Compare against every token so the time taken does not say which one (if any) matched.
    let ok = tokens.iter().fold(subtle::Choice::from(0), |acc, t| {
        acc | t.expose().as_bytes().ct_eq(given.as_bytes())
    });
    if bool::from(ok) {
        Ok(())
    } else {
        Err(Rejection::BadToken)
    }
}

/// What a body says about its participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A Willo key under a participant name: `participant` (a string, or an object with
    /// `key`) or `participant_key` at any depth, or a top-level `key`.
    Named(String),
    /// No such name: every 32-hex string of the body, in order, each once (the interview's
    /// key among them), and the body's shape for the log.
    Unnamed {
        candidates: Vec<String>,
        shape: String,
    },
}

/// Candidates looked at per body; a real delivery names two or three keys.
const MAX_CANDIDATES: usize = 16;

/// Searches a body (JSON or not) for its participant key.
pub fn inspect(body: &[u8]) -> Found {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    if let Some(key) = parsed.as_ref().and_then(named_key) {
        return Found::Named(key);
    }
    Found::Unnamed {
        candidates: hex_runs(body),
        shape: match &parsed {
            Some(v) => shape(v),
            None => format!("not JSON ({} bytes)", body.len()),
        },
    }
}

/// Entry point for the fuzz targets (`fuzz/`) and property tests: [`inspect`] as plain
/// values: the named key, or the candidate keys and the body's shape. Not an API.
#[doc(hidden)]
pub fn inspect_delivery(body: &[u8]) -> (Option<String>, Vec<String>, String) {
    match inspect(body) {
        Found::Named(key) => (Some(key), Vec::new(), String::new()),
        Found::Unnamed { candidates, shape } => (None, candidates, shape),
    }
}

/// A Willo key: 32 hexadecimal characters.
pub fn valid_key(k: &str) -> bool {
    k.len() == 32 && k.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A key under a participant name, breadth first; values that are not Willo keys are passed
/// over, so a stray `participant: "Ada"` does not hide a real key elsewhere.
fn named_key(v: &Value) -> Option<String> {
    let mut queue = std::collections::VecDeque::from([v]);
    while let Some(node) = queue.pop_front() {
        match node {
            Value::Object(map) => {
                let direct = match map.get("participant") {
                    Some(Value::String(s)) => Some(s.as_str()),
                    Some(Value::Object(p)) => p.get("key").and_then(Value::as_str),
                    _ => None,
                };
                let field = map.get("participant_key").and_then(Value::as_str);
                if let Some(k) = [direct, field].into_iter().flatten().find(|k| valid_key(k)) {
                    return Some(k.to_owned());
                }
                queue.extend(map.values());
            }
            Value::Array(items) => queue.extend(items.iter()),
            _ => {}
        }
    }
    v.get("key")
        .and_then(Value::as_str)
        .filter(|k| valid_key(k))
        .map(str::to_owned)
}

/// Every run of exactly 32 hex characters not touching another letter or digit, in order,
/// each once: keys as JSON values, inside URLs, or in a body that is not JSON at all.
fn hex_runs(body: &[u8]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut start = None;
    for (i, &b) in body.iter().chain(std::iter::once(&b' ')).enumerate() {
        match (b.is_ascii_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                start = None;
                let run = &body[s..i];
                if run.len() == 32 && run.iter().all(u8::is_ascii_hexdigit) {
                    // All ASCII, so always UTF-8.
                    let key = String::from_utf8_lossy(run).into_owned();
                    if !out.contains(&key) {
                        out.push(key);
                    }
                    if out.len() == MAX_CANDIDATES {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Paths shown per shape, so a hostile body cannot make a huge log line.
const MAX_PATHS: usize = 40;
const MAX_DEPTH: usize = 8;

/// The body's JSON paths and value types, sorted, without a single value: what an operator can
/// report so the participant's place in real deliveries becomes known. Object keys that look
/// like identifiers are shown as `<id>`.
pub fn shape(v: &Value) -> String {
    let mut paths = BTreeSet::new();
    walk(v, String::new(), 0, &mut paths);
    let total = paths.len();
    let mut text: Vec<String> = paths.into_iter().take(MAX_PATHS).collect();
    if total > MAX_PATHS {
        text.push(format!("… {} more", total - MAX_PATHS));
    }
    text.join(", ")
}

fn walk(v: &Value, path: String, depth: usize, out: &mut BTreeSet<String>) {
    let here = |kind: &str| {
        if path.is_empty() {
            format!("(body): {kind}")
        } else {
            format!("{path}: {kind}")
        }
    };
    if depth >= MAX_DEPTH {
        out.insert(here("…"));
        return;
    }
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, child) in map {
                let name = if looks_like_an_id(k) {
                    "<id>"
                } else {
                    k.as_str()
                };
                let p = if path.is_empty() {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                };
                walk(child, p, depth + 1, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                walk(item, format!("{path}[]"), depth + 1, out);
            }
        }
        Value::Object(_) => {
            out.insert(here("object"));
        }
        Value::Array(_) => {
            out.insert(here("array"));
        }
        Value::String(_) => {
            out.insert(here("string"));
        }
        Value::Number(_) => {
            out.insert(here("number"));
        }
        Value::Bool(_) => {
            out.insert(here("bool"));
        }
        Value::Null => {
            out.insert(here("null"));
        }
    }
}

/// A key that carries data rather than naming a field: long, or mostly digits and hex.
/// Anything but a plain field name is hidden: a name is shown only when it is short, made of
/// letters, digits, `_` and `-`, and holds no run of twelve hex
/// digits (a key or id embedded in a name, such as `ke0:<key>` or `p_<key>`, never reaches
/// the log).
fn looks_like_an_id(k: &str) -> bool {
    let plain = k.len() <= 40
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let mut run = 0;
    let hex_run = k.bytes().any(|b| {
        run = if b.is_ascii_hexdigit() { run + 1 } else { 0 };
        run >= 12
    });
    !plain || hex_run
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &str = "0123456789abcdef0123456789abcdef";
    const I: &str = "fedcba9876543210fedcba9876543210";

    #[test]
    fn the_participant_key_is_found_under_each_participant_name() {
        for body in [
            format!(r#"{{"participant": "{K}", "interview": "{I}"}}"#),
            format!(
                r#"{{"participant": {{"key": "{K}", "name": "A"}}, "interview": {{"key": "{I}"}}}}"#
            ),
            format!(r#"{{"participant_key": "{K}", "interview_key": "{I}"}}"#),
            format!(r#"{{"key": "{K}", "interview": {{"key": "{I}"}}}}"#),
            format!(r#"{{"data": {{"participant": {{"key": "{K}"}}}}}}"#),
            format!(r#"{{"participant": "Ada", "event": {{"participant_key": "{K}"}}}}"#),
        ] {
            assert_eq!(inspect(body.as_bytes()), Found::Named(K.into()), "{body}");
        }
    }

    #[test]
    fn without_a_participant_name_every_hex_key_is_a_candidate_in_order() {
        let body = format!(
            r#"{{"api_version": "v1", "refs": ["{I}", "{K}", "{I}"], "url": "https://x/p/{K}/", "hash": "{K}{K}"}}"#
        );
        let Found::Unnamed { candidates, shape } = inspect(body.as_bytes()) else {
            panic!("named")
        };
        assert_eq!(candidates, vec![I.to_owned(), K.to_owned()]);
        assert_eq!(
            shape,
            "api_version: string, hash: string, refs[]: string, url: string"
        );
        // An interview key under `interview.key` is not a participant.
        assert!(matches!(
            inspect(format!(r#"{{"interview": {{"key": "{I}"}}}}"#).as_bytes()),
            Found::Unnamed { .. }
        ));
    }

    #[test]
    fn names_holding_something_other_than_a_key_are_passed_over() {
        for value in [
            "..",
            "../../interviews",
            "0123456789abcdef",
            "g123456789abcdef0123456789abcdef",
        ] {
            let body = serde_json::json!({ "participant": value, "key": value }).to_string();
            let Found::Unnamed { candidates, .. } = inspect(body.as_bytes()) else {
                panic!("{value} taken as a key")
            };
            assert!(candidates.is_empty(), "{value}: {candidates:?}");
        }
    }

    #[test]
    fn a_body_that_is_not_json_is_still_searched() {
        let body = format!("participant={K}&interview={I}");
        assert_eq!(
            inspect(body.as_bytes()),
            Found::Unnamed {
                candidates: vec![K.to_owned(), I.to_owned()],
                shape: format!("not JSON ({} bytes)", body.len()),
            }
        );
    }

    #[test]
    fn the_shape_shows_paths_and_types_never_values() {
        let v = serde_json::json!({
            "a": {"b": [1, "x", null], "c": true, "d": {}, "e": []},
            K: "keyed by an id",
            "deep": {"1": {"2": {"3": {"4": {"5": {"6": {"7": {"8": 1}}}}}}}},
        });
        let s = shape(&v);
        assert_eq!(
            s,
            "<id>: string, a.b[]: null, a.b[]: number, a.b[]: string, a.c: bool, a.d: object, \
             a.e: array, deep.1.2.3.4.5.6.7: …"
        );
        assert_eq!(shape(&serde_json::json!("x")), "(body): string");
    }

    #[test]
    fn tokens_must_match_exactly() {
        let a = Secret::inline("token-a");
        let b = Secret::inline("token-b");
        assert_eq!(check_token(Some("token-b"), &[&a, &b]), Ok(()));
        assert_eq!(
            check_token(Some("token-"), &[&a, &b]),
            Err(Rejection::BadToken)
        );
        assert_eq!(check_token(None, &[&a]), Err(Rejection::BadToken));
        assert_eq!(check_token(Some("x"), &[]), Err(Rejection::NotConfigured));
    }
}
