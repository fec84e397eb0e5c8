//! Reload (SIGHUP, `systemctl reload`): read the configuration and every secret file again and
//! apply what changed, without dropping work in flight.
//!
//! - A new configuration that does not load is refused whole, with the reason in the log; the
//!   daemon goes on with the configuration it has.
//! - A few keys hold things that live as long as the process (the listening socket, the state
//!   store's lock, the hint queue, the log outputs): a change to one of them refuses the reload
//!   and names the key, since applying the rest would leave the running daemon and its file
//!   disagreeing about it. Restarting applies them.
//! - A tenant whose settings changed (a rotated key included) gets a new runtime: a pass or a
//!   hint's reconcile in flight finishes with the old one, the next one uses the new. Webhook
//!   secrets change at once, for the next delivery. A tenant added starts with a full pass; a
//!   tenant removed stops taking hints at once and its runner ends after its pass in flight.
//! - OAuth tenants always get a new runtime, which reads their tokens from the state store
//!   again: `connect` stores new tokens next to a running daemon and asks it to reload. One
//!   that is disconnected runs an incremental pass at once.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_cron_scheduler::{JobScheduler, JobSchedulerError};
use tokio_util::sync::CancellationToken;

use super::readiness::Readiness;
use super::schedule::{self, Requested};
use super::server::Shared;
use super::workers::{Slot, Slots, slot};
use super::{Context, DaemonError, hooks, notify, spawn_runner};
use crate::config::{ConfigError, Settings, TenantSettings};
use crate::domain::PassKind;
use crate::error_chain::chain;
use crate::lever::LeverAuth;
use crate::reconcile::Tenant;

/// How a running daemon is asked to reload, and how it reads its configuration again.
pub struct Reloader {
    /// Changes once per request (see [`super::signals::Stop::reloads`]).
    pub requests: watch::Receiver<u64>,
    pub load: Box<dyn Fn() -> Result<Settings, ConfigError> + Send + Sync>,
}

/// What a running daemon holds that a reload may change.
pub(super) struct Running {
    pub settings: Settings,
    pub cx: Context,
    pub slots: Slots,
    pub shared: Arc<Shared>,
    pub readiness: Arc<Readiness>,
    pub scheduler: JobScheduler,
}

/// Starts the cron jobs; each asks every tenant running at that moment for a pass.
pub(super) async fn start_scheduler(
    settings: &Settings,
    slots: &Slots,
) -> Result<JobScheduler, JobSchedulerError> {
    let slots = Arc::clone(slots);
    let interval = settings.daemon.schedule.interval();
    schedule::start(
        &settings.daemon.schedule,
        &settings.daemon.full_schedule,
        Arc::new(move |kind| {
            let slots = slots.read().unwrap_or_else(|p| p.into_inner());
            for (tenant, slot) in slots.iter() {
                let offset = schedule::spread_offset(tenant, slots.len(), interval);
                if slot.requests.request_after(kind, offset) == Requested::Coalesced {
                    tracing::debug!(tenant = %tenant, kind = %kind, "pass due while one is pending; coalesced");
                }
            }
        }),
    )
    .await
}

/// The keys a reload cannot apply, with their old and new values, when they changed.
fn fixed_keys_changed(old: &Settings, new: &Settings) -> Vec<String> {
    let mut changed = Vec::new();
    let mut check = |key: &str, a: String, b: String| {
        if a != b {
            changed.push(format!("{key} ({a} -> {b})"));
        }
    };
    let (o, n) = (&old.daemon, &new.daemon);
    check("daemon.listen", o.listen.to_string(), n.listen.to_string());
    check(
        "daemon.state_dir",
        o.state_dir.display().to_string(),
        n.state_dir.display().to_string(),
    );
    check(
        "daemon.hint_queue_capacity",
        o.hint_queue_capacity.to_string(),
        n.hint_queue_capacity.to_string(),
    );
    check(
        "log.format",
        format!("{:?}", old.log.format).to_lowercase(),
        format!("{:?}", new.log.format).to_lowercase(),
    );
    let dir = |d: &Option<std::path::PathBuf>| {
        d.as_ref()
            .map_or_else(|| "unset".to_owned(), |d| d.display().to_string())
    };
    check("log.dir", dir(&old.log.dir), dir(&new.log.dir));
    check(
        "daemon.instance_id",
        o.instance_id.clone(),
        n.instance_id.clone(),
    );
    // The store and its leases are opened once: another database, or other leases, need a
    // restart. The connection string is compared whole but printed without its password.
    let store = |s: &Settings| {
        s.store.postgres.as_ref().map_or_else(
            || ("SQLite in daemon.state_dir".to_owned(), String::new(), 0),
            |p| {
                (
                    crate::store::redact(p.url.expose()),
                    p.url.expose().to_owned(),
                    p.lease.as_secs(),
                )
            },
        )
    };
    let ((shown_a, url_a, lease_a), (shown_b, url_b, lease_b)) = (store(old), store(new));
    check(
        "store.lease_seconds",
        lease_a.to_string(),
        lease_b.to_string(),
    );
    if url_a != url_b {
        changed.push(format!("store.url ({shown_a} -> {shown_b})"));
    }
    changed
}

