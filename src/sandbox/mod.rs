//! The sandbox: the whole product against the built-in simulators, with a demo
//! tenant and a story, so a newcomer sees invites and tag changes happen without an account.
//!
//! - [`demo`] seeds the demo world into the simulators;
//! - [`config`] points the built-in `config/sandbox.toml` at them;
//! - [`story`] plays what happens in the accounts while the daemon runs;
//! - [`narrator`] watches the accounts and says what the daemon did and why.
//!
//! The daemon itself runs unchanged (`commands::sandbox` wires it up): the sandbox only
//! plays the part of Lever, Willo and the people using them. Production code never depends
//! on this module.

pub mod config;
pub mod demo;
pub mod narrator;
pub mod story;

use std::net::SocketAddr;
use std::time::Duration;

use crate::config::TenantSettings;
use crate::lever::LeverAuth;
use crate::sim::lever::{LeverSim, LeverSimConfig};
use crate::sim::willo::{WilloEvent, WilloSim, WilloSimConfig};
use crate::sim::{ClockConfig, SimError};

pub use demo::Demo;

/// The environment variable that sets the story's pace (ms between two story actions).
pub const PACE_ENV: &str = "WLS_SANDBOX_PACE_MS";
/// The default pace: the story's thirteen actions then take about a minute.
pub const DEFAULT_PACE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("sandbox simulator")]
    Sim(#[from] SimError),
    #[error("cannot create the sandbox's temporary state directory")]
    TempDir(#[source] std::io::Error),
    #[error("{PACE_ENV}: expected a number of milliseconds, found {0:?}")]
    Pace(String),
}

impl SandboxError {
    /// A label for metrics and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            SandboxError::Sim(_) => "sim",
            SandboxError::TempDir(_) => "temp_dir",
            SandboxError::Pace(_) => "pace",
        }
    }
}

/// The story's pace from `WLS_SANDBOX_PACE_MS` (unset: [`DEFAULT_PACE`]). Tests set it low
/// to play the story in seconds.
pub fn pace(value: Option<&str>) -> Result<Duration, SandboxError> {
    match value.map(str::trim) {
        None | Some("") => Ok(DEFAULT_PACE),
        Some(v) => v
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| SandboxError::Pace(v.to_owned())),
    }
}

/// Both simulators, running, with the demo world seeded.
#[derive(Debug, Clone)]
pub struct Sandbox {
    pub lever: LeverSim,
    pub willo: WilloSim,
    pub demo: Demo,
}

impl Sandbox {
    /// Starts both simulators on 127.0.0.1 and seeds the demo. Their clocks follow the wall
    /// clock, so `updatedAt` cursors and timestamps behave as in a real account; their rate
    /// limits are the simulators' documented defaults, which the sandbox configuration's
    /// client limits stay under.
    pub async fn start() -> Result<Sandbox, SandboxError> {
        let clock = ClockConfig {
            start_ms: None,
            follow_wall: true,
        };
        let lever = LeverSim::start(LeverSimConfig {
            clock,
            ..LeverSimConfig::default()
        })
        .await?;
        let willo = WilloSim::start(WilloSimConfig {
            clock,
            ..WilloSimConfig::default()
        })
        .await?;
        let demo = Demo::seed(&lever, &willo)?;
        Ok(Sandbox { lever, willo, demo })
    }

    /// Accepts the credentials the tenant's configuration uses.
    pub fn accept_credentials(&self, tenant: &TenantSettings) {
        if let LeverAuth::ApiKey(key) = &tenant.lever.client.auth {
            self.lever.add_api_key(key.expose());
        }
        self.willo.add_api_key(tenant.willo.client.api_key.expose());
    }

    /// Points both simulators' webhooks at the daemon listening on `addr`, as an operator
    /// would in Lever's and Willo's settings.
    pub fn register_webhooks(&self, addr: SocketAddr, tenant: &TenantSettings) {
        let host = if addr.ip().is_unspecified() {
            SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
        } else {
            addr
        };
        if let Some(token) = &tenant.lever.webhook_signature_token {
            self.lever.register_webhook(
                &format!("http://{host}/webhooks/lever/{}", tenant.id),
                token.expose(),
            );
        }
        if let Some(token) = &tenant.willo.webhook_token {
            for event in [WilloEvent::NewResponse, WilloEvent::StageChange] {
                let mut url = url::Url::parse(&format!("http://{host}/webhooks/willo/"))
                    .and_then(|u| u.join(&tenant.id));
                if let Ok(u) = &mut url {
                    u.query_pairs_mut()
                        .append_pair("token", token.expose())
                        .append_pair("event", event.as_str());
                }
                if let Ok(u) = url {
                    self.willo.register_webhook(u.as_str(), event);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pace_defaults_and_parses_milliseconds() {
        assert_eq!(pace(None).unwrap(), DEFAULT_PACE);
        assert_eq!(pace(Some("")).unwrap(), DEFAULT_PACE);
        assert_eq!(pace(Some("50")).unwrap(), Duration::from_millis(50));
        assert_eq!(pace(Some("fast")).unwrap_err().kind(), "pace");
    }
}
