//! Helpers shared by the simulator tests: an HTTP client and a scripted webhook receiver.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};

thread_local! {
    // One per test thread (each #[tokio::test] has its own thread and runtime), so pooled
    // connections never outlive the runtime that made them.
    static CLIENT: reqwest::Client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
}

/// A client that never follows redirects (so 3xx are visible) and never leaves 127.0.0.1.
pub fn client() -> reqwest::Client {
    CLIENT.with(Clone::clone)
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Hit {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone, Default)]
struct RxState {
    hits: Arc<Mutex<Vec<Hit>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
    followed: Arc<Mutex<usize>>,
}

/// A webhook receiver answering the scripted statuses in order, then 200.
/// A 3xx answer points `Location` at `/followed`, which counts visits.
pub struct Receiver {
    pub origin: String,
    state: RxState,
}

async fn receive(
    State(s): State<RxState>,
    uri: axum::http::Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    s.hits.lock().unwrap().push(Hit {
        path: uri.path().to_owned(),
        query,
        headers,
        body,
    });
    let status = s.script.lock().unwrap().pop_front().unwrap_or(200);
    let status = StatusCode::from_u16(status).unwrap();
    if status.is_redirection() {
        (status, [(header::LOCATION, "/followed")]).into_response()
    } else {
        status.into_response()
    }
}

async fn followed(State(s): State<RxState>) -> StatusCode {
    *s.followed.lock().unwrap() += 1;
    StatusCode::OK
}

impl Receiver {
    pub async fn start(script: &[u16]) -> Receiver {
        let state = RxState::default();
        state.script.lock().unwrap().extend(script.iter().copied());
        let app = Router::new()
            .route("/followed", any(followed))
            .route("/hook", post(receive))
            .route("/hook/{*rest}", post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { origin, state }
    }

    /// `{origin}/hook`
    pub fn url(&self) -> String {
        format!("{}/hook", self.origin)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.state.hits.lock().unwrap().clone()
    }

    pub fn followed(&self) -> usize {
        *self.state.followed.lock().unwrap()
    }
}

/// Waits for a future with a generous deadline, failing the test instead of hanging it.
pub async fn within<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("timed out waiting")
}
