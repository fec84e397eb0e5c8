//! One tenant's runtime: its settings, its two API clients, the shared store and metrics.

use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::TenantSettings;
use crate::http::{ApiObserver, BuildError, CountingObserver, FanOut};
use crate::lever::LeverClient;
use crate::metrics::{Metrics, MetricsObserver};
use crate::store::Store;
use crate::willo::WilloClient;

use super::tokens::StoreTokens;

/// How passes run; the same for every tenant of a daemon.
#[derive(Debug, Clone)]
pub struct PassOptions {
    /// Actions applied at once (never two on one opportunity).
    pub concurrency: usize,
    /// How far an incremental pass reaches back before its cursor.
    pub overlap: Duration,
}

pub struct Tenant {
    pub(crate) id: String,
    pub(crate) settings: TenantSettings,
    pub(crate) lever: LeverClient,
    pub(crate) willo: WilloClient,
    pub(crate) store: Arc<Store>,
    pub(crate) metrics: Metrics,
    /// API calls and 429s of this tenant, for pass summaries.
    pub(crate) calls: Arc<CountingObserver>,
    pub(crate) options: PassOptions,
    /// Trigger-stage ids resolved by the last pass that read `GET /stages`.
    pub(crate) stage_ids: Mutex<Option<BTreeSet<String>>>,
    /// Unknown Willo state values already warned about (warn once per value).
    pub(crate) warned_states: Mutex<BTreeSet<String>>,
    /// Set after the first full pass: later full passes count their writes as repairs.
    pub(crate) had_full_pass: AtomicBool,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Tenant {
    pub fn new(
        settings: &TenantSettings,
        options: PassOptions,
        store: Arc<Store>,
        metrics: Metrics,
    ) -> Result<Tenant, BuildError> {
        let calls = Arc::new(CountingObserver::new());
        let observer: Arc<dyn ApiObserver> = Arc::new(FanOut::new(vec![
            calls.clone() as Arc<dyn ApiObserver>,
            Arc::new(MetricsObserver::new(metrics.clone())),
        ]));
        let lever = LeverClient::new(
            settings.lever.client.clone(),
            observer.clone(),
            Some(Arc::new(StoreTokens::new(store.clone(), &settings.id))),
        )?;
        let willo = WilloClient::new(settings.willo.client.clone(), observer)?;
        Ok(Tenant {
            id: settings.id.clone(),
            settings: settings.clone(),
            lever,
            willo,
            store,
            metrics,
            calls,
            options,
            stage_ids: Mutex::new(None),
            warned_states: Mutex::new(BTreeSet::new()),
            had_full_pass: AtomicBool::new(false),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn settings(&self) -> &TenantSettings {
        &self.settings
    }
}
