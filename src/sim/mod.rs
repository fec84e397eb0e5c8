//! In-process simulators of the Lever and Willo APIs, for tests, benchmarks and the
//! `sandbox` demo. Production code never depends on this module.
//!
//! Each simulator is an axum server on `127.0.0.1:0` with a Rust control API to seed and
//! change its world while it runs ([`lever::LeverSim`], [`willo::WilloSim`]). Both share:
//! - [`faults`]: seeded fault injection (5xx, latency, dropped connections, truncated bodies,
//!   429 storms) targeted by method and route template;
//! - [`hold`]: "hold the n-th matching request after applying it, until released";
//! - [`accounting`]: every request by method, route template, status, credential and time;
//! - [`ratelimit`]: per-credential token buckets;
//! - [`webhook`]: outgoing webhooks with retries and a drop switch;
//! - [`clock`]: a simulated clock whose change stamps strictly increase.
//!
//! Fidelity notes and measured figures: `docs/simulators.md`.

// Other helpers write tests against this API from its rustdoc alone.
#![deny(missing_docs)]

pub mod accounting;
pub mod clock;
mod error;
pub mod faults;
mod gate;
pub mod hold;
mod ids;
pub mod lever;
mod query;
pub mod ratelimit;
mod server;
pub mod webhook;
pub mod willo;

pub use accounting::{Accounting, RequestRecord};
pub use clock::ClockConfig;
pub use error::SimError;
pub use faults::{Fault, FaultPlan, FaultRule, Faults, PageDefect, Trigger};
pub use hold::{HoldHandle, HoldRule};
pub use lever::{LeverSim, LeverSimConfig};
pub use ratelimit::RateLimit;
pub use webhook::{DeliveryAttempt, DeliveryOutcome, DropRule, WebhookDelivery, WebhookRetry};
pub use willo::{WilloSim, WilloSimConfig};

#[cfg(test)]
mod tests {
    #[test]
    fn handles_can_be_shared_across_tasks_and_threads() {
        fn send_sync<T: Send + Sync + Clone + 'static>() {}
        send_sync::<super::LeverSim>();
        send_sync::<super::WilloSim>();
        fn send_sync_only<T: Send + Sync>() {}
        send_sync_only::<super::HoldHandle>();
        send_sync_only::<super::Faults>();
    }
}
