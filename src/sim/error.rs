//! Errors of the simulators' Rust control API.

/// Why a simulator could not start or a world change was refused.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Binding 127.0.0.1:0 failed.
    #[error("cannot bind the simulator's listener")]
    Bind(#[source] std::io::Error),
    /// The id names nothing in the simulated world (or something deleted/removed).
    #[error("unknown {kind} {id:?}")]
    Unknown {
        /// What was looked up: "opportunity", "stage", "posting", "user", "interview", ...
        kind: &'static str,
        /// The id that was given.
        id: String,
    },
    /// The world cannot hold what was asked (e.g. an opportunity before any stage exists).
    #[error("invalid world change: {0}")]
    Invalid(String),
}

impl SimError {
    pub(crate) fn unknown(kind: &'static str, id: &str) -> Self {
        SimError::Unknown {
            kind,
            id: id.to_owned(),
        }
    }

    /// A label for metrics and test assertions.
    pub fn kind(&self) -> &'static str {
        match self {
            SimError::Bind(_) => "bind",
            SimError::Unknown { .. } => "unknown",
            SimError::Invalid(_) => "invalid",
        }
    }
}
