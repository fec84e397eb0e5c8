//! The Willo client. Cheap to clone; one per tenant. Knows nothing of Lever or the planner.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::{Stream, StreamExt, TryStreamExt};
use reqwest::header::HeaderValue;
use serde_json::Value;
use url::Url;

use super::model::{Interview, NewParticipant, Participant};
use super::shape::Shape;
use super::state::StateFields;
use super::wire;
use crate::http::decode::decode;
use crate::http::observer::{Api, ApiObserver};
use crate::http::transport::{Call, Idempotency, Transport};
use crate::http::{ApiError, BuildError, Grant, HttpConfig};
use crate::secret::Secret;

mod paging;

use paging::{rows, with_page};

/// Willo's documented maximum page size.
pub const MAX_PAGE_SIZE: u8 = 30;

/// What a Willo 403 asks for: standard users' keys see only their own interviews, and Willo
/// may refuse them listings outright.
pub const ADMIN_KEY: Grant = Grant {
    needs: "an Admin user's API key",
    oauth_scopes: &[],
};

/// Everything one tenant's Willo client needs; the configuration produces it directly.
#[derive(Debug, Clone)]
pub struct WilloClientConfig {
    /// e.g. `https://api.willotalent.com/api/integrations/v2`.
    pub base_url: Url,
    /// Sent bare in `Authorization` (no scheme).
    pub api_key: Secret,
    /// Rate, burst, timeouts and retry budget (`HttpConfig::willo()` = the defaults of rule: paced and retried calls).
    pub http: HttpConfig,
    /// `page_size` of the first list request (1–30). Not configurable: the maximum.
    pub page_size: u8,
    /// Where a participant's state is read from (`state_fields`).
    pub state_fields: StateFields,
    /// Where the link to a participant's response is read from (`response_link_fields`).
    pub response_link_fields: StateFields,
}

impl WilloClientConfig {
    /// With the default pacing and timeouts (`HttpConfig::willo()`), the largest pages and
    /// the default state fields.
    pub fn new(base_url: Url, api_key: impl Into<Secret>) -> Self {
        WilloClientConfig {
            base_url,
            api_key: api_key.into(),
            http: HttpConfig::willo(),
            page_size: MAX_PAGE_SIZE,
            state_fields: StateFields::default(),
            response_link_fields: StateFields::response_links(),
        }
    }
}

#[derive(Clone)]
pub struct WilloClient {
    inner: Arc<Inner>,
}

struct Inner {
    base: Url,
    transport: Transport,
    auth: HeaderValue,
    page_size: u8,
    state_fields: StateFields,
    response_link_fields: StateFields,
    /// `next` links that named another scheme or port and were rebuilt on the base.
    rebuilt_links: AtomicU64,
}

/// One participant row as `doctor` sees it: the model, which state field matched, and the
/// row's shape (paths and types, no values).
#[derive(Debug, Clone)]
pub struct ParticipantSample {
    pub participant: Participant,
    /// The `state_fields` path the state was read from, if any held text.
    pub state_path: Option<String>,
    pub shape: Shape,
}

