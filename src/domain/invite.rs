//! The invite journal's states (rule: invite journal, docs/behaviour.md).
//!
//! `planned` → `in_flight` (committed before the POST) → `done` | `failed` | `ambiguous`.
//! A `planned` row never left the process, so it does not count as an invite; every other state
//! does, because the POST may have reached Willo.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InviteState {
    Planned,
    InFlight,
    Done,
    Failed,
    Ambiguous,
}

impl InviteState {
    pub const ALL: [InviteState; 5] = [
        InviteState::Planned,
        InviteState::InFlight,
        InviteState::Done,
        InviteState::Failed,
        InviteState::Ambiguous,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InviteState::Planned => "planned",
            InviteState::InFlight => "in_flight",
            InviteState::Done => "done",
            InviteState::Failed => "failed",
            InviteState::Ambiguous => "ambiguous",
        }
    }

    /// True when this row blocks a new invite for its (opportunity, interview).
    pub fn blocks_reinvite(self) -> bool {
        !matches!(self, InviteState::Planned)
    }

    /// True when the outcome is unknown and must be resolved by a lookup before anything else.
    pub fn needs_resolution(self) -> bool {
        matches!(self, InviteState::InFlight | InviteState::Ambiguous)
    }
}

impl fmt::Display for InviteState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown invite state {0:?}")]
pub struct UnknownInviteState(pub String);

impl FromStr for InviteState {
    type Err = UnknownInviteState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InviteState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownInviteState(s.to_owned()))
    }
}
