//! Lever OAuth tokens. A rotated refresh token is saved here before the access token that came
//! with it is used, so a crash between refresh and store cannot lose the grant.

use std::fmt;

use super::db::{Optional, params};

use super::{Ctx, Reader, StoreError, Tx};

#[derive(Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub access_token: String,
    pub refresh_token: String,
    /// When the access token expires, ms since the epoch.
    pub expires_at: i64,
    pub scope: Option<String>,
    pub updated_at: i64,
}

impl fmt::Debug for TokenRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRow")
            .field("access_token", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

impl Reader<'_> {
    pub fn tokens(&self, tenant: &str) -> Result<Option<TokenRow>, StoreError> {
        self.conn
            .query_row(
                "SELECT access_token, refresh_token, expires_at, scope, updated_at
                 FROM oauth_tokens WHERE tenant = ?1",
                params![tenant],
                |r| {
                    Ok(TokenRow {
                        access_token: r.get(0)?,
                        refresh_token: r.get(1)?,
                        expires_at: r.get(2)?,
                        scope: r.get(3)?,
                        updated_at: r.get(4)?,
                    })
                },
            )
            .optional()
            .ctx("read tokens")
    }
}

impl Tx<'_> {
    pub fn save_tokens(&self, tenant: &str, t: &TokenRow) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO oauth_tokens (tenant, access_token, refresh_token, expires_at, scope, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (tenant) DO UPDATE SET access_token = excluded.access_token,
                   refresh_token = excluded.refresh_token, expires_at = excluded.expires_at,
                   scope = excluded.scope, updated_at = excluded.updated_at",
                params![tenant, t.access_token, t.refresh_token, t.expires_at, t.scope, t.updated_at],
            )
            .ctx("save tokens")?;
        Ok(())
    }
}
