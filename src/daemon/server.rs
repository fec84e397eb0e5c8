//! The HTTP listener: webhook hints, `/healthz`, `/readyz`, `/metrics`.
//!
//! Webhooks never write state: a verified delivery only queues a key for a targeted reconcile.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::hints::{HintKey, HintQueue, Pushed};
use super::readiness::Readiness;
use super::replay::ReplayCache;
use super::{lever_webhook, willo_webhook};
use crate::clock::now_ms;
use crate::config::Secret;
use crate::domain::Target;
use crate::metrics::{CONTENT_TYPE, Metrics};

/// Largest webhook body accepted (Lever's are a few hundred bytes).
pub const BODY_LIMIT: usize = 64 * 1024;
/// Lever tokens remembered per tenant for replay detection.
const REPLAY_MEMORY: usize = 100_000;

/// What the listener knows of one tenant.
pub struct TenantHooks {
    pub lever_tokens: Vec<Secret>,
    pub willo_tokens: Vec<Secret>,
    replay: ReplayCache,
}

impl TenantHooks {
    pub fn new(lever_tokens: Vec<Secret>, willo_tokens: Vec<Secret>) -> TenantHooks {
        TenantHooks {
            lever_tokens,
            willo_tokens,
            replay: ReplayCache::new(REPLAY_MEMORY),
        }
    }
}

pub struct Shared {
    pub tenants: BTreeMap<String, TenantHooks>,
    pub queue: Arc<HintQueue>,
    pub metrics: Metrics,
    pub readiness: Arc<Readiness>,
    /// Cleared at shutdown: hints are then refused with 503 (Lever retries later).
    pub accepting: AtomicBool,
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/webhooks/lever/{tenant}", post(lever))
        .route("/webhooks/lever/{tenant}/", post(lever))
        .route("/webhooks/willo/{tenant}", post(willo))
        .route("/webhooks/willo/{tenant}/", post(willo))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(shared)
}

fn answer(status: StatusCode, outcome: &str, reason: Option<String>) -> Response {
    let body = match reason {
        Some(r) => serde_json::json!({"outcome": outcome, "reason": r}),
        None => serde_json::json!({"outcome": outcome}),
    };
    (status, axum::Json(body)).into_response()
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
}

impl Shared {
    fn enqueue(&self, tenant: &str, source: &str, target: Target) -> Response {
        let pushed = self.queue.push(HintKey {
            tenant: tenant.to_owned(),
            target,
        });
        self.metrics.hint(tenant, source, pushed.metric_label());
        match pushed {
            Pushed::Queued | Pushed::FollowUp => answer(StatusCode::ACCEPTED, "queued", None),
            Pushed::Deduplicated => answer(StatusCode::ACCEPTED, "deduplicated", None),
            // Still 2xx: retrying would not help, and the next pass catches up.
            Pushed::Dropped => answer(StatusCode::ACCEPTED, "dropped", None),
        }
    }

    fn closed(&self) -> Option<Response> {
        (!self.accepting.load(Ordering::SeqCst)).then(|| {
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                Some("the daemon is stopping; deliver again later".into()),
            )
        })
    }
}

impl Shared {
    /// Reads a webhook body up to [`BODY_LIMIT`]; a larger one is refused (413) and counted.
    async fn body(&self, tenant: &str, source: &str, body: Body) -> Result<Bytes, Response> {
        self.metrics.hint(tenant, source, "received");
        axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| {
            self.metrics.hint(tenant, source, "rejected");
            tracing::warn!(tenant = %tenant, source, "webhook body over {BODY_LIMIT} bytes rejected");
            answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                Some(format!("bodies are limited to {BODY_LIMIT} bytes")),
            )
        })
    }
}

async fn lever(State(s): State<Arc<Shared>>, Path(tenant): Path<String>, body: Body) -> Response {
    let Some(hooks) = s.tenants.get(&tenant) else {
        return answer(StatusCode::NOT_FOUND, "unknown_tenant", None);
    };
    if let Some(r) = s.closed() {
        return r;
    }
    let body = match s.body(&tenant, "lever", body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let tokens: Vec<&Secret> = hooks.lever_tokens.iter().collect();
    match lever_webhook::verify(&body, &tokens, now_ms(), &hooks.replay) {
        Ok(lever_webhook::Accepted::Queue { opportunity_id }) => {
            tracing::debug!(tenant = %tenant, opportunity = %opportunity_id, "Lever hint");
            s.enqueue(&tenant, "lever", Target::Opportunity(opportunity_id))
        }
        Ok(lever_webhook::Accepted::Replay) => {
            s.metrics.hint(&tenant, "lever", "replayed");
            answer(StatusCode::OK, "replayed", None)
        }
        Ok(lever_webhook::Accepted::Stale) => {
            s.metrics.hint(&tenant, "lever", "stale");
            answer(StatusCode::OK, "stale", None)
        }
        Err(e) => {
            s.metrics.hint(&tenant, "lever", "rejected");
            tracing::warn!(tenant = %tenant, reason = %e, "Lever webhook rejected");
            answer(status(e.status()), e.metric_label(), Some(e.to_string()))
        }
    }
}

async fn willo(
    State(s): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    let Some(hooks) = s.tenants.get(&tenant) else {
        return answer(StatusCode::NOT_FOUND, "unknown_tenant", None);
    };
    if let Some(r) = s.closed() {
        return r;
    }
    let body = match s.body(&tenant, "willo", body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let tokens: Vec<&Secret> = hooks.willo_tokens.iter().collect();
    let checked = willo_webhook::check_token(q.get("token").map(String::as_str), &tokens)
        .and_then(|()| willo_webhook::participant_key(&body));
    match checked {
        Ok(key) => {
            tracing::debug!(tenant = %tenant, participant = %key,
                event = q.get("event").map(String::as_str).unwrap_or("-"), "Willo hint");
            s.enqueue(&tenant, "willo", Target::Participant(key))
        }
        Err(e) => {
            s.metrics.hint(&tenant, "willo", "rejected");
            tracing::warn!(tenant = %tenant, reason = %e, "Willo webhook rejected");
            answer(status(e.status()), e.metric_label(), Some(e.to_string()))
        }
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(s): State<Arc<Shared>>) -> Response {
    let v = s.readiness.verdict(now_ms());
    let code = if v.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(v)).into_response()
}

async fn metrics(State(s): State<Arc<Shared>>) -> Response {
    // The queue depth is read off the queue when scraped rather than kept up to date by hand.
    s.metrics
        .hint_queue_depth
        .set(i64::try_from(s.queue.depth()).unwrap_or(i64::MAX));
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], s.metrics.encode()).into_response()
}
