//! willo-lever-sync: keeps a Lever ATS account and a Willo video-interview account in agreement.
//!
//! See ARCHITECTURE.md for the code map and its invariants.

pub mod domain;
pub mod http;
pub mod lever;
pub mod willo;
