//! The Willo client. Cheap to clone; one per tenant. Knows nothing of Lever or the planner.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::{Stream, StreamExt, TryStreamExt, stream};
use reqwest::header::HeaderValue;
use url::Url;

use super::model::{Interview, NewParticipant, Participant};
use super::wire;
use crate::http::decode::decode;
use crate::http::observer::{Api, ApiObserver};
use crate::http::transport::{Call, Idempotency, Transport};
use crate::http::{ApiError, BuildError, HttpConfig};
use crate::secret::Secret;

/// Willo's documented maximum page size.
pub const MAX_PAGE_SIZE: u8 = 30;

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
}

impl WilloClientConfig {
    /// With the default pacing and timeouts (`HttpConfig::willo()`) and the largest pages.
    pub fn new(base_url: Url, api_key: impl Into<Secret>) -> Self {
        WilloClientConfig {
            base_url,
            api_key: api_key.into(),
            http: HttpConfig::willo(),
            page_size: MAX_PAGE_SIZE,
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
    foreign_rows: AtomicU64,
    unverified_rows: AtomicU64,
}

/// What a participant row says about the interview it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowCheck {
    Ours,
    /// Names another interview: the server ignored our filter. Skipped.
    Foreign,
    /// Names no interview: kept (the filter is all we have), counted and warned about.
    Unverified,
}

fn check_row(p: &Participant, wanted: &str) -> RowCheck {
    match p.interview_key.as_deref() {
        Some(k) if k == wanted => RowCheck::Ours,
        Some(_) => RowCheck::Foreign,
        None => RowCheck::Unverified,
    }
}

impl std::fmt::Debug for WilloClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WilloClient")
            .field("base", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

const ROUTE_INTERVIEWS: &str = "/interviews/";
const ROUTE_PARTICIPANTS: &str = "/participants/";
const ROUTE_PARTICIPANT: &str = "/participants/{key}/";

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
                foreign_rows: AtomicU64::new(0),
                unverified_rows: AtomicU64::new(0),
            }),
        })
    }

    /// Participant rows skipped because they belonged to another interview than the one asked
    /// for (the real API may ignore the `interview` filter).
    pub fn foreign_rows_skipped(&self) -> u64 {
        self.inner.foreign_rows.load(Ordering::Relaxed)
    }

    /// `base` + segments + trailing slash (Willo paths end in `/`).
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments).push("");
        }
        url
    }

    async fn send(&self, call: &Call) -> Result<crate::http::transport::Reply, ApiError> {
        let auth = &self.inner.auth;
        self.inner
            .transport
            .execute(call, || async { Ok(Some(auth.clone())) })
            .await
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        url: Url,
        route: &'static str,
    ) -> Result<T, ApiError> {
        let reply = self.send(&Call::get(url, route)).await?;
        decode(Api::Willo, route, &reply.body)
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
        pages::<wire::Interview>(self.clone(), url, ROUTE_INTERVIEWS).map_ok(Interview::from)
    }

    /// The participants of one interview. Rows that name another interview are skipped and
    /// counted in [`WilloClient::foreign_rows_skipped`]. Rows that name none are kept and
    /// counted in [`WilloClient::unverified_rows`]: dropping them would hide every participant
    /// (and so every status change) if Willo never sends the field, which is worse than
    /// trusting the filter.
    pub fn participants(
        &self,
        interview_key: &str,
    ) -> impl Stream<Item = Result<Participant, ApiError>> + Send + 'static {
        let mut url = self.url(&["participants"]);
        url.query_pairs_mut()
            .append_pair("interview", interview_key)
            .append_pair("page_size", &self.inner.page_size.to_string());
        let wanted = interview_key.to_owned();
        let client = self.clone();
        pages::<wire::Participant>(self.clone(), url, ROUTE_PARTICIPANTS)
            .map_ok(Participant::from)
            .try_filter(move |p| {
                let keep = match check_row(p, &wanted) {
                    RowCheck::Ours => true,
                    RowCheck::Foreign => {
                        client.inner.foreign_rows.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(participant = %p.key, "skipping a participant row of another interview");
                        false
                    }
                    RowCheck::Unverified => {
                        if client.inner.unverified_rows.fetch_add(1, Ordering::Relaxed) == 0 {
                            tracing::warn!("Willo participant rows carry no interview; trusting the list filter");
                        }
                        true
                    }
                };
                futures::future::ready(keep)
            })
    }

    /// One participant.
    pub async fn participant(&self, key: &str) -> Result<Participant, ApiError> {
        let w: wire::Participant = self
            .get(self.url(&["participants", key]), ROUTE_PARTICIPANT)
            .await?;
        Ok(w.into())
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
        match decode::<wire::Participant>(Api::Willo, ROUTE_PARTICIPANTS, &reply.body) {
            Ok(w) => Ok(w.into()),
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

/// DRF pages as a lazy stream, following `next` as given but only on the base URL's origin
/// (scheme, host and port): a `next` elsewhere would send our key to another server.
fn pages<W>(
    client: WilloClient,
    first: Url,
    route: &'static str,
) -> impl Stream<Item = Result<W, ApiError>> + Send + 'static
where
    W: serde::de::DeserializeOwned + Send + 'static,
{
    struct Pager {
        client: WilloClient,
        next: Option<Url>,
        visited: HashSet<String>,
        route: &'static str,
    }
    let protocol = move |message: String| ApiError::Protocol {
        api: Api::Willo,
        route,
        message,
    };
    let pager = Pager {
        client,
        next: Some(first),
        visited: HashSet::new(),
        route,
    };
    stream::try_unfold(pager, move |mut p| async move {
        let Some(url) = p.next.take() else {
            return Ok(None);
        };
        p.visited.insert(url.to_string());
        let page: wire::Page<W> = p.client.get(url.clone(), p.route).await?;
        if let Some(next) = page.next.filter(|n| !n.trim().is_empty()) {
            let next = url
                .join(next.trim())
                .map_err(|_| protocol("next is not a URL".into()))?;
            if next.origin() != p.client.inner.base.origin() {
                return Err(protocol(format!(
                    "next points at {} instead of the configured host {}",
                    next.origin().ascii_serialization(),
                    p.client.inner.base.origin().ascii_serialization()
                )));
            }
            if p.visited.contains(next.as_str()) {
                return Err(protocol("next points at a page already read".into()));
            }
            p.next = Some(next);
        }
        Ok(Some((page.results, p)))
    })
    .map_ok(|rows| stream::iter(rows.into_iter().map(Ok)))
    .try_flatten()
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(interview: Option<&str>) -> Participant {
        Participant {
            key: "p".into(),
            interview_key: interview.map(str::to_owned),
            name: String::new(),
            first_name: None,
            last_name: None,
            email: None,
            phone: None,
            external_id: None,
            state: None,
            created_at: None,
            updated_at: None,
        }
    }

    #[test]
    fn rows_are_checked_against_the_interview_asked_for() {
        assert_eq!(check_row(&row(Some("a")), "a"), RowCheck::Ours);
        assert_eq!(check_row(&row(Some("b")), "a"), RowCheck::Foreign);
        assert_eq!(check_row(&row(None), "a"), RowCheck::Unverified);
    }
}
