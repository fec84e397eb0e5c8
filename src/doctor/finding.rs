//! One check's outcome, and how API errors become one.

use serde::Serialize;

use crate::error_chain::chain;
use crate::exit::ExitStatus;
use crate::http::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Checked, and as the daemon needs it.
    Ok,
    /// Checked, and something needs fixing.
    Problem,
    /// Could not be told from what the account shows (no data yet, or an answer that proves
    /// nothing).
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Problem => "problem",
            Verdict::Unknown => "unknown",
        }
    }
}

/// What one check found. `check` is a stable dotted name (`lever.permission.postings`).
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub check: &'static str,
    pub verdict: Verdict,
    pub found: String,
    pub fix: Option<String>,
    /// What the finding adds to the exit status.
    #[serde(skip)]
    exit: ExitStatus,
}

impl Finding {
    pub fn ok(check: &'static str, found: impl Into<String>) -> Finding {
        Finding {
            check,
            verdict: Verdict::Ok,
            found: found.into(),
            fix: None,
            exit: ExitStatus::Converged,
        }
    }

    pub fn problem(
        check: &'static str,
        found: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            check,
            verdict: Verdict::Problem,
            found: found.into(),
            fix: Some(fix.into()),
            exit: ExitStatus::ActionsFailed,
        }
    }

    pub fn unknown(
        check: &'static str,
        found: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            check,
            verdict: Verdict::Unknown,
            found: found.into(),
            fix: Some(fix.into()),
            exit: ExitStatus::Converged,
        }
    }

    /// The same finding with another exit status (a problem only: 77, 69, 78, 74).
    pub fn exiting(mut self, exit: ExitStatus) -> Finding {
        self.exit = exit;
        self
    }

    pub fn exit(&self) -> ExitStatus {
        self.exit
    }

    /// A call that failed: rejected credentials (77), a permission (the grant as the fix), an
    /// API that could not be read (69), or another refusal.
    pub fn from_error(check: &'static str, what: &str, e: &ApiError) -> Finding {
        let found = format!("{what}: {}", chain(e));
        match e {
            ApiError::Unauthorized { api, .. } => Finding::problem(
                check,
                found,
                format!(
                    "the {api} credentials were rejected: check the API key (with Lever OAuth, run \
                     `willo-lever-sync connect <tenant>` again)"
                ),
            )
            .exiting(ExitStatus::Credentials),
            ApiError::Forbidden { grant, .. } => Finding::problem(
                check,
                found,
                match grant {
                    Some(g) => format!("grant {g}"),
                    None => "grant the credentials access to this endpoint".to_owned(),
                },
            ),
            ApiError::RateLimited { .. }
            | ApiError::Transient { .. }
            | ApiError::Decode { .. }
            | ApiError::Protocol { .. }
            | ApiError::Ambiguous { .. } => Finding::problem(
                check,
                found,
                "check base_url, the network and the vendor's status page, then run doctor again",
            )
            .exiting(ExitStatus::Unavailable),
            ApiError::TokenStore { .. } => Finding::problem(
                check,
                found,
                "check the state directory (daemon.state_dir) can be read",
            )
            .exiting(ExitStatus::StateStore),
            ApiError::NotFound { .. } | ApiError::Rejected { .. } => Finding::problem(
                check,
                found,
                "check the configured value against the account",
            ),
        }
    }

    /// True when the error means nothing further can be asked of that API.
    pub fn stops_checks(e: &ApiError) -> bool {
        e.is_disconnect()
            || matches!(
                e,
                ApiError::RateLimited { .. }
                    | ApiError::Transient { .. }
                    | ApiError::TokenStore { .. }
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Api, Grant};

    #[test]
    fn errors_map_to_their_exit_statuses_and_fixes() {
        let unauthorized = ApiError::Unauthorized {
            api: Api::Lever,
            route: "/stages",
            status: 401,
            message: "no".into(),
        };
        let f = Finding::from_error("lever.credentials", "GET /stages", &unauthorized);
        assert_eq!(
            (f.verdict, f.exit()),
            (Verdict::Problem, ExitStatus::Credentials)
        );
        assert!(Finding::stops_checks(&unauthorized));

        const G: Grant = Grant {
            needs: "X",
            oauth_scopes: &[],
        };
        let forbidden = ApiError::Forbidden {
            api: Api::Willo,
            route: "/interviews/",
            message: "no".into(),
            grant: Some(G),
        };
        let f = Finding::from_error("willo.interviews", "GET /interviews/", &forbidden);
        assert_eq!(
            (f.verdict, f.exit()),
            (Verdict::Problem, ExitStatus::ActionsFailed)
        );
        assert_eq!(f.fix.as_deref(), Some("grant X"));
        assert!(!Finding::stops_checks(&forbidden));

        let down = ApiError::Transient {
            api: Api::Lever,
            route: "/stages",
            status: None,
            reason: "connection failed".into(),
            retry_after: None,
        };
        let f = Finding::from_error("lever.credentials", "GET /stages", &down);
        assert_eq!(f.exit(), ExitStatus::Unavailable);
        assert_eq!(
            Finding::unknown("x", "y", "z").exit(),
            ExitStatus::Converged,
            "unknown needs no fixing"
        );
    }
}
