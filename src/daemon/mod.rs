//! The long-running service: schedules, webhook hints, health and metrics, systemd.

pub mod hints;
pub mod lever_webhook;
pub mod notify;
pub mod readiness;
pub mod replay;
pub mod willo_webhook;
