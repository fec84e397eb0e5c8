//! Gives the allocator's free memory back to the system (issue 12, "flat memory").
//!
//! glibc's malloc keeps what a pass frees inside its arenas, and every thread that meets a
//! locked arena opens another one (up to 8 per core). So the daemon's RSS ratchets up to the
//! largest pass's high-water mark, then creeps past it as freed chunks fragment across arenas:
//! 53 → 71 → 84 MB over 100 incremental passes at 100,000 invites, 30.8 MB idle over 10,000
//! (docs/performance.md). Two arenas, and SQLite's cache and the arenas' free pages handed back
//! after each pass, keep it near what is live.
//! Outside glibc the arena cap and the trim do nothing; the caches are still released.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Arenas for the whole process: one per tokio worker thread is what its 2 cores use; the
/// blocking threads share them.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS: libc::c_int = 2;

/// At most one trim per interval: with many tenants a pass ends every few milliseconds, and a
/// trim walks every arena.
const TRIM_EVERY: Duration = Duration::from_secs(1);

static LAST_TRIM: Mutex<Option<Instant>> = Mutex::new(None);

/// Caps glibc's arenas. Called first thing, before the runtime starts its threads (arenas
/// already open stay).
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a parameter of glibc's own allocator, under its lock, and takes
    // no pointer.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
    }
}

/// Returns what the process keeps for reuse to the system, unless that was done less than
/// [`TRIM_EVERY`] ago: first `caches` (other layers' caches, such as SQLite's pages, which come
/// back from the OS's cache when needed), then the free pages of every arena. Called after
/// each pass.
pub fn release(caches: impl FnOnce()) {
    let now = Instant::now();
    {
        let mut last = LAST_TRIM.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|t| now.duration_since(t) < TRIM_EVERY) {
            return;
        }
        *last = Some(now);
    }
    caches();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim walks glibc's own arenas under their locks and takes no pointer.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_12_passes_ending_together_release_memory_at_most_once() {
        let mut released = 0;
        // Another test's pass may have released within the interval already: then neither does.
        release(|| released += 1);
        release(|| released += 1);
        release(|| released += 1);
        assert!(
            released <= 1,
            "released {released} times within {TRIM_EVERY:?}"
        );
    }
}
