//! How `check-config` shows the API clients' settings: with the file's key names (so the
//! output can be pasted back into a file) and secrets redacted. The clients' settings types
//! know nothing of the file; this is the one place that maps them back to its keys.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{LeverSettings, WilloSettings};
use crate::http::HttpConfig;
use crate::lever::{LeverAuth, OAuthConfig};
use crate::secret::{Secret, SecretOrigin};
use crate::willo::InterviewScope;

impl Serialize for LeverSettings {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = &self.client;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("base_url", c.base_url.as_str())?;
        match &c.auth {
            LeverAuth::ApiKey(key) => secret(&mut m, "api_key", Some(key))?,
            LeverAuth::OAuth(o) => m.serialize_entry("oauth", &OAuth(o))?,
            // Never read from a file (`doctor` builds it); shown redacted all the same.
            LeverAuth::AccessToken(token) => m.serialize_entry("access_token", token)?,
        }
        secret(
            &mut m,
            "webhook_signature_token",
            self.webhook_signature_token.as_ref(),
        )?;
        secret(
            &mut m,
            "previous_webhook_signature_token",
            self.previous_webhook_signature_token.as_ref(),
        )?;
        m.serialize_entry("perform_as", &c.perform_as)?;
        m.serialize_entry("include_confidential", &c.include_confidential)?;
        m.serialize_entry("completion_note", &self.completion_note)?;
        http(&mut m, &c.http)?;
        m.end()
    }
}

impl Serialize for WilloSettings {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = &self.client;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("base_url", c.base_url.as_str())?;
        secret(&mut m, "api_key", Some(&c.api_key))?;
        secret(&mut m, "webhook_token", self.webhook_token.as_ref())?;
        secret(
            &mut m,
            "previous_webhook_token",
            self.previous_webhook_token.as_ref(),
        )?;
        http(&mut m, &c.http)?;
        let status_map: BTreeMap<&str, &'static str> = self
            .status_map
            .entries()
            .map(|(k, v)| (k, v.as_str()))
            .collect();
        m.serialize_entry("status_map", &status_map)?;
        let state_fields: Vec<&str> = c.state_fields.paths().collect();
        m.serialize_entry("state_fields", &state_fields)?;
        let link_fields: Vec<&str> = c.response_link_fields.paths().collect();
        m.serialize_entry("response_link_fields", &link_fields)?;
        m.serialize_entry("interview_scope", &Scope(&self.interview_scope))?;
        m.serialize_entry("status_check_share", &self.status_checks.share)?;
        m.serialize_entry(
            "status_freshness_seconds",
            &self.status_checks.freshness.as_secs_f64(),
        )?;
        m.end()
    }
}

/// `[tenants.lever.oauth]`.
struct OAuth<'a>(&'a OAuthConfig);

impl Serialize for OAuth<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let o = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("client_id", &o.client_id)?;
        secret(&mut m, "client_secret", Some(&o.client_secret))?;
        m.serialize_entry("redirect_uri", o.redirect_uri.as_str())?;
        m.serialize_entry("scopes", &o.scopes)?;
        m.serialize_entry("authorize_url", o.authorize_url.as_str())?;
        m.serialize_entry("token_url", o.token_url.as_str())?;
        m.serialize_entry("audience", &o.audience)?;
        m.serialize_entry("listen", &o.listen.to_string())?;
        m.end()
    }
}

/// `[tenants.willo.interview_scope]`.
struct Scope<'a>(&'a InterviewScope);

impl Serialize for Scope<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("departments", self.0.departments())?;
        m.serialize_entry("owner_emails", self.0.owner_emails())?;
        m.serialize_entry("title_patterns", self.0.title_patterns())?;
        m.end()
    }
}

/// A secret as the file would name it: `key_file = "path"` when it was read from a file (so
/// the output loads back as it is), else `key = "<redacted, …>"`, a placeholder the loader
/// refuses if it is pasted back.
fn secret<M: SerializeMap>(m: &mut M, key: &str, s: Option<&Secret>) -> Result<(), M::Error> {
    match s {
        None => Ok(()),
        Some(s) => match s.origin() {
            SecretOrigin::File(path) => {
                m.serialize_entry(&format!("{key}_file"), &path.display().to_string())
            }
            _ => m.serialize_entry(key, s),
        },
    }
}

/// The pacing and timeout keys both API tables share.
fn http<M: SerializeMap>(m: &mut M, h: &HttpConfig) -> Result<(), M::Error> {
    m.serialize_entry("requests_per_second", &h.requests_per_second.get())?;
    m.serialize_entry("burst", &h.burst.get())?;
    m.serialize_entry("connect_timeout_seconds", &Secs(h.connect_timeout))?;
    m.serialize_entry("request_timeout_seconds", &Secs(h.request_timeout))?;
    m.serialize_entry("retry_max_elapsed_seconds", &Secs(h.retry.max_elapsed))
}

struct Secs(Duration);

impl Serialize for Secs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        super::secs(&self.0, s)
    }
}
