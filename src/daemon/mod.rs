//! The long-running service (SPEC §3, §5): scheduled passes, webhook hints, health and metrics,
//! systemd integration and graceful shutdown.
//!
//! Shape: one runner task per tenant runs the passes the cron jobs request, one at a time;
//! hint workers run targeted reconciles; a per-tenant lock keeps the two from overlapping (a
//! pass and a hint on the same tenant could otherwise invite the same email twice). The main
//! loop waits for signals and pings the systemd watchdog.

pub mod hints;
pub mod lever_webhook;
pub mod notify;
pub mod readiness;
pub mod replay;
pub mod schedule;
pub mod server;
pub mod willo_webhook;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::metrics::Metrics;
use crate::reconcile::Tenant;
use crate::reconcile::clock::now_ms;
use crate::store::{PassKind, PassResult};
use hints::HintQueue;
use readiness::Readiness;
use schedule::PassRequests;
use server::{Shared, TenantHooks};

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("daemon.listen: cannot listen on {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot wait for signals")]
    Signals(#[source] std::io::Error),
}

/// A tenant with what the daemon runs it with.
struct Slot {
    tenant: Arc<Tenant>,
    requests: Arc<PassRequests>,
    /// Held by a pass or a targeted reconcile of this tenant.
    busy: Arc<Mutex<()>>,
}

/// Hint workers per daemon: each runs one targeted reconcile at a time.
const HINT_WORKERS: usize = 4;

