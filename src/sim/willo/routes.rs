//! The Willo simulator's HTTP surface under `/api/integrations/v2`, in Django REST
//! framework's conventions (trailing slashes, page-number pagination, field errors).

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::model::{interview_json, participant_json};
use super::world::{NewParticipant, WilloWorld};
use crate::sim::gate::{AuthDecision, Authority};
use crate::sim::query::QueryParams;
use crate::sim::webhook::WebhookSender;

/// The API's path prefix.
pub(crate) const BASE: &str = "/api/integrations/v2";

/// State shared by the handlers, the gate and the control API.
pub(crate) struct WilloShared {
    pub(crate) world: Mutex<WilloWorld>,
    pub(crate) origin: String,
    pub(crate) webhooks: Arc<WebhookSender>,
}

impl WilloShared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, WilloWorld> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Authority for WilloShared {
    fn authenticate(&self, headers: &HeaderMap, route: Option<&str>) -> AuthDecision {
        // Django resolves the URL before any view authenticates: unknown paths 404 (or
        // redirect to the slash form) without credentials.
        if route.is_none() {
            return AuthDecision::Public;
        }
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return AuthDecision::Denied {
                credential: None,
                message: "Authentication credentials were not provided.",
            };
        };
        let key = value.trim().to_owned();
        let world = self.lock();
        if !world.revoked && world.api_keys.contains(&key) {
            AuthDecision::Allowed {
                bucket: key.clone(),
                credential: key,
            }
        } else {
            AuthDecision::Denied {
                credential: Some(key),
                message: "Invalid token.",
            }
        }
    }
}

type Shared = State<Arc<WilloShared>>;

fn detail(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"detail": message}))).into_response()
}

/// Builds the router (the gate is layered on by the harness).
pub(crate) fn router(shared: Arc<WilloShared>) -> Router {
    Router::new()
        .route(&format!("{BASE}/interviews/"), get(list_interviews))
        .route(&format!("{BASE}/interviews/{{key}}/"), get(get_interview))
        .route(
            &format!("{BASE}/participants/"),
            get(list_participants).post(create_participant),
        )
        .route(
            &format!("{BASE}/participants/{{key}}/"),
            get(get_participant),
        )
        .fallback(fallback)
        .with_state(shared)
}

/// Django's APPEND_SLASH: a GET without the trailing slash is redirected to it.
async fn fallback(method: axum::http::Method, uri: Uri) -> Response {
    let path = uri.path();
    if method == axum::http::Method::GET && !path.ends_with('/') && path.starts_with(BASE) {
        let location = match uri.query() {
            Some(q) => format!("{path}/?{q}"),
            None => format!("{path}/"),
        };
        return (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, location)],
        )
            .into_response();
    }
    detail(StatusCode::NOT_FOUND, "Not found.")
}

/// DRF `PageNumberPagination`: `page` (1-based or `last`), `page_size` (a non-positive or
/// non-numeric value falls back to the default; larger than the maximum is clamped).
fn paginate(
    items: Vec<Value>,
    q: &QueryParams,
    absolute_path: &str,
    default_size: usize,
    max_size: usize,
) -> Response {
    match paginate_value(items, q, absolute_path, default_size, max_size) {
        Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
        Err(m) => detail(StatusCode::NOT_FOUND, m),
    }
}

pub(crate) fn paginate_value(
    items: Vec<Value>,
    q: &QueryParams,
    absolute_path: &str,
    default_size: usize,
    max_size: usize,
) -> Result<Value, &'static str> {
    let size = q
        .first("page_size")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .map_or(default_size, |n| n.min(max_size))
        .max(1);
    let count = items.len();
    let pages = count.div_ceil(size).max(1);
    let page = match q.first("page") {
        None => 1,
        Some("last") => pages,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=pages).contains(&n) => n,
            _ => return Err("Invalid page."),
        },
    };
    let url = |query: String| {
        if query.is_empty() {
            absolute_path.to_owned()
        } else {
            format!("{absolute_path}?{query}")
        }
    };
    let next = (page < pages).then(|| url(q.with("page", Some(&(page + 1).to_string()))));
    let previous = (page > 1).then(|| {
        if page == 2 {
            url(q.with("page", None))
        } else {
            url(q.with("page", Some(&(page - 1).to_string())))
        }
    });
    let results: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .collect();
    Ok(json!({"count": count, "next": next, "previous": previous, "results": results}))
}

fn absolute(s: &WilloShared, headers: &HeaderMap, path: &str) -> String {
    match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        Some(host) => format!("http://{host}{path}"),
        None => format!("{}{path}", s.origin),
    }
}

