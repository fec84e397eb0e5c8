//! Checking Willo webhook deliveries (rule: webhooks are hints, docs/behaviour.md).
//!
//! Willo does not sign deliveries; the registered URL carries a secret `token`, compared in
//! constant time. The body is only searched for the participant key: the daemon re-reads the
//! participant and trusts that, never the body.

use subtle::ConstantTimeEq;

use crate::config::Secret;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("missing or wrong token")]
    BadToken,
    #[error("no webhook token is configured for this tenant")]
    NotConfigured,
    #[error("body is not JSON: {0}")]
    Malformed(String),
    #[error("no participant key in the body")]
    NoParticipant,
}

impl Rejection {
    pub fn status(&self) -> u16 {
        match self {
            Rejection::BadToken | Rejection::NotConfigured => 401,
            Rejection::Malformed(_) | Rejection::NoParticipant => 400,
        }
    }

    pub fn metric_label(&self) -> &'static str {
        match self {
            Rejection::BadToken => "bad_token",
            Rejection::NotConfigured => "not_configured",
            Rejection::Malformed(_) => "malformed",
            Rejection::NoParticipant => "missing_field",
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

/// Finds the participant key: `participant` (a string, or an object with `key`) or
/// `participant_key` anywhere in the body (breadth first), else a top-level `key`.
pub fn participant_key(body: &[u8]) -> Result<String, Rejection> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| Rejection::Malformed(e.to_string()))?;
    let mut queue = std::collections::VecDeque::from([&v]);
    while let Some(node) = queue.pop_front() {
        match node {
            serde_json::Value::Object(map) => {
                let direct = match map.get("participant") {
                    Some(serde_json::Value::String(s)) => Some(s.as_str()),
                    Some(serde_json::Value::Object(p)) => p.get("key").and_then(|k| k.as_str()),
                    _ => None,
                }
                .or_else(|| map.get("participant_key").and_then(|k| k.as_str()));
                if let Some(k) = direct.filter(|k| valid_key(k)) {
                    return Ok(k.to_owned());
                }
                queue.extend(map.values());
            }
            serde_json::Value::Array(items) => queue.extend(items.iter()),
            _ => {}
        }
    }
    v.get("key")
        .and_then(|k| k.as_str())
        .filter(|k| valid_key(k))
        .map(str::to_owned)
        .ok_or(Rejection::NoParticipant)
}

/// Willo keys are 32 hex characters; accept plain identifiers of sane length.
fn valid_key(k: &str) -> bool {
    (1..=64).contains(&k.len())
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_participant_key_is_found_in_each_allowed_form() {
        let k = "0123456789abcdef0123456789abcdef";
        for body in [
            format!(r#"{{"participant": "{k}", "interview": "ffff"}}"#),
            format!(
                r#"{{"participant": {{"key": "{k}", "name": "A"}}, "interview": {{"key": "ffff"}}}}"#
            ),
            format!(r#"{{"participant_key": "{k}"}}"#),
            format!(r#"{{"key": "{k}", "interview": {{"key": "ffff"}}}}"#),
            format!(r#"{{"data": {{"participant": {{"key": "{k}"}}}}}}"#),
        ] {
            assert_eq!(participant_key(body.as_bytes()).as_deref(), Ok(k), "{body}");
        }
    }

    #[test]
    fn an_interview_key_alone_is_not_a_participant() {
        assert_eq!(
            participant_key(br#"{"interview": {"key": "ffff"}}"#),
            Err(Rejection::NoParticipant)
        );
        assert!(matches!(
            participant_key(b"nope"),
            Err(Rejection::Malformed(_))
        ));
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
