//! Verifying Lever `candidateStageChange` deliveries (rule: webhooks are hints, docs/behaviour.md).
//!
//! The signature is hex HMAC-SHA256 over `token + triggeredAt` keyed by the webhook's signature
//! token. It does not cover `data`, so nothing in the body is trusted beyond "re-read this
//! opportunity". Pure: the caller passes the time and the replay memory.

use hmac::{KeyInit, Mac};
use sha2::Sha256;

use super::replay::ReplayCache;
use crate::config::Secret;

type HmacSha256 = hmac::Hmac<Sha256>;

/// How far in the future `triggeredAt` may lie (clock skew).
pub const MAX_FUTURE_MS: i64 = 5 * 60 * 1000;
/// Older deliveries are acknowledged but not queued: the scheduled passes cover them, and
/// replays of old captures cannot drive traffic.
pub const MAX_AGE_MS: i64 = 60 * 60 * 1000;

/// Why a delivery was refused; `status()` is the HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("body is not JSON: {0}")]
    Malformed(String),
    #[error("missing or invalid field {0}")]
    MissingField(&'static str),
    #[error("missing signature")]
    MissingSignature,
    #[error("signature does not match")]
    BadSignature,
    #[error("no webhook signature token is configured for this tenant")]
    NotConfigured,
    #[error("triggeredAt lies more than 5 minutes in the future")]
    FromTheFuture,
}

impl Rejection {
    pub fn status(&self) -> u16 {
        match self {
            Rejection::Malformed(_) | Rejection::MissingField(_) | Rejection::FromTheFuture => 400,
            Rejection::MissingSignature | Rejection::BadSignature | Rejection::NotConfigured => 401,
        }
    }

    pub fn metric_label(&self) -> &'static str {
        match self {
            Rejection::Malformed(_) => "malformed",
            Rejection::MissingField(_) => "missing_field",
            Rejection::MissingSignature => "missing_signature",
            Rejection::BadSignature => "bad_signature",
            Rejection::NotConfigured => "not_configured",
            Rejection::FromTheFuture => "future",
        }
    }
}

/// What to do with a correctly signed delivery. All answer 2xx so Lever stops retrying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Fresh: re-read this opportunity soon.
    Queue { opportunity_id: String },
    /// Its token was seen in the last 24 hours (a retry or a replay).
    Replay,
    /// Older than an hour.
    Stale,
}

/// Verifies one delivery body against the tenant's signature tokens (current first).
pub fn verify(
    body: &[u8],
    tokens: &[&Secret],
    now_ms: i64,
    seen: &ReplayCache,
) -> Result<Accepted, Rejection> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| Rejection::Malformed(e.to_string()))?;
    if !v.is_object() {
        return Err(Rejection::Malformed("expected a JSON object".into()));
    }
    // The signed message uses triggeredAt's decimal digits: it must be a JSON integer.
    let triggered_at = v
        .get("triggeredAt")
        .and_then(serde_json::Value::as_i64)
        .ok_or(Rejection::MissingField("triggeredAt"))?;
    let token = v
        .get("token")
        .and_then(serde_json::Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or(Rejection::MissingField("token"))?;
    let opportunity_id = v
        .pointer("/data/opportunityId")
        .and_then(serde_json::Value::as_str)
        .filter(|id| valid_id(id))
        .ok_or(Rejection::MissingField("data.opportunityId"))?;
    let signature = match v.get("signature") {
        None | Some(serde_json::Value::Null) => return Err(Rejection::MissingSignature),
        Some(s) => s.as_str().ok_or(Rejection::BadSignature)?,
    };
    if tokens.is_empty() {
        return Err(Rejection::NotConfigured);
    }
    let signature = hex::decode(signature).map_err(|_| Rejection::BadSignature)?;
    let message = format!("{token}{triggered_at}");
    let matches = tokens.iter().any(|key| {
        HmacSha256::new_from_slice(key.expose().as_bytes())
            .map(|mut mac| {
                mac.update(message.as_bytes());
                // Constant-time comparison.
                mac.verify_slice(&signature).is_ok()
            })
            .unwrap_or(false)
    });
    if !matches {
        return Err(Rejection::BadSignature);
    }
    if triggered_at > now_ms + MAX_FUTURE_MS {
        return Err(Rejection::FromTheFuture);
    }
    // Only a verified token is remembered, so forgeries cannot fill the replay memory.
    if !seen.insert(token, now_ms) {
        return Ok(Accepted::Replay);
    }
    if triggered_at < now_ms - MAX_AGE_MS {
        return Ok(Accepted::Stale);
    }
    Ok(Accepted::Queue {
        opportunity_id: opportunity_id.to_owned(),
    })
}

/// Entry point for the fuzz targets (`fuzz/`) and property tests: [`verify`] with the
/// signature tokens as text and an empty replay memory. `Ok(Some(id))`: queued; `Ok(None)`:
/// acknowledged only (a replay or stale); `Err`: the rejection's metric label. Not an API.
#[doc(hidden)]
pub fn check_delivery(
    body: &[u8],
    signature_tokens: &[&str],
    now_ms: i64,
) -> Result<Option<String>, &'static str> {
    let secrets: Vec<Secret> = signature_tokens
        .iter()
        .map(|t| Secret::inline(*t))
        .collect();
    let refs: Vec<&Secret> = secrets.iter().collect();
    match verify(body, &refs, now_ms, &ReplayCache::new(16)) {
        Ok(Accepted::Queue { opportunity_id }) => Ok(Some(opportunity_id)),
        Ok(Accepted::Replay | Accepted::Stale) => Ok(None),
        Err(rejection) => Err(rejection.metric_label()),
    }
}

