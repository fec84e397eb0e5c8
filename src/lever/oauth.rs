//! Lever OAuth 2.0: configuration, tokens, the token endpoint, and the one-time
//! authorization-code flow behind `willo-lever-sync connect TENANT`.
//!
//! Refreshing during normal operation lives in `auth.rs`; this file only knows how to talk to
//! the authorization server.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use secrecy::SecretString;
use serde::Deserialize;
use tokio::sync::oneshot;
use url::Url;

use super::token_store::{TokenStore, TokenStoreError};
use super::wire;
use crate::http::decode::decode;
use crate::http::observer::{Api, NoopObserver};
use crate::http::transport::{Body, Call, Idempotency, Transport};
use crate::http::{ApiError, HttpConfig};
use crate::secret::Secret;

/// Lever's production authorization endpoint (the default of `oauth.authorize_url`).
pub const LEVER_AUTHORIZE_URL: &str = "https://auth.lever.co/authorize";
/// Lever's production token endpoint (the default of `oauth.token_url`).
pub const LEVER_TOKEN_URL: &str = "https://auth.lever.co/oauth/token";
/// Lever's API audience (the trailing slash matters; the default of `oauth.audience`).
pub const LEVER_AUDIENCE: &str = "https://api.lever.co/v1/";
/// Without it Lever issues no refresh token.
pub const OFFLINE_ACCESS: &str = "offline_access";
/// The scopes an assessment-style integration needs, plus postings and users, which the
/// daemon reads (the default of `oauth.scopes`).
pub const DEFAULT_SCOPES: &[&str] = &[
    OFFLINE_ACCESS,
    "opportunities:write:admin",
    "notes:write:admin",
    "stages:read:admin",
    "tags:read:admin",
    "postings:read:admin",
    "users:read:admin",
    "webhooks:write:admin",
];

const TOKEN_ROUTE: &str = "/oauth/token";

/// A registered Lever OAuth app, as configured in `[tenants.lever.oauth]` (the configuration
/// fills in the `LEVER_*` and `DEFAULT_SCOPES` defaults).
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    pub client_id: String,
    pub client_secret: Secret,
    pub token_url: Url,
    pub authorize_url: Url,
    /// Must match the registered callback exactly; `connect` listens for it.
    pub redirect_uri: Url,
    pub scopes: Vec<String>,
    pub audience: String,
    /// Where `connect` serves the redirect (by default the redirect URI's host and port).
    pub listen: SocketAddr,
}

impl OAuthConfig {
    /// The scopes to request, with `offline_access` added if missing.
    fn scope_param(&self) -> String {
        let mut scopes = self.scopes.clone();
        if !scopes.iter().any(|s| s == OFFLINE_ACCESS) {
            scopes.insert(0, OFFLINE_ACCESS.to_owned());
        }
        scopes.join(" ")
    }

    /// The URL the Super Admin opens to consent.
    pub fn authorize_url_with_state(&self, state: &str) -> Url {
        let mut url = self.authorize_url.clone();
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", self.redirect_uri.as_str())
            .append_pair("response_type", "code")
            .append_pair("state", state)
            .append_pair("audience", &self.audience)
            .append_pair("scope", &self.scope_param());
        url
    }
}

/// One tenant's Lever OAuth tokens. `Debug` shows no secret.
#[derive(Debug, Clone)]
pub struct OAuthTokens {
    pub access_token: SecretString,
    /// Rotates on every refresh; the old one stops working.
    pub refresh_token: SecretString,
    /// When the access token expires, ms since the epoch (wall clock: it is persisted).
    pub expires_at: i64,
    pub scope: Option<String>,
}

/// Wall-clock now in ms (tokens' expiry is persisted, so it cannot be a monotonic instant).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default, deserialize_with = "wire::opt_millis")]
    expires_in: Option<i64>,
    #[serde(default)]
    scope: Option<String>,
}

/// Lever's documented access-token lifetime, used when `expires_in` is missing.
const DEFAULT_EXPIRES_IN_S: i64 = 3600;

