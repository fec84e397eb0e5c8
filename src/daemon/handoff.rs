//! Hints between instances (issue 14): a webhook may reach any instance behind a load
//! balancer. One that does not hold the tenant's lease hands the hint to the owner with
//! PostgreSQL `NOTIFY` (`store::HINT_CHANNEL`); every instance listens on a connection of its own and
//! queues the hints of the tenants it holds. A hint nobody holds is lost only until the next
//! owner's first pass, a full one, which covers it.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::hints::{HintKey, HintQueue};
use super::ownership::Ownership;
use super::server::{Shared, answer};
use crate::config::Settings;
use crate::domain::Target;
use crate::error_chain::chain;
use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::Response;

/// What travels on the channel.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Handed {
    tenant: String,
    #[serde(default)]
    opportunity: Option<String>,
    #[serde(default)]
    participant: Option<String>,
}

fn encode(tenant: &str, target: &Target) -> String {
    let (opportunity, participant) = match target {
        Target::Opportunity(id) => (Some(id.clone()), None),
        Target::Participant(key) => (None, Some(key.clone())),
    };
    serde_json::to_string(&Handed {
        tenant: tenant.to_owned(),
        opportunity,
        participant,
    })
    .unwrap_or_default()
}

fn decode(payload: &str) -> Option<HintKey> {
    let h: Handed = serde_json::from_str(payload).ok()?;
    let target = match (h.opportunity, h.participant) {
        (Some(id), None) => Target::Opportunity(id),
        (None, Some(key)) => Target::Participant(key),
        _ => return None,
    };
    Some(HintKey {
        tenant: h.tenant,
        target,
    })
}

/// Hands a hint to whichever instance holds `tenant`.
pub fn send(owner: &Ownership, tenant: &str, target: &Target) -> Result<(), StoreError> {
    owner.notify(&encode(tenant, target))
}

/// Listens for handed hints on a connection of its own, on a thread of its own (the driver
/// blocks), until `shutdown`; reconnects after a second when the connection breaks.
pub fn listen(
    settings: &Settings,
    owner: Arc<Ownership>,
    queue: Arc<HintQueue>,
    shutdown: CancellationToken,
) {
    let Some(pg) = &settings.store.postgres else {
        return;
    };
    let url = pg.url.expose().to_owned();
    let spawned = std::thread::Builder::new()
        .name("wls-hint-listener".into())
        .spawn(move || {
            while !shutdown.is_cancelled() {
                if let Err(e) = listen_once(&url, &owner, &queue, &shutdown) {
                    tracing::warn!(error = %chain(&e), "the hint hand-over listener lost its connection; reconnecting");
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the hint hand-over listener; hints handed by other instances wait for this one's passes");
    }
}

fn listen_once(
    url: &str,
    owner: &Ownership,
    queue: &HintQueue,
    shutdown: &CancellationToken,
) -> Result<(), StoreError> {
    crate::store::listen_for_hints(url, &|| shutdown.is_cancelled(), &mut |payload| {
        let Some(key) = decode(payload) else {
            tracing::warn!("a handed hint could not be read; ignored");
            return;
        };
        // Every instance hears every hint; the owner acts on it.
        if owner.owns(&key.tenant) {
            tracing::debug!(tenant = %key.tenant, "a hint handed over by another instance");
            queue.push(key);
        }
    })
}

impl Shared {
    /// A hint for a tenant another instance holds: handed to it (PostgreSQL `NOTIFY`), never
    /// dropped silently; when no instance holds the tenant, the next owner starts it with a
    /// full pass, which covers the hint.
    pub(super) fn hand_over(
        &self,
        owner: &Ownership,
        tenant: &str,
        source: &str,
        target: &Target,
    ) -> Response {
        match send(owner, tenant, target) {
            Ok(()) => {
                self.metrics.hint(tenant, source, "handed_over");
                answer(StatusCode::ACCEPTED, "handed_over", None)
            }
            Err(e) => {
                tracing::error!(tenant, error = %crate::error_chain::chain(&e),
                    "cannot hand a hint to the tenant's owner");
                answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    Some(
                        "the hint could not be handed to the tenant's owner; deliver again later"
                            .into(),
                    ),
                )
            }
        }
    }

    pub(super) fn hint_for_owner(&self, tenant: &str, target: &Target) {
        if let Some(owner) = &self.ownership
            && let Err(e) = send(owner, tenant, target)
        {
            tracing::warn!(tenant, error = %crate::error_chain::chain(&e),
                "cannot hand a queued hint to the tenant's new owner; its full pass covers it");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handed_hint_reads_back_as_its_key() {
        for target in [
            Target::Opportunity("opp-1".into()),
            Target::Participant("pk-\"quoted\"".into()),
        ] {
            let key = decode(&encode("acme", &target)).unwrap();
            assert_eq!(key.tenant, "acme");
            assert_eq!(key.target, target);
        }
        assert_eq!(decode("not json"), None);
        assert_eq!(decode(r#"{"tenant":"a"}"#), None);
    }
}
