//! Binding, serving and stopping a simulator, plus the controls both simulators share.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::accounting::Accounting;
use super::error::SimError;
use super::faults::Faults;
use super::gate::{Authority, Flavor, Gate, gate as gate_fn};
use super::hold::Holds;
use super::ratelimit::{RateLimit, Throttle};

/// Binds 127.0.0.1 on an ephemeral port.
pub(crate) async fn bind() -> Result<(TcpListener, SocketAddr), SimError> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(SimError::Bind)?;
    let addr = listener.local_addr().map_err(SimError::Bind)?;
    Ok((listener, addr))
}

/// The running server and the controls every simulator has.
pub(crate) struct Harness {
    pub(crate) addr: SocketAddr,
    pub(crate) gate: Arc<Gate>,
    shutdown: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Harness {
    /// Wraps `routes` in the gate and serves them on `listener` until shutdown.
    pub(crate) fn serve(
        listener: TcpListener,
        flavor: Flavor,
        authority: Arc<dyn Authority>,
        rate_limit: Option<RateLimit>,
        retry_after: Option<u64>,
        routes: Router,
    ) -> Result<Harness, SimError> {
        let addr = listener.local_addr().map_err(SimError::Bind)?;
        let shutdown = CancellationToken::new();
        let gate = Arc::new(Gate {
            flavor,
            accounting: Arc::new(Accounting::default()),
            faults: Arc::new(Faults::default()),
            holds: Arc::new(Holds::default()),
            throttle: Throttle::new(rate_limit),
            retry_after: Mutex::new(retry_after),
            authority,
            shutdown: shutdown.clone(),
        });
        let app = routes.layer(axum::middleware::from_fn_with_state(gate.clone(), gate_fn));
        let stop = shutdown.clone();
        let task = tokio::spawn(async move {
            // A serve error can only come from the listener; the simulator then simply stops
            // answering, which the test using it will notice.
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
        });
        Ok(Harness {
            addr,
            gate,
            shutdown,
            task: Mutex::new(Some(task)),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub(crate) fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, releases held requests and waits for the server task.
    pub(crate) async fn shutdown(&self) {
        self.stop();
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    pub(crate) fn stop(&self) {
        self.shutdown.cancel();
        self.gate.holds.release_all();
    }

    pub(crate) fn set_rate_limit(&self, limit: Option<RateLimit>) {
        self.gate.throttle.set(limit);
    }

    pub(crate) fn set_retry_after(&self, secs: Option<u64>) {
        *self
            .gate
            .retry_after
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = secs;
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Forwarding methods for the controls both simulators share, documented once here.
macro_rules! harness_methods {
    () => {
        /// `http://127.0.0.1:PORT` (no path).
        pub fn origin(&self) -> String {
            self.inner.harness.origin()
        }

        /// The bound address.
        pub fn addr(&self) -> std::net::SocketAddr {
            self.inner.harness.addr
        }

        /// The request log: counts by method, route template and status, writes, timing.
        pub fn accounting(&self) -> &$crate::sim::accounting::Accounting {
            &self.inner.harness.gate.accounting
        }

        /// Every request so far, in the order they were answered.
        pub fn requests(&self) -> Vec<$crate::sim::accounting::RequestRecord> {
            self.accounting().requests()
        }

        /// Requests with this method and route template, e.g.
        /// `count("POST", "/v1/opportunities/{id}/addTags")`.
        pub fn count(&self, method: &str, route: &str) -> usize {
            self.accounting().count(method, route)
        }

        /// Every request to an API route with a writing method (POST, PUT, PATCH, DELETE).
        pub fn writes(&self) -> Vec<$crate::sim::accounting::RequestRecord> {
            self.accounting().writes()
        }

        /// The fault switchboard (plans, 429 storms).
        pub fn faults(&self) -> &$crate::sim::faults::Faults {
            &self.inner.harness.gate.faults
        }

        /// Holds the `rule.nth` matching request after applying it, until the handle is
        /// released or dropped.
        pub fn hold(&self, rule: $crate::sim::hold::HoldRule) -> $crate::sim::hold::HoldHandle {
            self.inner.harness.gate.holds.arm(rule)
        }

        /// Replaces the per-credential rate limit (`None` = unlimited); buckets start full.
        pub fn set_rate_limit(&self, limit: Option<$crate::sim::ratelimit::RateLimit>) {
            self.inner.harness.set_rate_limit(limit);
        }

        /// `Retry-After` seconds on rate-limit 429s (`None` = no header).
        pub fn set_retry_after(&self, secs: Option<u64>) {
            self.inner.harness.set_retry_after(secs);
        }

        /// Stops the server (held requests are released) and waits for it to finish.
        /// Dropping the last clone stops it too, without waiting.
        pub async fn shutdown(&self) {
            self.inner.harness.shutdown().await;
        }
    };
}
pub(crate) use harness_methods;
