//! The Lever simulator's HTTP surface: `/v1/...`, `/authorize`, `/oauth/token`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use super::access::{Access, Endpoint};
use super::listing::{self, ListError};
use super::model::{Confidentiality, OpportunityView, PostingView};
use super::oauth::Authorize;
use super::pager::TokenCodec;
use super::variants::CheckOrder;
use super::world::{LeverWorld, NoteInput};
use crate::sim::error::SimError;
use crate::sim::gate::{AuthDecision, Authority, Caller, Flavor, error_response};
use crate::sim::query::QueryParams;
use crate::sim::webhook::WebhookSender;

/// State shared by the handlers, the gate and the control API.
pub(crate) struct LeverShared {
    pub(crate) world: Mutex<LeverWorld>,
    pub(crate) codec: TokenCodec,
    pub(crate) webhooks: Arc<WebhookSender>,
}

impl LeverShared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, LeverWorld> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn split_scheme(value: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    Some((scheme, rest.trim()))
}

impl Authority for LeverShared {
    fn authenticate(&self, headers: &HeaderMap, route: Option<&str>) -> AuthDecision {
        if matches!(route, Some("/authorize" | "/oauth/token")) {
            return AuthDecision::Public;
        }
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return AuthDecision::Denied {
                credential: None,
                message: "No credentials provided",
            };
        };
        let world = self.lock();
        match split_scheme(value) {
            Some((scheme, b64)) if scheme.eq_ignore_ascii_case("basic") => {
                let key = STANDARD
                    .decode(b64)
                    .ok()
                    .and_then(|raw| String::from_utf8(raw).ok())
                    .map(|pair| {
                        pair.split_once(':')
                            .map_or(pair.clone(), |(k, _)| k.to_owned())
                    });
                match key {
                    Some(key) if world.revoked => AuthDecision::Denied {
                        credential: Some(key),
                        message: "Access to this account has been revoked",
                    },
                    Some(key) if world.api_keys.contains_key(&key) => AuthDecision::Allowed {
                        bucket: format!("key:{key}"),
                        credential: key,
                    },
                    key => AuthDecision::Denied {
                        credential: key,
                        message: "Invalid API key",
                    },
                }
            }
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                let credential = Some(token.to_owned());
                if world.revoked {
                    return AuthDecision::Denied {
                        credential,
                        message: "Access to this account has been revoked",
                    };
                }
                match world.check_bearer(token) {
                    Ok(grant) => AuthDecision::Allowed {
                        credential: token.to_owned(),
                        bucket: format!("grant:{grant}"),
                    },
                    Err(message) => AuthDecision::Denied {
                        credential,
                        message,
                    },
                }
            }
            _ => AuthDecision::Denied {
                credential: Some(value.to_owned()),
                message: "Unsupported authorization scheme",
            },
        }
    }
}

type Shared = State<Arc<LeverShared>>;

fn json(status: StatusCode, bytes: Vec<u8>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        bytes,
    )
        .into_response()
}

fn bad_request(message: &str) -> Response {
    error_response(Flavor::Lever, StatusCode::BAD_REQUEST, message, None)
}

fn not_found_msg(message: &str) -> Response {
    error_response(Flavor::Lever, StatusCode::NOT_FOUND, message, None)
}

fn sim_error(e: SimError) -> Response {
    match e {
        SimError::Unknown { kind, id } => {
            let plural = match kind {
                "opportunity" => "opportunities",
                "stage" => "stages",
                "posting" => "postings",
                "user" => "users",
                "note" => "notes",
                other => other,
            };
            not_found_msg(&format!("{plural} {id} was not found"))
        }
        other => bad_request(&other.to_string()),
    }
}

/// A refusal before the handler's work: Lever's error body with this status.
struct Refused {
    status: StatusCode,
    message: String,
}

impl Refused {
    fn forbidden(message: String) -> Self {
        Refused {
            status: StatusCode::FORBIDDEN,
            message,
        }
    }

    fn no_permission(access: &Access) -> Self {
        Refused::forbidden(format!(
            "This {} does not have permission to access this endpoint",
            access.kind
        ))
    }

    fn no_confidential_access(access: &Access) -> Self {
        Refused::forbidden(format!(
            "This {} does not have access to confidential data",
            access.kind
        ))
    }

