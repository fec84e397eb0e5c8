//! The HTTP listener: webhook hints, `/healthz`, `/readyz`, `/metrics`, and the read-only
//! status page (`/`, `/status.json`) unless `daemon.status_page` turns it off.
//!
//! Webhooks never write state: a verified delivery only queues a key for a targeted reconcile.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::hints::{HintKey, HintQueue, Pushed};
use super::page::{self, StatusPage};
use super::readiness::Readiness;
use super::replay::ReplayCache;
use super::throttle::LogThrottle;
use super::willo_webhook::Found;
use super::{lever_webhook, willo_webhook};
use crate::clock::now_ms;
use crate::config::Secret;
use crate::domain::Target;
use crate::metrics::{Format, Metrics, TenantState};
use crate::notices::Notices;
use crate::store::Store;

/// Largest webhook body accepted (Lever's are a few hundred bytes).
pub const BODY_LIMIT: usize = 64 * 1024;
/// Time allowed for a webhook body to arrive once its headers have: a real one is a few
/// hundred bytes sent at once, and a sender that trickles holds a connection.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
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
    /// Each tenant's webhook secrets; a reload replaces the map, so new secrets apply to the
    /// next delivery.
    pub tenants: std::sync::RwLock<BTreeMap<String, Arc<TenantHooks>>>,
    pub queue: Arc<HintQueue>,
    pub metrics: Metrics,
    pub readiness: Arc<Readiness>,
    /// Cleared at shutdown: hints are then refused with 503 (Lever retries later).
    pub accepting: AtomicBool,
    /// Read-only: which keys of a Willo body name participants the daemon recorded. None when
    /// it could not be opened; such bodies then go unrecognised.
    pub store: Option<Arc<Store>>,
    /// Body shapes already logged, per tenant.
    pub notices: Notices,
    /// Rejections already logged, per tenant and source.
    pub rejections: LogThrottle,
    /// The status page, when `daemon.status_page` is on.
    pub page: Option<StatusPage>,
    /// Several instances on PostgreSQL: the tenants this one holds; hints of the others are
    /// handed to their owner.
    pub ownership: Option<Arc<super::ownership::Ownership>>,
}

pub fn router(shared: Arc<Shared>) -> Router {
    let pages = if shared.page.is_some() {
        Router::new()
            .route("/", get(status_page))
            .route("/status.json", get(status_json))
    } else {
        Router::new()
    };
    pages
        .route("/webhooks/lever/{tenant}", post(lever))
        .route("/webhooks/lever/{tenant}/", post(lever))
        .route("/webhooks/willo/{tenant}", post(willo))
        .route("/webhooks/willo/{tenant}/", post(willo))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(shared)
}

pub(super) fn answer(status: StatusCode, outcome: &str, reason: Option<String>) -> Response {
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
    /// The webhook secrets of `tenant`, as configured now.
    /// The ids of the tenants served now (a reload may change them).
    pub fn tenant_ids(&self) -> Vec<String> {
        self.tenants
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    pub fn hooks(&self, tenant: &str) -> Option<Arc<TenantHooks>> {
        let map = self.tenants.read().unwrap_or_else(|p| p.into_inner());
        map.get(tenant).cloned()
    }

    fn enqueue(&self, tenant: &str, source: &str, target: Target) -> Response {
        if let Some(owner) = self.ownership.as_ref().filter(|o| !o.owns(tenant)) {
            return self.hand_over(owner, tenant, source, &target);
        }
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
    /// Reads a webhook body up to [`BODY_LIMIT`] within [`BODY_TIMEOUT`]; a larger one
    /// (declared or sent) is refused with 413, a slower one with 408, and both are counted.
    async fn body(
        &self,
        tenant: &str,
        source: &'static str,
        headers: &HeaderMap,
        body: Body,
    ) -> Result<Bytes, Response> {
        self.metrics.hint(tenant, source, "received");
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let too_large = || {
            self.reject(tenant, source, "too_large", "body over the size limit");
            closing(answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                Some(format!("bodies are limited to {BODY_LIMIT} bytes")),
            ))
        };
        if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
            return Err(too_large());
        }
        match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, BODY_LIMIT)).await {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(_)) => Err(too_large()),
            Err(_) => {
                self.reject(tenant, source, "timeout", "body not received in time");
                Err(closing(answer(
                    StatusCode::REQUEST_TIMEOUT,
                    "timeout",
                    Some(format!(
                        "the body did not arrive within {} s",
                        BODY_TIMEOUT.as_secs()
                    )),
                )))
            }
        }
    }

    /// Counts a refused delivery and logs it, at most once a minute per tenant and source
    /// (a flood of forgeries must not flood the log; the counter keeps the rate).
    fn reject(&self, tenant: &str, source: &'static str, label: &str, reason: &str) {
        self.metrics.hint(tenant, source, "rejected");
        if let Some(left_out) = self
            .rejections
            .admit(&format!("{tenant}/{source}"), Instant::now())
        {
            tracing::warn!(tenant = %tenant, source, kind = label, reason, left_out,
                "webhook rejected (at most one line a minute per tenant and source; left_out counts the rest since the last line, the hints metric counts every one)");
        }
    }
}