/// The runtimes a reload would start: for each tenant of `new` that needs one, its new runtime.
/// Built before anything changes, so a tenant whose clients cannot be built refuses the whole
/// reload.
struct Plan {
    build: BTreeMap<String, Arc<Tenant>>,
    added: Vec<String>,
    changed: Vec<String>,
    removed: Vec<String>,
    unchanged: Vec<String>,
}

impl Running {
    fn plan(&self, new: &Settings) -> Result<Plan, DaemonError> {
        let options = Context::options(new);
        let options_changed = Context::options(&self.settings).concurrency != options.concurrency
            || Context::options(&self.settings).overlap != options.overlap;
        let mut plan = Plan {
            build: BTreeMap::new(),
            added: Vec::new(),
            changed: Vec::new(),
            removed: Vec::new(),
            unchanged: Vec::new(),
        };
        for t in &new.tenants {
            let oauth = matches!(t.lever.client.auth, LeverAuth::OAuth(_));
            match slot(&self.slots, &t.id) {
                None => plan.added.push(t.id.clone()),
                Some(s) if s.fingerprint() != t.fingerprint() || options_changed => {
                    plan.changed.push(t.id.clone());
                }
                Some(_) => {
                    plan.unchanged.push(t.id.clone());
                    if !oauth {
                        continue;
                    }
                }
            }
            // A rebuilt tenant takes turns with its old runtime's pass in flight.
            let turns = slot(&self.slots, &t.id).map(|s| s.tenant().turns());
            plan.build
                .insert(t.id.clone(), self.cx.tenant(t, &options, turns)?);
        }
        let ids: Vec<&str> = new.tenants.iter().map(|t| t.id.as_str()).collect();
        plan.removed = self
            .slots
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .filter(|id| !ids.contains(&id.as_str()))
            .cloned()
            .collect();
        Ok(plan)
    }

    /// Applies `loaded` (the configuration read again) or refuses it; either way says so in
    /// the log, and the daemon goes on.
    pub async fn reload(
        &mut self,
        loaded: Result<Settings, ConfigError>,
        work: &mut JoinSet<()>,
        shutdown: &CancellationToken,
    ) {
        notify::reloading();
        let (new, plan) = match self.prepare(loaded) {
            Ok(ready) => ready,
            Err(why) => {
                tracing::error!(error = %why,
                    "configuration reload refused; the daemon goes on with the configuration it has");
                notify::ready();
                return;
            }
        };
        self.apply(&new, &plan, work, shutdown);
        if new.daemon.schedule != self.settings.daemon.schedule
            || new.daemon.full_schedule != self.settings.daemon.full_schedule
        {
            self.restart_scheduler(&new).await;
        }
        tracing::info!(
            config = %new.source.display(),
            added = ?plan.added,
            changed = ?plan.changed,
            removed = ?plan.removed,
            unchanged = ?plan.unchanged,
            schedule = %new.daemon.schedule,
            full_schedule = %new.daemon.full_schedule,
            level = %new.log.level,
            "configuration reloaded"
        );
        self.settings = new;
        notify::ready();
    }

    /// Everything that can refuse a reload, before anything changes: the file loads, changes
    /// no key a reload cannot apply, its tenants' clients build and its level applies.
    fn prepare(&self, loaded: Result<Settings, ConfigError>) -> Result<(Settings, Plan), String> {
        let new = loaded.map_err(|e| chain(&e).to_string())?;
        let fixed = fixed_keys_changed(&self.settings, &new);
        if !fixed.is_empty() {
            return Err(format!(
                "{} changed, which a reload cannot apply; restart the service to apply it",
                fixed.join(", ")
            ));
        }
        let plan = self.plan(&new).map_err(|e| chain(&e).to_string())?;
        crate::logging::set_level(&new.log.level).map_err(|e| chain(&e).to_string())?;
        Ok((new, plan))
    }

