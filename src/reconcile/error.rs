//! Why a pass stopped part-way, as kinds that map to exit statuses and metric labels.

use crate::exit::ExitStatus;
use crate::http::ApiError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum PassError {
    /// The configuration does not fit the account (e.g. an unknown trigger stage name).
    #[error("tenant {tenant}: {message}")]
    Config { tenant: String, message: String },
    /// Credentials were rejected (401, a refused OAuth grant): the tenant is disconnected until
    /// an operator acts.
    #[error("tenant {tenant} is disconnected")]
    Disconnected {
        tenant: String,
        #[source]
        source: ApiError,
    },
    /// A call the pass cannot do without was refused for lack of permission (403): the
    /// tenant stays connected; the error names what to grant (rule: 403 is a permission).
    #[error("tenant {tenant}: a call the pass needs is not permitted")]
    Permission {
        tenant: String,
        #[source]
        source: ApiError,
    },
    /// An API could not be read (unreachable, throttled past the retry budget, unreadable).
    #[error("tenant {tenant}")]
    Api {
        tenant: String,
        #[source]
        source: ApiError,
    },
    #[error("tenant {tenant}")]
    Store {
        tenant: String,
        #[source]
        source: StoreError,
    },
    /// Shutdown arrived before the pass finished reading.
    #[error("tenant {tenant}: interrupted by shutdown")]
    Interrupted { tenant: String },
}

impl PassError {
    pub fn api(tenant: &str, source: ApiError) -> PassError {
        if source.is_disconnect() {
            PassError::Disconnected {
                tenant: tenant.to_owned(),
                source,
            }
        } else if matches!(source, ApiError::Forbidden { .. }) {
            PassError::Permission {
                tenant: tenant.to_owned(),
                source,
            }
        } else {
            PassError::Api {
                tenant: tenant.to_owned(),
                source,
            }
        }
    }

    pub fn store(tenant: &str, source: StoreError) -> PassError {
        PassError::Store {
            tenant: tenant.to_owned(),
            source,
        }
    }

    pub fn exit_status(&self) -> ExitStatus {
        match self {
            PassError::Config { .. } => ExitStatus::Config,
            // EX_NOPERM: for a refused permission as much as for refused credentials.
            PassError::Disconnected { .. } | PassError::Permission { .. } => {
                ExitStatus::Credentials
            }
            PassError::Api { .. } => ExitStatus::Unavailable,
            PassError::Store { .. } => ExitStatus::StateStore,
            PassError::Interrupted { .. } => ExitStatus::ActionsFailed,
        }
    }

    pub fn metric_label(&self) -> &'static str {
        match self {
            PassError::Config { .. } => "config",
            PassError::Disconnected { .. } => "disconnected",
            PassError::Permission { .. } => "forbidden",
            PassError::Api { source, .. } => source.metric_label(),
            PassError::Store { .. } => "store",
            PassError::Interrupted { .. } => "interrupted",
        }
    }
}
