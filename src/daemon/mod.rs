//! The long-running service (docs/behaviour.md, "Passes, cursor and hints"; rule: exit statuses): scheduled passes, webhook hints, health and metrics,
//! systemd integration and graceful shutdown.
//!
//! Shape: one runner task per tenant runs the passes the cron jobs request, one at a time;
//! hint workers run targeted reconciles; a per-tenant lock keeps the two from overlapping (a
//! pass and a hint on the same tenant could otherwise invite the same email twice). The main
//! loop waits for signals, pings the systemd watchdog and applies reloads (`reload`).

mod handoff;
pub(crate) mod heap;
pub mod hints;
pub mod lever_webhook;
mod listener;
pub mod notify;
pub mod ownership;
mod page;
pub mod readiness;
mod reload;
pub mod replay;
pub mod schedule;
pub mod server;
pub mod signals;
mod throttle;
pub mod willo_webhook;
mod workers;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::{Settings, TenantSettings};
use crate::domain::PassKind;
use crate::metrics::Metrics;
use crate::notices::Notices;
use crate::reconcile::{PassOptions, Tenant, Turns};
use crate::store::{OpenMode, Store};
use hints::HintQueue;
use listener::Listener;
use ownership::Ownership;
use readiness::Readiness;
pub use reload::Reloader;
use server::{Shared, TenantHooks};
use throttle::{LOG_EVERY, LogThrottle};
use workers::{Slot, Slots, hint_worker, pass_runner};

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("daemon.listen: cannot listen on {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the scheduler")]
    Scheduler(#[source] tokio_cron_scheduler::JobSchedulerError),
    #[error("cannot wait for signals")]
    Signals(#[source] std::io::Error),
    #[error("tenant {tenant}: cannot build its API clients")]
    Tenant {
        tenant: String,
        #[source]
        source: crate::http::BuildError,
    },
}

/// Hint workers per daemon: each runs one targeted reconcile at a time. A hint mostly waits on
/// the APIs (three or four requests), so more workers than cores keep a burst moving; the
/// tenant's rate limiter and the per-key turns still bound what they do at once.
const HINT_WORKERS: usize = 16;

/// What every tenant's runtime shares: the state store and the metrics registry.
#[derive(Clone)]
pub struct Context {
    pub store: Arc<Store>,
    pub metrics: Metrics,
}

impl Context {
    fn options(settings: &Settings) -> PassOptions {
        PassOptions {
            concurrency: settings.daemon.concurrency,
            overlap: settings.daemon.incremental_overlap,
            chunk: PassOptions::CHUNK,
            interval: settings.daemon.schedule.interval(),
        }
    }

    /// One tenant's runtime; `turns` those of the runtime it replaces, if any.
    fn tenant(
        &self,
        t: &TenantSettings,
        options: &PassOptions,
        turns: Option<Turns>,
    ) -> Result<Arc<Tenant>, DaemonError> {
        Tenant::sharing(
            t,
            options.clone(),
            Arc::clone(&self.store),
            self.metrics.clone(),
            turns.unwrap_or_default(),
        )
        .map(Arc::new)
        .map_err(|source| DaemonError::Tenant {
            tenant: t.id.clone(),
            source,
        })
    }
}

/// Runs the daemon until `shutdown` is cancelled (by SIGTERM or SIGINT through
/// [`signals::Stop`], or by the sandbox). `on_listening` is told the bound address (the
/// sandbox prints it; tests read it). With `reloads`, each request reads the configuration
/// again and applies it (see `reload`).
pub async fn run(
    settings: &Settings,
    cx: Context,
    reloads: Option<Reloader>,
    on_listening: impl FnOnce(SocketAddr),
    shutdown: CancellationToken,
) -> Result<(), DaemonError> {
    if shutdown.is_cancelled() {
        tracing::info!("stopped before start-up finished");
        return Ok(());
    }
    let options = Context::options(settings);
    let mut slots = BTreeMap::new();
    for t in &settings.tenants {
        slots.insert(
            t.id.clone(),
            Arc::new(Slot::new(cx.tenant(t, &options, None)?)),
        );
    }
    let slots: Slots = Arc::new(RwLock::new(slots));
    let max_age = settings.daemon.schedule.interval() * 3;
    let readiness = Arc::new(Readiness::new(
        settings.tenants.iter().map(|t| t.id.as_str()),
        max_age,
    ));
    let queue = HintQueue::new(settings.daemon.hint_queue_capacity);
    // Several instances on PostgreSQL: this one runs the tenants it holds the lease of.
    let owner = settings.store.postgres.as_ref().map(|pg| {
        Ownership::new(
            &settings.daemon.instance_id,
            pg.lease,
            Arc::clone(&cx.store),
            cx.metrics.clone(),
            shutdown.clone(),
        )
    });
    let shared = shared(
        settings,
        &queue,
        cx.metrics.clone(),
        &readiness,
        owner.clone(),
    );
    // The lease series exist from the start (a rate needs its zero); a lone SQLite instance
    // owns every tenant.
    let me = Metrics::instance(&settings.daemon.instance_id);
    cx.metrics.lease_takeovers.get_or_create(&me).inc_by(0);
    cx.metrics.lease_renew_failures.get_or_create(&me).inc_by(0);
    if owner.is_none() {
        cx.metrics
            .tenants_owned
            .get_or_create(&me)
            .set(i64::try_from(settings.tenants.len()).unwrap_or(i64::MAX));
    }
    let listen = settings.daemon.listen;
    let http = Listener::start(listen, server::router(Arc::clone(&shared)))
        .await
        .map_err(|source| DaemonError::Listen {
            addr: listen,
            source,
        })?;
    started(settings, &cx.store, http.addr);
    on_listening(http.addr);
    notify::ready();

    let mut work = JoinSet::new();
    if let Some(owner) = &owner {
        // The first round before the runners start: they find the leases taken.
        work.spawn(Arc::clone(owner).run(Arc::clone(&slots), Arc::clone(&readiness)));
        handoff::listen(
            settings,
            Arc::clone(owner),
            Arc::clone(&queue),
            shutdown.clone(),
        );
    }
    for slot in slots.read().unwrap_or_else(|p| p.into_inner()).values() {
        spawn_runner(&mut work, slot, &readiness, &shutdown, owner.clone());
    }
    for _ in 0..HINT_WORKERS {
        work.spawn(hint_worker(
            Arc::clone(&slots),
            Arc::clone(&queue),
            Arc::clone(&readiness),
            shutdown.clone(),
            Arc::clone(&shared),
        ));
    }
    let scheduler = reload::start_scheduler(settings, &slots)
        .await
        .map_err(DaemonError::Scheduler)?;
    let mut running = reload::Running {
        settings: settings.clone(),
        cx,
        slots,
        shared: Arc::clone(&shared),
        readiness,
        scheduler,
    };

    main_loop(&shutdown, reloads, &mut running, &mut work).await;

    // Shutdown: refuse new hints, stop starting actions, let the action in flight finish.
    tracing::info!("shutting down: no new hints; waiting for actions in flight");
    notify::stopping();
    shared.accepting.store(false, Ordering::SeqCst);
    queue.close();
    shutdown.cancel();
    drain(&mut work, running.settings.daemon.shutdown_grace).await;
    if let Some(owner) = &owner {
        owner.give_back();
    }
    if let Err(e) = running.scheduler.shutdown().await {
        tracing::warn!(error = %crate::error_chain::chain(&e), "scheduler did not shut down cleanly");
    }
    http.stop().await;
    tracing::info!("stopped");
    Ok(())
}

/// The start-up line: what runs, where its state is, and when the first passes come.
fn started(settings: &Settings, store: &Store, addr: SocketAddr) {
    let now = chrono::Utc::now();
    let next = |s: &crate::config::Schedule| {
        s.next_after(now)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| "never".into())
    };
    let tenants: Vec<&str> = settings.tenants.iter().map(|t| t.id.as_str()).collect();
    tracing::info!(
        version = crate::cli::VERSION,
        config = %settings.source.display(),
        state = %store.path().display(),
        tenants = ?tenants,
        schedule = %settings.daemon.schedule,
        next_incremental = %next(&settings.daemon.schedule),
        full_schedule = %settings.daemon.full_schedule,
        next_full = %next(&settings.daemon.full_schedule),
        listen = %addr,
        "started: a full pass for each tenant now; listening for webhooks, /healthz, /readyz, /metrics"
    );
}

