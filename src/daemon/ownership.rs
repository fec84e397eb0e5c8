//! Which tenants this instance runs, when several instances share a PostgreSQL store (issue
//! 14). Each tenant has a lease: an owner, an expiry and a fence. Every `lease / 3` this
//! instance says it is alive, renews what it holds, gives back what exceeds its fair share
//! (the tenants over the instances alive, rounded up) and takes lapsed or free leases up to
//! it. A taken tenant starts with a full pass; a lost one has its work cancelled, and the
//! database refuses any write it still tries (the fence, `store/leases.rs`).
//!
//! With SQLite there is no `Ownership`: the state's lock file makes the instance the only one,
//! and it owns every tenant.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::readiness::Readiness;
use super::workers::Slots;
use crate::domain::PassKind;
use crate::error_chain::chain;
use crate::metrics::Metrics;
use crate::store::Store;

pub struct Ownership {
    me: String,
    lease: Duration,
    store: Arc<Store>,
    metrics: Metrics,
    held: RwLock<BTreeMap<String, Held>>,
    /// The parent of every tenant's token: shutdown.
    shutdown: CancellationToken,
}

struct Held {
    fence: i64,
    /// Cancelled when the lease is lost or given back: the tenant's pass and hints stop.
    token: CancellationToken,
}

impl Ownership {
    pub fn new(
        me: &str,
        lease: Duration,
        store: Arc<Store>,
        metrics: Metrics,
        shutdown: CancellationToken,
    ) -> Arc<Ownership> {
        Arc::new(Ownership {
            me: me.to_owned(),
            lease,
            store,
            metrics,
            held: RwLock::new(BTreeMap::new()),
            shutdown,
        })
    }

    /// Whether this instance holds `tenant`'s lease now.
    pub fn owns(&self, tenant: &str) -> bool {
        self.read().contains_key(tenant)
    }