    fn unknown_opportunity(id: &str) -> Self {
        Refused {
            status: StatusCode::NOT_FOUND,
            message: format!("opportunities {id} was not found"),
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        error_response(Flavor::Lever, self.status, &self.message, None)
    }
}

fn listed(w: &LeverWorld, result: Result<Vec<u8>, ListError>) -> Response {
    match result {
        Ok(bytes) => json(StatusCode::OK, bytes),
        Err(ListError::BadRequest(m)) => bad_request(&m),
        Err(ListError::Forbidden(message)) => Refused::forbidden(message).into_response(),
        Err(ListError::BadOffset(m)) => {
            let status = StatusCode::from_u16(w.variants.offset_error_status)
                .unwrap_or(StatusCode::BAD_REQUEST);
            error_response(Flavor::Lever, status, &m, None)
        }
    }
}

/// What the request's credential may do.
fn access_of(w: &LeverWorld, caller: &Caller) -> Access {
    if let Some(key) = caller.bucket.strip_prefix("key:") {
        if let Some(k) = w.api_keys.get(key) {
            return Access::for_key(k);
        }
    } else if let Some(grant) = caller.bucket.strip_prefix("grant:")
        && let Some(scope) = grant
            .parse::<usize>()
            .ok()
            .and_then(|g| w.oauth.grant_scope(g))
    {
        return Access::for_scope(scope, w.variants.enforce_oauth_scopes);
    }
    // The gate only lets authenticated callers through, so this is unreachable in practice;
    // an unknown caller may do nothing.
    Access {
        endpoints: Some(Default::default()),
        confidential: false,
        kind: "credential",
    }
}

/// The caller's access if it may use `endpoint`, else Lever's 403.
fn permit(w: &LeverWorld, caller: &Caller, endpoint: Endpoint) -> Result<Access, Refused> {
    let access = access_of(w, caller);
    if access.allows(endpoint) {
        Ok(access)
    } else {
        Err(Refused::no_permission(&access))
    }
}

/// An opportunity the caller may see: 404 when unknown, 403 when confidential without access.
fn visible_opportunity(w: &LeverWorld, access: &Access, id: &str) -> Result<(), Refused> {
    match w.opps.get(id) {
        None => Err(Refused::unknown_opportunity(id)),
        Some(o) if o.confidentiality == Confidentiality::Confidential && !access.confidential => {
            Err(Refused::no_confidential_access(access))
        }
        Some(_) => Ok(()),
    }
}

/// The checks before a write to an opportunity, in the order the variant picks.
fn guard_write(
    w: &LeverWorld,
    caller: &Caller,
    id: &str,
    endpoint: Endpoint,
) -> Result<(), Refused> {
    let access = access_of(w, caller);
    if w.variants.write_check == CheckOrder::LookupFirst && !w.opps.contains_key(id) {
        return Err(Refused::unknown_opportunity(id));
    }
    if !access.allows(endpoint) {
        return Err(Refused::no_permission(&access));
    }
    visible_opportunity(w, &access, id)
}

macro_rules! try_resp {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(refused) => return refused.into_response(),
        }
    };
}

#[derive(Serialize)]
struct One<T: Serialize> {
    data: T,
}

fn one<T: Serialize>(status: StatusCode, data: T) -> Response {
    json(
        status,
        serde_json::to_vec(&One { data }).unwrap_or_default(),
    )
}

/// Builds the router (the gate is layered on by the harness).
pub(crate) fn router(shared: Arc<LeverShared>) -> Router {
    Router::new()
        .route("/v1/stages", get(list_stages))
        .route("/v1/stages/{id}", get(get_stage))
        .route("/v1/users", get(list_users))
        .route("/v1/users/{id}", get(get_user))
        .route("/v1/postings", get(list_postings))
        .route("/v1/postings/{id}", get(get_posting))
        .route("/v1/tags", get(list_tags))
        .route("/v1/opportunities", get(list_opportunities))
        .route("/v1/opportunities/deleted", get(list_deleted))
        .route("/v1/opportunities/{id}", get(get_opportunity))
        .route("/v1/opportunities/{id}/addTags", post(add_tags))
        .route("/v1/opportunities/{id}/removeTags", post(remove_tags))
        .route(
            "/v1/opportunities/{id}/notes",
            post(add_note).get(list_notes),
        )
        .route("/authorize", get(authorize))
        .route("/oauth/token", post(token))
        .fallback(unknown_route)
        .with_state(shared)
}

async fn unknown_route() -> Response {
    not_found_msg("Resource not found")
}

type Who = Extension<Caller>;

async fn list_stages(State(s): Shared, Extension(c): Who, RawQuery(q): RawQuery) -> Response {
    let q = QueryParams::parse(q.as_deref());
    let w = s.lock();
    try_resp!(permit(&w, &c, Endpoint::Stages));
    listed(&w, listing::stages(&w, &q, &s.codec, "/v1/stages"))
}

async fn get_stage(State(s): Shared, Extension(c): Who, Path(id): Path<String>) -> Response {
    let w = s.lock();
    try_resp!(permit(&w, &c, Endpoint::Stages));
    match w.stages.iter().find(|x| x.id == id) {
        Some(stage) => one(StatusCode::OK, stage),
        None => sim_error(SimError::unknown("stage", &id)),
    }
}

