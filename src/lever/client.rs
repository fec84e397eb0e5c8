//! The Lever Data API client: typed, tolerant reads and the three writes the daemon makes.
//!
//! Cheap to clone (one `Arc`); one per tenant. It must not know about the planner, the store's
//! schema or Willo.

use std::sync::Arc;

use futures::Stream;
use secrecy::SecretString;
use serde::Serialize;
use url::Url;

use super::auth::{Authenticator, OAuthSession, bearer};
use super::model::{DeletedOpportunity, Note, Opportunity, Posting, Stage, Tag, User};
use super::oauth::OAuthConfig;
use super::paging::{self, Listing};
use super::permission;
use super::query::{Confidentiality, OpportunityQuery, PostingQuery};
use super::token_store::TokenStore;
use super::wire;
use crate::http::decode::decode;
use crate::http::observer::{Api, ApiObserver};
use crate::http::transport::{Call, Idempotency, Reply, Transport};
use crate::http::{ApiError, BuildError, HttpConfig};
use crate::secret::Secret;

/// How the client authenticates: the `[tenants.lever]` table's `api_key` or `[oauth]`.
// Built once per tenant from config, so the variants' size difference does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum LeverAuth {
    /// HTTP Basic with the key as user name and an empty password.
    ApiKey(Secret),
    /// Bearer tokens from the OAuth grant saved by `connect` (needs a [`TokenStore`]).
    OAuth(OAuthConfig),
    /// One OAuth access token, used as it is and never refreshed: for read-only checks
    /// (`doctor`), since a refresh rotates the refresh token and only the daemon may store it.
    AccessToken(Secret),
}

/// Everything one tenant's Lever client needs; the configuration produces it directly.
#[derive(Debug, Clone)]
pub struct LeverClientConfig {
    /// e.g. `https://api.lever.co/v1` (per tenant: EU and sandbox hosts differ).
    pub base_url: Url,
    pub auth: LeverAuth,
    /// Rate, burst, timeouts and retry budget (`HttpConfig::lever()` = the defaults of rule: paced and retried calls).
    pub http: HttpConfig,
    /// Lever user id to attribute writes to (`perform_as`), if configured.
    pub perform_as: Option<String>,
    /// Ask the opportunity and posting listings for confidential rows too
    /// (`confidentiality=all`), which Lever leaves out otherwise.
    pub include_confidential: bool,
}

impl LeverClientConfig {
    /// With the default pacing and timeouts (`HttpConfig::lever()`) and no `perform_as`.
    pub fn new(base_url: Url, auth: LeverAuth) -> Self {
        LeverClientConfig {
            base_url,
            auth,
            http: HttpConfig::lever(),
            perform_as: None,
            include_confidential: false,
        }
    }
}

#[derive(Clone)]
pub struct LeverClient {
    inner: Arc<Inner>,
}

struct Inner {
    base: Url,
    transport: Transport,
    auth: Authenticator,
    perform_as: Option<String>,
    include_confidential: bool,
}

impl std::fmt::Debug for LeverClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeverClient")
            .field("base", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct TagsBody<'a> {
    tags: &'a [String],
}

#[derive(Serialize)]
struct NoteBody<'a> {
    value: &'a str,
}

const ROUTE_STAGES: &str = "/stages";
const ROUTE_USERS: &str = "/users";
const ROUTE_TAGS: &str = "/tags";
const ROUTE_POSTINGS: &str = "/postings";
pub(crate) const ROUTE_OPPORTUNITIES: &str = "/opportunities";
pub(crate) const ROUTE_OPPORTUNITY: &str = "/opportunities/{id}";
const ROUTE_DELETED: &str = "/opportunities/deleted";
const ROUTE_ADD_TAGS: &str = "/opportunities/{id}/addTags";
const ROUTE_REMOVE_TAGS: &str = "/opportunities/{id}/removeTags";
const ROUTE_NOTES: &str = "/opportunities/{id}/notes";
const ROUTE_USER: &str = "/users/{id}";

