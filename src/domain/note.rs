//! Completion notes (rule: completion note, docs/behaviour.md): the journal's states, the
//! marker that identifies a note in Lever, and the note's text.
//!
//! `planned` → `in_flight` (committed before the POST) → `done` | `failed`; an `in_flight` row
//! found later (a crash, an unknown outcome) is settled by finding the marker among the
//! opportunity's notes: found → `done`, absent → `planned`. Lever has no idempotency key for
//! notes, so the marker is what makes "exactly once" checkable.

use std::fmt;
use std::str::FromStr;

use super::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoteState {
    /// The intent; never left the process.
    Planned,
    /// Committed before the POST: the note may exist in Lever.
    InFlight,
    /// The note exists (its id is known, unless Lever's answer did not carry it).
    Done,
    /// Lever refused the POST: no note exists; planned again after the opportunity's backoff.
    Failed,
}

impl NoteState {
    pub const ALL: [NoteState; 4] = [
        NoteState::Planned,
        NoteState::InFlight,
        NoteState::Done,
        NoteState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoteState::Planned => "planned",
            NoteState::InFlight => "in_flight",
            NoteState::Done => "done",
            NoteState::Failed => "failed",
        }
    }

    /// True when a note may be posted for this row: none can exist in Lever.
    pub fn may_post(self) -> bool {
        matches!(self, NoteState::Planned | NoteState::Failed)
    }
}

impl fmt::Display for NoteState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown note state {0:?}")]
pub struct UnknownNoteState(pub String);

impl FromStr for NoteState {
    type Err = UnknownNoteState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NoteState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownNoteState(s.to_owned()))
    }
}

/// The line that identifies the completion note of one interview among an opportunity's
/// notes. Stable across versions: changing it would make old notes unfindable and post them
/// again after an unknown outcome.
pub fn completion_marker(interview_key: &str) -> String {
    format!("[willo-lever-sync completion interview={interview_key}]")
}

/// The note's plain text (Lever documents notes as plain text): the interview's title, when
/// it was completed and the link to the response when known, then the marker line.
pub fn completion_text(
    title: &str,
    interview_key: &str,
    completed_at: Option<Millis>,
    response_link: Option<&str>,
) -> String {
    let mut text = format!("Completed the Willo interview \"{title}\"");
    if let Some(at) = completed_at.and_then(chrono::DateTime::from_timestamp_millis) {
        text.push_str(&format!(" on {}", at.format("%Y-%m-%d %H:%M UTC")));
    }
    text.push('.');
    if let Some(link) = response_link {
        text.push_str(&format!("\nResponse: {link}"));
    }
    text.push('\n');
    text.push_str(&completion_marker(interview_key));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip() {
        for s in NoteState::ALL {
            assert_eq!(s.as_str().parse::<NoteState>(), Ok(s));
        }
        assert!("ambiguous".parse::<NoteState>().is_err());
    }

    #[test]
    fn text_holds_title_time_link_and_marker() {
        let t = completion_text("Sales", "k1", Some(1_764_589_260_000), Some("https://x/r"));
        assert_eq!(
            t,
            "Completed the Willo interview \"Sales\" on 2025-12-01 11:41 UTC.\nResponse: https://x/r\n[willo-lever-sync completion interview=k1]"
        );
        let bare = completion_text("Sales", "k1", None, None);
        assert_eq!(
            bare,
            "Completed the Willo interview \"Sales\".\n[willo-lever-sync completion interview=k1]"
        );
    }
}
