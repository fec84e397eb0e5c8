//! `doctor`: read-only checks of a tenant's live accounts, each ending in a verdict (ok,
//! problem or unknown), what was found and how to fix it.
//!
//! Where the vendors' behaviour is not known for sure, the daemon is built to be right under
//! every plausible answer or to ask through configuration; the doctor tells the operator which
//! answer their account gives. Invariants: it writes nothing to either API (the tag-write
//! probe sends a request that can add nothing) or to the state file (OAuth tokens are read,
//! never refreshed), and it prints no personal data (no names, emails or phones: counts,
//! stage names, JSON paths and types only).

mod clients;
mod finding;
mod lever;
mod participants;
mod render;
mod tag_writes;
mod webhooks;
mod willo;

use serde::Serialize;

pub use finding::{Finding, Verdict};
pub use render::{json, text};

use crate::config::{Settings, TenantSettings};
use crate::exit::ExitStatus;

/// The version of the `--json` document; bumped when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// Every tenant's findings.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    /// The process's exit status for this report.
    pub exit_status: u8,
    pub tenants: Vec<TenantReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TenantReport {
    pub id: String,
    pub findings: Vec<Finding>,
}

impl Report {
    /// The worst outcome of any finding (rule: exit statuses): 0 when all is well or only
    /// unknown, 1 when something needs fixing, 77 rejected credentials, 69 an API unreachable,
    /// 78 a configuration the account does not match.
    pub fn exit(&self) -> ExitStatus {
        self.tenants
            .iter()
            .flat_map(|t| &t.findings)
            .map(Finding::exit)
            .fold(ExitStatus::Converged, ExitStatus::worst)
    }
}

/// Runs every check for `tenants`, one tenant after the other.
pub async fn run(settings: &Settings, tenants: &[&TenantSettings]) -> Report {
    let mut reports = Vec::with_capacity(tenants.len());
    for tenant in tenants {
        reports.push(TenantReport {
            id: tenant.id.clone(),
            findings: check_tenant(settings, tenant).await,
        });
    }
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        exit_status: 0,
        tenants: reports,
    };
    report.exit_status = report.exit().code();
    report
}

async fn check_tenant(settings: &Settings, tenant: &TenantSettings) -> Vec<Finding> {
    let mut findings = Vec::new();
    let clients = clients::build(settings, tenant);
    findings.extend(clients.findings);
    let (lever, willo) = tokio::join!(
        async {
            match &clients.lever {
                Some(c) => lever::checks(tenant, c).await,
                None => Vec::new(),
            }
        },
        async {
            match &clients.willo {
                Some(c) => willo::checks(tenant, c).await,
                None => Vec::new(),
            }
        }
    );
    findings.extend(lever);
    findings.extend(willo);
    findings.extend(webhooks::checks(tenant));
    findings
}
