//! The Willo simulator's HTTP surface under `/api/integrations/v2`, in Django REST
//! framework's conventions (trailing slashes, page-number pagination, field errors).

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::json::{interview_json, participant_json};
use super::page::{absolute, paginate};
use super::variants::{ListEnvelope, NonAdminListing};
use super::world::{NewParticipant, Scope, WilloWorld};
use crate::sim::gate::{AuthDecision, Authority, Caller};
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
        if !world.revoked && world.api_keys.contains_key(&key) {
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

type Who = Extension<Caller>;

/// A list answer: DRF's page, or the bare array of every row (the variant).
fn list_answer(
    w: &WilloWorld,
    q: &QueryParams,
    absolute_path: &str,
    count: usize,
    render: impl Fn(usize) -> Option<Value>,
) -> Response {
    if w.settings.envelope == ListEnvelope::BareArray {
        let all: Vec<Value> = (0..count).filter_map(&render).collect();
        return (StatusCode::OK, axum::Json(Value::Array(all))).into_response();
    }
    match paginate(
        count,
        q,
        absolute_path,
        w.settings.default_page_size,
        w.settings.max_page_size,
        |range| range.filter_map(&render).collect(),
    ) {
        Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
        Err(m) => detail(StatusCode::NOT_FOUND, m),
    }
}

fn links_base(s: &WilloShared, w: &WilloWorld, headers: &HeaderMap, path: &str) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    absolute(&w.settings.links, host, &s.origin, path)
}

/// DRF's 403 for a standard user's listings (the variant).
struct Forbidden;

impl IntoResponse for Forbidden {
    fn into_response(self) -> Response {
        detail(
            StatusCode::FORBIDDEN,
            "You do not have permission to perform this action.",
        )
    }
}

/// The caller's scope, or 403 when a standard user's listings are refused (the variant).
fn list_scope(w: &WilloWorld, caller: &Caller) -> Result<Scope, Forbidden> {
    let scope = w.scope_of(&caller.credential);
    if scope != Scope::All && w.settings.non_admin == NonAdminListing::Forbidden {
        return Err(Forbidden);
    }
    Ok(scope)
}

/// `GET /interviews/` filters (unless the variant ignores them): `department` key, `owner`
/// user key, `search` in the title, the owner's email and the department name.
fn interview_matches(w: &WilloWorld, q: &QueryParams, i: &super::model::Interview) -> bool {
    if w.settings.ignore_interview_list_filters {
        return true;
    }
    let department = q.first("department").filter(|v| !v.is_empty());
    let owner = q.first("owner").filter(|v| !v.is_empty());
    let search = q
        .first("search")
        .map(|v| v.trim().to_lowercase())
        .filter(|v| !v.is_empty());
    department.is_none_or(|d| i.department.as_deref() == Some(d))
        && owner.is_none_or(|o| i.owner.key == o)
        && search.is_none_or(|needle| {
            let department_name = i
                .department
                .as_deref()
                .and_then(|d| w.department(d))
                .map(|d| d.name.to_lowercase());
            i.title.to_lowercase().contains(&needle)
                || i.owner.email.to_lowercase().contains(&needle)
                || department_name.is_some_and(|n| n.contains(&needle))
        })
}

async fn list_interviews(
    State(s): Shared,
    Extension(c): Who,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Response {
    let q = QueryParams::parse(q.as_deref());
    let w = s.lock();
    let scope = match list_scope(&w, &c) {
        Ok(scope) => scope,
        Err(refused) => return refused.into_response(),
    };
    let rows: Vec<&super::model::Interview> = w
        .interviews
        .iter()
        .filter(|i| w.listed(i) && scope.sees(i) && interview_matches(&w, &q, i))
        .collect();
    let base = links_base(&s, &w, &headers, uri.path());
    list_answer(&w, &q, &base, rows.len(), |n| {
        rows.get(n).map(|i| interview_json(&w, i))
    })
}

async fn get_interview(State(s): Shared, Extension(c): Who, Path(key): Path<String>) -> Response {
    let w = s.lock();
    let scope = w.scope_of(&c.credential);
    match w.open_interview(&key).filter(|i| scope.sees(i)) {
        Some(i) => (StatusCode::OK, axum::Json(interview_json(&w, i))).into_response(),
        None => detail(StatusCode::NOT_FOUND, "Not found."),
    }
}

/// `GET /participants/` for a scope: the page body, or DRF's 404 text.
pub(crate) fn participants_page(
    w: &WilloWorld,
    q: &QueryParams,
    scope: &Scope,
    base: &str,
) -> Response {
    let filter = q
        .first("interview")
        .filter(|_| !w.settings.ignore_interview_filter);
    let rows = w.rows(filter, scope);
    let order = w.settings.order;
    list_answer(w, q, base, rows.len(), |n| {
        rows.nth(order, n)
            .and_then(|i| w.participants.get(i))
            .map(|p| participant_json(w, p))
    })
}

async fn list_participants(
    State(s): Shared,
    Extension(c): Who,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Response {
    let q = QueryParams::parse(q.as_deref());
    let w = s.lock();
    let scope = match list_scope(&w, &c) {
        Ok(scope) => scope,
        Err(refused) => return refused.into_response(),
    };
    let base = links_base(&s, &w, &headers, uri.path());
    participants_page(&w, &q, &scope, &base)
}

async fn get_participant(State(s): Shared, Extension(c): Who, Path(key): Path<String>) -> Response {
    let w = s.lock();
    let scope = w.scope_of(&c.credential);
    let visible =
        |p: &&super::model::Participant| w.interview(&p.interview).is_some_and(|i| scope.sees(i));
    match w.participant(&key).filter(visible) {
        Some(p) => (StatusCode::OK, axum::Json(participant_json(&w, p))).into_response(),
        None => detail(StatusCode::NOT_FOUND, "Not found."),
    }
}

/// DRF field validation of `POST /participants/`; every field's errors at once.
fn validate(
    body: &Value,
    w: &WilloWorld,
    scope: &Scope,
) -> Result<NewParticipant, Map<String, Value>> {
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
        Some(Value::String(k)) if w.invitable(k).is_some_and(|i| scope.sees(i)) => Some(k.clone()),
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

async fn create_participant(State(s): Shared, Extension(c): Who, body: Bytes) -> Response {
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
    let scope = w.scope_of(&c.credential);
    let new = match validate(&value, &w, &scope) {
        Ok(n) => n,
        Err(errors) => {
            return (StatusCode::BAD_REQUEST, axum::Json(Value::Object(errors))).into_response();
        }
    };
    match w.create_participant(new) {
        Ok(key) => match w.participant(&key) {
            Some(p) => (StatusCode::CREATED, axum::Json(participant_json(&w, p))).into_response(),
            None => detail(StatusCode::INTERNAL_SERVER_ERROR, "participant vanished"),
        },
        Err(e) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"interview": [e.to_string()]})),
        )
            .into_response(),
    }
}
