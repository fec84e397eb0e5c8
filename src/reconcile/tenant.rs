//! One tenant's context for passes: its settings, its two API clients, the shared store and
//! the output sinks (metrics, notices). Immutable once built: what a pass learns travels as
//! return values through the pipeline (see `pass.rs`) and is remembered by the store, never here.

use std::sync::Arc;
use std::time::Duration;

use crate::config::TenantSettings;
use crate::http::{Api, ApiError, ApiObserver, BuildError, CountingObserver, FanOut};
use crate::lever::LeverClient;
use crate::metrics::{Metrics, MetricsObserver};
use crate::notices::Notices;
use crate::store::{Store, StoreError};
use crate::willo::WilloClient;

use super::error::PassError;
use super::keys::{KeyLocks, Turns};
use super::summary::ApiCounts;
use super::tokens::StoreTokens;

/// How passes run; the same for every tenant of a daemon.
#[derive(Debug, Clone)]
pub struct PassOptions {
    /// Actions applied at once (never two on one opportunity).
    pub concurrency: usize,
    /// How far an incremental pass reaches back before its cursor.
    pub overlap: Duration,
    /// Opportunities a scheduled pass plans and applies at a time: what bounds its memory.
    pub chunk: usize,
    /// The incremental schedule's interval: what an incremental pass's Willo status checks
    /// are budgeted over (rule: status-check budget).
    pub interval: Duration,
}

impl PassOptions {
    /// The chunk every real pass uses: large enough that a chunk's store reads are cheap per
    /// opportunity, small enough that a pass over 100,000 stays within a few megabytes.
    pub const CHUNK: usize = 1000;
}

pub struct Tenant {
    pub(crate) id: String,
    pub(crate) settings: TenantSettings,
    pub(crate) lever: LeverClient,
    pub(crate) willo: WilloClient,
    pub(crate) store: Arc<Store>,
    pub(crate) metrics: Metrics,
    /// Conditions already logged (an unknown Willo state is warned once per value).
    pub(crate) notices: Notices,
    /// Per-object turns and write epochs shared by the tenant's passes and hint reconciles.
    pub(crate) keys: Arc<KeyLocks>,
    /// API calls and 429s of this tenant, for pass summaries.
    calls: Arc<CountingObserver>,
    pub(crate) options: PassOptions,
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
        Tenant::sharing(settings, options, store, metrics, Turns::default())
    }

    /// A runtime that takes turns with the runtimes holding `turns` (a tenant rebuilt by a
    /// reload, next to its old runtime's pass in flight).
    pub fn sharing(
        settings: &TenantSettings,
        options: PassOptions,
        store: Arc<Store>,
        metrics: Metrics,
        turns: Turns,
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
            notices: Notices::new(),
            keys: turns.0,
            calls,
            options,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn settings(&self) -> &TenantSettings {
        &self.settings
    }

    /// This runtime's turns, for a runtime that replaces it.
    pub fn turns(&self) -> Turns {
        Turns(Arc::clone(&self.keys))
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// API calls and 429s of this tenant so far.
    pub fn api_counts(&self) -> ApiCounts {
        ApiCounts {
            lever_calls: self.calls.calls(Api::Lever),
            lever_rate_limited: self.calls.rate_limited(Api::Lever),
            willo_calls: self.calls.calls(Api::Willo),
            willo_rate_limited: self.calls.rate_limited(Api::Willo),
        }
    }

    /// An API error as this tenant's pass error (a rejected credential disconnects it).
    pub(crate) fn api_err(&self, e: ApiError) -> PassError {
        PassError::api(&self.id, e)
    }

    pub(crate) fn store_err(&self, e: StoreError) -> PassError {
        PassError::store(&self.id, e)
    }
}
