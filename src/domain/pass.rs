//! The words for passes, shared by the reconciler, the daemon, the store and the commands:
//! what kind of pass runs, how it ended, and what a hint asks to re-read.

use std::fmt;
use std::str::FromStr;

/// What a pass covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PassKind {
    /// Everything (nightly, at start-up and every `--once`).
    Full,
    /// What changed since the cursor (every few minutes).
    Incremental,
    /// The one object a hint names.
    Targeted,
}

impl PassKind {
    pub const ALL: [PassKind; 3] = [PassKind::Full, PassKind::Incremental, PassKind::Targeted];

    pub fn as_str(self) -> &'static str {
        match self {
            PassKind::Full => "full",
            PassKind::Incremental => "incremental",
            PassKind::Targeted => "targeted",
        }
    }
}

/// How a pass ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PassResult {
    /// Everything planned was applied.
    Converged,
    /// The pass finished; some actions failed and will be retried.
    ActionsFailed,
    /// The pass did what it could, but Lever or Willo refused some part of it for lack of
    /// permission (HTTP 403); the summary names what to grant.
    Partial,
    /// The pass finished without failures, but left work for later: opportunities waiting
    /// out the backoff of an earlier failure, invites whose outcome cannot be settled yet.
    Deferred,
    /// The pass stopped part-way (API unreachable, store error): its cursor did not move.
    Failed,
    /// Credentials were rejected; the tenant is disconnected.
    Disconnected,
    /// Shutdown arrived mid-pass.
    Interrupted,
}

impl PassResult {
    pub const ALL: [PassResult; 7] = [
        PassResult::Converged,
        PassResult::ActionsFailed,
        PassResult::Partial,
        PassResult::Deferred,
        PassResult::Failed,
        PassResult::Disconnected,
        PassResult::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PassResult::Converged => "converged",
            PassResult::ActionsFailed => "actions_failed",
            PassResult::Deferred => "deferred",
            PassResult::Partial => "partial",
            PassResult::Failed => "failed",
            PassResult::Disconnected => "disconnected",
            PassResult::Interrupted => "interrupted",
        }
    }
}

/// What a hint names: re-read this one object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Opportunity(String),
    Participant(String),
}

/// A word that names no pass kind or result (a row written by a newer build, say).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {word:?}")]
pub struct UnknownWord {
    pub what: &'static str,
    pub word: String,
}

impl fmt::Display for PassKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for PassResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PassKind {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Self, UnknownWord> {
        PassKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownWord {
                what: "pass kind",
                word: s.to_owned(),
            })
    }
}

impl FromStr for PassResult {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Self, UnknownWord> {
        PassResult::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownWord {
                what: "pass result",
                word: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_results_round_trip_through_their_words() {
        for k in PassKind::ALL {
            assert_eq!(k.as_str().parse::<PassKind>(), Ok(k));
        }
        for r in PassResult::ALL {
            assert_eq!(r.as_str().parse::<PassResult>(), Ok(r));
        }
        assert!("weekly".parse::<PassKind>().is_err());
    }
}
