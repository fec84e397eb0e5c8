//! The simulated clock behind every timestamp a simulator writes.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// How a simulator's clock moves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClockConfig {
    /// Start time in ms since the Unix epoch; `None` = the wall clock when the simulator starts.
    pub start_ms: Option<i64>,
    /// `false` (the default): time stands still except for `advance_clock`/`set_now`, so tests
    /// are deterministic. `true`: time also follows the wall clock (the sandbox demo).
    pub follow_wall: bool,
}

/// Milliseconds since the epoch by the wall clock (0 if the system clock is before 1970).
pub(crate) fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A clock in ms since the epoch whose change stamps are strictly increasing.
///
/// Owned by a simulator's world and read under its lock, so it needs no lock of its own.
#[derive(Debug)]
pub(crate) struct SimClock {
    base_ms: i64,
    anchor: Option<Instant>,
    last_stamp: i64,
}

impl SimClock {
    pub(crate) fn new(config: ClockConfig) -> Self {
        SimClock {
            base_ms: config.start_ms.unwrap_or_else(wall_ms),
            anchor: config.follow_wall.then(Instant::now),
            last_stamp: i64::MIN,
        }
    }

    /// The current simulated time.
    pub(crate) fn now_ms(&self) -> i64 {
        let drift = self
            .anchor
            .map(|a| i64::try_from(a.elapsed().as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        self.base_ms.saturating_add(drift)
    }

    pub(crate) fn advance(&mut self, ms: i64) {
        self.base_ms = self.base_ms.saturating_add(ms);
    }

    pub(crate) fn set_now(&mut self, ms: i64) {
        self.base_ms = ms;
        if self.anchor.is_some() {
            self.anchor = Some(Instant::now());
        }
    }

    /// A timestamp for a change: `max(now, previous stamp + 1)`. Strictly increasing, so that
    /// "updated since X" windows in tests never depend on two changes sharing a millisecond.
    pub(crate) fn stamp(&mut self) -> i64 {
        let s = self.now_ms().max(self.last_stamp.saturating_add(1));
        self.last_stamp = s;
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_strictly_increase_on_a_frozen_clock() {
        let mut c = SimClock::new(ClockConfig {
            start_ms: Some(1_000),
            follow_wall: false,
        });
        assert_eq!(c.stamp(), 1_000);
        assert_eq!(c.stamp(), 1_001);
        assert_eq!(c.now_ms(), 1_000);
        c.advance(10_000);
        assert_eq!(c.stamp(), 11_000);
        c.set_now(5);
        assert_eq!(c.stamp(), 11_001, "never goes backwards");
    }
}