    /// Swaps in the new runtimes, slots and webhook secrets.
    fn apply(
        &mut self,
        new: &Settings,
        plan: &Plan,
        work: &mut JoinSet<()>,
        shutdown: &CancellationToken,
    ) {
        let by_id: BTreeMap<&str, &TenantSettings> =
            new.tenants.iter().map(|t| (t.id.as_str(), t)).collect();
        {
            let mut hooks_now = self
                .shared
                .tenants
                .write()
                .unwrap_or_else(|p| p.into_inner());
            for id in plan.added.iter().chain(&plan.changed) {
                if let Some(t) = by_id.get(id.as_str()) {
                    hooks_now.insert(id.clone(), Arc::new(hooks(t)));
                }
            }
            hooks_now.retain(|id, _| by_id.contains_key(id.as_str()));
        }
        let mut slots = self.slots.write().unwrap_or_else(|p| p.into_inner());
        for id in &plan.removed {
            if let Some(s) = slots.remove(id) {
                s.removed.cancel();
            }
        }
        for (id, tenant) in &plan.build {
            match slots.get(id) {
                Some(s) => {
                    s.replace(Arc::clone(tenant));
                    if self.disconnected(id) {
                        s.requests.request(PassKind::Incremental);
                    }
                }
                None => {
                    let s = Arc::new(Slot::new(Arc::clone(tenant)));
                    spawn_runner(
                        work,
                        &s,
                        &self.readiness,
                        shutdown,
                        self.shared.ownership.clone(),
                    );
                    slots.insert(id.clone(), s);
                }
            }
        }
        drop(slots);
        self.readiness.reconfigure(
            new.tenants.iter().map(|t| t.id.as_str()),
            new.daemon.schedule.interval() * 3,
        );
    }

    /// Whether the store says the tenant is disconnected now.
    fn disconnected(&self, tenant: &str) -> bool {
        matches!(
            self.cx.store.read(|r| r.tenant(tenant)),
            Ok(Some(t)) if !t.connected
        )
    }

    async fn restart_scheduler(&mut self, new: &Settings) {
        match start_scheduler(new, &self.slots).await {
            Ok(fresh) => {
                let mut old = std::mem::replace(&mut self.scheduler, fresh);
                if let Err(e) = old.shutdown().await {
                    tracing::warn!(error = %chain(&e), "the previous scheduler did not shut down cleanly");
                }
            }
            Err(e) => tracing::error!(error = %chain(&e),
                "cannot start the new schedules; the previous ones keep running"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(extra: &str) -> Settings {
        let text = format!(
            "[daemon]\nstate_dir = \"/tmp/x\"\n{extra}\n[[tenants]]\nid = \"acme\"\naccount_name = \"A\"\n\
             trigger_stages = [\"S\"]\n[tenants.lever]\napi_key = \"k\"\n[tenants.willo]\napi_key = \"w\"\n"
        );
        crate::config::load_from_str(&text, std::path::Path::new("c.toml"), &Default::default())
            .unwrap()
    }

    #[test]
    fn the_keys_a_reload_cannot_apply_are_named_with_both_values() {
        let old = settings("listen = \"127.0.0.1:8787\"");
        assert!(fixed_keys_changed(&old, &old).is_empty());
        let new = settings("listen = \"127.0.0.1:9999\"\nschedule = \"0 */1 * * * *\"");
        assert_eq!(
            fixed_keys_changed(&old, &new),
            ["daemon.listen (127.0.0.1:8787 -> 127.0.0.1:9999)"]
        );
    }

    #[test]
    fn issue14_another_store_needs_a_restart_and_its_password_is_not_printed() {
        let old = settings("[store]\nurl = \"postgres://wls:s3cret@a/wls\"\n");
        let new = settings("[store]\nurl = \"postgres://wls:s3cret@b/wls\"\nlease_seconds = 60\n");
        let changed = fixed_keys_changed(&old, &new);
        assert_eq!(changed.len(), 2, "{changed:?}");
        assert!(
            changed[0].starts_with("store.lease_seconds (30 -> 60)"),
            "{changed:?}"
        );
        assert!(
            changed[1].starts_with("store.url (postgres://wls:***@a/wls"),
            "{changed:?}"
        );
        assert!(!changed.join(" ").contains("s3cret"));
    }
}
