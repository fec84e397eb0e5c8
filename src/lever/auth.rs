//! The `Authorization` header for Lever calls: an API key (Basic) or an OAuth session that
//! refreshes itself.
//!
//! OAuth invariants:
//! - single flight: one tokio mutex per tenant guards the tokens, so N concurrent callers that
//!   find the token near expiry cause exactly one refresh;
//! - the rotated tokens are saved BEFORE the new access token is handed out; if the save fails
//!   the new tokens are kept in memory only to retry the save, and no request is sent with them;
//! - a refresh is never retried blindly (it rotates the refresh token): a lost response
//!   surfaces as `Ambiguous`, a refused grant as `Unauthorized`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

use super::oauth::{OAuthConfig, OAuthTokens, now_ms, token_request};
use super::token_store::TokenStore;
use crate::http::ApiError;
use crate::http::observer::Api;
use crate::http::transport::Transport;
use crate::secret::Secret;

/// Refresh this long before the access token expires (rule: Lever OAuth tokens, docs/behaviour.md).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

pub(crate) enum Authenticator {
    /// The same header on every call: an API key, or a fixed OAuth access token.
    Fixed(HeaderValue),
    // Boxed: the session is large and there is one per client.
    OAuth(Box<OAuthSession>),
}

impl Authenticator {
    pub fn api_key(key: &Secret) -> Result<Authenticator, ApiError> {
        // Basic auth: the key is the user name, the password is empty.
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:", key.expose()));
        let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).map_err(|_| {
            ApiError::Unauthorized {
                api: Api::Lever,
                route: "/",
                status: 401,
                message: "the API key contains characters that cannot go in a header".into(),
            }
        })?;
        value.set_sensitive(true);
        Ok(Authenticator::Fixed(value))
    }
}

/// Bearer header for an access token.
pub(crate) fn bearer(token: &SecretString) -> Result<HeaderValue, ApiError> {
    let mut value =
        HeaderValue::from_str(&format!("Bearer {}", token.expose_secret())).map_err(|_| {
            ApiError::Unauthorized {
                api: Api::Lever,
                route: "/oauth/token",
                status: 401,
                message: "the access token cannot go in a header".into(),
            }
        })?;
    value.set_sensitive(true);
    Ok(value)
}

struct SessionState {
    tokens: Option<OAuthTokens>,
    /// The tokens in `tokens` came from a refresh whose save failed: save before any use.
    unsaved: bool,
}

pub(crate) struct OAuthSession {
    cfg: OAuthConfig,
    store: Arc<dyn TokenStore>,
    state: Mutex<SessionState>,
    refreshes: AtomicU64,
}

impl OAuthSession {
    pub fn new(cfg: OAuthConfig, store: Arc<dyn TokenStore>) -> Self {
        OAuthSession {
            cfg,
            store,
            state: Mutex::new(SessionState {
                tokens: None,
                unsaved: false,
            }),
            refreshes: AtomicU64::new(0),
        }
    }

    /// Successful refreshes made by this session.
    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::SeqCst)
    }

    fn store_error(e: impl std::fmt::Display) -> ApiError {
        ApiError::TokenStore {
            api: Api::Lever,
            message: e.to_string(),
        }
    }

    /// A valid access token, refreshing first when it expires within [`REFRESH_MARGIN`].
    pub async fn access_token(&self, transport: &Transport) -> Result<SecretString, ApiError> {
        let mut st = self.state.lock().await;
        self.ensure_loaded(&mut st)?;
        let expires_at = st.tokens.as_ref().map(|t| t.expires_at).unwrap_or(i64::MIN);
        if now_ms() + REFRESH_MARGIN.as_millis() as i64 >= expires_at {
            self.refresh(&mut st, transport).await?;
        }
        Self::current(&st)
    }

    /// After a 401 with `failed`: refresh unless another caller already replaced that token.
    pub async fn refresh_after_rejection(
        &self,
        transport: &Transport,
        failed: &SecretString,
    ) -> Result<SecretString, ApiError> {
        let mut st = self.state.lock().await;
        self.ensure_loaded(&mut st)?;
        let still_current = st
            .tokens
            .as_ref()
            .map(|t| t.access_token.expose_secret() == failed.expose_secret())
            .unwrap_or(true);
        if still_current {
            self.refresh(&mut st, transport).await?;
        }
        Self::current(&st)
    }

    fn current(st: &SessionState) -> Result<SecretString, ApiError> {
        st.tokens
            .as_ref()
            .map(|t| t.access_token.clone())
            .ok_or_else(not_connected)
    }

    /// Loads tokens on first use, and finishes a save that failed earlier.
    fn ensure_loaded(&self, st: &mut SessionState) -> Result<(), ApiError> {
        if st.unsaved {
            if let Some(t) = &st.tokens {
                self.store.save(t).map_err(Self::store_error)?;
            }
            st.unsaved = false;
        }
        if st.tokens.is_none() {
            st.tokens = self.store.load().map_err(Self::store_error)?;
        }
        if st.tokens.is_none() {
            return Err(not_connected());
        }
        Ok(())
    }

    async fn refresh(&self, st: &mut SessionState, transport: &Transport) -> Result<(), ApiError> {
        let old = st
            .tokens
            .as_ref()
            .map(|t| t.refresh_token.clone())
            .ok_or_else(not_connected)?;
        let grant = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", old.expose_secret().to_owned()),
        ];
        let fresh = token_request(transport, &self.cfg, grant, Some(&old)).await?;
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        // The old refresh token is dead from here on: keep the new ones whatever happens, but
        // hand out nothing until they are durable.
        st.tokens = Some(fresh);
        st.unsaved = true;
        if let Some(t) = &st.tokens {
            self.store.save(t).map_err(Self::store_error)?;
        }
        st.unsaved = false;
        tracing::info!("Lever OAuth tokens refreshed and stored");
        Ok(())
    }
}

fn not_connected() -> ApiError {
    ApiError::Unauthorized {
        api: Api::Lever,
        route: "/oauth/token",
        status: 401,
        message: "no OAuth tokens stored for this tenant; run `willo-lever-sync connect`".into(),
    }
}
