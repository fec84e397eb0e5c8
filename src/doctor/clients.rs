//! The doctor's API clients: the tenant's own settings, a short retry budget, and for Lever
//! OAuth the stored access token used as it is (never refreshed: a refresh rotates the refresh
//! token, and the doctor writes nothing to the state file).

use std::sync::Arc;
use std::time::Duration;

use super::finding::Finding;
use crate::clock::now_ms;
use crate::config::{Settings, TenantSettings};
use crate::error_chain::chain;
use crate::exit::ExitStatus;
use crate::http::NoopObserver;
use crate::lever::{LeverAuth, LeverClient};
use crate::secret::Secret;
use crate::store::{OpenMode, StoreError};
use crate::willo::WilloClient;

/// A doctor that waits minutes for an unreachable API helps nobody.
const RETRY_BUDGET: Duration = Duration::from_secs(10);

/// An access token that expires sooner than this is not used.
const TOKEN_MARGIN_MS: i64 = 60_000;

pub(super) struct Clients {
    pub lever: Option<LeverClient>,
    pub willo: Option<WilloClient>,
    /// Why a client could not be built.
    pub findings: Vec<Finding>,
}

pub(super) fn build(settings: &Settings, tenant: &TenantSettings) -> Clients {
    let mut findings = Vec::new();
    let lever = match lever_auth(settings, tenant) {
        Ok(auth) => {
            let mut config = tenant.lever.client.clone();
            config.auth = auth;
            config.http.retry.max_elapsed = config.http.retry.max_elapsed.min(RETRY_BUDGET);
            match LeverClient::new(config, Arc::new(NoopObserver), None) {
                Ok(c) => Some(c),
                Err(e) => {
                    findings.push(unbuildable("lever.credentials", &e));
                    None
                }
            }
        }
        Err(finding) => {
            findings.push(*finding);
            None
        }
    };
    let mut config = tenant.willo.client.clone();
    config.http.retry.max_elapsed = config.http.retry.max_elapsed.min(RETRY_BUDGET);
    let willo = match WilloClient::new(config, Arc::new(NoopObserver)) {
        Ok(c) => Some(c),
        Err(e) => {
            findings.push(unbuildable("willo.credentials", &e));
            None
        }
    };
    Clients {
        lever,
        willo,
        findings,
    }
}

fn unbuildable(check: &'static str, e: &crate::http::BuildError) -> Finding {
    Finding::problem(
        check,
        format!("the client cannot be built: {}", chain(e)),
        "fix the tenant's API settings",
    )
    .exiting(ExitStatus::Config)
}

/// The API key as configured, or the stored OAuth access token while it is valid.
fn lever_auth(settings: &Settings, tenant: &TenantSettings) -> Result<LeverAuth, Box<Finding>> {
    const CHECK: &str = "lever.credentials";
    let oauth = match &tenant.lever.client.auth {
        LeverAuth::OAuth(_) => true,
        LeverAuth::ApiKey(_) | LeverAuth::AccessToken(_) => false,
    };
    if !oauth {
        return Ok(tenant.lever.client.auth.clone());
    }
    let connect = format!("run `willo-lever-sync connect {}`", tenant.id);
    let row = match settings
        .store
        .open(&settings.daemon.state_dir, OpenMode::Reader)
    {
        Ok(store) => store.read(|r| r.tokens(&tenant.id)),
        Err(StoreError::Missing { .. }) => Ok(None),
        Err(e) => Err(e),
    };
    let row = match row {
        Ok(Some(row)) => row,
        Ok(None) => {
            return Err(Box::new(
                Finding::problem(CHECK, "no OAuth tokens are stored for this tenant", connect)
                    .exiting(ExitStatus::Credentials),
            ));
        }
        Err(e) => {
            return Err(Box::new(
                Finding::problem(
                    CHECK,
                    format!("the stored OAuth tokens cannot be read: {}", chain(&e)),
                    "check daemon.state_dir",
                )
                .exiting(ExitStatus::StateStore),
            ));
        }
    };
    if row.expires_at <= now_ms() + TOKEN_MARGIN_MS {
        return Err(Box::new(Finding::unknown(
            CHECK,
            "the stored OAuth access token has expired; doctor does not refresh it, because a \
             refresh rotates the refresh token and only the daemon stores it",
            "start the daemon or run `--once` (either refreshes and stores the token), then run \
             doctor again",
        )));
    }
    Ok(LeverAuth::AccessToken(Secret::inline(row.access_token)))
}
