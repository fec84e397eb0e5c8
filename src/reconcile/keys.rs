//! Serialising the reconciles of one tenant per object, so that a hint never waits for a whole
//! pass: a scheduled pass and any number of hint reconciles run side by side, and only the
//! actions on one opportunity, or on one person's invite to one interview, take turns.
//!
//! Taking turns is not enough on its own: a pass may have read an opportunity before a hint
//! wrote to it, and its plan is then stale. Each reconcile reads the tenant's write epoch when
//! it starts; a write bumps it and notes who wrote what; an action on an opportunity another
//! reconcile wrote since is not applied (the opportunity is read again by the next pass).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::OwnedMutexGuard;

use crate::domain::{InterviewKey, OpportunityId};

/// A tenant's turns, shared by every runtime of the tenant: a reload that rebuilds the tenant
/// hands the new runtime the old one's turns, so a pass in flight and a hint on the new settings
/// still take turns.
#[derive(Debug, Clone, Default)]
pub struct Turns(pub(crate) Arc<KeyLocks>);

/// What one reconcile's actions lock.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Key {
    Opportunity(OpportunityId),
    /// One person (an email key) in one interview: two opportunities of the same person are
    /// never invited to one interview at the same time by two reconciles.
    Person(String, InterviewKey),
}

/// The tenant's locks and write epochs. Shared by every reconcile of the tenant.
#[derive(Debug, Default)]
pub(crate) struct KeyLocks {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    locks: HashMap<Key, Arc<tokio::sync::Mutex<()>>>,
    /// The last write to each opportunity: (epoch, the reconcile that wrote).
    written: HashMap<OpportunityId, (u64, u64)>,
    epoch: u64,
    /// Epochs at which the reconciles still running started (a multiset).
    readers: BTreeMap<u64, usize>,
    next_reader: u64,
}

/// One reconcile's view: the epoch it read at. Dropping it forgets writes nobody can be
/// stale against any more.
#[derive(Debug)]
pub(crate) struct Reader<'k> {
    locks: &'k KeyLocks,
    epoch: u64,
    id: u64,
}

/// Held locks; released (and forgotten when nobody waits) on drop.
pub(crate) struct Held<'k> {
    locks: &'k KeyLocks,
    guards: Vec<(Key, OwnedMutexGuard<()>)>,
}

impl KeyLocks {
    fn state(&self) -> MutexGuard<'_, State> {
        // The state is a few maps with no invariant a panic could break half-way.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a reconcile's view: call before reading anything.
    pub(crate) fn reader(&self) -> Reader<'_> {
        let mut s = self.state();
        let epoch = s.epoch;
        *s.readers.entry(epoch).or_default() += 1;
        s.next_reader += 1;
        Reader {
            locks: self,
            epoch,
            id: s.next_reader,
        }
    }

    /// Takes the locks of `keys`, in a fixed order so two reconciles never deadlock.
    pub(crate) async fn lock(&self, keys: BTreeSet<Key>) -> Held<'_> {
        let mut guards = Vec::with_capacity(keys.len());
        for key in keys {
            let lock = Arc::clone(self.state().locks.entry(key.clone()).or_default());
            guards.push((key, lock.lock_owned().await));
        }
        Held {
            locks: self,
            guards,
        }
    }
}

impl Reader<'_> {
    /// True when another reconcile wrote to the opportunity after this one started reading.
    pub(crate) fn is_stale(&self, id: &str) -> bool {
        self.locks
            .state()
            .written
            .get(id)
            .is_some_and(|(epoch, by)| *epoch > self.epoch && *by != self.id)
    }

    /// Notes a write to the opportunity.
    pub(crate) fn wrote(&self, id: &str) {
        let mut s = self.locks.state();
        s.epoch += 1;
        let epoch = s.epoch;
        s.written.insert(id.to_owned(), (epoch, self.id));
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        let mut s = self.locks.state();
        if let Some(n) = s.readers.get_mut(&self.epoch) {
            *n -= 1;
            if *n == 0 {
                s.readers.remove(&self.epoch);
            }
        }
        // A write older than every running reader's start can make nobody stale.
        match s.readers.keys().next().copied() {
            Some(oldest) => s.written.retain(|_, (epoch, _)| *epoch > oldest),
            None => s.written.clear(),
        }
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let keys: Vec<Key> = self.guards.iter().map(|(k, _)| k.clone()).collect();
        self.guards.clear();
        let mut s = self.locks.state();
        for key in keys {
            // Only the map holds it: nobody waits, so it can go.
            if s.locks.get(&key).is_some_and(|l| Arc::strong_count(l) == 1) {
                s.locks.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_by_another_reconcile_after_the_read_makes_the_view_stale() {
        let locks = KeyLocks::default();
        let pass = locks.reader();
        let hint = locks.reader();
        assert!(!pass.is_stale("o1"));
        hint.wrote("o1");
        assert!(pass.is_stale("o1"));
        assert!(
            !hint.is_stale("o1"),
            "its own write does not make a view stale"
        );
        let later = locks.reader();
        assert!(
            !later.is_stale("o1"),
            "a view that started after the write is fresh"
        );
    }

    #[test]
    fn writes_are_forgotten_once_no_reader_can_be_stale_against_them() {
        let locks = KeyLocks::default();
        {
            let r = locks.reader();
            r.wrote("o1");
        }
        assert!(locks.state().written.is_empty());
        assert!(locks.state().readers.is_empty());
    }

    #[tokio::test]
    async fn one_key_is_held_by_one_reconcile_at_a_time_and_then_forgotten() {
        let locks = KeyLocks::default();
        let key = || BTreeSet::from([Key::Opportunity("o1".into())]);
        let held = locks.lock(key()).await;
        let second = locks.lock(key());
        tokio::pin!(second);
        assert!(
            futures::poll!(second.as_mut()).is_pending(),
            "the second reconcile did not wait"
        );
        drop(held);
        let held = second.await;
        drop(held);
        assert!(locks.state().locks.is_empty());
    }
}
