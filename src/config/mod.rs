//! Configuration: one TOML file plus `WLS__…` environment overrides, validated into
//! [`Settings`]. Every problem is reported with the key path it concerns (exit status 78).

mod load;
mod raw;
pub mod secret;
mod validate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use url::Url;

pub use load::{DEFAULT_PATH, ENV_PREFIX, load, load_from_str};
pub use secret::{Secret, SecretOrigin};

use crate::domain::status_map::StatusMap;
use crate::domain::tags::TagTemplate;

/// A configuration problem. `key` is the dotted path of the offending key
/// (`tenants[0].lever.base_url`), or empty for file-level problems.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("configuration file {} is not valid TOML: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
    #[error("configuration {}: {key}: {problem}", path.display())]
    Invalid {
        path: PathBuf,
        key: String,
        problem: String,
    },
}

impl ConfigError {
    /// The key path the error names (empty for file-level errors).
    pub fn key(&self) -> &str {
        match self {
            ConfigError::Invalid { key, .. } => key,
            _ => "",
        }
    }

    /// Stable label for metrics and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            ConfigError::Read { .. } => "read",
            ConfigError::Syntax { .. } => "syntax",
            ConfigError::Invalid { .. } => "invalid",
        }
    }
}

/// The validated configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// The file it came from (for messages; secrets next to it are resolved relative to it).
    #[serde(skip)]
    pub source: PathBuf,
    pub daemon: DaemonSettings,
    pub log: LogSettings,
    pub tenants: Vec<TenantSettings>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DaemonSettings {
    pub state_dir: PathBuf,
    pub listen: SocketAddr,
    pub schedule: String,
    pub full_schedule: String,
    pub concurrency: usize,
    #[serde(serialize_with = "secs", rename = "incremental_overlap_seconds")]
    pub incremental_overlap: Duration,
    pub hint_queue_capacity: usize,
    #[serde(serialize_with = "secs", rename = "shutdown_grace_seconds")]
    pub shutdown_grace: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogSettings {
    pub level: String,
    pub format: LogFormat,
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TenantSettings {
    pub id: String,
    pub account_name: String,
    pub trigger_stages: Vec<String>,
    pub catalog_opportunity_id: Option<String>,
    pub match_posting_tags: bool,
    #[serde(serialize_with = "template")]
    pub interview_tag_template: TagTemplate,
    pub lever: LeverSettings,
    pub willo: WilloSettings,
}

#[derive(Debug, Clone, Serialize)]
pub struct LeverSettings {
    pub base_url: Url,
    #[serde(flatten)]
    pub auth: LeverAuth,
    pub webhook_signature_token: Option<Secret>,
    /// The token being rotated out, accepted alongside the current one.
    pub previous_webhook_signature_token: Option<Secret>,
    pub perform_as: Option<String>,
    #[serde(flatten)]
    pub rate: RateSettings,
    #[serde(flatten)]
    pub timeouts: Timeouts,
}

impl LeverSettings {
    /// The signature tokens a webhook may be signed with, current first.
    pub fn webhook_signature_tokens(&self) -> impl Iterator<Item = &Secret> {
        self.webhook_signature_token
            .iter()
            .chain(self.previous_webhook_signature_token.iter())
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeverAuth {
    ApiKey(Secret),
    OAuth(Box<OAuthSettings>),
}

#[derive(Debug, Clone, Serialize)]
pub struct OAuthSettings {
    pub client_id: String,
    pub client_secret: Secret,
    pub redirect_uri: Url,
    pub scopes: Vec<String>,
    pub authorize_url: Url,
    pub token_url: Url,
    pub audience: String,
    pub listen: SocketAddr,
}

impl OAuthSettings {
    /// The scopes an assessment-style integration needs (reference/lever-api.md §1), plus
    /// postings and users, which the daemon reads.
    pub const DEFAULT_SCOPES: &'static [&'static str] = &[
        "offline_access",
        "opportunities:write:admin",
        "notes:write:admin",
        "stages:read:admin",
        "tags:read:admin",
        "postings:read:admin",
        "users:read:admin",
        "webhooks:write:admin",
    ];
    pub const DEFAULT_AUTHORIZE_URL: &'static str = "https://auth.lever.co/authorize";
    pub const DEFAULT_TOKEN_URL: &'static str = "https://auth.lever.co/oauth/token";
    pub const DEFAULT_AUDIENCE: &'static str = "https://api.lever.co/v1/";
}

#[derive(Debug, Clone, Serialize)]
pub struct WilloSettings {
    pub base_url: Url,
    pub api_key: Secret,
    pub webhook_token: Option<Secret>,
    /// The token being rotated out, accepted alongside the current one.
    pub previous_webhook_token: Option<Secret>,
    #[serde(flatten)]
    pub rate: RateSettings,
    #[serde(flatten)]
    pub timeouts: Timeouts,
    #[serde(serialize_with = "status_map")]
    pub status_map: StatusMap,
}

impl WilloSettings {
    /// The webhook tokens accepted, current first.
    pub fn webhook_tokens(&self) -> impl Iterator<Item = &Secret> {
        self.webhook_token
            .iter()
            .chain(self.previous_webhook_token.iter())
    }
}

/// A token bucket: `per_second` steady, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateSettings {
    #[serde(rename = "requests_per_second")]
    pub per_second: f64,
    pub burst: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Timeouts {
    #[serde(serialize_with = "secs", rename = "connect_timeout_seconds")]
    pub connect: Duration,
    #[serde(serialize_with = "secs", rename = "request_timeout_seconds")]
    pub request: Duration,
    #[serde(serialize_with = "secs", rename = "retry_max_elapsed_seconds")]
    pub retry_max_elapsed: Duration,
}

impl Timeouts {
    pub const DEFAULT: Timeouts = Timeouts {
        connect: Duration::from_secs(10),
        request: Duration::from_secs(30),
        retry_max_elapsed: Duration::from_secs(120),
    };
}

impl Settings {
    pub fn tenant(&self, id: &str) -> Option<&TenantSettings> {
        self.tenants.iter().find(|t| t.id == id)
    }

    /// The resolved configuration as TOML, secrets redacted (for `check-config`).
    pub fn to_redacted_toml(&self) -> String {
        // Serialising through JSON first turns enums and durations into plain values that
        // TOML accepts; secrets are already redacted by `Secret`'s `Serialize`.
        let mut json = serde_json::to_value(self).unwrap_or_default();
        drop_nulls(&mut json);
        toml::to_string_pretty(&json).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }

    pub fn source_dir(&self) -> &Path {
        self.source.parent().unwrap_or(Path::new("."))
    }
}

/// TOML has no null: an unset optional key is simply absent.
fn drop_nulls(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// Seconds, as a whole number when whole so the printed value can be pasted back into a file.
fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    if d.subsec_nanos() == 0 {
        s.serialize_u64(d.as_secs())
    } else {
        s.serialize_f64(d.as_secs_f64())
    }
}

fn template<S: serde::Serializer>(t: &TagTemplate, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(t.as_str())
}

fn status_map<S: serde::Serializer>(m: &StatusMap, s: S) -> Result<S::Ok, S::Error> {
    let map: BTreeMap<&str, &'static str> = m.entries().map(|(k, v)| (k, v.as_str())).collect();
    serde::Serialize::serialize(&map, s)
}
