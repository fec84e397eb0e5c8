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

/// Arenas for the whole process, whatever the cores: the daemon waits on rate-limited APIs far
/// more than it computes, so threads seldom contend for an arena, and each arena holds its own
/// fragmented free memory.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS: libc::c_int = 2;

/// Allocations at least this large get their own mapping, returned whole when freed. glibc
/// starts at this value but raises it (up to 32 MB) each time such a block is freed, after which
/// a pass's large buffers (listing pages, chunks) come from the arenas and fragment them: the
/// peak of 10 incremental passes at 100,000 was 60.3 MB with the moving threshold and 50.0 MB
/// with it fixed here (docs/performance.md). Setting it stops the raising.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// At most one trim per interval: with many tenants a pass ends every few milliseconds, and a
/// trim walks every arena.
const TRIM_EVERY: Duration = Duration::from_secs(1);

static LAST_TRIM: Mutex<Option<Instant>> = Mutex::new(None);

/// Caps glibc's arenas and fixes its mmap threshold. Called first thing, before the runtime
/// starts its threads (arenas already open stay).
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a parameter of glibc's own allocator, under its lock, and takes
    // no pointer.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Claims the next release: true unless one was claimed less than [`TRIM_EVERY`] ago. Cheap,
/// so the caller asks before it hands the release to a blocking thread.
pub fn claim_release() -> bool {
    let mut last = LAST_TRIM.lock().unwrap_or_else(|p| p.into_inner());
    due(&mut last, Instant::now())
}

/// Whether a release is due at `now`, noting it as done when it is.
fn due(last: &mut Option<Instant>, now: Instant) -> bool {
    if last.is_some_and(|t| now.duration_since(t) < TRIM_EVERY) {
        return false;
    }
    *last = Some(now);
    true
}

/// Hands the free pages of every arena back to the system (blocking: it walks every arena).
/// Called after a claimed release, once other layers' caches (SQLite's pages) are freed.
pub fn trim() {
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
    fn issue_12_passes_ending_together_release_memory_once_a_second() {
        let start = Instant::now();
        let mut last = None;
        assert!(due(&mut last, start), "the first release");
        assert!(!due(&mut last, start + Duration::from_millis(10)));
        assert!(!due(
            &mut last,
            start + TRIM_EVERY - Duration::from_millis(1)
        ));
        assert!(due(&mut last, start + TRIM_EVERY), "a second later");
        assert!(!due(
            &mut last,
            start + TRIM_EVERY + Duration::from_millis(500)
        ));
    }

    #[test]
    fn issue_12_passes_ending_together_release_memory_at_most_once() {
        // Another test may have claimed the release within the interval already: then none is.
        let released = (0..3).filter(|_| claim_release()).count();
        assert!(
            released <= 1,
            "released {released} times within {TRIM_EVERY:?}"
        );
    }
}
