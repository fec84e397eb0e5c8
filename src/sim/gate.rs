//! The axum middleware every simulator request passes through: accounting, faults,
//! authentication, rate limiting and holds, in that order around the route handler.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio_util::sync::CancellationToken;

use super::accounting::{Accounting, RequestRecord};
use super::faults::{After, Before, Faults, PageDefect};
use super::hold::Holds;
use super::ratelimit::Throttle;

/// Which service's error conventions to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `{"code": ..., "message": ...}`
    Lever,
    /// DRF: `{"detail": ...}`; 5xx as Django's HTML pages.
    Willo,
}

/// What a simulator's authority says about a request's credentials.
pub(crate) enum AuthDecision {
    /// Needs no credential (OAuth endpoints); not counted as an API request.
    Public,
    /// Valid credential; `bucket` names the rate-limit bucket it draws from.
    Allowed { credential: String, bucket: String },
    /// Missing or rejected credential.
    Denied {
        credential: Option<String>,
        message: &'static str,
    },
}

/// Who made an authenticated request; the gate puts it in the request's extensions so
/// handlers can check per-credential permissions (Lever endpoint sets, Willo user roles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    /// The credential presented (API key, bearer token, Willo key).
    pub(crate) credential: String,
    /// The authority's name for it (`key:<key>`, `grant:<n>`, the Willo key).
    pub(crate) bucket: String,
}

/// Checks credentials against a simulator's world.
pub(crate) trait Authority: Send + Sync + 'static {
    /// `route` is the matched route template, `None` when no route matched.
    fn authenticate(&self, headers: &HeaderMap, route: Option<&str>) -> AuthDecision;
}

/// Shared state of the middleware.
pub(crate) struct Gate {
    pub(crate) flavor: Flavor,
    pub(crate) accounting: Arc<Accounting>,
    pub(crate) faults: Arc<Faults>,
    pub(crate) holds: Arc<Holds>,
    pub(crate) throttle: Throttle,
    /// `Retry-After` seconds on the rate limiter's 429s (`None` = no header).
    pub(crate) retry_after: Mutex<Option<u64>>,
    pub(crate) authority: Arc<dyn Authority>,
    pub(crate) shutdown: CancellationToken,
}

/// An error body in the flavor's conventions.
pub(crate) fn error_response(
    flavor: Flavor,
    status: StatusCode,
    message: &str,
    retry_after: Option<u64>,
) -> Response {
    let mut resp = match flavor {
        Flavor::Lever => {
            let code = match status.as_u16() {
                400 => "BadRequestError",
                401 => "UnauthorizedError",
                403 => "ForbiddenError",
                404 => "ResourceNotFound",
                422 => "UnprocessableEntityError",
                429 => "TooManyRequests",
                500 => "InternalServerError",
                503 => "ServiceUnavailable",
                _ => "Error",
            };
            (
                status,
                axum::Json(serde_json::json!({"code": code, "message": message})),
            )
                .into_response()
        }
        Flavor::Willo if status.is_server_error() => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            format!(
                "<!doctype html>\n<html lang=\"en\">\n<head><title>Server Error ({code})</title></head>\n<body><h1>Server Error ({code})</h1><p></p></body>\n</html>\n",
                code = status.as_u16()
            ),
        )
            .into_response(),
        Flavor::Willo => (
            status,
            axum::Json(serde_json::json!({"detail": message})),
        )
            .into_response(),
    };
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

fn throttled(flavor: Flavor, retry_after: Option<u64>) -> Response {
    let message = match (flavor, retry_after) {
        (Flavor::Lever, _) => "Rate limit exceeded".to_owned(),
        (Flavor::Willo, Some(s)) => format!(
            "Request was throttled. Expected available in {s} second{}.",
            if s == 1 { "" } else { "s" }
        ),
        (Flavor::Willo, None) => "Request was throttled.".to_owned(),
    };
    error_response(flavor, StatusCode::TOO_MANY_REQUESTS, &message, retry_after)
}

fn default_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        500 => "An unexpected error occurred",
        502 => "Bad gateway",
        503 => "The service is temporarily unavailable",
        _ => status.canonical_reason().unwrap_or("Error"),
    }
}

