//! The long-running service (docs/behaviour.md, "Passes, cursor and hints"; rule: exit statuses): scheduled passes, webhook hints, health and metrics,
//! systemd integration and graceful shutdown.
//!
//! Shape: one runner task per tenant runs the passes the cron jobs request, one at a time;
//! hint workers run targeted reconciles; a per-tenant lock keeps the two from overlapping (a
//! pass and a hint on the same tenant could otherwise invite the same email twice). The main
//! loop waits for signals and pings the systemd watchdog.

pub mod hints;
pub mod lever_webhook;
mod listener;
pub mod notify;
mod page;
pub mod readiness;
pub mod replay;
pub mod schedule;
pub mod server;
pub mod signals;
mod throttle;
pub mod willo_webhook;
mod workers;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::domain::PassKind;
use crate::metrics::Metrics;
use crate::notices::Notices;
use crate::reconcile::Tenant;
use crate::store::{OpenMode, Store};
use hints::HintQueue;
use listener::Listener;
use readiness::Readiness;
use schedule::PassRequests;
use server::{Shared, TenantHooks};
use throttle::{LOG_EVERY, LogThrottle};
use workers::{Slot, hint_worker, pass_runner};

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
}

/// Hint workers per daemon: each runs one targeted reconcile at a time.
const HINT_WORKERS: usize = 4;

/// Runs the daemon until `shutdown` is cancelled (by SIGTERM or SIGINT through
/// [`signals::Stop`], or by the sandbox). `on_listening` is told the bound address (the
/// sandbox prints it; tests read it).
pub async fn run(
    settings: &Settings,
    tenants: Vec<Arc<Tenant>>,
    metrics: Metrics,
    on_listening: impl FnOnce(SocketAddr),
    shutdown: CancellationToken,
) -> Result<(), DaemonError> {
    if shutdown.is_cancelled() {
        tracing::info!("stopped before start-up finished");
        return Ok(());
    }
    let max_age = settings.daemon.schedule.interval() * 3;
    let readiness = Arc::new(Readiness::new(tenants.iter().map(|t| t.id()), max_age));
    let queue = HintQueue::new(settings.daemon.hint_queue_capacity);
    let slots: Arc<BTreeMap<String, Slot>> = Arc::new(
        tenants
            .iter()
            .map(|t| (t.id().to_owned(), Slot::new(t)))
            .collect(),
    );
    let shared = shared(settings, &tenants, &queue, metrics, &readiness);
    let listen = settings.daemon.listen;
    let http = Listener::start(listen, server::router(Arc::clone(&shared)))
        .await
        .map_err(|source| DaemonError::Listen {
            addr: listen,
            source,
        })?;
    let now = chrono::Utc::now();
    let next = |s: &crate::config::Schedule| s.next_after(now).map(|t| t.to_rfc3339());
    tracing::info!(listen = %http.addr, tenants = slots.len(),
        next_incremental = next(&settings.daemon.schedule).as_deref().unwrap_or("never"),
        next_full = next(&settings.daemon.full_schedule).as_deref().unwrap_or("never"),
        "listening for webhooks, /healthz, /readyz, /metrics");
    on_listening(http.addr);
    notify::ready();

    let mut work = spawn_work(&slots, &queue, &readiness, &shutdown);
    let requests: Vec<(String, Arc<PassRequests>)> = slots
        .iter()
        .map(|(id, s)| (id.clone(), Arc::clone(&s.requests)))
        .collect();
    let mut scheduler = schedule::start(
        &settings.daemon.schedule,
        &settings.daemon.full_schedule,
        &requests,
    )
    .await
    .map_err(DaemonError::Scheduler)?;

    main_loop(&shutdown).await;

    // Shutdown: refuse new hints, stop starting actions, let the action in flight finish.
    tracing::info!("shutting down: no new hints; waiting for actions in flight");
    notify::stopping();
    shared.accepting.store(false, Ordering::SeqCst);
    queue.close();
    shutdown.cancel();
    drain(&mut work, settings.daemon.shutdown_grace).await;
    if let Err(e) = scheduler.shutdown().await {
        tracing::warn!(error = %crate::error_chain::chain(&e), "scheduler did not shut down cleanly");
    }
    http.stop().await;
    tracing::info!("stopped");
    Ok(())
}

/// What the HTTP handlers share: each tenant's webhook secrets, the hint queue, metrics,
/// readiness, and a read-only view of the state store.
fn shared(
    settings: &Settings,
    tenants: &[Arc<Tenant>],
    queue: &Arc<HintQueue>,
    metrics: Metrics,
    readiness: &Arc<Readiness>,
) -> Arc<Shared> {
    Arc::new(Shared {
        tenants: tenants
            .iter()
            .map(|t| {
                let s = t.settings();
                let hooks = TenantHooks::new(
                    s.lever.webhook_signature_tokens().cloned().collect(),
                    s.willo.webhook_tokens().cloned().collect(),
                );
                (t.id().to_owned(), hooks)
            })
            .collect(),
        queue: Arc::clone(queue),
        metrics,
        readiness: Arc::clone(readiness),
        accepting: AtomicBool::new(true),
        store: webhook_store(settings),
        notices: Notices::new(),
        rejections: LogThrottle::new(LOG_EVERY),
        page: settings
            .daemon
            .status_page
            .then(|| page::StatusPage::new(&settings.daemon)),
    })
}

/// A connection of its own for webhook lookups, so they never wait on a pass's writes.
fn webhook_store(settings: &Settings) -> Option<Arc<Store>> {
    match Store::open(&settings.daemon.state_dir, OpenMode::Reader) {
        Ok(s) => Some(Arc::new(s)),
        Err(e) => {
            tracing::warn!(error = %crate::error_chain::chain(&e),
                "cannot open the state store for webhook lookups; Willo deliveries that name their participant under no known name will go unrecognised");
            None
        }
    }
}

/// The pass runners (each starting with one full pass) and the hint workers.
fn spawn_work(
    slots: &Arc<BTreeMap<String, Slot>>,
    queue: &Arc<HintQueue>,
    readiness: &Arc<Readiness>,
    shutdown: &CancellationToken,
) -> JoinSet<()> {
    let mut work = JoinSet::new();
    for slot in slots.values() {
        // One full pass at start-up.
        slot.requests.request(PassKind::Full);
        work.spawn(pass_runner(
            Arc::clone(&slot.tenant),
            Arc::clone(&slot.requests),
            Arc::clone(readiness),
            shutdown.clone(),
        ));
    }
    for _ in 0..HINT_WORKERS {
        work.spawn(hint_worker(
            Arc::clone(slots),
            Arc::clone(queue),
            Arc::clone(readiness),
            shutdown.clone(),
        ));
    }
    work
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
/// stuck main loop stops the pings.
async fn main_loop(shutdown: &CancellationToken) {
    let watchdog = notify::watchdog_interval();
    let mut tick = tokio::time::interval(watchdog.unwrap_or(Duration::from_secs(3600)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {
                if watchdog.is_some() {
                    notify::watchdog();
                }
            }
        }
    }
}
