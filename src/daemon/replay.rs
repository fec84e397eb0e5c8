//! Memory of recently seen Lever webhook tokens (24 hours), bounded in size.
//!
//! In memory on purpose: webhooks never write state. After a restart a replayed delivery can
//! queue one extra targeted reconcile, which is harmless (it only re-reads).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// How long a token is remembered.
pub const WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

pub struct ReplayCache {
    inner: Mutex<Inner>,
    capacity: usize,
}

struct Inner {
    seen: HashMap<String, i64>,
    order: VecDeque<(i64, String)>,
}

impl ReplayCache {
    pub fn new(capacity: usize) -> ReplayCache {
        ReplayCache {
            inner: Mutex::new(Inner {
                seen: HashMap::new(),
                order: VecDeque::new(),
            }),
            capacity: capacity.max(1),
        }
    }

    /// Remembers `token` as seen at `now`. Returns false when it was already seen within the
    /// window (a retry or a replay).
    pub fn insert(&self, token: &str, now: i64) -> bool {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut *g;
        while let Some((at, _)) = inner.order.front() {
            if *at > now - WINDOW_MS && inner.order.len() < self.capacity {
                break;
            }
            if let Some((at, t)) = inner.order.pop_front()
                && inner.seen.get(&t) == Some(&at)
            {
                inner.seen.remove(&t);
            }
        }
        if inner.seen.contains_key(token) {
            return false;
        }
        inner.seen.insert(token.to_owned(), now);
        inner.order.push_back((now, token.to_owned()));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_remembered_for_the_window_only() {
        let c = ReplayCache::new(10);
        assert!(c.insert("a", 0));
        assert!(!c.insert("a", WINDOW_MS - 1));
        assert!(c.insert("a", WINDOW_MS + 1));
    }

    #[test]
    fn the_oldest_tokens_make_room_when_full() {
        let c = ReplayCache::new(2);
        assert!(c.insert("a", 1));
        assert!(c.insert("b", 2));
        assert!(c.insert("c", 3));
        assert!(!c.insert("c", 4));
        assert!(c.insert("a", 5), "a was evicted to make room");
    }
}