/// Asks the client to close the connection: what is left of its request is not read.
fn closing(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    r
}

async fn lever(
    State(s): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(hooks) = s.hooks(&tenant) else {
        return answer(StatusCode::NOT_FOUND, "unknown_tenant", None);
    };
    if let Some(r) = s.closed() {
        return r;
    }
    let body = match s.body(&tenant, "lever", &headers, body).await {
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
            s.reject(&tenant, "lever", e.metric_label(), &e.to_string());
            answer(status(e.status()), e.metric_label(), Some(e.to_string()))
        }
    }
}

async fn willo(
    State(s): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(hooks) = s.hooks(&tenant) else {
        return answer(StatusCode::NOT_FOUND, "unknown_tenant", None);
    };
    if let Some(r) = s.closed() {
        return r;
    }
    let body = match s.body(&tenant, "willo", &headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let tokens: Vec<&Secret> = hooks.willo_tokens.iter().collect();
    if let Err(e) = willo_webhook::check_token(q.get("token").map(String::as_str), &tokens) {
        s.reject(&tenant, "willo", e.metric_label(), &e.to_string());
        return answer(status(e.status()), e.metric_label(), Some(e.to_string()));
    }
    let event = q.get("event").map(String::as_str).unwrap_or("-");
    let keys = match willo_webhook::inspect(&body) {
        Found::Named(key) => vec![key],
        Found::Unnamed { candidates, shape } => match s.recorded(&tenant, candidates).await {
            Ok(keys) if !keys.is_empty() => keys,
            Ok(_) => return s.unrecognised(&tenant, event, &shape),
            Err(e) => {
                tracing::error!(tenant = %tenant, error = %crate::error_chain::chain(&e),
                    "cannot look up a Willo webhook's keys in the state store");
                return answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    Some("the state store could not be read; deliver again later".into()),
                );
            }
        },
    };
    let mut last = None;
    for key in keys {
        tracing::debug!(tenant = %tenant, participant = %key, event, "Willo hint");
        last = Some(s.enqueue(&tenant, "willo", Target::Participant(key)));
    }
    last.unwrap_or_else(|| answer(StatusCode::OK, "unrecognised", None))
}

impl Shared {
    /// Those of `candidates` that name a participant the daemon recorded (never an interview).
    /// Webhooks never write state; this only reads it, off the async workers.
    async fn recorded(
        &self,
        tenant: &str,
        candidates: Vec<String>,
    ) -> Result<Vec<String>, crate::store::StoreError> {
        let Some(store) = self.store.clone().filter(|_| !candidates.is_empty()) else {
            return Ok(Vec::new());
        };
        let tenant = tenant.to_owned();
        tokio::task::spawn_blocking(move || {
            store.read(|r| r.recorded_participants(&tenant, &candidates))
        })
        .await
        .unwrap_or_else(|e| {
            Err(crate::store::StoreError::Corrupt(format!(
                "the lookup task failed: {e}"
            )))
        })
    }

