//! willo-lever-sync: keeps a Lever ATS account and a Willo video-interview account in agreement.
//!
//! See ARCHITECTURE.md for the code map and its invariants.

pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod domain;
pub mod error_chain;
pub mod exit;
pub mod http;
pub mod lever;
pub mod logging;
pub mod metrics;
pub mod notices;
pub mod plan;
pub mod reconcile;
pub mod sandbox;
pub mod secret;
pub mod sim;
pub mod store;
pub mod timefmt;
pub mod willo;
