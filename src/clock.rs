//! The shells' clock. The planner and the store take time as an argument; this is where it
//! is read.

use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock now, ms since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