/// What the HTTP handlers share: each tenant's webhook secrets, the hint queue, metrics,
/// readiness, and a read-only view of the state store.
fn shared(
    settings: &Settings,
    queue: &Arc<HintQueue>,
    metrics: Metrics,
    readiness: &Arc<Readiness>,
    ownership: Option<Arc<Ownership>>,
) -> Arc<Shared> {
    Arc::new(Shared {
        tenants: RwLock::new(
            settings
                .tenants
                .iter()
                .map(|t| (t.id.clone(), Arc::new(hooks(t))))
                .collect(),
        ),
        queue: Arc::clone(queue),
        metrics,
        readiness: Arc::clone(readiness),
        accepting: AtomicBool::new(true),
        store: webhook_store(settings),
        notices: Notices::new(),
        ownership,
        rejections: LogThrottle::new(LOG_EVERY),
        page: settings
            .daemon
            .status_page
            .then(|| page::StatusPage::new(&settings.daemon)),
    })
}

/// A tenant's webhook secrets, as the listener checks them.
fn hooks(t: &TenantSettings) -> TenantHooks {
    TenantHooks::new(
        t.lever.webhook_signature_tokens().cloned().collect(),
        t.willo.webhook_tokens().cloned().collect(),
    )
}

/// A connection of its own for webhook lookups, so they never wait on a pass's writes.
fn webhook_store(settings: &Settings) -> Option<Arc<Store>> {
    match settings
        .store
        .open(&settings.daemon.state_dir, OpenMode::Reader)
    {
        Ok(s) => Some(Arc::new(s)),
        Err(e) => {
            tracing::warn!(error = %crate::error_chain::chain(&e),
                "cannot open the state store for webhook lookups; Willo deliveries that name their participant under no known name will go unrecognised");
            None
        }
    }
}

