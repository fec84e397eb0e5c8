//! The configuration file exactly as operators write it. Key names here are a contract
//! with operators' files: rename nothing; add optional keys freely. Every table refuses unknown keys so a
//! typo is an error instead of a silently ignored setting.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub daemon: RawDaemon,
    #[serde(default)]
    pub log: RawLog,
    #[serde(default)]
    pub store: RawStore,
    #[serde(default)]
    pub tenants: Vec<RawTenant>,
}

/// `[store]`: where the state lives when it is not SQLite in `daemon.state_dir`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub url: Option<String>,
    pub url_file: Option<PathBuf>,
    pub lease_seconds: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDaemon {
    pub state_dir: PathBuf,
    pub listen: String,
    pub schedule: String,
    pub full_schedule: String,
    /// Actions applied at once per tenant (never two on one opportunity).
    pub concurrency: i64,
    /// How far the incremental pass reaches back before its cursor.
    pub incremental_overlap_seconds: i64,
    /// Pending hints kept at most; a full queue drops hints (the next pass catches up).
    pub hint_queue_capacity: i64,
    /// How long SIGTERM waits for the action in flight.
    pub shutdown_grace_seconds: i64,
    /// Serve the read-only status page (`/`, `/status.json`) on `listen`.
    pub status_page: bool,
    /// This instance's name in leases, logs, metrics and `status` (default: host-pid).
    pub instance_id: Option<String>,
}

impl Default for RawDaemon {
    fn default() -> Self {
        RawDaemon {
            state_dir: PathBuf::from("state"),
            listen: "127.0.0.1:8787".into(),
            schedule: "0 */5 * * * *".into(),
            full_schedule: "0 30 3 * * *".into(),
            concurrency: 4,
            incremental_overlap_seconds: 300,
            hint_queue_capacity: 1000,
            shutdown_grace_seconds: 20,
            status_page: true,
            instance_id: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawLog {
    pub level: String,
    pub format: String,
    pub dir: Option<PathBuf>,
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog {
            level: "info".into(),
            format: "text".into(),
            dir: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTenant {
    pub id: String,
    pub account_name: String,
    pub trigger_stages: Vec<String>,
    #[serde(default)]
    pub catalog_opportunity_id: Option<String>,
    #[serde(default = "yes")]
    pub match_posting_tags: bool,
    #[serde(default)]
    pub interview_tag_template: Option<String>,
    /// The most tags the catalog placeholder carries.
    #[serde(default)]
    pub catalog_max_tags: Option<i64>,
    pub lever: RawLever,
    pub willo: RawWillo,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLever {
    #[serde(default = "lever_base")]
    pub base_url: String,
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub api_key_file: Option<PathBuf>,
    #[serde(default)]
    pub oauth: Option<RawOAuth>,
    #[serde(default)]
    pub webhook_signature_token: Option<String>,
    #[serde(default)]
    pub webhook_signature_token_file: Option<PathBuf>,
    /// The token being rotated out: accepted alongside the current one during a rotation.
    #[serde(default)]
    pub previous_webhook_signature_token: Option<String>,
    #[serde(default)]
    pub previous_webhook_signature_token_file: Option<PathBuf>,
    #[serde(default)]
    pub perform_as: Option<String>,
    /// Also list confidential opportunities and postings (`confidentiality=all`).
    #[serde(default)]
    pub include_confidential: bool,
    /// Post one note on the opportunity when its participant completes the interview.
    #[serde(default = "yes")]
    pub completion_note: bool,
    #[serde(default)]
    pub requests_per_second: Option<f64>,
    #[serde(default)]
    pub burst: Option<i64>,
    #[serde(default)]
    pub connect_timeout_seconds: Option<f64>,
    #[serde(default)]
    pub request_timeout_seconds: Option<f64>,
    #[serde(default)]
    pub retry_max_elapsed_seconds: Option<f64>,
}

fn lever_base() -> String {
    "https://api.lever.co/v1".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOAuth {
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    pub redirect_uri: String,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub authorize_url: Option<String>,
    #[serde(default)]
    pub token_url: Option<String>,
    #[serde(default)]
    pub audience: Option<String>,
    /// Where `connect` serves the redirect; defaults to the redirect URI's host and port.
    #[serde(default)]
    pub listen: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWillo {
    #[serde(default = "willo_base")]
    pub base_url: String,
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub api_key_file: Option<PathBuf>,
    #[serde(default)]
    pub webhook_token: Option<String>,
    #[serde(default)]
    pub webhook_token_file: Option<PathBuf>,
    #[serde(default)]
    pub previous_webhook_token: Option<String>,
    #[serde(default)]
    pub previous_webhook_token_file: Option<PathBuf>,
    #[serde(default)]
    pub requests_per_second: Option<f64>,
    #[serde(default)]
    pub burst: Option<i64>,
    #[serde(default)]
    pub status_map: BTreeMap<String, String>,
    /// Dotted JSON paths to a participant's state, first match wins.
    #[serde(default)]
    pub state_fields: Option<Vec<String>>,
    /// Dotted JSON paths to the link to a participant's response, first web address wins.
    #[serde(default)]
    pub response_link_fields: Option<Vec<String>>,
    #[serde(default)]
    pub interview_scope: RawInterviewScope,
    /// The share of Willo's rate an incremental pass may spend checking open invites.
    #[serde(default)]
    pub status_check_share: Option<f64>,
    /// How old an open invite's last check may grow before it is checked again.
    #[serde(default)]
    pub status_freshness_seconds: Option<f64>,
    #[serde(default)]
    pub connect_timeout_seconds: Option<f64>,
    #[serde(default)]
    pub request_timeout_seconds: Option<f64>,
    #[serde(default)]
    pub retry_max_elapsed_seconds: Option<f64>,
}

/// `[tenants.willo.interview_scope]`: every key optional; nothing set = every interview.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawInterviewScope {
    pub departments: Vec<String>,
    pub owner_emails: Vec<String>,
    pub title_patterns: Vec<String>,
}

fn willo_base() -> String {
    "https://api.willotalent.com/api/integrations/v2".into()
}