    /// An authenticated delivery that names no participant the daemon knows: acknowledged
    /// (Willo would retry anything else, to no avail), counted, and its shape logged once per
    /// tenant so an operator can report where real deliveries put the key.
    fn unrecognised(&self, tenant: &str, event: &str, shape: &str) -> Response {
        self.metrics.hint(tenant, "willo", "unrecognised");
        if self
            .notices
            .first("willo_webhook_shape", &format!("{tenant}\n{shape}"))
        {
            tracing::warn!(tenant = %tenant, event, shape,
                "a Willo webhook names no participant the daemon knows; it is acknowledged and left to the scheduled passes. Its shape (paths and types, no values) is logged once: please report it");
        }
        answer(StatusCode::OK, "unrecognised", None)
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

async fn metrics(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    // The queue depth is read off the queue when scraped rather than kept up to date by hand.
    s.metrics
        .hint_queue_depth
        .set(i64::try_from(s.queue.depth()).unwrap_or(i64::MAX));
    Arc::clone(&s).observe_state().await;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = Format::negotiate(accept);
    (
        [(header::CONTENT_TYPE, format.content_type())],
        s.metrics.encode_as(format),
    )
        .into_response()
}

impl Shared {
    /// Sets the gauges the state store backs (failing, deferred, needs attention, …) and the
    /// missing permissions readiness knows of, for every tenant.
    async fn observe_state(self: Arc<Self>) {
        let ids = self.tenant_ids();
        for id in &ids {
            self.metrics
                .set_missing_permissions(id, self.readiness.missing(id).len());
            // From zero, so that the first repair is an increase and not a new series.
            self.metrics.repairs(id, 0);
        }
        let Some(store) = self.store.clone() else {
            return;
        };
        let read = tokio::task::spawn_blocking(move || {
            store.read(|r| {
                ids.into_iter()
                    .map(|id| TenantState::read(r, &id).map(|s| (id, s)))
                    .collect::<Result<Vec<_>, _>>()
            })
        })
        .await;
        match read {
            Ok(Ok(states)) => {
                for (id, state) in states {
                    self.metrics.observe_state(&id, &state);
                }
            }
            Ok(Err(e)) => {
                if self.notices.first("metrics_store", "") {
                    tracing::warn!(error = %crate::error_chain::chain(&e),
                        "cannot read the state store for the metrics it backs; they keep their last values (logged once)");
                }
            }
            Err(e) => tracing::warn!(error = %e, "the metrics' state store read failed"),
        }
    }

    /// The status page's data: the store through the read-only connection, off the async
    /// workers; the queue and readiness from memory.
    async fn status_doc(self: Arc<Self>) -> Option<page::StatusDoc> {
        let s = Arc::clone(&self);
        tokio::task::spawn_blocking(move || {
            let page = s.page.as_ref()?;
            let now = chrono::Utc::now();
            let live = |id: &str| page::Live {
                hint_queue_depth: s.queue.depth_of(id),
                missing_permissions: s.readiness.missing(id),
            };
            let ids = s.tenant_ids();
            let unread = |e: String| {
                ids.iter()
                    .map(|id| page::TenantStatus::read(id, Err(e.clone()), page, live(id), now))
                    .collect()
            };
            let tenants = match &s.store {
                None => unread("the state store is not open".into()),
                Some(store) => store
                    .read(|r| {
                        Ok(ids
                            .iter()
                            .map(|id| page::TenantStatus::read(id, Ok(r), page, live(id), now))
                            .collect())
                    })
                    .unwrap_or_else(|e| unread(crate::error_chain::chain(&e).to_string())),
            };
            Some(page::StatusDoc::new(tenants, now))
        })
        .await
        .ok()
        .flatten()
    }
}

/// Headers of the status page: nothing loads from elsewhere, nothing runs, nothing is cached,
/// and a click on a Lever link does not tell Lever where the page lives.
fn page_headers(content_type: &'static str) -> [(header::HeaderName, &'static str); 5] {
    [
        (header::CONTENT_TYPE, content_type),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ]
}

async fn status_page(State(s): State<Arc<Shared>>) -> Response {
    match s.status_doc().await {
        Some(doc) => (page_headers("text/html; charset=utf-8"), page::render(&doc)).into_response(),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn status_json(State(s): State<Arc<Shared>>) -> Response {
    match s.status_doc().await {
        Some(doc) => match serde_json::to_string_pretty(&doc) {
            Ok(body) => (page_headers("application/json"), body).into_response(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
