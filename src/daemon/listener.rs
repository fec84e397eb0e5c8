//! The HTTP listener's connections: accepted, timed and capped so that clients who open
//! connections and send nothing, or half a request, cannot starve `/healthz` and the
//! webhooks (docs/reliability.md, "Hostile clients").
//!
//! - Request headers must arrive within [`HEADER_TIMEOUT`] (hyper's header-read timer);
//!   webhook bodies within their own timeout (`server::BODY_TIMEOUT`).
//! - Open connections are capped below the soft open-file limit (`LimitNOFILE` in the unit), keeping files for the state store,
//!   outgoing API calls and logs. At the cap, the connection whose last request began longest
//!   ago (or that never sent one) is closed to make room: a health check or a webhook sends
//!   its request at once, so it is always the newest, never the one closed.
//! - Accept errors (out of files after all) close the oldest connection and try again at
//!   once, instead of pausing the whole listener.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use super::throttle::{LOG_EVERY, LogThrottle};

/// Time allowed for a request's headers, from the moment the connection waits for them.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The most connections served at once, whatever the open-file limit.
pub const MAX_CONNECTIONS: usize = 1024;
/// Time requests in flight get to finish when the listener stops.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Open connections kept for a given open-file limit: a quarter of the files (at least 64)
/// stay for everything else the daemon opens.
pub fn connection_cap(open_files: Option<u64>) -> usize {
    match open_files {
        None => MAX_CONNECTIONS,
        Some(n) => {
            let spare = (n / 4).max(64);
            usize::try_from(n.saturating_sub(spare))
                .unwrap_or(MAX_CONNECTIONS)
                .clamp(16, MAX_CONNECTIONS)
        }
    }
}

/// The soft open-file limit in force, from `/proc/self/limits` (read as a file, so no system
/// call filter can get in the way); None when unlimited or unknown.
fn open_file_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The connections open now, by id.
struct Table {
    open: Mutex<HashMap<u64, Conn>>,
    next: AtomicU64,
}

struct Conn {
    /// When its latest request began, or when it was accepted.
    active: Instant,
    close: CancellationToken,
}

impl Table {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Conn>> {
        // Only timestamps and tokens inside; a panic mid-update leaves them usable.
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(&self) -> (u64, CancellationToken) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let close = CancellationToken::new();
        self.lock().insert(
            id,
            Conn {
                active: Instant::now(),
                close: close.clone(),
            },
        );
        (id, close)
    }

    fn touch(&self, id: u64) {
        if let Some(c) = self.lock().get_mut(&id) {
            c.active = Instant::now();
        }
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    /// Closes the connection idle the longest; false when there is none.
    fn close_oldest(&self) -> bool {
        let mut open = self.lock();
        let oldest = open
            .iter()
            .min_by_key(|(id, c)| (c.active, **id))
            .map(|(id, _)| *id);
        match oldest.and_then(|id| open.remove(&id)) {
            Some(c) => {
                c.close.cancel();
                true
            }
            None => false,
        }
    }
}

/// The listener task and what stops it.
pub(super) struct Listener {
    pub addr: SocketAddr,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Listener {
    pub async fn start(listen: SocketAddr, app: Router) -> std::io::Result<Listener> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let cap = connection_cap(open_file_limit());
        tracing::debug!(cap, "connection cap");
        let stop = CancellationToken::new();
        let task = tokio::spawn(serve(listener, app, cap, stop.clone()));
        Ok(Listener { addr, stop, task })
    }

    /// Stops accepting connections; requests in flight get two seconds to finish.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if tokio::time::timeout(STOP_GRACE + Duration::from_secs(1), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

async fn serve(listener: TcpListener, app: Router, cap: usize, stop: CancellationToken) {
    let table = Arc::new(Table {
        open: Mutex::new(HashMap::new()),
        next: AtomicU64::new(0),
    });
    let log = LogThrottle::new(LOG_EVERY);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true);
    let mut conns = JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        let accepted = tokio::select! {
            _ = stop.cancelled() => break,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, _)) => {
                if table.len() >= cap
                    && table.close_oldest()
                    && let Some(left_out) = log.admit("cap", Instant::now())
                {
                    tracing::warn!(
                        cap,
                        left_out,
                        "connection cap reached: closed the connection idle the longest to make room (left_out: times since the last line)"
                    );
                }
                let (id, close) = table.add();
                conns.spawn(connection(
                    stream,
                    builder.clone(),
                    app.clone(),
                    Arc::clone(&table),
                    id,
                    close,
                    stop.clone(),
                ));
            }
            Err(e) => {
                // Out of files (or another resource): make room rather than pause.
                let made_room = table.close_oldest();
                if let Some(left_out) = log.admit("accept", Instant::now()) {
                    tracing::warn!(error = %e, open = table.len(), left_out,
                        "cannot accept a connection; closing the connection idle the longest");
                }
                if !made_room {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                tokio::task::yield_now().await;
            }
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(STOP_GRACE, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        conns.abort_all();
    }
}

/// Serves one connection until it ends, is closed to make room, or the listener stops.
async fn connection(
    stream: TcpStream,
    builder: http1::Builder,
    app: Router,
    table: Arc<Table>,
    id: u64,
    close: CancellationToken,
    stop: CancellationToken,
) {
    let router = TowerToHyperService::new(app);
    let seen = Arc::clone(&table);
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        seen.touch(id);
        router.call(req)
    });
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        // Dropping the connection closes its socket.
        _ = close.cancelled() => {}
        _ = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(STOP_GRACE, conn.as_mut()).await;
        }
    }
    table.remove(id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_files_for_everything_else() {
        assert_eq!(connection_cap(Some(1024)), 768);
        assert_eq!(connection_cap(Some(256)), 192);
        assert_eq!(connection_cap(Some(100)), 36);
        assert_eq!(connection_cap(Some(10)), 16);
        assert_eq!(connection_cap(Some(65536)), MAX_CONNECTIONS);
        assert_eq!(connection_cap(None), MAX_CONNECTIONS);
    }

    #[test]
    fn the_connection_idle_longest_is_closed_first() {
        let t = Table {
            open: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
        };
        let (a, close_a) = t.add();
        let (b, close_b) = t.add();
        let (_c, close_c) = t.add();
        // `a` started a request after the others were accepted.
        t.lock().get_mut(&a).unwrap().active += Duration::from_secs(5);
        assert!(t.close_oldest());
        assert!(close_b.is_cancelled() && !close_a.is_cancelled() && !close_c.is_cancelled());
        assert_eq!(t.len(), 2);
        t.remove(b);
        assert!(t.close_oldest() && t.close_oldest());
        assert!(!t.close_oldest());
    }
}
