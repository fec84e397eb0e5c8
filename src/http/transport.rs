//! One transport per tenant and API (over a shared client, see `connections`): pacing, timing,
//! classification and retries.
//!
//! Invariants:
//! - every attempt (each retry included) waits on the limiter and is reported to the observer
//!   exactly once;
//! - a non-idempotent call is retried only when the server provably did not act on it
//!   (connection never established, or 429); any other failure after it may have been sent is
//!   `Ambiguous`;
//! - errors never carry URLs, headers or bodies we sent.

use std::future::Future;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use url::Url;

use super::config::HttpConfig;
use super::connections;
use super::error::{ApiError, BuildError};
use super::limiter::Limiter;
use super::observer::{Api, ApiObserver, Attempt, StatusClass};
use super::retry::{self, RetryPolicy};
use super::retry_after::requested_wait;

/// Reads an API's error body into one readable line (Lever `{code,message}`, Willo DRF errors).
pub type MessageReader = fn(&[u8]) -> Option<String>;

/// Whether repeating the request is harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// GETs and set-semantics writes (Lever addTags/removeTags): retried on transient failures.
    Idempotent,
    /// Creates (Willo participants, Lever notes, OAuth refreshes): an unknown outcome is
    /// `Ambiguous`, never retried here.
    NonIdempotent,
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    Json(Bytes),
    /// `application/x-www-form-urlencoded` pairs (OAuth token endpoint).
    Form(Vec<(&'static str, String)>),
}

/// One logical API call (retries reuse it).
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub url: Url,
    /// Route template for metrics and errors, e.g. `"/opportunities/{id}/addTags"`.
    pub route: &'static str,
    pub body: Body,
    pub idempotency: Idempotency,
}

impl Call {
    pub fn get(url: Url, route: &'static str) -> Call {
        Call {
            method: Method::GET,
            url,
            route,
            body: Body::Empty,
            idempotency: Idempotency::Idempotent,
        }
    }

    /// A JSON POST; `idempotency` says whether it may be repeated.
    pub fn post_json(
        url: Url,
        route: &'static str,
        body: &impl serde::Serialize,
        idempotency: Idempotency,
    ) -> Call {
        // Serialising our own plain structs cannot fail; an empty body would be refused loudly.
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        Call {
            method: Method::POST,
            url,
            route,
            body: Body::Json(Bytes::from(bytes)),
            idempotency,
        }
    }
}

/// A successful (2xx) response, body fully read.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Bytes,
}

pub struct Transport {
    api: Api,
    /// Shared with every transport of this runtime that has the same timeouts.
    http: Arc<reqwest::Client>,
    limiter: Limiter,
    observer: Arc<dyn ApiObserver>,
    retry: RetryPolicy,
    read_message: MessageReader,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("api", &self.api)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub fn new(
        api: Api,
        config: &HttpConfig,
        observer: Arc<dyn ApiObserver>,
        read_message: MessageReader,
    ) -> Result<Transport, BuildError> {
        let http = connections::client(config.connect_timeout, config.request_timeout)?;
        Ok(Transport {
            api,
            http,
            limiter: Limiter::new(config.requests_per_second, config.burst),
            observer,
            retry: config.retry,
            read_message,
        })
    }

    pub fn api(&self) -> Api {
        self.api
    }

    /// Runs `call` with retries. `auth` is asked for the `Authorization` header before every
    /// attempt (an OAuth token may be refreshed between attempts).
    pub async fn execute<A, Fut>(&self, call: &Call, auth: A) -> Result<Reply, ApiError>
    where
        A: Fn() -> Fut,
        Fut: Future<Output = Result<Option<HeaderValue>, ApiError>>,
    {
        let result = retry::run(&self.retry, || async {
            let header = auth().await?;
            self.attempt(call, header).await
        })
        .await;
        if let Err(e) = &result {
            self.observer.on_call_failed(self.api, call.route, e);
        }
        result
    }