async fn list_interviews(
    State(s): Shared,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Response {
    let q = QueryParams::parse(q.as_deref());
    let w = s.lock();
    let items = w
        .interviews
        .iter()
        .filter(|i| !i.removed)
        .map(interview_json)
        .collect();
    paginate(
        items,
        &q,
        &absolute(&s, &headers, uri.path()),
        w.settings.default_page_size,
        w.settings.max_page_size,
    )
}

async fn get_interview(State(s): Shared, Path(key): Path<String>) -> Response {
    match s.lock().open_interview(&key) {
        Some(i) => (StatusCode::OK, axum::Json(interview_json(i))).into_response(),
        None => detail(StatusCode::NOT_FOUND, "Not found."),
    }
}

pub(crate) fn render(w: &WilloWorld, p: &super::model::Participant) -> Value {
    participant_json(
        p,
        w.interview(&p.interview),
        w.settings.state_form,
        w.settings.interview_form,
    )
}

async fn list_participants(
    State(s): Shared,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Response {
    let q = QueryParams::parse(q.as_deref());
    let w = s.lock();
    let filter = q
        .first("interview")
        .filter(|_| !w.settings.ignore_interview_filter);
    let items = w
        .participants_of(filter)
        .into_iter()
        .map(|p| render(&w, p))
        .collect();
    paginate(
        items,
        &q,
        &absolute(&s, &headers, uri.path()),
        w.settings.default_page_size,
        w.settings.max_page_size,
    )
}

async fn get_participant(State(s): Shared, Path(key): Path<String>) -> Response {
    let w = s.lock();
    match w.participant(&key) {
        Some(p) => (StatusCode::OK, axum::Json(render(&w, p))).into_response(),
        None => detail(StatusCode::NOT_FOUND, "Not found."),
    }
}

/// DRF field validation of `POST /participants/`; every field's errors at once.
fn validate(body: &Value, w: &WilloWorld) -> Result<NewParticipant, Map<String, Value>> {
    let mut errors = Map::new();
    let mut err = |field: &str, message: String| {
        errors.insert(field.to_owned(), json!([message]));
    };
    let required_str = |field: &str, err: &mut dyn FnMut(&str, String)| -> Option<String> {
        match body.get(field) {
            None => err(field, "This field is required.".into()),
            Some(Value::Null) => err(field, "This field may not be null.".into()),
            Some(Value::String(s)) if s.trim().is_empty() => {
                err(field, "This field may not be blank.".into())
            }
            Some(Value::String(s)) => return Some(s.trim().to_owned()),
            Some(Value::Number(n)) => return Some(n.to_string()),
            Some(_) => err(field, "Not a valid string.".into()),
        }
        None
    };
    let interview = match body.get("interview") {
        None => {
            err("interview", "This field is required.".into());
            None
        }
        Some(Value::Null) => {
            err("interview", "This field may not be null.".into());
            None
        }
        Some(Value::String(k)) if w.open_interview(k).is_some() => Some(k.clone()),
        Some(Value::String(k)) => {
            err(
                "interview",
                format!("Invalid pk \"{k}\" - object does not exist."),
            );
            None
        }
        Some(other) => {
            let kind = match other {
                Value::Bool(_) => "bool",
                Value::Number(_) => "int",
                Value::Array(_) => "list",
                _ => "dict",
            };
            err(
                "interview",
                format!("Incorrect type. Expected pk value, received {kind}."),
            );
            None
        }
    };
    let name = required_str("name", &mut err);
    let email = required_str("email", &mut err);
    if let Some(e) = &email {
        let valid = e
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.ends_with('.'));
        if !valid {
            err("email", "Enter a valid email address.".into());
        }
    }
    let optional = |field: &str| body.get(field).and_then(Value::as_str).map(str::to_owned);
    match (interview, name, email) {
        (Some(interview), Some(name), Some(email)) if errors.is_empty() => Ok(NewParticipant {
            interview,
            name,
            first_name: optional("first_name"),
            last_name: optional("last_name"),
            email,
            phone: optional("phone"),
            external_id: optional("external_id"),
        }),
        _ => Err(errors),
    }
}

async fn create_participant(State(s): Shared, body: Bytes) -> Response {
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return detail(StatusCode::BAD_REQUEST, &format!("JSON parse error - {e}"));
        }
    };
    if !value.is_object() {
        // DRF names the Python type it received.
        let got = match &value {
            Value::Array(_) => "list",
            Value::String(_) => "str",
            Value::Bool(_) => "bool",
            Value::Number(n) if n.is_f64() => "float",
            Value::Number(_) => "int",
            _ => "NoneType",
        };
        let message = format!("Invalid data. Expected a dictionary, but got {got}.");
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"non_field_errors": [message]})),
        )
            .into_response();
    }
    let mut w = s.lock();
    let new = match validate(&value, &w) {
        Ok(n) => n,
        Err(errors) => {
            return (StatusCode::BAD_REQUEST, axum::Json(Value::Object(errors))).into_response();
        }
    };
    match w.create_participant(new) {
        Ok(key) => match w.participant(&key) {
            Some(p) => (StatusCode::CREATED, axum::Json(render(&w, p))).into_response(),
            None => detail(StatusCode::INTERNAL_SERVER_ERROR, "participant vanished"),
        },
        Err(e) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"interview": [e.to_string()]})),
        )
            .into_response(),
    }
}