async fn list_users(State(s): Shared, Extension(c): Who, RawQuery(q): RawQuery) -> Response {
    let q = QueryParams::parse(q.as_deref());
    let w = s.lock();
    try_resp!(permit(&w, &c, Endpoint::Users));
    listed(&w, listing::users(&w, &q, &s.codec, "/v1/users"))
}

async fn get_user(State(s): Shared, Extension(c): Who, Path(id): Path<String>) -> Response {
    let w = s.lock();
    try_resp!(permit(&w, &c, Endpoint::Users));
    match w.users.iter().find(|x| x.id == id) {
        Some(user) => one(StatusCode::OK, user),
        None => sim_error(SimError::unknown("user", &id)),
    }
}

async fn list_postings(State(s): Shared, Extension(c): Who, RawQuery(q): RawQuery) -> Response {
    let q = QueryParams::parse(q.as_deref());
    let w = s.lock();
    let access = try_resp!(permit(&w, &c, Endpoint::Postings));
    listed(
        &w,
        listing::postings(&w, &q, &s.codec, "/v1/postings", &access),
    )
}

async fn get_posting(State(s): Shared, Extension(c): Who, Path(id): Path<String>) -> Response {
    let w = s.lock();
    let access = try_resp!(permit(&w, &c, Endpoint::Postings));
    match w.postings.iter().find(|x| x.id == id) {
        Some(p) if p.confidentiality == Confidentiality::Confidential && !access.confidential => {
            Refused::no_confidential_access(&access).into_response()
        }
        Some(p) => one(StatusCode::OK, PostingView::new(p, &w.origin)),
        None => sim_error(SimError::unknown("posting", &id)),
    }
}

async fn list_tags(State(s): Shared, Extension(c): Who, RawQuery(q): RawQuery) -> Response {
    let q = QueryParams::parse(q.as_deref());
    let w = s.lock();
    try_resp!(permit(&w, &c, Endpoint::Tags));
    listed(&w, listing::tags(&w, &q, &s.codec, "/v1/tags"))
}

async fn list_opportunities(
    State(s): Shared,
    Extension(c): Who,
    RawQuery(q): RawQuery,
) -> Response {
    let q = QueryParams::parse(q.as_deref());
    let w = s.lock();
    let access = try_resp!(permit(&w, &c, Endpoint::OpportunitiesList));
    listed(
        &w,
        listing::opportunities(&w, &q, &s.codec, "/v1/opportunities", &access),
    )
}

async fn list_deleted(State(s): Shared, Extension(c): Who, RawQuery(q): RawQuery) -> Response {
    let q = QueryParams::parse(q.as_deref());
    let w = s.lock();
    try_resp!(permit(&w, &c, Endpoint::DeletedOpportunities));
    listed(
        &w,
        listing::deleted(&w, &q, &s.codec, "/v1/opportunities/deleted"),
    )
}

fn render_opportunity(w: &LeverWorld, id: &str, q: &QueryParams) -> Response {
    let expand = match listing::parse_expand(
        q,
        &[
            "applications",
            "stage",
            "owner",
            "followers",
            "sourcedBy",
            "contact",
        ],
    ) {
        Ok(e) => e,
        Err(m) => return bad_request(&m),
    };
    match w.opps.get(id) {
        Some(o) => one(
            StatusCode::OK,
            OpportunityView::new(o, expand, w.variants.archived_form, w, &w.origin),
        ),
        None => sim_error(SimError::unknown("opportunity", id)),
    }
}

async fn get_opportunity(
    State(s): Shared,
    Extension(c): Who,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = QueryParams::parse(q.as_deref());
    let w = s.lock();
    let access = try_resp!(permit(&w, &c, Endpoint::OpportunityRead));
    try_resp!(visible_opportunity(&w, &access, &id));
    render_opportunity(&w, &id, &q)
}

/// `perform_as` is optional, but when given it must name an active user.
fn check_perform_as(w: &LeverWorld, q: &QueryParams) -> Result<Option<String>, String> {
    match q.first("perform_as") {
        None => Ok(None),
        Some(u)
            if w.users
                .iter()
                .any(|x| x.id == u && x.deactivated_at.is_none()) =>
        {
            Ok(Some(u.to_owned()))
        }
        Some(u) => Err(format!(
            "perform_as user {u} was not found or is deactivated"
        )),
    }
}

fn parse_tags(body: &[u8]) -> Result<Vec<String>, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("Request body is not valid JSON: {e}"))?;
    let tags = value
        .get("tags")
        .ok_or("Missing required field: tags")?
        .as_array()
        .ok_or("tags must be an array of strings")?;
    tags.iter()
        .map(|t| {
            t.as_str()
                .map(str::to_owned)
                .ok_or_else(|| "tags must be an array of strings".to_owned())
        })
        .collect()
}

