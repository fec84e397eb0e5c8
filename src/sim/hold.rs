//! The crash-test hook: hold the n-th matching request AFTER applying it, until released.
//!
//! The request's effect is committed in the simulated world; only the response is withheld.
//! A test uses this to kill a client mid-POST and check what the client does on restart.

use std::sync::{Arc, Mutex};

use tokio::sync::watch;

/// Which request to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRule {
    /// Method to match, case-insensitive.
    pub method: String,
    /// Route template to match, e.g. `/api/integrations/v2/participants/`.
    pub route: String,
    /// Hold the n-th matching request (1-based, counted from when the hold was set) that
    /// reached the handler.
    pub nth: u64,
}

impl HoldRule {
    /// Holds the first matching request.
    pub fn new(method: &str, route: &str) -> Self {
        HoldRule {
            method: method.to_owned(),
            route: route.to_owned(),
            nth: 1,
        }
    }

    /// Holds the n-th matching request instead (1-based).
    pub fn nth(mut self, n: u64) -> Self {
        self.nth = n;
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Armed,
    Held,
    Released,
}

#[derive(Debug)]
struct Hold {
    rule: HoldRule,
    seen: Mutex<u64>,
    phase: watch::Sender<Phase>,
}

/// Control over one hold. Dropping the handle releases the request (so a forgotten handle
/// cannot hang a test); keep it alive for as long as the request must stay held.
#[derive(Debug)]
pub struct HoldHandle {
    hold: Arc<Hold>,
}

impl HoldHandle {
    /// Waits until the matching request has been applied and is being held.
    pub async fn held(&self) {
        let mut rx = self.hold.phase.subscribe();
        // The sender lives in `self.hold`, so `wait_for` cannot see a closed channel here.
        let _ = rx.wait_for(|p| *p >= Phase::Held).await;
    }

    /// True while the matching request is held.
    pub fn is_held(&self) -> bool {
        *self.hold.phase.borrow() == Phase::Held
    }

    /// Lets the held request (or, if none is held yet, the future one) answer.
    pub fn release(&self) {
        self.hold.phase.send_replace(Phase::Released);
    }
}

impl Drop for HoldHandle {
    fn drop(&mut self) {
        self.release();
    }
}

/// The holds armed on one simulator.
#[derive(Debug, Default)]
pub(crate) struct Holds {
    armed: Mutex<Vec<Arc<Hold>>>,
}

/// A request the gate must hold before answering.
pub(crate) struct Held {
    hold: Arc<Hold>,
}

impl Held {
    /// Marks the request held, then waits for release.
    pub(crate) async fn wait(self) {
        let mut rx = self.hold.phase.subscribe();
        self.hold.phase.send_if_modified(|p| {
            if *p == Phase::Armed {
                *p = Phase::Held;
                true
            } else {
                false
            }
        });
        let _ = rx.wait_for(|p| *p == Phase::Released).await;
    }
}

impl Holds {
    pub(crate) fn arm(&self, rule: HoldRule) -> HoldHandle {
        let (phase, _) = watch::channel(Phase::Armed);
        let hold = Arc::new(Hold {
            rule,
            seen: Mutex::new(0),
            phase,
        });
        self.lock().push(hold.clone());
        HoldHandle { hold }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Hold>>> {
        self.armed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Called for each request that reached its handler; returns the hold it falls under.
    pub(crate) fn check(&self, method: &str, route: &str) -> Option<Held> {
        let mut armed = self.lock();
        // Released or dropped handles need no more counting.
        armed.retain(|h| *h.phase.borrow() == Phase::Armed && Arc::strong_count(h) > 1);
        let mut hit = None;
        for h in armed.iter() {
            if !h.rule.method.eq_ignore_ascii_case(method) || h.rule.route != route {
                continue;
            }
            let mut seen = h.seen.lock().unwrap_or_else(|e| e.into_inner());
            *seen += 1;
            if *seen == h.rule.nth && hit.is_none() {
                hit = Some(h.clone());
            }
        }
        if let Some(h) = &hit {
            armed.retain(|a| !Arc::ptr_eq(a, h));
        }
        hit.map(|hold| Held { hold })
    }

    /// Releases everything (the simulator is shutting down).
    pub(crate) fn release_all(&self) {
        for h in self.lock().drain(..) {
            h.phase.send_replace(Phase::Released);
        }
    }
}