impl std::fmt::Debug for WilloClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WilloClient")
            .field("base", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

pub(crate) const ROUTE_INTERVIEWS: &str = "/interviews/";
pub(crate) const ROUTE_PARTICIPANTS: &str = "/participants/";
pub(crate) const ROUTE_PARTICIPANT: &str = "/participants/{key}/";

/// A row without a key cannot be used; the page is unreadable rather than silently short.
pub(crate) fn keyless(route: &'static str) -> ApiError {
    ApiError::Decode {
        api: Api::Willo,
        route,
        path: "results[].key".into(),
        message: "a row has no key".into(),
    }
}

impl WilloClient {
    pub fn new(
        config: WilloClientConfig,
        observer: Arc<dyn ApiObserver>,
    ) -> Result<WilloClient, BuildError> {
        if config.base_url.cannot_be_a_base() {
            return Err(BuildError::BaseUrl(config.base_url.to_string()));
        }
        let mut auth = HeaderValue::from_str(config.api_key.expose()).map_err(|_| {
            BuildError::Http(
                "the Willo API key contains characters that cannot go in a header".into(),
            )
        })?;
        auth.set_sensitive(true);
        let transport = Transport::new(Api::Willo, &config.http, observer, wire::error_message)?;
        Ok(WilloClient {
            inner: Arc::new(Inner {
                base: config.base_url,
                transport,
                auth,
                page_size: config.page_size.clamp(1, MAX_PAGE_SIZE),
                state_fields: config.state_fields,
                response_link_fields: config.response_link_fields,
                rebuilt_links: AtomicU64::new(0),
            }),
        })
    }

    /// `next` links followed after rebuilding them on the configured base, because they named
    /// another scheme or port (a TLS-terminating proxy in front of Willo).
    pub fn rebuilt_links(&self) -> u64 {
        self.inner.rebuilt_links.load(Ordering::Relaxed)
    }

    /// The configured base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// `base` + segments + trailing slash (Willo paths end in `/`).
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments).push("");
        }
        url
    }

    /// Sends with the key; a 403 names what to grant.
    async fn send(&self, call: &Call) -> Result<crate::http::transport::Reply, ApiError> {
        let auth = &self.inner.auth;
        self.inner
            .transport
            .execute(call, || async { Ok(Some(auth.clone())) })
            .await
            .map_err(|e| e.with_grant(Some(ADMIN_KEY)))
    }

    /// Every interview the key can see (listed = open).
    pub async fn interviews(&self) -> Result<Vec<Interview>, ApiError> {
        self.interviews_stream().try_collect().await
    }

    /// Interviews as a lazy stream of pages.
    pub fn interviews_stream(
        &self,
    ) -> impl Stream<Item = Result<Interview, ApiError>> + Send + 'static {
        let mut url = self.url(&["interviews"]);
        url.query_pairs_mut()
            .append_pair("page_size", &self.inner.page_size.to_string());
        rows(self.clone(), url, ROUTE_INTERVIEWS).and_then(|row| {
            futures::future::ready(
                Interview::from_json(&row).ok_or_else(|| keyless(ROUTE_INTERVIEWS)),
            )
        })
    }

    /// The participants of one interview, as Willo lists them: EVERY row it sent, each with
    /// the interview it names (`interview_key`). Willo may ignore the `interview` filter and
    /// list everyone, so callers must check `interview_key` themselves; rows that name no
    /// interview can only be attributed to the one asked for.
    pub fn participants(
        &self,
        interview_key: &str,
    ) -> impl Stream<Item = Result<Participant, ApiError>> + Send + 'static {
        let mut url = self.url(&["participants"]);
        url.query_pairs_mut()
            .append_pair("interview", interview_key)
            .append_pair("page_size", &self.inner.page_size.to_string());
        self.participant_rows(url)
    }

    /// Every participant of the account (no filter), each with the interview it names: one
    /// shared listing, for when Willo ignores the `interview` filter anyway.
    pub fn all_participants(
        &self,
    ) -> impl Stream<Item = Result<Participant, ApiError>> + Send + 'static {
        let mut url = self.url(&["participants"]);
        url.query_pairs_mut()
            .append_pair("page_size", &self.inner.page_size.to_string());
        self.participant_rows(url)
    }

    fn participant_rows(
        &self,
        url: Url,
    ) -> impl Stream<Item = Result<Participant, ApiError>> + Send + 'static {
        let client = self.clone();
        rows(self.clone(), url, ROUTE_PARTICIPANTS).and_then(move |row| {
            futures::future::ready(client.read_participant(&row, ROUTE_PARTICIPANTS))
        })
    }

    fn read_participant(&self, row: &Value, route: &'static str) -> Result<Participant, ApiError> {
        let mut p =
            Participant::from_json(row, &self.inner.state_fields).ok_or_else(|| keyless(route))?;
        p.response_link = self.inner.response_link_fields.find_link(row);
        Ok(p)
    }

    /// The first `limit` participants of the account (no filter), each with the state field
    /// that matched and its shape: what `doctor` reports, without any value.
    pub async fn participant_samples(
        &self,
        limit: usize,
    ) -> Result<Vec<ParticipantSample>, ApiError> {
        let mut url = self.url(&["participants"]);
        url.query_pairs_mut()
            .append_pair("page_size", &self.inner.page_size.to_string());
        let rows: Vec<Value> = rows(self.clone(), url, ROUTE_PARTICIPANTS)
            .take(limit)
            .try_collect()
            .await?;
        rows.iter()
            .map(|row| {
                let (participant, path) = Participant::read(row, &self.inner.state_fields)
                    .ok_or_else(|| keyless(ROUTE_PARTICIPANTS))?;
                Ok(ParticipantSample {
                    participant,
                    state_path: path.map(str::to_owned),
                    shape: Shape::of(row),
                })
            })
            .collect()
    }

    /// One page (numbered from 1, of the largest page size) of an interview's participants,
    /// with Willo's count of them all, or `None` past the last page (DRF answers 404). Lets a
    /// caller read the two ends of a large interview without the middle; rows of other
    /// interviews are returned as Willo sent them, as with [`WilloClient::participants`].
    pub async fn participants_page(
        &self,
        interview: &str,
        page: u64,
    ) -> Result<Option<ParticipantPage>, ApiError> {
        let mut url = self.url(&["participants"]);
        url.query_pairs_mut()
            .append_pair("interview", interview)
            .append_pair("page_size", &self.inner.page_size.to_string())
            .append_pair("page", &page.to_string());
        let (url_of_page, page_number) = (url.clone(), page);
        let reply = match self.send(&Call::get(url, ROUTE_PARTICIPANTS)).await {
            Ok(reply) => reply,
            Err(ApiError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let page = wire::page(ROUTE_PARTICIPANTS, &reply.body)?;
        // A bare array says nothing of further pages: one as long as a page is the whole list
        // only if the next page number answers the same rows (Willo ignoring paging) or nothing.
        let mut last = page.next.is_none();
        if page.bare_and_full(usize::from(self.inner.page_size)) {
            last = !self
                .bare_list_goes_on(&url_of_page, page_number, &page.results)
                .await?;
        }
        let rows = page
            .results
            .iter()
            .map(|row| self.read_participant(row, ROUTE_PARTICIPANTS))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(ParticipantPage {
            count: page.count,
            page_size: u64::from(self.inner.page_size),
            last,
            rows,
        }))
    }

    /// Whether a bare array of a whole page (`rows`, read from `url` as page `number`) goes on:
    /// true when the next page number answers other rows.
    async fn bare_list_goes_on(
        &self,
        url: &Url,
        number: u64,
        rows: &[Value],
    ) -> Result<bool, ApiError> {
        let next = with_page(url, number + 1);
        let reply = match self.send(&Call::get(next, ROUTE_PARTICIPANTS)).await {
            Ok(reply) => reply,
            Err(ApiError::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(e),
        };
        let next = wire::page(ROUTE_PARTICIPANTS, &reply.body)?;
        Ok(!next.results.is_empty() && next.results.first() != rows.first())
    }

    /// The page size of every listing (what a page count is estimated with).
    pub fn page_size(&self) -> u64 {
        u64::from(self.inner.page_size)
    }

    /// One participant.
    pub async fn participant(&self, key: &str) -> Result<Participant, ApiError> {
        let reply = self
            .send(&Call::get(
                self.url(&["participants", key]),
                ROUTE_PARTICIPANT,
            ))
            .await?;
        let row: Value = decode(Api::Willo, ROUTE_PARTICIPANT, &reply.body)?;
        self.read_participant(&row, ROUTE_PARTICIPANT)
    }

    /// Creates a participant, which sends the invite email. Retried only when Willo provably
    /// did not act (429, or no connection); once the request may have been sent, a timeout,
    /// reset, 5xx or unreadable 2xx body returns `Ambiguous` and the caller must look the
    /// email up among the interview's participants before anything else.
    pub async fn create_participant(&self, new: &NewParticipant) -> Result<Participant, ApiError> {
        let call = Call::post_json(
            self.url(&["participants"]),
            ROUTE_PARTICIPANTS,
            new,
            Idempotency::NonIdempotent,
        );
        let reply = self.send(&call).await?;
        let created = decode::<Value>(Api::Willo, ROUTE_PARTICIPANTS, &reply.body)
            .and_then(|row| self.read_participant(&row, ROUTE_PARTICIPANTS));
        match created {
            Ok(p) => Ok(p),
            Err(e) => Err(ApiError::Ambiguous {
                api: Api::Willo,
                route: ROUTE_PARTICIPANTS,
                reason: format!(
                    "HTTP {} but the created participant could not be read ({e})",
                    reply.status.as_u16()
                ),
            }),
        }
    }
}

/// One page of an interview's participants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantPage {
    /// Willo's count of every participant of the listing, when it gives one.
    pub count: Option<u64>,
    /// The page size asked for.
    pub page_size: u64,
    /// True when Willo says no page follows.
    pub last: bool,
    pub rows: Vec<Participant>,
}
