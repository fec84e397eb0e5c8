//! willo-lever-sync: keeps a Lever ATS account and a Willo video-interview account in agreement.
//!
//! See ARCHITECTURE.md for the code map and its invariants. Modules are public only where the
//! binary, the integration tests or the benchmarks use them; everything else is crate-private,
//! so the compiler reports code nothing calls.

pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub(crate) mod daemon;
/// The webhook checks, reachable for the fuzz targets (`fuzz/`) and the property tests while
/// the daemon module stays private. Not an API.
#[doc(hidden)]
pub mod webhook_checks {
    pub use crate::daemon::lever_webhook::check_delivery as lever;
    pub use crate::daemon::willo_webhook::inspect_delivery as willo;
}
/// The spread of tenants' scheduled passes, for the benchmark that measures their slippage.
#[doc(hidden)]
pub mod schedule_spread {
    pub use crate::daemon::schedule::spread_offset;
}
pub(crate) mod doctor;
pub mod domain;
pub mod error_chain;
pub mod exit;
pub mod http;
pub mod lever;
pub(crate) mod logging;
pub mod metrics;
pub(crate) mod notices;
pub mod plan;
pub mod reconcile;
pub(crate) mod sandbox;
pub(crate) mod secret;
pub mod sim;
pub mod store;
pub(crate) mod timefmt;
pub mod willo;