/// Every route template the client calls (each names its permission in `permission`).
#[cfg(test)]
pub(crate) const ROUTES: [&str; 11] = [
    ROUTE_STAGES,
    ROUTE_USERS,
    ROUTE_USER,
    ROUTE_TAGS,
    ROUTE_POSTINGS,
    ROUTE_OPPORTUNITIES,
    ROUTE_OPPORTUNITY,
    ROUTE_DELETED,
    ROUTE_ADD_TAGS,
    ROUTE_REMOVE_TAGS,
    ROUTE_NOTES,
];

/// Both job sites: without `distributionChannel` Lever lists only the postings on the public
/// one, and candidates of an internal-only job would never be connected.
const DISTRIBUTION_CHANNELS: [&str; 2] = ["public", "internal"];

/// True when the call asked for confidential rows (a 403 may then mean that access is missing).
fn asks_confidential(url: &Url) -> bool {
    url.query_pairs()
        .any(|(k, v)| k == "confidentiality" && v != Confidentiality::NonConfidential.as_str())
}

impl LeverClient {
    pub fn new(
        config: LeverClientConfig,
        observer: Arc<dyn ApiObserver>,
        token_store: Option<Arc<dyn TokenStore>>,
    ) -> Result<LeverClient, BuildError> {
        if config.base_url.cannot_be_a_base() {
            return Err(BuildError::BaseUrl(config.base_url.to_string()));
        }
        let transport = Transport::new(Api::Lever, &config.http, observer, wire::error_message)?;
        let auth = match config.auth {
            LeverAuth::ApiKey(key) => {
                Authenticator::api_key(&key).map_err(|e| BuildError::Http(e.to_string()))?
            }
            LeverAuth::AccessToken(token) => Authenticator::Fixed(
                bearer(&SecretString::from(token.expose().to_owned()))
                    .map_err(|e| BuildError::Http(e.to_string()))?,
            ),
            LeverAuth::OAuth(oauth) => {
                let store = token_store.ok_or(BuildError::MissingTokenStore)?;
                Authenticator::OAuth(Box::new(OAuthSession::new(oauth, store)))
            }
        };
        Ok(LeverClient {
            inner: Arc::new(Inner {
                base: config.base_url,
                transport,
                auth,
                perform_as: config.perform_as,
                include_confidential: config.include_confidential,
            }),
        })
    }

    /// OAuth refreshes this client performed (0 with an API key).
    pub fn oauth_refreshes(&self) -> u64 {
        match &self.inner.auth {
            Authenticator::OAuth(s) => s.refreshes(),
            Authenticator::Fixed(_) => 0,
        }
    }

    /// `base` + path segments, each percent-encoded (ids never splice into the path raw).
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn url_for_write(&self, segments: &[&str]) -> Url {
        let mut url = self.url(segments);
        if let Some(user) = &self.inner.perform_as {
            url.query_pairs_mut().append_pair("perform_as", user);
        }
        url
    }

    /// Sends with the tenant's credentials; a 403 names the permission to grant.
    pub(crate) async fn send(&self, call: &Call) -> Result<Reply, ApiError> {
        self.send_authenticated(call).await.map_err(|e| {
            e.with_grant(permission::grant_for(
                call.route,
                asks_confidential(&call.url),
            ))
        })
    }

    /// With OAuth, a 401 on the API (not the token endpoint) refreshes once and repeats the
    /// call: the server refused it, so even a note may be sent again.
    async fn send_authenticated(&self, call: &Call) -> Result<Reply, ApiError> {
        let transport = &self.inner.transport;
        match &self.inner.auth {
            Authenticator::Fixed(header) => {
                transport
                    .execute(call, || async { Ok(Some(header.clone())) })
                    .await
            }
            Authenticator::OAuth(session) => {
                let used = std::sync::Mutex::new(None::<SecretString>);
                let attempt = || async {
                    let token = session.access_token(transport).await?;
                    let header = bearer(&token)?;
                    *used.lock().unwrap_or_else(|p| p.into_inner()) = Some(token);
                    Ok(Some(header))
                };
                match transport.execute(call, attempt).await {
                    Err(ApiError::Unauthorized {
                        status: 401, route, ..
                    }) if route == call.route => {
                        let failed = used.lock().unwrap_or_else(|p| p.into_inner()).take();
                        let Some(failed) = failed else {
                            return transport.execute(call, attempt).await;
                        };
                        session.refresh_after_rejection(transport, &failed).await?;
                        transport.execute(call, attempt).await
                    }
                    other => other,
                }
            }
        }
    }

    pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: Url,
        route: &'static str,
    ) -> Result<T, ApiError> {
        let reply = self.send(&Call::get(url, route)).await?;
        decode(Api::Lever, route, &reply.body)
    }

    fn listing<W, T>(
        &self,
        url: Url,
        route: &'static str,
    ) -> impl Stream<Item = Result<T, ApiError>> + Send + 'static
    where
        W: serde::de::DeserializeOwned + Send + 'static,
        T: From<W> + Listing + Send + 'static,
    {
        paging::stream::<W, T>(self.clone(), url, route)
    }

    async fn collect<W, T>(&self, url: Url, route: &'static str) -> Result<Vec<T>, ApiError>
    where
        W: serde::de::DeserializeOwned + Send + 'static,
        T: From<W> + Listing + Send + 'static,
    {
        use futures::TryStreamExt;
        self.listing::<W, T>(url, route).try_collect().await
    }

    /// All pipeline stages.
    pub async fn stages(&self) -> Result<Vec<Stage>, ApiError> {
        self.collect::<wire::Stage, Stage>(self.url(&["stages"]), ROUTE_STAGES)
            .await
    }

    /// Active users.
    pub async fn users(&self) -> Result<Vec<User>, ApiError> {
        self.collect::<wire::User, User>(self.url(&["users"]), ROUTE_USERS)
            .await
    }

    /// Every tag in use, with counts.
    pub async fn tags(&self) -> Result<Vec<Tag>, ApiError> {
        self.collect::<wire::Tag, Tag>(self.url(&["tags"]), ROUTE_TAGS)
            .await
    }

    /// Postings matching `query`, on both job sites (public and internal), confidential ones
    /// too when the client was configured to include them and the query does not say.
    pub async fn postings(&self, query: &PostingQuery) -> Result<Vec<Posting>, ApiError> {
        use futures::TryStreamExt;
        self.postings_stream(query).try_collect().await
    }

    /// Postings as a lazy stream (see [`LeverClient::postings`]).
    pub fn postings_stream(
        &self,
        query: &PostingQuery,
    ) -> impl Stream<Item = Result<Posting, ApiError>> + Send + 'static {
        let mut query = query.clone();
        if query.confidentiality.is_none() && self.inner.include_confidential {
            query.confidentiality = Some(Confidentiality::All);
        }
        let mut url = self.url(&["postings"]);
        url.query_pairs_mut().extend_pairs(query.pairs());
        if query.distribution_channels.is_empty() {
            url.query_pairs_mut().extend_pairs(
                DISTRIBUTION_CHANNELS
                    .iter()
                    .map(|c| ("distributionChannel", *c)),
            );
        }
        self.listing::<wire::Posting, Posting>(url, ROUTE_POSTINGS)
    }

    /// One user, deactivated or not (`deactivated_at` says).
    pub async fn user(&self, id: &str) -> Result<User, ApiError> {
        let env: wire::DataEnvelope<wire::User> =
            self.get_json(self.url(&["users", id]), ROUTE_USER).await?;
        Ok(env.data.into())
    }

    /// Opportunities matching `query`, fetched a page at a time as the stream is polled;
    /// confidential ones too when the client was configured to include them and the query
    /// does not say.
    ///
    /// A refused offset token restarts the listing once from the first page (ids already
    /// yielded are skipped); a second refusal, `hasNext` without `next`, or a page without its
    /// list of items ends the stream with `Protocol`.
    pub fn opportunities(
        &self,
        query: &OpportunityQuery,
    ) -> impl Stream<Item = Result<Opportunity, ApiError>> + Send + 'static {
        let mut query = query.clone();
        if query.confidentiality.is_none() && self.inner.include_confidential {
            query.confidentiality = Some(Confidentiality::All);
        }
        let mut url = self.url(&["opportunities"]);
        url.query_pairs_mut().extend_pairs(query.pairs());
        self.listing::<wire::Opportunity, Opportunity>(url, ROUTE_OPPORTUNITIES)
    }

    /// One opportunity, with its application expanded (so `posting_id` is known).
    pub async fn opportunity(&self, id: &str) -> Result<Opportunity, ApiError> {
        let mut url = self.url(&["opportunities", id]);
        url.query_pairs_mut().append_pair("expand", "applications");
        let env: wire::DataEnvelope<wire::Opportunity> =
            self.get_json(url, ROUTE_OPPORTUNITY).await?;
        Ok(env.data.into())
    }

    /// Opportunities deleted at or after `since_ms`.
    pub async fn deleted_opportunities(
        &self,
        since_ms: i64,
    ) -> Result<Vec<DeletedOpportunity>, ApiError> {
        let mut url = self.url(&["opportunities", "deleted"]);
        url.query_pairs_mut()
            .append_pair("deleted_at_start", &since_ms.to_string());
        self.collect::<wire::DeletedOpportunity, DeletedOpportunity>(url, ROUTE_DELETED)
            .await
    }

    /// Adds tags (set semantics, so retried like a read). Returns the opportunity when the
    /// response carries it; Lever does not document the body, so an empty one is fine.
    pub async fn add_tags(
        &self,
        id: &str,
        tags: &[String],
    ) -> Result<Option<Opportunity>, ApiError> {
        self.tag_write(id, tags, "addTags", ROUTE_ADD_TAGS).await
    }

    /// Removes tags (set semantics; see [`LeverClient::add_tags`]).
    pub async fn remove_tags(
        &self,
        id: &str,
        tags: &[String],
    ) -> Result<Option<Opportunity>, ApiError> {
        self.tag_write(id, tags, "removeTags", ROUTE_REMOVE_TAGS)
            .await
    }

    async fn tag_write(
        &self,
        id: &str,
        tags: &[String],
        action: &str,
        route: &'static str,
    ) -> Result<Option<Opportunity>, ApiError> {
        if tags.is_empty() {
            return Ok(None);
        }
        let url = self.url_for_write(&["opportunities", id, action]);
        let call = Call::post_json(url, route, &TagsBody { tags }, Idempotency::Idempotent);
        let reply = self.send(&call).await?;
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        // The write succeeded; an unexpected body must not turn it into a failure.
        match decode::<wire::DataEnvelope<wire::Opportunity>>(Api::Lever, route, &reply.body) {
            Ok(env) => Ok(Some(env.data.into())),
            Err(e) => {
                tracing::warn!(error = %e, "tag write succeeded but its response was not an opportunity");
                Ok(None)
            }
        }
    }

    /// Asks whether the credentials may write tags to opportunity `id`, without writing: an
    /// `addTags` call with no `tags` field, which can add nothing. Lever checks the permission
    /// before it reads the body, so a 400 (or a 2xx) means "permitted" and a 403 "not
    /// permitted"; a 404 means the opportunity does not exist, or that it was looked up before
    /// the permission was checked (so it proves nothing). The answer is returned as it came.
    pub async fn tag_write_probe(&self, id: &str) -> Result<(), ApiError> {
        let url = self.url_for_write(&["opportunities", id, "addTags"]);
        let call = Call::post_json(
            url,
            ROUTE_ADD_TAGS,
            &serde_json::json!({}),
            Idempotency::Idempotent,
        );
        self.send(&call).await.map(|_| ())
    }

    /// Adds a note. Not idempotent: after a timeout, reset or 5xx the result is `Ambiguous`
    /// and the caller must look for the note before posting again. Returns the note id.
    pub async fn add_note(&self, id: &str, text: &str) -> Result<Option<String>, ApiError> {
        let url = self.url_for_write(&["opportunities", id, "notes"]);
        let call = Call::post_json(
            url,
            ROUTE_NOTES,
            &NoteBody { value: text },
            Idempotency::NonIdempotent,
        );
        let reply = self.send(&call).await?;
        Ok(
            decode::<wire::DataEnvelope<wire::NoteCreated>>(Api::Lever, ROUTE_NOTES, &reply.body)
                .ok()
                .and_then(|env| env.data.note_id),
        )
    }

    /// The opportunity's notes, every page. Read to find a note by a marker after an unknown
    /// outcome, since Lever offers no idempotency key for notes.
    pub async fn notes(&self, id: &str) -> Result<Vec<Note>, ApiError> {
        self.collect::<wire::Note, Note>(self.url(&["opportunities", id, "notes"]), ROUTE_NOTES)
            .await
    }
}