/// Lever ids are UUIDs. The id becomes a path segment of the next request, so it is checked
/// by shape before any use: letters, digits, `-` and `_` only, at least one letter or digit.
/// No dot: `.` and `..` would be normalised out of the URL and turn a read of one opportunity
/// into a listing.
pub(crate) fn valid_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && id.bytes().any(|b| b.is_ascii_alphanumeric())
}

/// Signs a delivery the way Lever does, for this module's tests (the integration tests sign
/// with the simulator's own signer, so the two are checked against each other).
#[cfg(test)]
fn sign(signature_token: &str, token: &str, triggered_at: i64) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(signature_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{token}{triggered_at}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    fn body(token: &str, at: i64, signature: Option<&str>) -> Vec<u8> {
        let mut v = serde_json::json!({
            "triggeredAt": at,
            "event": "candidateStageChange",
            "data": {"opportunityId": "opp-1", "candidateId": "opp-1", "contactId": "c",
                     "fromStageId": "a", "toStageId": "b"},
            "token": token,
        });
        if let Some(s) = signature {
            v["signature"] = s.into();
        }
        serde_json::to_vec(&v).unwrap()
    }

    fn check(b: &[u8], keys: &[&str], seen: &ReplayCache) -> Result<Accepted, Rejection> {
        let secrets: Vec<Secret> = keys.iter().map(|k| Secret::inline(*k)).collect();
        let refs: Vec<&Secret> = secrets.iter().collect();
        verify(b, &refs, NOW, seen)
    }

    #[test]
    fn a_fresh_signed_delivery_is_queued_once_then_seen_as_a_replay() {
        let seen = ReplayCache::new(100);
        let sig = sign("sk", "tok1", NOW - 1000);
        let b = body("tok1", NOW - 1000, Some(&sig));
        assert_eq!(
            check(&b, &["sk"], &seen),
            Ok(Accepted::Queue {
                opportunity_id: "opp-1".into()
            })
        );
        assert_eq!(check(&b, &["sk"], &seen), Ok(Accepted::Replay));
    }

    #[test]
    fn either_token_of_a_rotation_verifies() {
        let seen = ReplayCache::new(100);
        let sig = sign("old", "tok", NOW);
        assert!(matches!(
            check(&body("tok", NOW, Some(&sig)), &["new", "old"], &seen),
            Ok(Accepted::Queue { .. })
        ));
    }

    #[test]
    fn forged_missing_and_malformed_deliveries_are_refused() {
        let seen = ReplayCache::new(100);
        let good = sign("sk", "tok", NOW);
        assert_eq!(
            check(&body("tok", NOW, Some(&good)), &["other"], &seen),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            check(&body("tok", NOW, Some("zz")), &["sk"], &seen),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            check(&body("tok", NOW, None), &["sk"], &seen),
            Err(Rejection::MissingSignature)
        );
        assert_eq!(
            check(b"{not json", &["sk"], &seen).unwrap_err().status(),
            400
        );
        // A signature over a different triggeredAt does not verify.
        assert_eq!(
            check(&body("tok", NOW + 1, Some(&good)), &["sk"], &seen),
            Err(Rejection::BadSignature)
        );
        // Forgeries are not remembered: the genuine delivery still queues.
        assert!(matches!(
            check(&body("tok", NOW, Some(&good)), &["sk"], &seen),
            Ok(Accepted::Queue { .. })
        ));
    }

    #[test]
    fn triggered_at_must_be_an_integer() {
        let seen = ReplayCache::new(100);
        let b = br#"{"triggeredAt": 1.7e12, "token": "t", "signature": "00", "data": {"opportunityId": "o"}}"#;
        assert_eq!(
            check(b, &["sk"], &seen),
            Err(Rejection::MissingField("triggeredAt"))
        );
    }

    #[test]
    fn future_and_stale_deliveries() {
        let seen = ReplayCache::new(100);
        let at = NOW + MAX_FUTURE_MS + 1;
        assert_eq!(
            check(&body("f", at, Some(&sign("sk", "f", at))), &["sk"], &seen),
            Err(Rejection::FromTheFuture)
        );
        let at = NOW - MAX_AGE_MS - 1;
        assert_eq!(
            check(&body("s", at, Some(&sign("sk", "s", at))), &["sk"], &seen),
            Ok(Accepted::Stale)
        );
    }

    #[test]
    fn opportunity_ids_are_checked_by_shape_before_any_use() {
        for id in ["opp-1", "0f6e8a2c-4b1d-4e8f-9a3b-2c1d0e9f8a7b", "a_b", "Z"] {
            assert!(valid_id(id), "{id}");
        }
        for id in [
            ".", "..", "...", "a.b", "-", "_", "-_", "a/b", "%2e", "a b", "", "é",
        ] {
            assert!(!valid_id(id), "{id:?}");
        }
        assert!(!valid_id(&"a".repeat(129)));
    }

    #[test]
    fn no_configured_token_refuses_everything() {
        let seen = ReplayCache::new(100);
        let b = body("t", NOW, Some(&sign("sk", "t", NOW)));
        assert_eq!(check(&b, &[], &seen), Err(Rejection::NotConfigured));
    }
}
