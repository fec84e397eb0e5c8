//! systemd notifications (`Type=notify`). Every call is a no-op without `NOTIFY_SOCKET`, and a
//! failure to notify is logged, never fatal: the daemon's work matters more than its reports.

use std::time::Duration;

use sd_notify::NotifyState;

pub fn ready() {
    send(&[NotifyState::Ready], "READY");
}

pub fn status(line: &str) {
    send(&[NotifyState::Status(line)], "STATUS");
}

pub fn watchdog() {
    send(&[NotifyState::Watchdog], "WATCHDOG");
}

/// A reload starts: RELOADING=1 with the monotonic time, as systemd wants it for
/// `Type=notify-reload` (and accepts for `Type=notify`); [`ready`] ends it.
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now], "RELOADING"),
        Err(_) => send(&[NotifyState::Reloading], "RELOADING"),
    }
}

pub fn stopping() {
    send(&[NotifyState::Stopping], "STOPPING");
}

/// The interval at which to ping the watchdog: half of `WatchdogSec`, when it is set.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled().map(|d| d / 2)
}

fn send(state: &[NotifyState<'_>], what: &str) {
    if let Err(e) = sd_notify::notify(state) {
        tracing::warn!(error = %e, "cannot notify systemd ({what})");
    }
}
