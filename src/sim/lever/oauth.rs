//! Lever's OAuth 2.0 server (Auth0-based in reality): the authorization-code flow with an
//! auto-consenting `/authorize`, and `/oauth/token` with rotating refresh tokens.
//!
//! Access tokens expire by the SIMULATED clock (`advance_clock`), or at once with
//! `expire_access_tokens()`, so tests never sleep for an expiry.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::json;

use super::world::LeverWorld;

/// A registered OAuth app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OAuthClient {
    pub(crate) secret: String,
    pub(crate) redirect_uri: String,
}

#[derive(Debug, Clone)]
struct AuthCode {
    client_id: String,
    redirect_uri: String,
    scope: String,
    expires_at: i64,
}

#[derive(Debug, Clone)]
struct Grant {
    client_id: String,
    scope: String,
    revoked: bool,
}

#[derive(Debug, Clone)]
struct AccessToken {
    grant: usize,
    expires_at: i64,
}

/// Every client, code, grant and token of the simulated auth server.
#[derive(Debug)]
pub(crate) struct OAuthState {
    pub(crate) clients: HashMap<String, OAuthClient>,
    codes: HashMap<String, AuthCode>,
    grants: Vec<Grant>,
    /// Only the CURRENT refresh token of each grant is here; rotation removes the old one.
    refresh: HashMap<String, usize>,
    access: HashMap<String, AccessToken>,
    pub(crate) expires_in: u64,
    pub(crate) deny_consent: bool,
    account_id: String,
}

/// The token endpoint's success body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OAuthTokens {
    /// Bearer token for the Data API (a JWT-shaped string).
    pub access_token: String,
    /// Present when the scope included `offline_access`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Always `Bearer`.
    pub token_type: String,
    /// Granted scope, space-separated.
    pub scope: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
}

/// An OAuth error: HTTP status plus RFC 6749 `error` and `error_description`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OAuthError {
    pub(crate) status: u16,
    pub(crate) error: &'static str,
    pub(crate) description: String,
}

impl OAuthError {
    fn new(status: u16, error: &'static str, description: &str) -> Self {
        OAuthError {
            status,
            error,
            description: description.to_owned(),
        }
    }

    pub(crate) fn body(&self) -> serde_json::Value {
        json!({"error": self.error, "error_description": self.description})
    }
}

/// How `/authorize` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Authorize {
    /// 302 to this URL (with `code` or `error`, and `state`).
    Redirect(String),
    /// 400: the request cannot even be redirected (unknown client, wrong redirect_uri).
    Refuse(String),
}

impl OAuthState {
    pub(crate) fn new(expires_in: u64, account_id: String) -> Self {
        OAuthState {
            clients: HashMap::new(),
            codes: HashMap::new(),
            grants: Vec::new(),
            refresh: HashMap::new(),
            access: HashMap::new(),
            expires_in,
            deny_consent: false,
            account_id,
        }
    }

    /// Every live access token expires now.
    pub(crate) fn expire_access_tokens(&mut self) {
        for t in self.access.values_mut() {
            t.expires_at = i64::MIN;
        }
    }

    /// The scope a grant was consented with.
    pub(crate) fn grant_scope(&self, grant: usize) -> Option<&str> {
        self.grants.get(grant).map(|g| g.scope.as_str())
    }

    /// Every grant is revoked (the Super Admin clicked "Revoke Access"); new consents work.
    pub(crate) fn revoke_grants(&mut self) {
        for g in &mut self.grants {
            g.revoked = true;
        }
        self.refresh.clear();
        self.access.clear();
    }
}

fn redirect_with(uri: &str, pairs: &[(&str, &str)]) -> Option<String> {
    let mut url = url::Url::parse(uri).ok()?;
    url.query_pairs_mut().extend_pairs(pairs);
    Some(url.into())
}

impl LeverWorld {
    /// `GET /authorize`: checks client and redirect_uri, then consents on the user's behalf.
    pub(crate) fn authorize(&mut self, q: &crate::sim::query::QueryParams) -> Authorize {
        let client_id = q.first("client_id").unwrap_or_default();
        let redirect_uri = q.first("redirect_uri").unwrap_or_default();
        let Some(client) = self.oauth.clients.get(client_id) else {
            return Authorize::Refuse(format!("Unknown client_id {client_id:?}"));
        };
        if client.redirect_uri != redirect_uri {
            return Authorize::Refuse("redirect_uri does not match the registered callback".into());
        }
        let state = q.first("state").unwrap_or_default();
        let fail = |error: &str, description: &str| {
            let mut pairs = vec![("error", error), ("error_description", description)];
            if !state.is_empty() {
                pairs.push(("state", state));
            }
            match redirect_with(redirect_uri, &pairs) {
                Some(u) => Authorize::Redirect(u),
                None => Authorize::Refuse("redirect_uri is not a URL".into()),
            }
        };
        if q.first("response_type") != Some("code") {
            return fail("unsupported_response_type", "response_type must be code");
        }
        for required in ["state", "audience", "scope"] {
            if q.first(required).is_none_or(str::is_empty) {
                return fail(
                    "invalid_request",
                    &format!("Missing required parameter: {required}"),
                );
            }
        }
        if self.revoked || self.oauth.deny_consent {
            return fail("access_denied", "User did not authorize the request");
        }
        let code = self.ids.alnum(32);
        let scope = q.first("scope").unwrap_or_default().to_owned();
        let expires_at = self.clock.now_ms() + 10 * 60 * 1000;
        self.oauth.codes.insert(
            code.clone(),
            AuthCode {
                client_id: client_id.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                scope,
                expires_at,
            },
        );
        match redirect_with(redirect_uri, &[("code", &code), ("state", state)]) {
            Some(u) => Authorize::Redirect(u),
            None => Authorize::Refuse("redirect_uri is not a URL".into()),
        }
    }