/// A transport for the token endpoint when no client exists yet (`connect`).
pub(crate) fn token_transport(config: &HttpConfig) -> Result<Transport, crate::http::BuildError> {
    Transport::new(
        Api::Lever,
        config,
        Arc::new(NoopObserver),
        wire::error_message,
    )
}

/// POSTs one grant to the token endpoint. Never retried after sending: a lost response to a
/// refresh may already have rotated the refresh token, and repeating it cannot help.
/// Any 4xx (e.g. `invalid_grant` after revocation or expiry, or a 403) is a refused grant and
/// means re-consent: `Unauthorized`.
pub(crate) async fn token_request(
    transport: &Transport,
    cfg: &OAuthConfig,
    grant: Vec<(&'static str, String)>,
    previous_refresh: Option<&SecretString>,
) -> Result<OAuthTokens, ApiError> {
    let mut form = grant;
    form.push(("client_id", cfg.client_id.clone()));
    form.push(("client_secret", cfg.client_secret.expose().to_owned()));
    let call = Call {
        method: reqwest::Method::POST,
        url: cfg.token_url.clone(),
        route: TOKEN_ROUTE,
        body: Body::Form(form),
        idempotency: Idempotency::NonIdempotent,
    };
    let started = now_ms();
    let reply = transport
        .execute(&call, || async { Ok(None) })
        .await
        .map_err(|e| match e {
            ApiError::Rejected {
                api,
                route,
                status,
                message,
            } if (400..500).contains(&status) => ApiError::Unauthorized {
                api,
                route,
                status,
                message,
            },
            ApiError::NotFound {
                api,
                route,
                message,
            } => ApiError::Unauthorized {
                api,
                route,
                status: 404,
                message,
            },
            // At the token endpoint a 403 refuses the grant itself: re-consent is needed.
            ApiError::Forbidden {
                api,
                route,
                message,
                ..
            } => ApiError::Unauthorized {
                api,
                route,
                status: 403,
                message,
            },
            other => other,
        })?;
    let t: TokenResponse = decode(Api::Lever, TOKEN_ROUTE, &reply.body)?;
    let refresh_token = match (t.refresh_token, previous_refresh) {
        (Some(r), _) => SecretString::from(r),
        (None, Some(prev)) => prev.clone(),
        (None, None) => {
            return Err(ApiError::Unauthorized {
                api: Api::Lever,
                route: TOKEN_ROUTE,
                status: 200,
                message: "no refresh token issued; the offline_access scope is required".into(),
            });
        }
    };
    Ok(OAuthTokens {
        access_token: SecretString::from(t.access_token),
        refresh_token,
        expires_at: started + t.expires_in.unwrap_or(DEFAULT_EXPIRES_IN_S) * 1000,
        scope: t.scope,
    })
}

/// Why `connect` did not produce tokens.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot listen for the redirect on {addr}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot build the HTTP client")]
    Client(#[from] crate::http::BuildError),
    #[error("the Lever user denied access: {0}")]
    Denied(String),
    #[error("the authorization server answered {error}: {description}")]
    Authorize { error: String, description: String },
    #[error("the redirect's state did not match this request (stale or forged); start again")]
    StateMismatch,
    #[error("the redirect carried neither a code nor an error")]
    MissingCode,
    #[error("exchanging the code failed")]
    Exchange(#[from] ApiError),
    #[error("storing the tokens failed")]
    Store(#[from] TokenStoreError),
    #[error("the redirect listener stopped before the browser came back")]
    ListenerClosed,
}

type Callback = HashMap<String, String>;

#[derive(Clone)]
struct CallbackState {
    path: String,
    tx: Arc<Mutex<Option<oneshot::Sender<Callback>>>>,
}

async fn callback(State(st): State<CallbackState>, req: Request) -> impl IntoResponse {
    if req.uri().path() != st.path {
        return (StatusCode::NOT_FOUND, "not found");
    }
    let params: Callback = url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    if !params.contains_key("code") && !params.contains_key("error") {
        return (StatusCode::BAD_REQUEST, "missing code");
    }
    let sender = st.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
    match sender {
        Some(tx) => {
            let denied = params.contains_key("error");
            let _ = tx.send(params);
            if denied {
                (
                    StatusCode::OK,
                    "Authorization was not granted. You can close this window.",
                )
            } else {
                (
                    StatusCode::OK,
                    "Authorization received. You can close this window and return to the terminal.",
                )
            }
        }
        None => (
            StatusCode::CONFLICT,
            "this authorization was already handled",
        ),
    }
}

/// A random `state` value (128 bits, hex).
fn random_state() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Runs the authorization-code flow once: builds the authorize URL with a random `state`,
/// hands it to `announce` (the CLI prints it), serves the redirect once on `listen`, checks
/// `state`, exchanges the code and saves the tokens in `store`.
pub async fn connect(
    cfg: &OAuthConfig,
    listen: SocketAddr,
    announce: impl FnOnce(&Url),
    store: &dyn TokenStore,
) -> Result<OAuthTokens, ConnectError> {
    // Bind before announcing, so the browser can never come back to a closed port.
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| ConnectError::Bind {
            addr: listen,
            source,
        })?;
    let state = random_state();
    let url = cfg.authorize_url_with_state(&state);
    let (tx, rx) = oneshot::channel();
    let app = axum::Router::new()
        .fallback(callback)
        .with_state(CallbackState {
            path: cfg.redirect_uri.path().to_owned(),
            tx: Arc::new(Mutex::new(Some(tx))),
        });
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await;
    });
    announce(&url);
    let params = rx.await;
    let _ = stop_tx.send(());
    // The response page was already written; the server only lingers for keep-alive sockets.
    server.abort();
    let params = params.map_err(|_| ConnectError::ListenerClosed)?;

    if params.get("state").map(String::as_str) != Some(state.as_str()) {
        return Err(ConnectError::StateMismatch);
    }
    if let Some(error) = params.get("error") {
        let description = params.get("error_description").cloned().unwrap_or_default();
        return Err(if error == "access_denied" {
            ConnectError::Denied(description)
        } else {
            ConnectError::Authorize {
                error: error.clone(),
                description,
            }
        });
    }
    let code = params.get("code").ok_or(ConnectError::MissingCode)?;
    let transport = token_transport(&HttpConfig::lever())?;
    let tokens = token_request(
        &transport,
        cfg,
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.clone()),
            ("redirect_uri", cfg.redirect_uri.to_string()),
        ],
        None,
    )
    .await?;
    store.save(&tokens)?;
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> OAuthConfig {
        OAuthConfig {
            client_id: "cid".into(),
            client_secret: Secret::builtin("very-secret"),
            token_url: Url::parse(LEVER_TOKEN_URL).unwrap(),
            authorize_url: Url::parse(LEVER_AUTHORIZE_URL).unwrap(),
            redirect_uri: Url::parse("http://127.0.0.1:8788/callback").unwrap(),
            scopes: vec![
                "opportunities:write:admin".into(),
                "stages:read:admin".into(),
            ],
            audience: LEVER_AUDIENCE.to_owned(),
            listen: "127.0.0.1:8788".parse().unwrap(),
        }
    }

    #[test]
    fn authorize_url_carries_every_required_parameter() {
        let url = cfg().authorize_url_with_state("abc");
        assert!(url.as_str().starts_with(LEVER_AUTHORIZE_URL));
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["client_id"], "cid");
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:8788/callback");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["state"], "abc");
        assert_eq!(q["audience"], LEVER_AUDIENCE);
        assert_eq!(
            q["scope"],
            "offline_access opportunities:write:admin stages:read:admin"
        );
        assert!(!url.as_str().contains("very-secret"));
    }

    #[test]
    fn states_are_random_and_long() {
        let (a, b) = (random_state(), random_state());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn debug_output_hides_secrets() {
        let t = OAuthTokens {
            access_token: SecretString::from("at-123"),
            refresh_token: SecretString::from("rt-456"),
            expires_at: 0,
            scope: None,
        };
        let shown = format!("{t:?} {:?}", cfg());
        assert!(
            !shown.contains("at-123")
                && !shown.contains("rt-456")
                && !shown.contains("very-secret")
        );
    }
}
