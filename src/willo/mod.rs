//! The Willo Integration API v2 client: bare-key auth, DRF paging that follows
//! `next` only on the configured host, participant state read from configured fields, and a create that
//! is never repeated once it may have been sent.

mod client;
#[cfg(test)]
mod fixture_tests;
pub mod model;
pub mod scope;
pub mod shape;
pub mod state;
mod wire;

pub use client::{ADMIN_KEY, ParticipantPage, ParticipantSample, WilloClient, WilloClientConfig};
pub use model::{Interview, NewParticipant, Participant};
pub use scope::InterviewScope;
pub use shape::Shape;
pub use state::{DEFAULT_STATE_FIELDS, StateFields, looks_like_key};
