//! The daemon's Prometheus metrics (prometheus-client, an explicit registry, no globals).
//!
//! Every label value is either a tenant id, a fixed word from this crate (kinds, results,
//! outcomes, error `metric_label()`s) or a route template: never an id of a candidate, so the
//! number of series stays bounded.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

use crate::domain::{PassKind, PassResult};
use crate::http::{Api, ApiError, ApiObserver, Attempt, StatusClass};

/// The content type `/metrics` answers with.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TenantLabel {
    pub tenant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PassLabels {
    pub tenant: String,
    pub kind: String,
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub tenant: String,
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ApiLabels {
    pub api: String,
    pub route: String,
    pub status: String,
}

/// Why a call to an API failed for good: `ApiError::metric_label()`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ApiErrorLabels {
    pub api: String,
    pub route: String,
    pub reason: String,
}

/// Why a pass stopped part-way: `PassError::metric_label()`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    pub tenant: String,
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ApiNameLabel {
    pub api: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub tenant: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HintLabels {
    pub tenant: String,
    pub source: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TagWriteLabels {
    pub tenant: String,
    pub op: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WarningLabels {
    pub tenant: String,
    pub kind: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// Builds the duration histograms (exponential buckets from 10 ms).
#[derive(Clone)]
pub struct DurationHistogram;

impl MetricConstructor<Histogram> for DurationHistogram {
    fn new_metric(&self) -> Histogram {
        // 10 ms … ~5 min: API calls at the low end, full passes at the high end.
        Histogram::new(exponential_buckets(0.01, 2.0, 16))
    }
}

/// All metrics of one daemon. Cheap to clone (everything inside is shared).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub passes: Family<PassLabels, Counter>,
    pub pass_failures: Family<FailureLabels, Counter>,
    pub pass_duration: Family<KindLabels, Histogram, DurationHistogram>,
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
    pub full_pass_repairs: Family<TenantLabel, Counter>,
    pub connected: Family<TenantLabel, Gauge>,
    pub warnings: Family<WarningLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut r = Registry::with_prefix("willo_lever_sync");
        let m = Metrics {
            registry: Arc::new(Registry::default()),
            passes: Family::default(),
            pass_failures: Family::default(),
            pass_duration: Family::new_with_constructor(DurationHistogram),
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
            full_pass_repairs: Family::default(),
            connected: Family::default(),
            warnings: Family::default(),
        };
        r.register(
            "passes",
            "Reconciliation passes by tenant, kind and result",
            m.passes.clone(),
        );
        r.register(
            "pass_failures",
            "Passes and targeted reconciles that stopped part-way, by tenant and reason (config, disconnected, store, interrupted, or the API error's kind)",
            m.pass_failures.clone(),
        );
        r.register(
            "pass_duration_seconds",
            "Duration of reconciliation passes",
            m.pass_duration.clone(),
        );
        r.register(
            "last_success_timestamp_seconds",
            "When a pass of this kind last completed, Unix seconds",
            m.last_success.clone(),
        );
        r.register(
            "cursor_lag_seconds",
            "How far the incremental cursor trails the wall clock",
            m.cursor_lag.clone(),
        );
        r.register(
            "api_requests",
            "HTTP requests to Lever and Willo by route template and status class",
            m.api_requests.clone(),
        );
        r.register(
            "api_request_duration_seconds",
            "Latency of HTTP requests to Lever and Willo",
            m.api_latency.clone(),
        );
        r.register(
            "api_rate_limited",
            "HTTP 429 answers from Lever and Willo",
            m.api_rate_limited.clone(),
        );
        r.register(
            "api_errors",
            "Calls to Lever and Willo that failed for good (after their retries), by route template and reason",
            m.api_errors.clone(),
        );
        r.register("invites", "Invites by outcome", m.invites.clone());
        r.register(
            "tag_writes",
            "Lever tag writes by operation",
            m.tag_writes.clone(),
        );
        r.register(
            "hints",
            "Webhook hints by source and outcome (received, queued, rejected, deduplicated, replayed, stale, dropped, unrecognised)",
            m.hints.clone(),
        );
        r.register(
            "hint_queue_depth",
            "Hints waiting for a targeted reconcile",
            m.hint_queue_depth.clone(),
        );
        r.register(
            "needs_attention",
            "Opportunities that need a person (no email, no consent, refused invite)",
            m.needs_attention.clone(),
        );
        r.register(
            "full_pass_repairs",
            "Changes made by full passes; non-zero means a hint or incremental pass missed something (the lost-webhook signal)",
            m.full_pass_repairs.clone(),
        );
        r.register(
            "tenant_connected",
            "1 when the tenant's credentials work, 0 when disconnected",
            m.connected.clone(),
        );
        r.register(
            "warnings",
            "Warnings by kind (unknown Willo state, stale interview tag on a posting, …)",
            m.warnings.clone(),
        );
        Metrics {
            registry: Arc::new(r),
            ..m
        }
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
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
        self.needs_attention
            .get_or_create(&Metrics::tenant(tenant))
            .set(i64::try_from(n).unwrap_or(i64::MAX));
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

/// Feeds every HTTP attempt of the clients into the metrics.
pub struct MetricsObserver {
    metrics: Metrics,
}

impl MetricsObserver {
    pub fn new(metrics: Metrics) -> MetricsObserver {
        MetricsObserver { metrics }
    }
}

impl ApiObserver for MetricsObserver {
    fn on_attempt(&self, a: &Attempt<'_>) {
        let api = a.api.as_str().to_owned();
        self.metrics
            .api_requests
            .get_or_create(&ApiLabels {
                api: api.clone(),
                route: a.route.to_owned(),
                status: a.status.as_str().to_owned(),
            })
            .inc();
        self.metrics
            .api_latency
            .get_or_create(&ApiNameLabel { api: api.clone() })
            .observe(a.latency.as_secs_f64());
        if a.status == StatusClass::RateLimited {
            self.metrics
                .api_rate_limited
                .get_or_create(&ApiNameLabel { api })
                .inc();
        }
    }

    fn on_call_failed(&self, api: Api, route: &str, error: &ApiError) {
        self.metrics
            .api_errors
            .get_or_create(&ApiErrorLabels {
                api: api.as_str().to_owned(),
                route: route.to_owned(),
                reason: error.metric_label().to_owned(),
            })
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_text_names_every_family_with_its_labels() {
        let m = Metrics::new();
        m.passes
            .get_or_create(&PassLabels {
                tenant: "acme".into(),
                kind: "full".into(),
                result: "converged".into(),
            })
            .inc();
        m.full_pass_repairs
            .get_or_create(&Metrics::tenant("acme"))
            .inc_by(3);
        let text = m.encode();
        assert!(
            text.contains(
                r#"willo_lever_sync_passes_total{tenant="acme",kind="full",result="converged"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"willo_lever_sync_full_pass_repairs_total{tenant="acme"} 3"#),
            "{text}"
        );
        assert!(
            text.contains("# TYPE willo_lever_sync_hint_queue_depth gauge"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn a_failed_pass_is_counted_by_tenant_and_reason() {
        let m = Metrics::new();
        m.pass_failed("acme", "disconnected");
        m.pass_failed("acme", "disconnected");
        m.pass_failed("acme", "transient");
        let text = m.encode();
        assert!(
            text.contains(
                r#"willo_lever_sync_pass_failures_total{tenant="acme",reason="disconnected"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"willo_lever_sync_pass_failures_total{tenant="acme",reason="transient"} 1"#
            ),
            "{text}"
        );
    }

    #[test]
    fn a_call_that_failed_for_good_is_counted_by_its_error_kind() {
        let m = Metrics::new();
        let observer = MetricsObserver::new(m.clone());
        let error = ApiError::Ambiguous {
            api: Api::Willo,
            route: "/participants/",
            reason: "connection reset".into(),
        };
        observer.on_call_failed(Api::Willo, "/participants/", &error);
        let text = m.encode();
        assert!(
            text.contains(
                r#"willo_lever_sync_api_errors_total{api="willo",route="/participants/",reason="ambiguous"} 1"#
            ),
            "{text}"
        );
    }
}
