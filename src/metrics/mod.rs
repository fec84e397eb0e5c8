//! The daemon's Prometheus metrics (prometheus-client, explicit registries, no globals).
//!
//! Every label value is either a tenant id, a fixed word from this crate (kinds, results,
//! outcomes, error `metric_label()`s) or a route template: never an id of a candidate, so the
//! number of series stays bounded.
//!
//! Two registries: the project's own metrics (`willo_lever_sync_*`), which `/metrics` serves and
//! `--once --metrics-file` writes, and the process collector (`process_*`), which only
//! `/metrics` serves: node_exporter, which reads the file, has `process_*` series of its own,
//! and a finished `--once` has no process left to describe.

mod format;
mod labels;
mod observer;
mod process;
mod state;
pub mod textfile;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::{prometheus_text, text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use crate::domain::{PassKind, PassResult};

pub use format::Format;
pub use labels::*;
pub use observer::MetricsObserver;
pub use state::{TenantState, deferred_work};

type FloatGauge = Gauge<f64, AtomicU64>;

/// Builds the API latency histograms (exponential buckets from 10 ms to about 5 minutes).
#[derive(Clone)]
pub struct DurationHistogram;

impl MetricConstructor<Histogram> for DurationHistogram {
    fn new_metric(&self) -> Histogram {
        Histogram::new(exponential_buckets(0.01, 2.0, 16))
    }
}

/// Upper bounds of the pass-duration buckets, in seconds: a targeted reconcile takes well under
/// a second, an incremental pass seconds, and a full pass of a large account (paced at a few
/// requests per second) can take hours.
pub const PASS_DURATION_BUCKETS: [f64; 18] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0,
    7200.0, 14400.0, 28800.0,
];

/// Builds the pass-duration histograms ([`PASS_DURATION_BUCKETS`]).
#[derive(Clone)]
pub struct PassDurationHistogram;

impl MetricConstructor<Histogram> for PassDurationHistogram {
    fn new_metric(&self) -> Histogram {
        Histogram::new(PASS_DURATION_BUCKETS)
    }
}

/// All metrics of one daemon (or one `--once`). Cheap to clone (everything inside is shared).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    process: Arc<Registry>,
    pub passes: Family<PassLabels, Counter>,
    pub pass_failures: Family<FailureLabels, Counter>,
    pub pass_duration: Family<KindLabels, Histogram, PassDurationHistogram>,
    pub last_success: Family<KindLabels, FloatGauge>,
    pub cursor_lag: Family<TenantLabel, FloatGauge>,
    pub api_requests: Family<ApiLabels, Counter>,
    pub api_latency: Family<ApiNameLabel, Histogram, DurationHistogram>,
    pub api_rate_limited: Family<ApiNameLabel, Counter>,
    pub api_errors: Family<ApiErrorLabels, Counter>,
    pub invites: Family<OutcomeLabels, Counter>,
    pub tag_writes: Family<TagWriteLabels, Counter>,
    pub hints: Family<HintLabels, Counter>,
    pub hint_queue_depth: Gauge,
    pub needs_attention: Family<TenantLabel, Gauge>,
    pub failing_opportunities: Family<TenantLabel, Gauge>,
    pub deferred_work: Family<TenantLabel, Gauge>,
    pub missing_permissions: Family<TenantLabel, Gauge>,
    pub full_pass_repairs: Family<TenantLabel, Counter>,
    pub connected: Family<TenantLabel, Gauge>,
    pub warnings: Family<WarningLabels, Counter>,
    pub tenants_owned: Family<InstanceLabel, Gauge>,
    pub lease_takeovers: Family<InstanceLabel, Counter>,
    pub lease_renew_failures: Family<InstanceLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// What `willo_lever_sync_build_info` says about this build. The commit and the build date