    /// Exactly one HTTP attempt: limiter, send, read the whole body, report, classify.
    async fn attempt(&self, call: &Call, auth: Option<HeaderValue>) -> Result<Reply, ApiError> {
        self.limiter.wait().await;
        let mut req = self.http.request(call.method.clone(), call.url.clone());
        if let Some(mut value) = auth {
            value.set_sensitive(true);
            req = req.header(AUTHORIZATION, value);
        }
        req = match &call.body {
            Body::Empty => req,
            Body::Json(bytes) => req
                .header(CONTENT_TYPE, "application/json")
                .body(bytes.clone()),
            Body::Form(pairs) => req.form(pairs),
        };
        let started = Instant::now();
        let outcome = async {
            let resp = req.send().await?;
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = resp.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        }
        .await;
        let latency = started.elapsed();
        let class = match &outcome {
            Ok((status, _, _)) => StatusClass::from_status(status.as_u16()),
            Err(_) => StatusClass::Error,
        };
        self.observer.on_attempt(&Attempt {
            api: self.api,
            route: call.route,
            method: call.method.as_str(),
            status: class,
            latency,
        });
        match outcome {
            Ok((status, headers, body)) => self.classify(call, status, &headers, body),
            Err(e) => Err(self.transport_error(call, &e)),
        }
    }

    fn classify(
        &self,
        call: &Call,
        status: StatusCode,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Reply, ApiError> {
        let (api, route) = (self.api, call.route);
        let code = status.as_u16();
        if status.is_success() {
            return Ok(Reply { status, body });
        }
        let message = || (self.read_message)(&body).unwrap_or_else(|| snippet(&body, status));
        Err(match code {
            401 => ApiError::Unauthorized {
                api,
                route,
                status: code,
                message: message(),
            },
            // The credentials work; a permission is missing. The client names which.
            403 => ApiError::Forbidden {
                api,
                route,
                message: message(),
                grant: None,
            },
            404 => ApiError::NotFound {
                api,
                route,
                message: message(),
            },
            // The server refused before acting, so even a create may be sent again.
            429 => ApiError::RateLimited {
                api,
                route,
                retry_after: requested_wait(headers, SystemTime::now()),
            },
            500 | 502 | 503 | 504 => match call.idempotency {
                Idempotency::Idempotent => ApiError::Transient {
                    api,
                    route,
                    status: Some(code),
                    reason: format!("HTTP {code}: {}", message()),
                    retry_after: requested_wait(headers, SystemTime::now()),
                },
                Idempotency::NonIdempotent => ApiError::Ambiguous {
                    api,
                    route,
                    reason: format!("HTTP {code} after the request was sent: {}", message()),
                },
            },
            300..=399 => ApiError::Rejected {
                api,
                route,
                status: code,
                message: "unexpected redirect; check the configured base URL (regional host?)"
                    .into(),
            },
            _ => ApiError::Rejected {
                api,
                route,
                status: code,
                message: message(),
            },
        })
    }

    fn transport_error(&self, call: &Call, e: &reqwest::Error) -> ApiError {
        let (api, route) = (self.api, call.route);
        let reason = describe(e);
        // No connection means nothing was sent: safe to repeat even a create.
        if e.is_connect() || call.idempotency == Idempotency::Idempotent {
            ApiError::Transient {
                api,
                route,
                status: None,
                reason,
                retry_after: None,
            }
        } else {
            ApiError::Ambiguous { api, route, reason }
        }
    }
}

/// A one-line description of a transport failure: its kind and root cause, never the URL.
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "response body cut short"
    } else {
        "request failed"
    };
    format!("{kind}: {}", root_cause(e))
}

/// The innermost error's message (reqwest's own Display would include the URL).
pub(super) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    let text = cur.to_string();
    // Defensive: if the innermost error is reqwest's own, strip the "for url (...)" part.
    match text.find(" for url (") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// The start of an error body that no reader understood, on one line.
