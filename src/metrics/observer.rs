//! Feeds every HTTP attempt of the clients into the metrics.

use super::{ApiErrorLabels, ApiLabels, ApiNameLabel, Metrics};
use crate::http::{Api, ApiError, ApiObserver, Attempt, StatusClass};

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
