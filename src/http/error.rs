//! What can go wrong talking to Lever or Willo, as kinds the rest of the product acts on.
//!
//! Each variant names the API and the route *template* (never a concrete URL: URLs can carry
//! ids, page tokens or query values, and messages end up in logs and metrics). No variant ever
//! holds a header, key, token or request body.

use std::time::Duration;

use super::observer::Api;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 429 after the retry budget was spent (or a `Retry-After` longer than what was left).
    #[error("{api} {route}: rate limited (HTTP 429){}", fmt_after(*.retry_after))]
    RateLimited {
        api: Api,
        route: &'static str,
        retry_after: Option<Duration>,
    },

    /// 500/502/503/504, a timeout or a connection failure on an idempotent call, after retries.
    #[error("{api} {route}: transient failure: {reason}")]
    Transient {
        api: Api,
        route: &'static str,
        status: Option<u16>,
        reason: String,
        /// A 503's `Retry-After`, if the server sent one.
        retry_after: Option<Duration>,
    },

    /// 401, or a refused OAuth grant: the tenant is disconnected (rule: disconnect,
    /// docs/behaviour.md).
    #[error("{api} {route}: credentials rejected (HTTP {status}): {message}")]
    Unauthorized {
        api: Api,
        route: &'static str,
        status: u16,
        message: String,
    },

    /// 403: the credentials work but lack a permission for this call (rule: 403 is a
    /// permission, docs/behaviour.md). Not a disconnect and not retried. `grant` names what
    /// to grant, when the client that made the call knows it.
    #[error("{api} {route}: permission denied (HTTP 403): {message}{}", fmt_grant(grant.as_ref()))]
    Forbidden {
        api: Api,
        route: &'static str,
        message: String,
        grant: Option<Grant>,
    },

    /// 404: the object does not exist (or no longer does).
    #[error("{api} {route}: not found: {message}")]
    NotFound {
        api: Api,
        route: &'static str,
        message: String,
    },

    /// Any other 4xx (or an unexpected 3xx/5xx), with the server's own message.
    #[error("{api} {route}: rejected (HTTP {status}): {message}")]
    Rejected {
        api: Api,
        route: &'static str,
        status: u16,
        message: String,
    },

    /// A 2xx whose body did not have the expected shape; `path` is the JSON path that failed.
    #[error("{api} {route}: unreadable response at `{path}`: {message}")]
    Decode {
        api: Api,
        route: &'static str,
        path: String,
        message: String,
    },

    /// A non-idempotent request (participant create, note) may or may not have taken effect.
    /// The caller must look the object up before doing anything else.
    #[error("{api} {route}: outcome unknown, look up before retrying: {reason}")]
    Ambiguous {
        api: Api,
        route: &'static str,
        reason: String,
    },

    /// The server broke the paging contract (hasNext without next, a foreign `next` host,
    /// an offset token refused twice, a page that points at itself).
    #[error("{api} {route}: protocol violation: {message}")]
    Protocol {
        api: Api,
        route: &'static str,
        message: String,
    },

    /// The OAuth token store failed to load or save. Nothing was sent with unsaved tokens.
    #[error("{api}: token store: {message}")]
    TokenStore { api: Api, message: String },
}

/// What to grant so that a refused call is allowed, in the API's own terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// What the credentials lack, as the operator finds it in the vendor's settings, e.g.
    /// `the API key's "Postings: read" permission` or `an Admin user's API key`.
    pub needs: &'static str,
    /// The OAuth scopes that carry it (Lever OAuth); empty where the API has no scopes.
    pub oauth_scopes: &'static [&'static str],
}

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.needs)?;
        match self.oauth_scopes {
            [] => Ok(()),
            [one] => write!(f, " (with OAuth, the scope {one})"),
            many => write!(f, " (with OAuth, the scopes {})", many.join(" ")),
        }
    }
}

fn fmt_grant(grant: Option<&Grant>) -> String {
    grant.map(|g| format!("; needs {g}")).unwrap_or_default()
}

fn fmt_after(after: Option<Duration>) -> String {
    match after {
        Some(d) => format!(", retry after {:.1}s", d.as_secs_f64()),
        None => String::new(),
    }
}

