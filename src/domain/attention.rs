//! Why an opportunity needs a person's attention (the store keeps these as text).

use std::fmt;
use std::str::FromStr;

/// A needs-attention reason. `as_str` is the stable text stored in SQLite and shown by `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionReason {
    /// Connected, in a trigger stage, but the opportunity has no email address.
    NoEmail,
    /// The candidate declined contact (`dataProtection.contact.allowed == false`).
    NoConsent,
    /// Willo refused the invite (a 4xx other than auth/throttling); recorded by the apply step.
    InviteRejected,
    /// Willo listed participants without an email address in the interview, so the daemon
    /// cannot tell whether this candidate is already one of them: it invites nobody until a
    /// person checks the interview.
    LookupInconclusive,
    /// Lever refused to show this opportunity to the daemon's credentials (HTTP 403: a
    /// confidential requisition, or a key without that endpoint).
    NoAccess,
}

impl AttentionReason {
    pub const ALL: [AttentionReason; 5] = [
        AttentionReason::NoEmail,
        AttentionReason::NoConsent,
        AttentionReason::InviteRejected,
        AttentionReason::LookupInconclusive,
        AttentionReason::NoAccess,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AttentionReason::NoEmail => "no_email",
            AttentionReason::NoConsent => "no_consent",
            AttentionReason::InviteRejected => "invite_rejected",
            AttentionReason::LookupInconclusive => "lookup_inconclusive",
            AttentionReason::NoAccess => "no_access",
        }
    }
}

impl fmt::Display for AttentionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown attention reason {0:?}")]
pub struct UnknownAttentionReason(pub String);

impl FromStr for AttentionReason {
    type Err = UnknownAttentionReason;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AttentionReason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownAttentionReason(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_round_trips() {
        for r in AttentionReason::ALL {
            assert_eq!(r.as_str().parse::<AttentionReason>(), Ok(r));
        }
        assert!("no email".parse::<AttentionReason>().is_err());
    }
}
