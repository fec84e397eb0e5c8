//! The state store as the Lever client's OAuth token store.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use crate::error_chain::chain;
use crate::lever::{OAuthTokens, TokenStore, TokenStoreError};
use crate::store::{Store, TokenRow};

/// One tenant's tokens in the state store. `save` commits before it returns, which is what
/// makes "store the rotated refresh token before using it" hold across a crash.
pub struct StoreTokens {
    store: Arc<Store>,
    tenant: String,
}

impl StoreTokens {
    pub fn new(store: Arc<Store>, tenant: &str) -> StoreTokens {
        StoreTokens {
            store,
            tenant: tenant.to_owned(),
        }
    }
}

impl TokenStore for StoreTokens {
    fn load(&self) -> Result<Option<OAuthTokens>, TokenStoreError> {
        let row = self
            .store
            .read(|r| r.tokens(&self.tenant))
            .map_err(|e| TokenStoreError(chain(&e).to_string()))?;
        Ok(row.map(|t| OAuthTokens {
            access_token: SecretString::from(t.access_token),
            refresh_token: SecretString::from(t.refresh_token),
            expires_at: t.expires_at,
            scope: t.scope,
        }))
    }

    fn save(&self, tokens: &OAuthTokens) -> Result<(), TokenStoreError> {
        let row = TokenRow {
            access_token: tokens.access_token.expose_secret().to_owned(),
            refresh_token: tokens.refresh_token.expose_secret().to_owned(),
            expires_at: tokens.expires_at,
            scope: tokens.scope.clone(),
            updated_at: crate::clock::now_ms(),
        };
        self.store
            .write(|tx| tx.save_tokens(&self.tenant, &row))
            .map_err(|e| TokenStoreError(chain(&e).to_string()))
    }
}
