//! Log lines for events anyone on the network can cause (a rejected webhook, say) are
//! rate-limited: the first is written, then at most one per interval per key, saying how many
//! were left out. The metrics count every event, so nothing is lost but repetition; a flood
//! of forged deliveries cannot fill the disk or drown the rest of the log.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often a recurring event of one key is written to the log at most.
pub const LOG_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct LogThrottle {
    every: Duration,
    keys: Mutex<HashMap<String, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    logged_at: Instant,
    left_out: u64,
}

impl LogThrottle {
    pub fn new(every: Duration) -> LogThrottle {
        LogThrottle {
            every,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the event of `key` happening at `now` is to be logged: `Some(n)` with the `n`
    /// events of that key left out since the last line, or `None` to leave it out. Keys come
    /// from configuration (tenant and source), never from a request, so the map stays small.
    pub fn admit(&self, key: &str, now: Instant) -> Option<u64> {
        // A poisoned lock only means a panic mid-update of a counter; the counts stay usable.
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        match keys.get_mut(key) {
            Some(w) if now.saturating_duration_since(w.logged_at) < self.every => {
                w.left_out += 1;
                None
            }
            Some(w) => {
                let left_out = w.left_out;
                *w = Window {
                    logged_at: now,
                    left_out: 0,
                };
                Some(left_out)
            }
            None => {
                keys.insert(
                    key.to_owned(),
                    Window {
                        logged_at: now,
                        left_out: 0,
                    },
                );
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_event_is_logged_then_one_per_interval_with_the_count_left_out() {
        let t = LogThrottle::new(Duration::from_secs(60));
        let start = Instant::now();
        assert_eq!(t.admit("acme/lever", start), Some(0));
        for i in 1..=1000 {
            assert_eq!(
                t.admit("acme/lever", start + Duration::from_millis(i)),
                None
            );
        }
        // Another key has its own window.
        assert_eq!(t.admit("acme/willo", start), Some(0));
        assert_eq!(
            t.admit("acme/lever", start + Duration::from_secs(60)),
            Some(1000)
        );
        assert_eq!(t.admit("acme/lever", start + Duration::from_secs(61)), None);
    }
}
