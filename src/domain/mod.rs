//! Plain domain vocabulary shared by the planner, the store and the reconciler.
//!
//! Nothing here does I/O, reads a clock or knows an API's wire format: these are the words
//! docs/behaviour.md is written in (status tags, interview tags, the status map, invite states).

pub mod attention;
pub mod email;
pub mod invite;
pub mod note;
pub mod pass;
pub mod status_map;
pub mod tags;

/// A Lever opportunity id (the unit everything is keyed on, never the contact).
pub type OpportunityId = String;
/// A Willo interview `key` (32 hex characters).
pub type InterviewKey = String;
/// A Willo participant `key` (32 hex characters).
pub type ParticipantKey = String;
/// A Lever posting id.
pub type PostingId = String;
/// A Lever stage id.
pub type StageId = String;
/// Milliseconds since the Unix epoch, as Lever writes timestamps.
pub type Millis = i64;

pub use pass::{PassKind, PassResult, Target};
