//! The reconciler: observe → plan → apply for one tenant, through the clients and the store.
//!
//! It owns the shells around the pure planner: reading (observe), settling unknown invite
//! outcomes (resolve), applying actions with the invite journal (apply) and committing what a
//! pass learned together with its cursor (pass). It knows no wire format and no SQL.

mod apply;
mod backoff;
pub mod clock;
mod convert;
mod error;
mod memory;
mod observe;
mod pass;
mod resolve;
mod summary;
mod tenant;
mod tokens;

pub use apply::Applied;
pub use error::PassError;
pub use pass::{DryRun, PassOutcome, Target};
pub use resolve::Resolved;
pub use summary::{ApiCounts, PassSummary};
pub use tenant::{PassOptions, Tenant};
pub use tokens::StoreTokens;