/// The middleware function (use with `axum::middleware::from_fn_with_state`).
pub(crate) async fn gate(State(gate): State<Arc<Gate>>, req: Request, next: Next) -> Response {
    let at = Instant::now();
    let method = req.method().as_str().to_owned();
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let route = matched.clone().unwrap_or_else(|| "<unmatched>".to_owned());
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);

    let decision = gate.faults.decide(&method, &route, &path);
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }

    let auth = gate
        .authority
        .authenticate(req.headers(), matched.as_deref());
    let (credential, bucket, api) = match &auth {
        AuthDecision::Public => (None, None, false),
        AuthDecision::Allowed { credential, bucket } => (
            Some(credential.clone()),
            Some(bucket.clone()),
            matched.is_some(),
        ),
        AuthDecision::Denied { credential, .. } => (credential.clone(), None, matched.is_some()),
    };

    // Latency combines with any other fault; the other fault's label wins.
    let mut fault = (!decision.latency.is_zero())
        .then(|| format!("latency {}ms", decision.latency.as_millis()));
    let mut held = None;
    let response = if let AuthDecision::Denied { message, .. } = auth {
        error_response(gate.flavor, StatusCode::UNAUTHORIZED, message, None)
    } else if let Some(before) = decision.before {
        match before {
            Before::Status(code) => {
                fault = Some(format!("status {code}"));
                let status =
                    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                error_response(gate.flavor, status, default_message(status), None)
            }
            Before::TooMany(retry_after) => {
                fault = Some("429".to_owned());
                throttled(gate.flavor, retry_after)
            }
        }
    } else if bucket.as_deref().is_some_and(|b| !gate.throttle.admit(b)) {
        let retry_after = *gate.retry_after.lock().unwrap_or_else(|e| e.into_inner());
        throttled(gate.flavor, retry_after)
    } else {
        let mut req = req;
        if let (Some(credential), Some(bucket)) = (&credential, &bucket) {
            req.extensions_mut().insert(Caller {
                credential: credential.clone(),
                bucket: bucket.clone(),
            });
        }
        let resp = next.run(req).await;
        held = gate.holds.check(&method, &route);
        match decision.after {
            None => resp,
            Some(after) => {
                let (label, shaped) = shape(gate.flavor, after, resp).await;
                fault = Some(label);
                shaped
            }
        }
    };

    gate.accounting.push(RequestRecord {
        seq: 0,
        method,
        route,
        path,
        query,
        status: response.status().as_u16(),
        credential,
        at,
        server_time: at.elapsed(),
        fault,
        api,
    });

    if let Some(held) = held {
        tokio::select! {
            () = held.wait() => {}
            () = gate.shutdown.cancelled() => {}
        }
    }
    response
}

/// Applies an after-the-handler fault to the handler's response.
async fn shape(flavor: Flavor, after: After, resp: Response) -> (String, Response) {
    match after {
        After::Malformed(defect) => {
            let (parts, bytes) = collect(resp).await;
            let items = match flavor {
                Flavor::Lever => "data",
                Flavor::Willo => "results",
            };
            let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Ok(serde_json::Value::Object(mut page))
                    if parts.status.is_success()
                        && page.get(items).is_some_and(serde_json::Value::is_array) =>
                {
                    let broken = match defect {
                        PageDefect::MissingItems => {
                            page.remove(items);
                            serde_json::Value::Object(page)
                        }
                        PageDefect::ItemsObject => {
                            page.insert(items.to_owned(), serde_json::json!({}));
                            serde_json::Value::Object(page)
                        }
                        PageDefect::ItemsNull => {
                            page.insert(items.to_owned(), serde_json::Value::Null);
                            serde_json::Value::Object(page)
                        }
                        PageDefect::BareArray => page
                            .remove(items)
                            .unwrap_or(serde_json::Value::Array(Vec::new())),
                    };
                    Bytes::from(serde_json::to_vec(&broken).unwrap_or_default())
                }
                // Not a list page: nothing to break.
                _ => bytes,
            };
            (
                "malformed page".to_owned(),
                Response::from_parts(parts, Body::from(body)),
            )
        }
        After::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                format!("status {code} after apply"),
                error_response(flavor, status, default_message(status), None),
            )
        }
        After::Truncate(keep) => {
            let (parts, bytes) = collect(resp).await;
            let n = ((bytes.len() as f64) * keep.clamp(0.0, 1.0)) as usize;
            let n = n.min(bytes.len().saturating_sub(1));
            (
                "truncate".to_owned(),
                Response::from_parts(parts, Body::from(bytes.slice(..n))),
            )
        }
        After::Drop(after_bytes) => {
            let (mut parts, bytes) = collect(resp).await;
            // Announce the full length, send less, then fail the stream: hyper closes the
            // connection and the client sees an incomplete message, never a clean response.
            let declared = bytes.len().max(after_bytes + 1);
            let sent = bytes.slice(..after_bytes.min(bytes.len().saturating_sub(1)));
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(declared));
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(sent),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "simulated connection drop",
                )),
            ];
            (
                "drop".to_owned(),
                Response::from_parts(parts, Body::from_stream(futures::stream::iter(chunks))),
            )
        }
    }
}

async fn collect(resp: Response) -> (axum::http::response::Parts, Bytes) {
    let (mut parts, body) = resp.into_parts();
    // The simulators' own handlers build in-memory bodies, which cannot fail to collect.
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    (parts, bytes)
}