    fn client_ok(&self, form: &HashMap<String, String>) -> Result<String, OAuthError> {
        let id = form.get("client_id").cloned().unwrap_or_default();
        let secret = form
            .get("client_secret")
            .map(String::as_str)
            .unwrap_or_default();
        match self.oauth.clients.get(&id) {
            Some(c) if c.secret == secret => Ok(id),
            _ => Err(OAuthError::new(
                401,
                "invalid_client",
                "Unknown client or wrong client secret",
            )),
        }
    }

    /// `POST /oauth/token`.
    pub(crate) fn token(
        &mut self,
        form: &HashMap<String, String>,
    ) -> Result<OAuthTokens, OAuthError> {
        let client_id = self.client_ok(form)?;
        if self.revoked {
            return Err(OAuthError::new(
                400,
                "invalid_grant",
                "Access to this account has been revoked",
            ));
        }
        let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
        match get("grant_type") {
            "authorization_code" => {
                let code = self.oauth.codes.remove(get("code")).ok_or_else(|| {
                    OAuthError::new(400, "invalid_grant", "Invalid authorization code")
                })?;
                if code.client_id != client_id
                    || code.redirect_uri != get("redirect_uri")
                    || code.expires_at < self.clock.now_ms()
                {
                    return Err(OAuthError::new(
                        400,
                        "invalid_grant",
                        "Invalid authorization code",
                    ));
                }
                self.oauth.grants.push(Grant {
                    client_id,
                    scope: code.scope,
                    revoked: false,
                });
                Ok(self.issue(self.oauth.grants.len() - 1))
            }
            "refresh_token" => {
                let grant = self
                    .oauth
                    .refresh
                    .get(get("refresh_token"))
                    .copied()
                    .filter(|g| {
                        self.oauth
                            .grants
                            .get(*g)
                            .is_some_and(|g| g.client_id == client_id && !g.revoked)
                    })
                    .ok_or_else(|| {
                        OAuthError::new(400, "invalid_grant", "Unknown or invalid refresh token.")
                    })?;
                // Rotation: the presented refresh token dies now.
                self.oauth.refresh.remove(get("refresh_token"));
                Ok(self.issue(grant))
            }
            "" => Err(OAuthError::new(
                400,
                "invalid_request",
                "Missing required parameter: grant_type",
            )),
            _ => Err(OAuthError::new(
                400,
                "unsupported_grant_type",
                "Unsupported grant type",
            )),
        }
    }

    /// Issues tokens for an app without the browser round trip (test shortcut).
    pub(crate) fn issue_for(&mut self, client_id: &str, scope: &str) -> OAuthTokens {
        self.oauth.grants.push(Grant {
            client_id: client_id.to_owned(),
            scope: scope.to_owned(),
            revoked: false,
        });
        self.issue(self.oauth.grants.len() - 1)
    }

    fn issue(&mut self, grant: usize) -> OAuthTokens {
        let now = self.clock.now_ms();
        let expires_in = self.oauth.expires_in;
        let (client_id, scope) = match self.oauth.grants.get(grant) {
            Some(g) => (g.client_id.clone(), g.scope.clone()),
            None => (String::new(), String::new()),
        };
        let claims = json!({
            "iss": format!("{}/", self.origin),
            "sub": format!("sim|{}", self.oauth.account_id),
            "aud": [format!("{}/v1/", self.origin)],
            "iat": now / 1000,
            "exp": now / 1000 + i64::try_from(expires_in).unwrap_or(i64::MAX / 2000),
            "azp": client_id,
            "scope": scope,
            "https://oauth.lever.co/userId": "sim-user",
            "https://oauth.lever.co/accountId": self.oauth.account_id,
            "https://oauth.lever.co/clientId": client_id,
        });
        let access_token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT","kid":"lever-sim"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            self.ids.alnum(43)
        );
        let lifetime_ms = i64::try_from(expires_in.saturating_mul(1000)).unwrap_or(i64::MAX / 2);
        self.oauth.access.insert(
            access_token.clone(),
            AccessToken {
                grant,
                expires_at: now.saturating_add(lifetime_ms),
            },
        );
        let refresh_token = scope.split(' ').any(|s| s == "offline_access").then(|| {
            let t = format!("v1.{}", self.ids.alnum(60));
            self.oauth.refresh.insert(t.clone(), grant);
            t
        });
        OAuthTokens {
            access_token,
            refresh_token,
            token_type: "Bearer".to_owned(),
            scope,
            expires_in,
        }
    }

    /// Checks a bearer token; `Ok(grant)` names its rate-limit bucket.
    pub(crate) fn check_bearer(&self, token: &str) -> Result<usize, &'static str> {
        let t = self.oauth.access.get(token).ok_or("Invalid access token")?;
        if self.oauth.grants.get(t.grant).is_none_or(|g| g.revoked) {
            return Err("Access has been revoked");
        }
        if t.expires_at <= self.clock.now_ms() {
            return Err("Access token has expired");
        }
        Ok(t.grant)
    }
}