/// are whatever `WLS_BUILD_COMMIT` and `WLS_BUILD_DATE` held when it was compiled (packagers
/// set them), `unknown` otherwise.
pub fn build_labels() -> BuildLabels {
    BuildLabels {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        commit: option_env!("WLS_BUILD_COMMIT")
            .unwrap_or("unknown")
            .to_owned(),
        build_date: option_env!("WLS_BUILD_DATE")
            .unwrap_or("unknown")
            .to_owned(),
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let m = Metrics {
            registry: Arc::new(Registry::default()),
            process: Arc::new(Registry::default()),
            passes: Family::default(),
            pass_failures: Family::default(),
            pass_duration: Family::new_with_constructor(PassDurationHistogram),
            last_success: Family::default(),
            cursor_lag: Family::default(),
            api_requests: Family::default(),
            api_latency: Family::new_with_constructor(DurationHistogram),
            api_rate_limited: Family::default(),
            api_errors: Family::default(),
            invites: Family::default(),
            tag_writes: Family::default(),
            hints: Family::default(),
            hint_queue_depth: Gauge::default(),
            needs_attention: Family::default(),
            failing_opportunities: Family::default(),
            deferred_work: Family::default(),
            missing_permissions: Family::default(),
            full_pass_repairs: Family::default(),
            connected: Family::default(),
            warnings: Family::default(),
            tenants_owned: Family::default(),
            lease_takeovers: Family::default(),
            lease_renew_failures: Family::default(),
        };
        let mut process = Registry::default();
        process.register_collector(Box::new(process::ProcessCollector));
        Metrics {
            registry: Arc::new(m.register()),
            process: Arc::new(process),
            ..m
        }
    }

    /// The project's registry, every family under its name and help text.
    fn register(&self) -> Registry {
        let mut r = Registry::with_prefix("willo_lever_sync");
        r.register(
            "build",
            "The running build: version, commit and build date",
            Info::new(build_labels()),
        );
        r.register(
            "passes",
            "Reconciliation passes by tenant, kind and result",
            self.passes.clone(),
        );
        r.register(
            "pass_failures",
            "Passes and targeted reconciles that stopped part-way, by tenant and reason (config, disconnected, forbidden, store, interrupted, or the API error's kind)",
            self.pass_failures.clone(),
        );
        r.register_with_unit(
            "pass_duration",
            "Duration of reconciliation passes",
            Unit::Seconds,
            self.pass_duration.clone(),
        );
        r.register_with_unit(
            "last_success_timestamp",
            "When a pass of this kind last completed (converged, deferred, partial or with failed actions), Unix time",
            Unit::Seconds,
            self.last_success.clone(),
        );
        r.register_with_unit(
            "cursor_lag",
            "How far the incremental cursor trails the wall clock",
            Unit::Seconds,
            self.cursor_lag.clone(),
        );
        r.register(
            "api_requests",
            "HTTP requests to Lever and Willo by route template and status class (2xx, 3xx, 401, 403, 429, 4xx for the other client errors, 5xx, error for no answer)",
            self.api_requests.clone(),
        );
        r.register_with_unit(
            "api_request_duration",
            "Latency of HTTP requests to Lever and Willo",
            Unit::Seconds,
            self.api_latency.clone(),
        );
        r.register(
            "api_rate_limited",
            "HTTP 429 answers from Lever and Willo",
            self.api_rate_limited.clone(),
        );
        r.register(
            "api_errors",
            "Calls to Lever and Willo that failed for good (after their retries), by route template and reason",
            self.api_errors.clone(),
        );
        r.register("invites", "Invites by outcome", self.invites.clone());
        r.register(
            "tag_writes",
            "Lever tag writes by operation",
            self.tag_writes.clone(),
        );
        r.register(
            "hints",
            "Webhook hints by source and outcome (received, queued, rejected, deduplicated, replayed, stale, dropped, unrecognised)",
            self.hints.clone(),
        );
        r.register(
            "hint_queue_depth",
            "Hints waiting for a targeted reconcile",
            self.hint_queue_depth.clone(),
        );
        r.register(
            "needs_attention",
            "Needs-attention items: opportunities that need a person (no email, no consent, refused invite, inconclusive lookup, no access); one series per configured tenant",
            self.needs_attention.clone(),
        );
        r.register(
            "failing_opportunities",
            "Opportunities whose last action failed; each is retried when its backoff ends",
            self.failing_opportunities.clone(),
        );
        r.register(
            "deferred_work",
            "Work the last full or incremental pass left for a later pass: opportunities waiting out a backoff, invites whose outcome could not be settled yet",
            self.deferred_work.clone(),
        );
        r.register(
            "missing_permissions",
            "Parts of the last full or incremental pass that Lever or Willo refused for lack of permission (HTTP 403)",
            self.missing_permissions.clone(),
        );
        r.register(
            "full_pass_repairs",
            "Changes made by full passes; non-zero means a hint or incremental pass missed something (the lost-webhook signal)",
            self.full_pass_repairs.clone(),
        );
        r.register(
            "tenants_owned",
            "Tenants this instance holds the lease of (several instances on PostgreSQL; a lone instance owns all)",
            self.tenants_owned.clone(),
        );
        r.register(
            "lease_takeovers",
            "Tenants this instance took over after another instance let their lease lapse",
            self.lease_takeovers.clone(),
        );
        r.register(
            "lease_renew_failures",
            "Lease renewals that failed (the database unreachable) or found a lease lost",
            self.lease_renew_failures.clone(),
        );
        r.register(
            "tenant_connected",
            "1 when the tenant's credentials work, 0 when disconnected",
            self.connected.clone(),
        );
        r.register(
            "warnings",
            "Warnings by kind (unknown Willo state, stale interview tag on a posting, …)",
            self.warnings.clone(),
        );
        r
    }

    /// Every metric, the process's included, in `format` (what `/metrics` serves).
    pub fn encode_as(&self, format: Format) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = match format {
            Format::OpenMetrics => text::encode_registry(&mut out, &self.registry)
                .and_then(|()| text::encode_registry(&mut out, &self.process))
                .and_then(|()| text::encode_eof(&mut out)),
            Format::Text => prometheus_text::encode(&mut out, &self.registry)
                .and_then(|()| prometheus_text::encode(&mut out, &self.process)),
        };
        out
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        self.encode_as(Format::OpenMetrics)
    }

    /// The project's metrics without the process's, in the Prometheus text format that
    /// node_exporter's textfile collector reads (what `--once --metrics-file` writes).
    pub fn encode_for_textfile(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_text::encode(&mut out, &self.registry);
        out
    }

    pub fn tenant(tenant: &str) -> TenantLabel {
        TenantLabel {
            tenant: tenant.to_owned(),
        }
    }

    pub fn pass(&self, tenant: &str, kind: PassKind, result: PassResult, duration_ms: i64) {
        self.passes
            .get_or_create(&PassLabels {
                tenant: tenant.to_owned(),
                kind: kind.as_str().to_owned(),
                result: result.as_str().to_owned(),
            })
            .inc();
        self.pass_duration
            .get_or_create(&KindLabels {
                tenant: tenant.to_owned(),
                kind: kind.as_str().to_owned(),
            })
            .observe(duration_ms.max(0) as f64 / 1000.0);
    }

    /// A pass or targeted reconcile of `tenant` stopped part-way; `reason` is the error's
    /// `PassError::metric_label()` (a fixed word, so the series stay few).
    pub fn pass_failed(&self, tenant: &str, reason: &'static str) {
        self.pass_failures
            .get_or_create(&FailureLabels {
                tenant: tenant.to_owned(),
                reason: reason.to_owned(),
            })
            .inc();
    }

    pub fn pass_completed(&self, tenant: &str, kind: PassKind, at_ms: i64) {
        self.last_success
            .get_or_create(&KindLabels {
                tenant: tenant.to_owned(),
                kind: kind.as_str().to_owned(),
            })
            .set(at_ms as f64 / 1000.0);
    }

    pub fn set_cursor_lag(&self, tenant: &str, lag_ms: i64) {
        self.cursor_lag
            .get_or_create(&Metrics::tenant(tenant))
            .set(lag_ms.max(0) as f64 / 1000.0);
    }

    pub fn set_connected(&self, tenant: &str, connected: bool) {
        self.connected
            .get_or_create(&Metrics::tenant(tenant))
            .set(i64::from(connected));
    }

    pub fn set_needs_attention(&self, tenant: &str, n: usize) {
        set_count(&self.needs_attention, tenant, n);
    }

    /// The parts of the tenant's last full or incremental pass refused for lack of permission.
    pub fn set_missing_permissions(&self, tenant: &str, n: usize) {
        set_count(&self.missing_permissions, tenant, n);
    }

    pub fn invite(&self, tenant: &str, outcome: &str) {
        self.invites
            .get_or_create(&OutcomeLabels {
                tenant: tenant.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub fn tag_write(&self, tenant: &str, op: &str, n: u64) {
        self.tag_writes
            .get_or_create(&TagWriteLabels {
                tenant: tenant.to_owned(),
                op: op.to_owned(),
            })
            .inc_by(n);
    }

    pub fn instance(id: &str) -> InstanceLabel {
        InstanceLabel {
            instance_id: id.to_owned(),
        }
    }

    pub fn repairs(&self, tenant: &str, n: u64) {
        self.full_pass_repairs
            .get_or_create(&Metrics::tenant(tenant))
            .inc_by(n);
    }

    pub fn warning(&self, tenant: &str, kind: &str) {
        self.warnings
            .get_or_create(&WarningLabels {
                tenant: tenant.to_owned(),
                kind: kind.to_owned(),
            })
            .inc();
    }

    pub fn hint(&self, tenant: &str, source: &str, outcome: &str) {
        self.hints
            .get_or_create(&HintLabels {
                tenant: tenant.to_owned(),
                source: source.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }
}

fn set_count(family: &Family<TenantLabel, Gauge>, tenant: &str, n: usize) {
    family
        .get_or_create(&Metrics::tenant(tenant))
        .set(i64::try_from(n).unwrap_or(i64::MAX));
}

#[cfg(test)]
mod tests;
