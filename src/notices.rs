//! What this process has already told the operator. A recurring condition (an unmapped Willo
//! state value, say) is counted every time by the metrics but logged only the first time, so a
//! log stays readable while the counter keeps the rate. An output sink, like the metrics: it
//! never feeds a decision back into a pass.

use std::collections::HashSet;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Notices {
    seen: Mutex<HashSet<(&'static str, String)>>,
}

impl Notices {
    pub fn new() -> Notices {
        Notices::default()
    }

    /// True the first time `(kind, value)` is noticed by this sink.
    pub fn first(&self, kind: &'static str, value: &str) -> bool {
        // A poisoned lock only means another thread panicked mid-insert; the set is still a
        // valid set, and losing a log line is better than losing the pass.
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((kind, value.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_first_once_per_kind() {
        let n = Notices::new();
        assert!(n.first("unknown_state", "Parked"));
        assert!(!n.first("unknown_state", "Parked"));
        assert!(n.first("other", "Parked"));
        assert!(n.first("unknown_state", "parked"));
    }
}
