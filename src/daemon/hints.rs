//! The hint queue: bounded, deduplicated, and never two reconciles of one key at once.
//!
//! A hint for an idle key is queued and picked up at once (no debounce). A hint for a key that
//! is queued is a duplicate; for a key that is running, it becomes one follow-up that runs after
//! the current reconcile (later hints collapse into it). A full queue drops the hint: the next
//! pass catches up.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::domain::Target;

/// A hint: one object of one tenant to re-read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HintKey {
    pub tenant: String,
    pub target: Target,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Queued,
    /// Running now: it will run once more afterwards.
    FollowUp,
    Deduplicated,
    Dropped,
}

impl Pushed {
    pub fn metric_label(self) -> &'static str {
        match self {
            Pushed::Queued | Pushed::FollowUp => "queued",
            Pushed::Deduplicated => "deduplicated",
            Pushed::Dropped => "dropped",
        }
    }
}

#[derive(Default)]
struct State {
    queue: VecDeque<HintKey>,
    queued: HashSet<HintKey>,
    running: HashSet<HintKey>,
    follow_up: HashSet<HintKey>,
    closed: bool,
}

pub struct HintQueue {
    state: Mutex<State>,
    ready: Notify,
    capacity: usize,
}

/// A key being reconciled. Dropping it (also on panic or cancellation) ends the run and
/// requeues a follow-up if one arrived meanwhile.
pub struct Running {
    queue: Arc<HintQueue>,
    key: Option<HintKey>,
}

impl Running {
    pub fn key(&self) -> &HintKey {
        // Only `Drop` takes the key.
        self.key
            .as_ref()
            .unwrap_or_else(|| unreachable!("key taken before drop"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.queue.finish(key);
        }
    }
}

impl HintQueue {
    pub fn new(capacity: usize) -> Arc<HintQueue> {
        Arc::new(HintQueue {
            state: Mutex::new(State::default()),
            ready: Notify::new(),
            capacity: capacity.max(1),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn push(&self, key: HintKey) -> Pushed {
        let mut s = self.lock();
        if s.closed {
            return Pushed::Dropped;
        }
        if s.queued.contains(&key) {
            return Pushed::Deduplicated;
        }
        if s.running.contains(&key) {
            return if s.follow_up.contains(&key) {
                Pushed::Deduplicated
            } else if s.queue.len() + s.follow_up.len() >= self.capacity {
                Pushed::Dropped
            } else {
                s.follow_up.insert(key);
                Pushed::FollowUp
            };
        }
        if s.queue.len() + s.follow_up.len() >= self.capacity {
            return Pushed::Dropped;
        }
        s.queued.insert(key.clone());
        s.queue.push_back(key);
        drop(s);
        self.ready.notify_one();
        Pushed::Queued
    }

    /// Waits for the next key; None once the queue is closed and empty.
    pub async fn next(self: &Arc<Self>) -> Option<Running> {
        loop {
            let notified = self.ready.notified();
            {
                let mut s = self.lock();
                if let Some(key) = s.queue.pop_front() {
                    s.queued.remove(&key);
                    s.running.insert(key.clone());
                    // Wake another worker if more is waiting.
                    if !s.queue.is_empty() {
                        self.ready.notify_one();
                    }
                    return Some(Running {
                        queue: Arc::clone(self),
                        key: Some(key),
                    });
                }
                if s.closed {
                    return None;
                }
            }
            notified.await;
        }
    }

    fn finish(&self, key: HintKey) {
        let mut s = self.lock();
        s.running.remove(&key);
        if s.follow_up.remove(&key) && !s.closed {
            s.queued.insert(key.clone());
            s.queue.push_back(key);
            drop(s);
            self.ready.notify_one();
        }
    }

    /// Hints waiting (queued and follow-ups).
    pub fn depth(&self) -> usize {
        let s = self.lock();
        s.queue.len() + s.follow_up.len()
    }

    /// Hints of one tenant waiting (queued and follow-ups).
    pub fn depth_of(&self, tenant: &str) -> usize {
        let s = self.lock();
        s.queue
            .iter()
            .chain(s.follow_up.iter())
            .filter(|k| k.tenant == tenant)
            .count()
    }

    /// Stops accepting hints and wakes every waiting worker; queued hints are dropped (the
    /// next start's full pass covers them).
    pub fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        s.queue.clear();
        s.queued.clear();
        s.follow_up.clear();
        drop(s);
        self.ready.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opp(id: &str) -> HintKey {
        HintKey {
            tenant: "t".into(),
            target: Target::Opportunity(id.into()),
        }
    }

    #[tokio::test]
    async fn queued_duplicates_collapse_and_running_keys_get_one_follow_up() {
        let q = HintQueue::new(10);
        assert_eq!(q.push(opp("a")), Pushed::Queued);
        assert_eq!(q.push(opp("a")), Pushed::Deduplicated);
        let run = q.next().await.unwrap();
        assert_eq!(run.key(), &opp("a"));
        assert_eq!(q.push(opp("a")), Pushed::FollowUp);
        assert_eq!(q.push(opp("a")), Pushed::Deduplicated);
        assert_eq!(q.depth(), 1);
        assert_eq!((q.depth_of("t"), q.depth_of("other")), (1, 0));
        // While `a` runs, its follow-up is not handed out.
        assert_eq!(q.push(opp("b")), Pushed::Queued);
        let b = q.next().await.unwrap();
        assert_eq!(b.key(), &opp("b"));
        drop(run);
        let again = q.next().await.unwrap();
        assert_eq!(again.key(), &opp("a"));
        assert_eq!(q.depth(), 0);
    }

    #[tokio::test]
    async fn a_full_queue_drops_hints() {
        let q = HintQueue::new(2);
        assert_eq!(q.push(opp("a")), Pushed::Queued);
        assert_eq!(q.push(opp("b")), Pushed::Queued);
        assert_eq!(q.push(opp("c")), Pushed::Dropped);
    }

    #[tokio::test]
    async fn close_wakes_waiting_workers() {
        let q = HintQueue::new(2);
        let waiter = tokio::spawn({
            let q = Arc::clone(&q);
            async move { q.next().await.is_none() }
        });
        tokio::task::yield_now().await;
        q.close();
        assert!(waiter.await.unwrap());
        assert_eq!(q.push(opp("a")), Pushed::Dropped);
    }
}
