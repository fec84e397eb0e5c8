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