    /// For `--once`: takes the lease of every one of `tenants` and keeps them renewed until
    /// [`Self::release_all`]; refuses (taking none) when another instance holds any of them.
    pub fn hold(
        me: &str,
        lease: Duration,
        store: Arc<Store>,
        metrics: Metrics,
        tenants: &[String],
    ) -> Result<Arc<Ownership>, crate::store::StoreError> {
        let o = Ownership::new(me, lease, store, metrics, CancellationToken::new());
        let Some(pg) = o.store.postgres() else {
            return Ok(o);
        };
        let mut refused = Vec::new();
        for t in tenants {
            match pg.take(me, t, o.lease_ms())? {
                Some(taken) => o.keep(&taken),
                None => refused.push(t.clone()),
            }
        }
        if !refused.is_empty() {
            // Who holds them, and until when: a `--once` killed a moment ago holds its
            // tenants until its leases lapse.
            let leases = o.store.read(|r| r.leases()).unwrap_or_default();
            let refused: Vec<String> = refused
                .iter()
                .map(|t| match leases.iter().find(|l| &l.tenant == t) {
                    Some(l) => format!(
                        "tenant {t} is held by instance {} until {}",
                        l.owner,
                        crate::timefmt::rfc3339(l.expires_at)
                    ),
                    None => format!("tenant {t} is held by another instance"),
                })
                .collect();
            o.give_back();
            return Err(crate::store::StoreError::Leased {
                held: refused.join(", "),
            });
        }
        o.publish_fences();
        let keeper = Arc::clone(&o);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(keeper.renew_every()) => {}
                    () = keeper.shutdown.cancelled() => break,
                }
                let Some(pg) = keeper.store.postgres() else {
                    break;
                };
                if let Err(e) = keeper.renew_held(pg) {
                    keeper.renew_failed();
                    tracing::warn!(error = %chain(&e), "cannot renew the tenant leases");
                }
            }
        });
        Ok(o)
    }

    /// Ends [`Self::hold`]: stops renewing and gives every lease back.
    pub fn release_all(&self) {
        self.shutdown.cancel();
        self.give_back();
    }

    /// Hands a hint to whichever instance holds its tenant (`handoff`).
    pub fn notify(&self, payload: &str) -> Result<(), crate::store::StoreError> {
        match self.store.postgres() {
            Some(pg) => pg.notify_hint(payload),
            None => Ok(()),
        }
    }

    /// What cancels `tenant`'s work here: `shutdown` for a lone instance (`owner` is `None`),
    /// else a token cancelled when this instance stops holding the tenant (or shuts down);
    /// `None` when it does not hold it, and must not run it.
    pub fn token_of(
        owner: Option<&Ownership>,
        tenant: &str,
        shutdown: &CancellationToken,
    ) -> Option<CancellationToken> {
        match owner {
            None => Some(shutdown.clone()),
            Some(o) => o.read().get(tenant).map(|h| h.token.clone()),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Held>> {
        self.held.read().unwrap_or_else(|p| p.into_inner())
    }

    fn lease_ms(&self) -> i64 {
        i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX)
    }

    /// How often leases are renewed: three times a lease, so one failed renewal loses none.
    pub fn renew_every(&self) -> Duration {
        self.lease / 3
    }

    /// Renews, rebalances and takes leases until shutdown (then [`Self::give_back`], once
    /// the work in flight has ended).
    pub(super) async fn run(self: Arc<Self>, slots: Slots, readiness: Arc<Readiness>) {
        let mut last_renewed = Instant::now();
        loop {
            let tenants: Vec<String> = slots
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .keys()
                .cloned()
                .collect();
            let mut taken = Vec::new();
            let round = self.round(&tenants, &mut taken);
            // What the round took before any failure is held: fenced writes name it, and it
            // starts with a full pass.
            self.publish_fences();
            for tenant in taken {
                readiness.owned(&tenant, true);
                if let Some(slot) = super::workers::slot(&slots, &tenant) {
                    slot.requests.request(PassKind::Full);
                }
            }
            match round {
                Ok(()) => last_renewed = Instant::now(),
                Err(e) => {
                    self.renew_failed();
                    tracing::warn!(instance = %self.me, error = %chain(&e),
                        "cannot renew the tenant leases");
                    // Unrenewed for a whole lease: the leases may be another instance's by
                    // now, so their work stops (the fence refuses its writes anyway).
                    if last_renewed.elapsed() >= self.lease {
                        self.drop_all("its lease could not be renewed in time");
                    }
                }
            }
            for t in &tenants {
                readiness.owned(t, self.owns(t));
            }
            self.metrics
                .tenants_owned
                .get_or_create(&Metrics::instance(&self.me))
                .set(i64::try_from(self.read().len()).unwrap_or(i64::MAX));
            tokio::select! {
                () = tokio::time::sleep(self.renew_every()) => {}
                () = self.shutdown.cancelled() => break,
            }
        }
    }

    /// One round: heartbeat, renewal, rebalancing; the leases taken go into `taken`.
    fn round(
        &self,
        tenants: &[String],
        taken: &mut Vec<String>,
    ) -> Result<(), crate::store::StoreError> {
        let Some(pg) = self.store.postgres() else {
            return Ok(());
        };
        let alive = pg.heartbeat(&self.me, self.lease_ms())?;
        let kept = self.renew_held(pg)?;
        // A tenant no longer configured is given back.
        let configured: BTreeSet<&String> = tenants.iter().collect();
        for (t, f) in kept.iter().filter(|(t, _)| !configured.contains(t)) {
            pg.release(&self.me, t, *f)?;
            self.lose(t, "it is no longer configured");
        }
        let share = tenants.len().div_ceil(alive.max(1));
        let mut held: Vec<(String, i64)> = self.fences().into_iter().collect();
        // Over the fair share (an instance joined): give back the last ones in this
        // instance's order, so each instance keeps a stable set.
        held.sort_by_key(|(t, _)| preference(&self.me, t));
        while held.len() > share {
            let Some((t, f)) = held.pop() else { break };
            pg.release(&self.me, &t, f)?;
            self.lose(&t, "rebalanced to another instance");
        }
        let mut wanted: Vec<&String> = tenants.iter().filter(|t| !self.owns(t)).collect();
        wanted.sort_by_key(|t| preference(&self.me, t));
        for tenant in wanted {
            if self.read().len() >= share {
                break;
            }
            let Some(t) = pg.take(&self.me, tenant, self.lease_ms())? else {
                continue;
            };
            if let Some(from) = &t.from {
                self.metrics
                    .lease_takeovers
                    .get_or_create(&Metrics::instance(&self.me))
                    .inc();
                tracing::warn!(instance = %self.me, tenant = %t.tenant, from = %from,
                    fence = t.fence, "took the tenant over: its owner stopped renewing its lease");
            } else {
                tracing::info!(instance = %self.me, tenant = %t.tenant, fence = t.fence,
                    "took the tenant's lease");
            }
            self.keep(&t);
            taken.push(t.tenant);
        }
        Ok(())
    }

    /// Renews every lease held; those found taken by another instance are lost. Returns the
    /// leases still held.
    fn renew_held(
        &self,
        pg: &crate::store::PgStore,
    ) -> Result<BTreeMap<String, i64>, crate::store::StoreError> {
        let fences = self.fences();
        let kept = pg.renew(&self.me, &fences, self.lease_ms())?;
        for tenant in fences.keys().filter(|t| !kept.contains_key(*t)) {
            self.renew_failed();
            self.lose(tenant, "another instance holds its lease now");
        }
        Ok(kept)
    }

    fn renew_failed(&self) {
        self.metrics
            .lease_renew_failures
            .get_or_create(&Metrics::instance(&self.me))
            .inc();
    }

    /// Holds a lease just taken: its tenant's work runs under a token of its own.
    fn keep(&self, t: &crate::store::Taken) {
        self.held.write().unwrap_or_else(|p| p.into_inner()).insert(
            t.tenant.clone(),
            Held {
                fence: t.fence,
                token: self.shutdown.child_token(),
            },
        );
    }

    /// Each lease held, with its fence.
    fn fences(&self) -> BTreeMap<String, i64> {
        self.read()
            .iter()
            .map(|(t, h)| (t.clone(), h.fence))
            .collect()
    }

    fn publish_fences(&self) {
        if let Some(pg) = self.store.postgres() {
            pg.set_fences(&self.me, &self.fences());
        }
    }

    fn lose(&self, tenant: &str, why: &str) {
        let held = self
            .held
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(tenant);
        if let Some(h) = held {
            h.token.cancel();
            tracing::warn!(instance = %self.me, tenant, why, "no longer runs the tenant");
        }
        self.publish_fences();
    }

    fn drop_all(&self, why: &str) {
        let tenants: Vec<String> = self.read().keys().cloned().collect();
        for t in tenants {
            self.lose(&t, why);
        }
    }

    /// At shutdown, after the work in flight: every lease back, so the other instances take
    /// the tenants over at once, and this instance out of the count.
    pub fn give_back(&self) {
        let Some(pg) = self.store.postgres() else {
            return;
        };
        for (t, f) in self.fences() {
            if let Err(e) = pg.release(&self.me, &t, f) {
                tracing::warn!(tenant = %t, error = %chain(&e), "cannot give the lease back; it lapses");
            }
        }
        if let Err(e) = pg.leave(&self.me) {
            tracing::debug!(error = %chain(&e), "cannot leave the instance list");
        }
    }
}

/// The order in which an instance prefers tenants: a hash of both names, so instances start
/// from different tenants instead of all racing for the first one.
fn preference(me: &str, tenant: &str) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(me.as_bytes());
    h.update([0]);
    h.update(tenant.as_bytes());
    h.finalize().into()
}
