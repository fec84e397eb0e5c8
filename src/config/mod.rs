//! Configuration: one TOML file plus `WLS__…` environment overrides, validated into
//! [`Settings`]. Every problem is reported with the key path it concerns (exit status 78).
//!
//! Each setting has one shape from the file to where it is used: a tenant's `[tenants.lever]`
//! and `[tenants.willo]` tables become the API clients' own settings
//! ([`LeverClientConfig`], [`WilloClientConfig`], [`HttpConfig`](crate::http::HttpConfig)), whose constructors hold the
//! only defaults; cron expressions become [`Schedule`]s.

mod load;
mod raw;
mod render;
pub mod schedule;
pub mod secret;
mod state_store;
mod validate;
mod willo;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

pub use load::{DEFAULT_PATH, ENV_PREFIX, load, load_from_str, load_state, load_state_from_str};
pub use schedule::{Schedule, ScheduleError};
pub use secret::{Secret, SecretOrigin};

use crate::domain::status_map::StatusMap;
use crate::domain::tags::TagTemplate;
use crate::lever::LeverClientConfig;
use crate::willo::{InterviewScope, WilloClientConfig};

/// `catalog_max_tags` when the file does not set it.
pub const DEFAULT_CATALOG_MAX_TAGS: usize = 500;

/// A configuration problem. `key` is the dotted path of the offending key
/// (`tenants[0].lever.base_url`), or empty for file-level problems.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {}", path.display())]
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
    /// The value at fault came from an environment override, not from the file.
    #[error("environment variable {var} (overrides {key}): {problem}")]
    Env {
        var: String,
        key: String,
        problem: String,
    },
}

impl ConfigError {
    /// The key path the error names (empty for file-level errors).
    pub fn key(&self) -> &str {
        match self {
            ConfigError::Invalid { key, .. } | ConfigError::Env { key, .. } => key,
            _ => "",
        }
    }

    /// Stable label for metrics and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            ConfigError::Read { .. } => "read",
            ConfigError::Syntax { .. } => "syntax",
            ConfigError::Invalid { .. } => "invalid",
            ConfigError::Env { .. } => "env",
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
    pub store: StoreSettings,
    pub tenants: Vec<TenantSettings>,
}

/// `[store]`: SQLite in `daemon.state_dir` (no `url`), or a PostgreSQL database several
/// instances share.
#[derive(Debug, Clone, Serialize)]
pub struct StoreSettings {
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<PostgresSettings>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PostgresSettings {
    /// The connection string: a secret, since it may hold a password.
    pub url: Secret,
    /// How long a tenant's lease lasts without renewal.
    #[serde(serialize_with = "secs", rename = "lease_seconds")]
    pub lease: Duration,
}

/// What `status` and `tags` read: where the state is, the schedules and the tenant ids. Loaded
/// without reading a secret, so they work where the secrets are the service's alone.
#[derive(Debug, Clone)]
pub struct StateSettings {
    pub source: PathBuf,
    pub daemon: DaemonSettings,
    pub log: LogSettings,
    pub store: StoreSettings,
    pub tenants: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DaemonSettings {
    pub state_dir: PathBuf,
    pub listen: SocketAddr,
    pub schedule: Schedule,
    pub full_schedule: Schedule,
    pub concurrency: usize,
    #[serde(serialize_with = "secs", rename = "incremental_overlap_seconds")]
    pub incremental_overlap: Duration,
    pub hint_queue_capacity: usize,
    #[serde(serialize_with = "secs", rename = "shutdown_grace_seconds")]
    pub shutdown_grace: Duration,
    /// Whether the listener serves the status page.
    pub status_page: bool,
    /// This instance's name in leases, logs, metrics and `status`.
    pub instance_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// The most tags the catalog placeholder carries (rule: tag catalog).
    pub catalog_max_tags: usize,
    pub lever: LeverSettings,
    pub willo: WilloSettings,
}

/// `[tenants.lever]`: the Lever client's settings and the tokens its webhooks are signed with.
/// Rendered with the file's key names by `render.rs`.
#[derive(Debug, Clone)]
pub struct LeverSettings {
    pub client: LeverClientConfig,
    /// Post one note per (opportunity, interview) when the participant completes (rule:
    /// completion note). A planner rule, not a client setting, kept with the Lever keys
    /// because it is a write to Lever.
    pub completion_note: bool,
    pub webhook_signature_token: Option<Secret>,
    /// The token being rotated out, accepted alongside the current one.
    pub previous_webhook_signature_token: Option<Secret>,
}

impl LeverSettings {
    /// The signature tokens a webhook may be signed with, current first.
    pub fn webhook_signature_tokens(&self) -> impl Iterator<Item = &Secret> {
        self.webhook_signature_token
            .iter()
            .chain(self.previous_webhook_signature_token.iter())
    }
}

/// `[tenants.willo]`: the Willo client's settings (the state fields among them), the webhook
/// URL tokens, the status map and the interview scope. Rendered with the file's key names by
/// `render.rs`.
#[derive(Debug, Clone)]
pub struct WilloSettings {
    pub client: WilloClientConfig,
    pub webhook_token: Option<Secret>,
    /// The token being rotated out, accepted alongside the current one.
    pub previous_webhook_token: Option<Secret>,
    pub status_map: StatusMap,
    /// Which listed interviews the tenant syncs.
    pub interview_scope: InterviewScope,
    /// How incremental passes check open invites' states (rule: status-check budget).
    pub status_checks: StatusChecks,
}

/// The budget and freshness window of incremental passes' status checks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatusChecks {
    /// The share (0 < share <= 1) of what Willo's rate allows in one schedule interval that
    /// one incremental pass may spend.
    pub share: f64,
    /// Every open invite is checked at least this often when no webhook arrives (as far as
    /// the budget allows).
    pub freshness: Duration,
}

impl Default for StatusChecks {
    fn default() -> Self {
        StatusChecks {
            share: 0.5,
            freshness: Duration::from_secs(3600),
        }
    }
}

impl WilloSettings {
    /// The webhook tokens accepted, current first.
    pub fn webhook_tokens(&self) -> impl Iterator<Item = &Secret> {
        self.webhook_token
            .iter()
            .chain(self.previous_webhook_token.iter())
    }
}

impl TenantSettings {
    /// A digest of everything the tenant runs with, secret values included: two settings with
    /// the same fingerprint run the same way (a reload keeps a tenant whose fingerprint did not
    /// change, and rebuilds one whose key was rotated).
    pub fn fingerprint(&self) -> [u8; 32] {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(serde_json::to_vec(self).unwrap_or_default());
        let lever = &self.lever;
        let secrets = [
            match &lever.client.auth {
                crate::lever::LeverAuth::ApiKey(k) | crate::lever::LeverAuth::AccessToken(k) => {
                    Some(k)
                }
                crate::lever::LeverAuth::OAuth(o) => Some(&o.client_secret),
            },
            lever.webhook_signature_token.as_ref(),
            lever.previous_webhook_signature_token.as_ref(),
            Some(&self.willo.client.api_key),
            self.willo.webhook_token.as_ref(),
            self.willo.previous_webhook_token.as_ref(),
        ];
        for s in secrets {
            // A length prefix keeps ("ab", "c") and ("a", "bc") apart.
            let v = s.map_or("", |s| s.expose());
            h.update((v.len() as u64).to_le_bytes());
            h.update(v.as_bytes());
        }
        h.finalize().into()
    }
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