fn snippet(body: &[u8], status: StatusCode) -> String {
    let text = String::from_utf8_lossy(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        return status.canonical_reason().unwrap_or("no message").to_owned();
    }
    let mut out: String = line.chars().take(160).collect();
    if line.chars().count() > 160 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::observer::NoopObserver;

    fn transport(api: Api) -> Transport {
        Transport::new(api, &HttpConfig::lever(), Arc::new(NoopObserver), |_| None).unwrap()
    }

    fn call(idempotency: Idempotency) -> Call {
        Call {
            method: Method::POST,
            url: Url::parse("http://127.0.0.1:9/x").unwrap(),
            route: "/x",
            body: Body::Empty,
            idempotency,
        }
    }

    fn classify(
        idem: Idempotency,
        code: u16,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<Reply, ApiError> {
        let t = transport(Api::Willo);
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        t.classify(
            &call(idem),
            StatusCode::from_u16(code).unwrap(),
            &h,
            Bytes::from(body.to_owned()),
        )
    }

    #[test]
    fn statuses_map_to_kinds() {
        use Idempotency::*;
        let label = |i, c| classify(i, c, &[], "").err().map(|e| e.metric_label());
        assert_eq!(label(Idempotent, 200), None);
        assert_eq!(label(Idempotent, 201), None);
        assert_eq!(label(Idempotent, 401), Some("unauthorized"));
        assert_eq!(label(Idempotent, 403), Some("forbidden"));
        assert_eq!(label(NonIdempotent, 403), Some("forbidden"));
        assert_eq!(label(Idempotent, 404), Some("not_found"));
        assert_eq!(label(Idempotent, 400), Some("rejected"));
        assert_eq!(label(Idempotent, 422), Some("rejected"));
        assert_eq!(label(Idempotent, 301), Some("rejected"));
        assert_eq!(label(Idempotent, 501), Some("rejected"));
        for code in [500, 502, 503, 504] {
            assert_eq!(label(Idempotent, code), Some("transient"));
            assert_eq!(label(NonIdempotent, code), Some("ambiguous"));
        }
        assert_eq!(label(Idempotent, 429), Some("rate_limited"));
        assert_eq!(label(NonIdempotent, 429), Some("rate_limited"));
    }

    #[test]
    fn rate_limit_carries_the_requested_wait() {
        match classify(Idempotency::NonIdempotent, 429, &[("Retry-After", "4")], "").unwrap_err() {
            ApiError::RateLimited { retry_after, .. } => {
                assert_eq!(retry_after, Some(std::time::Duration::from_secs(4)))
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn unreadable_error_bodies_become_a_short_single_line() {
        let long = format!("<html>\n  <body>{}</body></html>", "x".repeat(500));
        match classify(Idempotency::Idempotent, 400, &[], &long).unwrap_err() {
            ApiError::Rejected { message, .. } => {
                assert!(message.starts_with("<html> <body>xx"));
                assert!(message.chars().count() <= 161);
            }
            other => panic!("unexpected {other}"),
        }
        match classify(Idempotency::Idempotent, 400, &[], "").unwrap_err() {
            ApiError::Rejected { message, .. } => assert_eq!(message, "Bad Request"),
            other => panic!("unexpected {other}"),
        }
    }

    #[tokio::test]
    async fn refused_connection_is_transient_even_for_a_create() {
        // A port that was just free: the connection is refused, so nothing was sent.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut config = HttpConfig::lever();
        config.retry.max_elapsed = std::time::Duration::ZERO;
        let t = Transport::new(Api::Willo, &config, Arc::new(NoopObserver), |_| None).unwrap();
        let mut c = call(Idempotency::NonIdempotent);
        c.url = Url::parse(&format!("http://127.0.0.1:{port}/x")).unwrap();
        let err = t.execute(&c, || async { Ok(None) }).await.unwrap_err();
        assert_eq!(err.metric_label(), "transient", "{err}");
        assert!(!err.to_string().contains("127.0.0.1"), "{err}");
    }

    /// Records the calls reported as failed.
    #[derive(Default)]
    struct Failures(std::sync::Mutex<Vec<(Api, String, &'static str)>>);

    impl ApiObserver for Failures {
        fn on_attempt(&self, _: &Attempt<'_>) {}
        fn on_call_failed(&self, api: Api, route: &str, error: &ApiError) {
            self.0
                .lock()
                .unwrap()
                .push((api, route.to_owned(), error.metric_label()));
        }
    }

    #[tokio::test]
    async fn a_call_that_fails_for_good_is_reported_once_with_its_kind() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut config = HttpConfig::lever();
        config.retry.max_elapsed = std::time::Duration::ZERO;
        let failures = Arc::new(Failures::default());
        let t = Transport::new(Api::Lever, &config, failures.clone(), |_| None).unwrap();
        let mut c = call(Idempotency::Idempotent);
        c.url = Url::parse(&format!("http://127.0.0.1:{port}/x")).unwrap();
        t.execute(&c, || async { Ok(None) }).await.unwrap_err();
        assert_eq!(
            *failures.0.lock().unwrap(),
            [(Api::Lever, "/x".to_owned(), "transient")]
        );
    }
}