/// Runs the daemon until SIGTERM or SIGINT. `on_listening` is told the bound address (the
/// sandbox prints it; tests read it).
pub async fn run(
    settings: &Settings,
    tenants: Vec<Arc<Tenant>>,
    metrics: Metrics,
    on_listening: impl FnOnce(SocketAddr),
    shutdown: CancellationToken,
) -> Result<(), DaemonError> {
    let max_age = settings.daemon.schedule.interval() * 3;
    let readiness = Arc::new(Readiness::new(tenants.iter().map(|t| t.id()), max_age));
    let queue = HintQueue::new(settings.daemon.hint_queue_capacity);
    let slots: Arc<BTreeMap<String, Slot>> = Arc::new(
        tenants
            .iter()
            .map(|t| {
                (
                    t.id().to_owned(),
                    Slot {
                        tenant: Arc::clone(t),
                        requests: PassRequests::new(),
                        busy: Arc::new(Mutex::new(())),
                    },
                )
            })
            .collect(),
    );
    let shared = Arc::new(Shared {
        tenants: tenants
            .iter()
            .map(|t| {
                let s = t.settings();
                (
                    t.id().to_owned(),
                    TenantHooks::new(
                        s.lever.webhook_signature_tokens().cloned().collect(),
                        s.willo.webhook_tokens().cloned().collect(),
                    ),
                )
            })
            .collect(),
        queue: Arc::clone(&queue),
        metrics: metrics.clone(),
        readiness: Arc::clone(&readiness),
        accepting: AtomicBool::new(true),
    });

    let listener = tokio::net::TcpListener::bind(settings.daemon.listen)
        .await
        .map_err(|source| DaemonError::Listen {
            addr: settings.daemon.listen,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| DaemonError::Listen {
            addr: settings.daemon.listen,
            source,
        })?;
    // Stop accepting connections as soon as shutdown starts; in-flight requests finish.
    let stop_http = CancellationToken::new();
    let mut http = tokio::spawn({
        let app = server::router(Arc::clone(&shared));
        let stop = stop_http.clone();
        async move {
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
            {
                tracing::error!(error = %e, "HTTP listener failed");
            }
        }
    });
    tracing::info!(listen = %addr, tenants = slots.len(), "listening for webhooks, /healthz, /readyz, /metrics");
    on_listening(addr);
    notify::ready();

    let mut work = JoinSet::new();
    for slot in slots.values() {
        // One full pass at start-up.
        slot.requests.request(PassKind::Full);
        work.spawn(pass_runner(
            Arc::clone(&slot.tenant),
            Arc::clone(&slot.requests),
            Arc::clone(&slot.busy),
            Arc::clone(&readiness),
            shutdown.clone(),
        ));
    }
    for _ in 0..HINT_WORKERS {
        work.spawn(hint_worker(
            Arc::clone(&slots),
            Arc::clone(&queue),
            Arc::clone(&readiness),
            shutdown.clone(),
        ));
    }
    let requests: Vec<(String, Arc<PassRequests>)> = slots
        .iter()
        .map(|(id, s)| (id.clone(), Arc::clone(&s.requests)))
        .collect();
    schedule::start(
        &mut work,
        &settings.daemon.schedule,
        &settings.daemon.full_schedule,
        &requests,
        &shutdown,
    );

    main_loop(&shutdown).await?;

    // Shutdown: refuse new hints, stop starting actions, let the action in flight finish.
    tracing::info!("shutting down: no new hints; waiting for actions in flight");
    notify::stopping();
    shared.accepting.store(false, Ordering::SeqCst);
    queue.close();
    shutdown.cancel();
    stop_http.cancel();
    let grace = settings.daemon.shutdown_grace;
    let drained =
        tokio::time::timeout(grace, async { while work.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            grace_seconds = grace.as_secs(),
            "work still running after the grace period; exiting anyway (the journal resolves it on the next start)"
        );
        work.abort_all();
    }
    if tokio::time::timeout(Duration::from_secs(2), &mut http)
        .await
        .is_err()
    {
        http.abort();
    }
    tracing::info!("stopped");
    Ok(())
}

/// Waits for SIGTERM, SIGINT or `shutdown`, pinging the watchdog from here (not from a
/// detached timer) so that a stuck main loop stops the pings.
async fn main_loop(shutdown: &CancellationToken) -> Result<(), DaemonError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(DaemonError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?;
    let watchdog = notify::watchdog_interval();
    let mut tick = tokio::time::interval(watchdog.unwrap_or(Duration::from_secs(3600)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = term.recv() => { tracing::info!("SIGTERM"); return Ok(()); }
            _ = int.recv() => { tracing::info!("SIGINT"); return Ok(()); }
            _ = shutdown.cancelled() => return Ok(()),
            _ = tick.tick() => {
                if watchdog.is_some() {
                    notify::watchdog();
                }
            }
        }
    }
}

async fn pass_runner(
    tenant: Arc<Tenant>,
    requests: Arc<PassRequests>,
    busy: Arc<Mutex<()>>,
    readiness: Arc<Readiness>,
    shutdown: CancellationToken,
) {
    while let Some(kind) = requests.next(&shutdown).await {
        let _busy = busy.lock().await;
        if shutdown.is_cancelled() {
            break;
        }
        let outcome = tenant.pass(kind, &shutdown).await;
        match (&outcome.error, outcome.result) {
            (None, PassResult::Converged | PassResult::ActionsFailed) => {
                readiness.pass_completed(tenant.id(), now_ms());
            }
            (Some(crate::reconcile::PassError::Disconnected { source, .. }), _) => {
                readiness.disconnected(tenant.id(), &source.to_string());
            }
            _ => {}
        }
        notify::status(&outcome.summary.status_line());
    }
}

async fn hint_worker(
    slots: Arc<BTreeMap<String, Slot>>,
    queue: Arc<HintQueue>,
    readiness: Arc<Readiness>,
    shutdown: CancellationToken,
) {
    while let Some(running) = queue.next().await {
        let key = running.key().clone();
        let Some(slot) = slots.get(&key.tenant) else {
            continue;
        };
        let _busy = slot.busy.lock().await;
        if shutdown.is_cancelled() {
            break;
        }
        let outcome = slot.tenant.reconcile(&key.target, &shutdown).await;
        if let Some(crate::reconcile::PassError::Disconnected { source, .. }) = &outcome.error {
            readiness.disconnected(&key.tenant, &source.to_string());
        }
        drop(running);
    }
}