fn edit_tags(
    s: &LeverShared,
    caller: &Caller,
    id: &str,
    q: Option<String>,
    body: &[u8],
    add: bool,
) -> Response {
    let q = QueryParams::parse(q.as_deref());
    let mut w = s.lock();
    try_resp!(guard_write(&w, caller, id, Endpoint::TagWrites));
    if let Err(m) = check_perform_as(&w, &q) {
        return bad_request(&m);
    }
    let tags = match parse_tags(body) {
        Ok(t) => t,
        Err(m) => return bad_request(&m),
    };
    let result = if add {
        w.edit_tags(id, &tags, &[])
    } else {
        w.edit_tags(id, &[], &tags)
    };
    match result {
        // The response shape is undocumented; `{data: <opportunity>}` like the other writes.
        Ok(_) => render_opportunity(&w, id, &QueryParams::default()),
        Err(e) => sim_error(e),
    }
}

async fn add_tags(
    State(s): Shared,
    Extension(c): Who,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    edit_tags(&s, &c, &id, q, &body, true)
}

async fn remove_tags(
    State(s): Shared,
    Extension(c): Who,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    edit_tags(&s, &c, &id, q, &body, false)
}

fn parse_note(body: &[u8], now: i64) -> Result<NoteInput, String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("Request body is not valid JSON: {e}"))?;
    let value = match v.get("value") {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => return Err("Missing required field: value".into()),
    };
    let secret = match v.get("secret") {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::Bool(b)) => *b,
        _ => return Err("secret must be a boolean".into()),
    };
    let score = match v.get("score") {
        None | Some(serde_json::Value::Null) => None,
        Some(x) => match x.as_u64() {
            Some(n @ 1..=4) => Some(n as u8),
            _ => return Err("score must be 1, 2, 3 or 4".into()),
        },
    };
    let notify_followers = match v.get("notifyFollowers") {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::Bool(b)) => *b,
        _ => return Err("notifyFollowers must be a boolean".into()),
    };
    let created_at = match v.get("createdAt") {
        None | Some(serde_json::Value::Null) => None,
        Some(x) => match x.as_i64() {
            Some(t) if t <= now => Some(t),
            Some(_) => return Err("createdAt cannot be in the future".into()),
            None => return Err("createdAt must be milliseconds since the epoch".into()),
        },
    };
    Ok(NoteInput {
        value,
        secret,
        score,
        user: None,
        created_at,
        notify_followers,
        thread: None,
    })
}

async fn add_note(
    State(s): Shared,
    Extension(c): Who,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let q = QueryParams::parse(q.as_deref());
    let mut w = s.lock();
    try_resp!(guard_write(&w, &c, &id, Endpoint::NotesWrite));
    let user = match check_perform_as(&w, &q) {
        Ok(u) => u,
        Err(m) => return bad_request(&m),
    };
    let mut note = match parse_note(&body, w.clock.now_ms()) {
        Ok(n) => n,
        Err(m) => return bad_request(&m),
    };
    note.user = user;
    note.thread = q.first("note_id").map(str::to_owned);
    match w.add_note(&id, note) {
        Ok(note_id) => one(StatusCode::CREATED, serde_json::json!({"noteId": note_id})),
        Err(e) => sim_error(e),
    }
}

async fn list_notes(
    State(s): Shared,
    Extension(c): Who,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = QueryParams::parse(q.as_deref());
    let w = s.lock();
    let access = try_resp!(permit(&w, &c, Endpoint::NotesRead));
    try_resp!(visible_opportunity(&w, &access, &id));
    listed(
        &w,
        listing::notes(&w, &id, &q, &s.codec, "/v1/opportunities/{id}/notes"),
    )
}

async fn authorize(State(s): Shared, RawQuery(q): RawQuery) -> Response {
    let q = QueryParams::parse(q.as_deref());
    match s.lock().authorize(&q) {
        Authorize::Redirect(url) => (StatusCode::FOUND, [(header::LOCATION, url)]).into_response(),
        Authorize::Refuse(message) => (
            StatusCode::BAD_REQUEST,
            axum::Json(
                serde_json::json!({"error": "invalid_request", "error_description": message}),
            ),
        )
            .into_response(),
    }
}

async fn token(State(s): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let form: HashMap<String, String> = if is_json {
        // Auth0 also takes JSON bodies; string fields only.
        serde_json::from_slice::<HashMap<String, serde_json::Value>>(&body)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
            .collect()
    } else {
        url::form_urlencoded::parse(&body).into_owned().collect()
    };
    match s.lock().token(&form) {
        Ok(tokens) => (StatusCode::OK, axum::Json(tokens)).into_response(),
        Err(e) => (
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            axum::Json(e.body()),
        )
            .into_response(),
    }
}
