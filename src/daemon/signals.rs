//! Stop requests from the operating system (rule: exit statuses, docs/behaviour.md).
//!
//! Installed before the configuration is read, so a SIGTERM at any moment of start-up is a
//! request to stop, never the default death: the daemon and `--once` stop taking new actions,
//! let the one in flight finish (within `daemon.shutdown_grace_seconds`) and record how far
//! they got. A second SIGTERM or SIGINT ends that wait. SIGHUP, which would otherwise end the
//! process silently, asks the daemon to reload its configuration (the daemon's main loop does
//! it, see `reload`); `--once` logs it and goes on.

use std::sync::{Arc, OnceLock};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The stop request of this process, and its reload requests.
#[derive(Debug, Clone)]
pub struct Stop {
    requested: CancellationToken,
    hurry: CancellationToken,
    by: Arc<OnceLock<&'static str>>,
    /// Counts reload requests (SIGHUP); the daemon's main loop watches it.
    reloads: Arc<watch::Sender<u64>>,
}

impl Stop {
    /// A stop that only [`Stop::request`] triggers (the sandbox, tests).
    pub fn new() -> Stop {
        Stop {
            requested: CancellationToken::new(),
            hurry: CancellationToken::new(),
            by: Arc::new(OnceLock::new()),
            reloads: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Handles SIGTERM, SIGINT and SIGHUP from now on. Must run inside `rt`'s context; the
    /// handlers live on its workers, so signals are taken while the caller blocks (reading
    /// the configuration, opening the store). With `reloads` (the daemon) SIGHUP asks for a
    /// reload; without (`--once`) it is logged and changes nothing.
    pub fn install(rt: &tokio::runtime::Runtime, reloads: bool) -> std::io::Result<Stop> {
        let _entered = rt.enter();
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let mut hup = signal(SignalKind::hangup())?;
        let stop = Stop::new();
        let on = stop.clone();
        rt.spawn(async move {
            loop {
                tokio::select! {
                    Some(()) = term.recv() => on.request("SIGTERM"),
                    Some(()) = int.recv() => on.request("SIGINT"),
                    Some(()) = hup.recv() => {
                        if reloads {
                            on.request_reload();
                        } else {
                            tracing::warn!("SIGHUP ignored: --once reads its configuration once");
                        }
                    }
                    else => return,
                }
            }
        });
        Ok(stop)
    }

    /// Records a stop request (the first) or a request to stop waiting (any later one).
    pub fn request(&self, by: &'static str) {
        if self.by.set(by).is_ok() {
            tracing::info!(
                signal = by,
                "stop requested ({by}): no new actions; the action in flight may finish within shutdown_grace_seconds (send it again to stop waiting)"
            );
            self.requested.cancel();
        } else {
            tracing::warn!(signal = by, "{by} again: not waiting for actions in flight");
            self.hurry.cancel();
        }
    }

    /// Asks the daemon to read its configuration again.
    pub fn request_reload(&self) {
        tracing::info!(
            signal = "SIGHUP",
            "reload requested: reading the configuration again"
        );
        self.reloads.send_modify(|n| *n += 1);
    }

    /// Reload requests: changes once per request made after this call (and for one made
    /// before it, since the configuration was read).
    pub fn reloads(&self) -> watch::Receiver<u64> {
        let mut r = self.reloads.subscribe();
        // A SIGHUP during start-up came after the configuration was read, or during it: read
        // it again once the daemon runs.
        if *r.borrow() > 0 {
            r.mark_changed();
        }
        r
    }

    /// Cancelled by the first request: what passes and workers watch.
    pub fn token(&self) -> CancellationToken {
        self.requested.clone()
    }

    pub fn is_requested(&self) -> bool {
        self.requested.is_cancelled()
    }

    /// The signal that asked, if one did.
    pub fn by(&self) -> Option<&'static str> {
        self.by.get().copied()
    }

    /// Resolves once a stop is requested and then `grace` has passed or a second request
    /// came: the moment to abandon what is still in flight.
    pub async fn grace_over(&self, grace: std::time::Duration) {
        self.requested.cancelled().await;
        tokio::select! {
            _ = tokio::time::sleep(grace) => {}
            _ = self.hurry.cancelled() => {}
        }
    }
}

impl Default for Stop {
    fn default() -> Self {
        Stop::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn the_grace_period_ends_after_its_time_or_at_a_second_request() {
        let stop = Stop::new();
        assert!(!stop.is_requested());
        stop.request("SIGTERM");
        assert!(stop.is_requested() && stop.token().is_cancelled());
        assert_eq!(stop.by(), Some("SIGTERM"));
        let started = tokio::time::Instant::now();
        stop.grace_over(Duration::from_secs(20)).await;
        assert_eq!(started.elapsed(), Duration::from_secs(20));

        let stop = Stop::new();
        stop.request("SIGINT");
        let waiting = tokio::spawn({
            let stop = stop.clone();
            async move { stop.grace_over(Duration::from_secs(3600)).await }
        });
        tokio::task::yield_now().await;
        stop.request("SIGINT");
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("a second request ends the wait")
            .unwrap();
        assert_eq!(stop.by(), Some("SIGINT"));
    }
}
