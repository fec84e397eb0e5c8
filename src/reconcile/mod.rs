//! The reconciler: one tenant's pass around the pure planner, as a pipeline of values.
//!
//! `pass` runs resolve (settle unknown invite outcomes by lookup) → observe (what a full,
//! incremental or targeted pass reads, through `reads`, `stages` and the pass's participant
//! `directory`) → plan (the pure core, with `rules` resolved for the pass) → apply (bounded
//! concurrency, the invite protocol in `invite`, one `outcome` value per action) → commit (what
//! was learned and the cursor, in one transaction). It knows no wire format and no SQL.

mod apply;
mod backoff;
mod bounded;
mod checks;
mod commit;
mod convert;
mod directory;
mod error;
mod gap;
mod group;
mod invite;
mod keys;
mod memory;
mod note;
mod observe;
mod outcome;
mod pass;
mod reads;
mod resolve;
mod roster;
mod rules;
mod scheduled;
mod seen;
mod stages;
mod step;
mod summary;
mod targeted;
mod tenant;
mod tokens;

pub use apply::Applied;
pub use error::PassError;
pub use group::ActionFailure;
pub use keys::Turns;
pub use note::NotesResolved;
pub use pass::{DryRun, PassOutcome};
pub use resolve::Resolved;
pub use summary::{ApiCounts, PassSummary};
pub use tenant::{PassOptions, Tenant};
pub use tokens::StoreTokens;
