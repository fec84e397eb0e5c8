//! Lever's list envelope and opaque `offset` tokens.
//!
//! A token is `base64url(position).mac`, where the MAC (HMAC-SHA256 under a per-simulator key)
//! covers the position AND the query it came from (every parameter except `offset` and
//! `limit`). So a token only the server minted, for this very query, is accepted; a tampered
//! one or one from another query gets 400 "Invalid offset token: ...".

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::sim::query::QueryParams;

/// Where a page ended, in the list's order: `(order, t, id)` compared lexicographically.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct Position {
    /// Which ordering the list used (the server may pick one per query; the token keeps it).
    pub(crate) o: u8,
    /// Primary sort key (a timestamp or index), 0 when the order is by id alone.
    pub(crate) t: i64,
    /// Tie-breaker and id.
    pub(crate) id: String,
}

/// Mints and checks offset tokens.
pub(crate) struct TokenCodec {
    key: [u8; 32],
}

impl std::fmt::Debug for TokenCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCodec(..)")
    }
}

const MAC_HEX: usize = 32;

impl TokenCodec {
    pub(crate) fn new(key: [u8; 32]) -> Self {
        TokenCodec { key }
    }

    fn mac(&self, binding: &str, payload: &str) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail for a 32-byte key.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(binding.as_bytes());
        mac.update(b"\0");
        mac.update(payload.as_bytes());
        mac
    }

    pub(crate) fn encode(&self, binding: &str, pos: &Position) -> String {
        let json = serde_json::to_vec(pos).unwrap_or_default();
        let payload = URL_SAFE_NO_PAD.encode(json);
        let tag = self.mac(binding, &payload).finalize().into_bytes();
        format!("{payload}.{}", &hex::encode(tag)[..MAC_HEX])
    }

    pub(crate) fn decode(&self, binding: &str, token: &str) -> Result<Position, String> {
        let bad = |why: &str| format!("Invalid offset token: {why}");
        let (payload, tag) = token
            .split_once('.')
            .ok_or_else(|| bad("Offset token is malformed"))?;
        let tag = hex::decode(tag).map_err(|_| bad("Offset token is malformed"))?;
        if tag.len() * 2 != MAC_HEX {
            return Err(bad("Offset token is malformed"));
        }
        self.mac(binding, payload)
            .verify_truncated_left(&tag)
            .map_err(|_| bad("Offset token is invalid for sort"))?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| bad("Offset token is malformed"))?;
        serde_json::from_slice(&json).map_err(|_| bad("Offset token is malformed"))
    }
}

/// The identity a token is bound to: the route plus all parameters but `offset`/`limit`.
pub(crate) fn binding(route: &str, params: &QueryParams) -> String {
    format!("{route}?{}", params.canonical(&["offset", "limit"]))
}

/// `limit`: 1–100, default 100.
pub(crate) fn parse_limit(params: &QueryParams) -> Result<usize, String> {
    match params.first("limit") {
        None => Ok(100),
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => Ok(n),
            _ => Err(format!(
                "Invalid limit {v:?}: must be an integer from 1 to 100"
            )),
        },
    }
}

/// Lever's list envelope; `next` is omitted on the last page.
#[derive(Serialize)]
pub(crate) struct Envelope<T: Serialize> {
    pub(crate) data: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next: Option<String>,
    #[serde(rename = "hasNext")]
    pub(crate) has_next: bool,
}

/// Takes up to `limit` items; `Some(position)` of the last one when more follow.
pub(crate) fn take_page<T>(
    items: impl Iterator<Item = (Position, T)>,
    limit: usize,
) -> (Vec<T>, Option<Position>) {
    let mut out = Vec::with_capacity(limit.min(128));
    let mut last = None;
    for (pos, item) in items {
        if out.len() == limit {
            return (out, last);
        }
        last = Some(pos);
        out.push(item);
    }
    (out, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos() -> Position {
        Position {
            o: 1,
            t: 42,
            id: "abc".into(),
        }
    }

    #[test]
    fn tokens_round_trip_only_for_their_query() {
        let c = TokenCodec::new([3; 32]);
        let t = c.encode("/v1/x?tag=a", &pos());
        assert_eq!(c.decode("/v1/x?tag=a", &t), Ok(pos()));
        let other = c.decode("/v1/x?tag=b", &t).unwrap_err();
        assert!(other.starts_with("Invalid offset token: "), "{other}");
        let mut tampered = t.clone();
        tampered.replace_range(0..1, if t.starts_with('A') { "B" } else { "A" });
        assert!(c.decode("/v1/x?tag=a", &tampered).is_err());
        assert!(c.decode("/v1/x?tag=a", "0.1414895548650.a6070140").is_err());
    }

    #[test]
    fn page_reports_more_only_when_more_exist() {
        let items = |n: i64| {
            (0..n).map(|i| {
                (
                    Position {
                        o: 0,
                        t: i,
                        id: String::new(),
                    },
                    i,
                )
            })
        };
        let (page, next) = take_page(items(3), 3);
        assert_eq!((page.len(), next), (3, None));
        let (page, next) = take_page(items(4), 3);
        assert_eq!(page, [0, 1, 2]);
        assert_eq!(next.map(|p| p.t), Some(2));
    }
}