/// Starts a tenant's pass runner, with one full pass at once.
fn spawn_runner(
    work: &mut JoinSet<()>,
    slot: &Arc<Slot>,
    readiness: &Arc<Readiness>,
    shutdown: &CancellationToken,
    owner: Option<Arc<Ownership>>,
) {
    slot.requests.request(PassKind::Full);
    work.spawn(pass_runner(
        Arc::clone(slot),
        Arc::clone(readiness),
        shutdown.clone(),
        owner,
    ));
}

/// Waits up to `grace` for the work in flight, then abandons it: the journal settles whatever
/// was cut short on the next start.
async fn drain(work: &mut JoinSet<()>, grace: Duration) {
    let drained =
        tokio::time::timeout(grace, async { while work.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            grace_seconds = grace.as_secs(),
            "work still running after the grace period; exiting anyway (the journal resolves it on the next start)"
        );
        work.abort_all();
    }
}

/// Waits for `shutdown`, pinging the watchdog from here (not from a detached timer) so that a
/// stuck main loop stops the pings, and applies reload requests as they come.
async fn main_loop(
    shutdown: &CancellationToken,
    reloads: Option<Reloader>,
    running: &mut reload::Running,
    work: &mut JoinSet<()>,
) {
    let watchdog = notify::watchdog_interval();
    let mut tick = tokio::time::interval(watchdog.unwrap_or(Duration::from_secs(3600)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut requests, load) = match reloads {
        Some(r) => (Some(r.requests), Some(r.load)),
        None => (None, None),
    };
    loop {
        let reload = async {
            let asked = match requests.as_mut() {
                Some(r) => r.changed().await.is_ok(),
                None => false,
            };
            if !asked {
                // No reloads (the sandbox), or nobody can ask any more.
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {
                if watchdog.is_some() {
                    notify::watchdog();
                }
            }
            () = reload => {
                if let Some(load) = &load {
                    running.reload(load(), work, shutdown).await;
                }
            }
        }
    }
}
