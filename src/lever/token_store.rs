//! Where a tenant's OAuth tokens live. The state store implements [`TokenStore`] on SQLite;
//! [`MemoryTokenStore`] serves tests and the sandbox.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::oauth::OAuthTokens;

/// Loading or saving tokens failed. The message must not contain the tokens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TokenStoreError(pub String);

/// Durable storage for one tenant's Lever OAuth tokens.
///
/// `save` must be durable when it returns `Ok`: the client saves each rotated refresh token
/// before it uses the new access token, so a crash can never lose the grant.
pub trait TokenStore: Send + Sync {
    fn load(&self) -> Result<Option<OAuthTokens>, TokenStoreError>;
    fn save(&self, tokens: &OAuthTokens) -> Result<(), TokenStoreError>;
}

/// Tokens in memory, with a switch that makes saves fail (to test the "save first" rule).
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<Option<OAuthTokens>>,
    saves: AtomicU64,
    fail_saves: AtomicBool,
}

impl MemoryTokenStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_tokens(tokens: OAuthTokens) -> Self {
        let store = Self::default();
        *store.lock() = Some(tokens);
        store
    }

    /// Successful saves so far.
    pub fn saves(&self) -> u64 {
        self.saves.load(Ordering::SeqCst)
    }

    /// Makes every later `save` fail (or succeed again).
    pub fn set_fail_saves(&self, fail: bool) {
        self.fail_saves.store(fail, Ordering::SeqCst);
    }

    /// The stored tokens (a copy).
    pub fn current(&self) -> Option<OAuthTokens> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<OAuthTokens>> {
        // A poisoned lock only means another test thread panicked; the data is still whole.
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl TokenStore for MemoryTokenStore {
    fn load(&self) -> Result<Option<OAuthTokens>, TokenStoreError> {
        Ok(self.lock().clone())
    }

    fn save(&self, tokens: &OAuthTokens) -> Result<(), TokenStoreError> {
        if self.fail_saves.load(Ordering::SeqCst) {
            return Err(TokenStoreError("save refused (test switch)".into()));
        }
        *self.lock() = Some(tokens.clone());
        self.saves.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}
