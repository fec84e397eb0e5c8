//! The Willo Integration API v2 client: bare-key auth, DRF paging that follows
//! `next` only on the configured host, participant state read per the model, and a create that
//! is never repeated once it may have been sent.

mod client;
#[cfg(test)]
mod fixture_tests;
pub mod model;
mod wire;

pub use client::{WilloClient, WilloClientConfig};
pub use model::{Interview, NewParticipant, Participant};
