//! Parts of a pass that Lever or Willo refused for lack of permission (HTTP 403). The pass goes
//! on with what it can read and says what is missing (rule: 403 is a permission).

use serde::Serialize;

use super::error::PassError;
use crate::error_chain::chain;
use crate::http::ApiError;

/// One refused part of a pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// What the pass could not do because of it.
    pub consequence: &'static str,
    /// The refused call, as the error names it (API and route).
    pub refused: String,
    /// What to grant, when the client knows it.
    pub grant: Option<String>,
}

impl Gap {
    /// The gap a refused call leaves, if the error is a refusal; `None` for any other error.
    pub fn of(error: &ApiError, consequence: &'static str) -> Option<Gap> {
        let ApiError::Forbidden { .. } = error else {
            return None;
        };
        Some(Gap {
            consequence,
            refused: chain(error).to_string(),
            grant: error.grant().map(|g| g.to_string()),
        })
    }
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.consequence, self.refused)
    }
}

/// A part of a pass the rest can do without: its result, or — when Lever or Willo refused it
/// for lack of permission — `None` and the gap noted in `gaps`.
pub(crate) fn optional<T>(
    result: Result<T, PassError>,
    consequence: &'static str,
    gaps: &mut Vec<Gap>,
) -> Result<Option<T>, PassError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(PassError::Permission { source, .. }) => {
            gaps.extend(Gap::of(&source, consequence));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