impl ApiError {
    /// A stable, low-cardinality label for metrics and summaries.
    pub fn metric_label(&self) -> &'static str {
        match self {
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Transient { .. } => "transient",
            ApiError::Unauthorized { .. } => "unauthorized",
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::NotFound { .. } => "not_found",
            ApiError::Rejected { .. } => "rejected",
            ApiError::Decode { .. } => "decode",
            ApiError::Ambiguous { .. } => "ambiguous",
            ApiError::Protocol { .. } => "protocol",
            ApiError::TokenStore { .. } => "token_store",
        }
    }

    /// True when the tenant's access is gone (rule: disconnect, docs/behaviour.md).
    pub fn is_disconnect(&self) -> bool {
        matches!(self, ApiError::Unauthorized { .. })
    }

    /// True for the kinds the retry layer may try again (a later pass may, too).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ApiError::RateLimited { .. } | ApiError::Transient { .. }
        )
    }

    /// What to grant so that the refused call is allowed (only for `Forbidden`).
    pub fn grant(&self) -> Option<Grant> {
        match self {
            ApiError::Forbidden { grant, .. } => *grant,
            _ => None,
        }
    }

    /// The same error naming `grant` as what to grant, if it is a `Forbidden` (the clients
    /// know their routes' permissions; the transport does not).
    pub fn with_grant(self, grant: Option<Grant>) -> ApiError {
        match self {
            ApiError::Forbidden {
                api,
                route,
                message,
                grant: None,
            } => ApiError::Forbidden {
                api,
                route,
                message,
                grant,
            },
            other => other,
        }
    }

    /// The route template of the call that failed (`None` for token-store errors).
    pub fn route(&self) -> Option<&'static str> {
        match self {
            ApiError::RateLimited { route, .. }
            | ApiError::Transient { route, .. }
            | ApiError::Unauthorized { route, .. }
            | ApiError::Forbidden { route, .. }
            | ApiError::NotFound { route, .. }
            | ApiError::Rejected { route, .. }
            | ApiError::Decode { route, .. }
            | ApiError::Ambiguous { route, .. }
            | ApiError::Protocol { route, .. } => Some(route),
            ApiError::TokenStore { .. } => None,
        }
    }

    /// The API the error came from.
    pub fn api(&self) -> Api {
        match self {
            ApiError::RateLimited { api, .. }
            | ApiError::Transient { api, .. }
            | ApiError::Unauthorized { api, .. }
            | ApiError::Forbidden { api, .. }
            | ApiError::NotFound { api, .. }
            | ApiError::Rejected { api, .. }
            | ApiError::Decode { api, .. }
            | ApiError::Ambiguous { api, .. }
            | ApiError::Protocol { api, .. }
            | ApiError::TokenStore { api, .. } => *api,
        }
    }
}

/// Building a client failed (bad configuration, TLS initialisation).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("HTTP client could not be built: {0}")]
    Http(String),
    #[error("base URL {0:?} cannot carry a path (use http:// or https://)")]
    BaseUrl(String),
    #[error("OAuth is configured but no token store was given")]
    MissingTokenStore,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_distinct_and_only_unauthorized_disconnects_not_forbidden() {
        let errors = [
            ApiError::RateLimited {
                api: Api::Lever,
                route: "/r",
                retry_after: None,
            },
            ApiError::Transient {
                api: Api::Lever,
                route: "/r",
                status: Some(503),
                reason: "x".into(),
                retry_after: None,
            },
            ApiError::Unauthorized {
                api: Api::Willo,
                route: "/r",
                status: 401,
                message: "x".into(),
            },
            ApiError::Forbidden {
                api: Api::Lever,
                route: "/r",
                message: "x".into(),
                grant: None,
            },
            ApiError::NotFound {
                api: Api::Lever,
                route: "/r",
                message: "x".into(),
            },
            ApiError::Rejected {
                api: Api::Lever,
                route: "/r",
                status: 400,
                message: "x".into(),
            },
            ApiError::Decode {
                api: Api::Lever,
                route: "/r",
                path: "data".into(),
                message: "x".into(),
            },
            ApiError::Ambiguous {
                api: Api::Willo,
                route: "/r",
                reason: "x".into(),
            },
            ApiError::Protocol {
                api: Api::Willo,
                route: "/r",
                message: "x".into(),
            },
            ApiError::TokenStore {
                api: Api::Lever,
                message: "x".into(),
            },
        ];
        let labels: std::collections::BTreeSet<_> =
            errors.iter().map(|e| e.metric_label()).collect();
        assert_eq!(labels.len(), errors.len());
        let disconnects: Vec<_> = errors
            .iter()
            .filter(|e| e.is_disconnect())
            .map(|e| e.metric_label())
            .collect();
        assert_eq!(disconnects, ["unauthorized"]);
        let retryable: Vec<_> = errors
            .iter()
            .filter(|e| e.is_retryable())
            .map(|e| e.metric_label())
            .collect();
        assert_eq!(retryable, ["rate_limited", "transient"]);
    }

    #[test]
    fn messages_name_api_route_and_wait() {
        let e = ApiError::RateLimited {
            api: Api::Lever,
            route: "/opportunities",
            retry_after: Some(Duration::from_millis(2500)),
        };
        assert_eq!(
            e.to_string(),
            "lever /opportunities: rate limited (HTTP 429), retry after 2.5s"
        );
    }

    #[test]
    fn forbidden_names_what_to_grant_once_the_client_adds_it() {
        const GRANT: Grant = Grant {
            needs: "the API key's \"Postings: read\" permission",
            oauth_scopes: &["postings:read:admin"],
        };
        let e = ApiError::Forbidden {
            api: Api::Lever,
            route: "/postings",
            message: "ForbiddenError: no".into(),
            grant: None,
        };
        assert_eq!(e.grant(), None);
        let e = e.with_grant(Some(GRANT));
        assert_eq!(e.grant(), Some(GRANT));
        assert_eq!(e.metric_label(), "forbidden");
        assert!(!e.is_disconnect() && !e.is_retryable());
        assert_eq!(
            e.to_string(),
            "lever /postings: permission denied (HTTP 403): ForbiddenError: no; needs the API \
             key's \"Postings: read\" permission (with OAuth, the scope postings:read:admin)"
        );
        let other = ApiError::NotFound {
            api: Api::Lever,
            route: "/r",
            message: "x".into(),
        };
        assert_eq!(other.with_grant(Some(GRANT)).grant(), None);
    }
}
