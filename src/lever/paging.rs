//! Lever's `{data, next, hasNext}` paging as a lazy stream.
//!
//! The offset token is opaque: only a value Lever returned in `next` is ever sent, with every
//! other parameter unchanged. Lever sometimes refuses its own token ("Invalid offset token");
//! the listing then restarts once from the first page, skipping ids already yielded, and fails
//! with `Protocol` if it happens again. Tokens are never persisted.

use std::collections::HashSet;

use futures::{Stream, StreamExt, TryStreamExt, stream};
use url::Url;

use super::client::LeverClient;
use super::model::{DeletedOpportunity, Note, Opportunity, Posting, Stage, Tag, User};
use super::wire::ListEnvelope;
use crate::http::ApiError;
use crate::http::decode::decode;
use crate::http::observer::Api;
use crate::http::transport::Call;

/// What identifies a listed item, for de-duplication after a restart.
pub trait Listing {
    fn listing_id(&self) -> &str;
}

impl Listing for Opportunity {
    fn listing_id(&self) -> &str {
        &self.id
    }
}
impl Listing for Stage {
    fn listing_id(&self) -> &str {
        &self.id
    }
}
impl Listing for User {
    fn listing_id(&self) -> &str {
        &self.id
    }
}
impl Listing for Tag {
    fn listing_id(&self) -> &str {
        &self.text
    }
}
impl Listing for Posting {
    fn listing_id(&self) -> &str {
        &self.id
    }
}
impl Listing for Note {
    fn listing_id(&self) -> &str {
        &self.id
    }
}
impl Listing for DeletedOpportunity {
    fn listing_id(&self) -> &str {
        &self.id
    }
}

struct Pager {
    client: LeverClient,
    /// The first page's URL; `offset` is appended for later pages.
    url: Url,
    route: &'static str,
    offset: Option<String>,
    done: bool,
    restarted: bool,
    seen: HashSet<String>,
}

/// True for Lever's "Invalid offset token: …", recognised by its message under any 4xx
/// status (400 is what was seen; nothing promises it). 401 and 403 are never this.
fn is_invalid_offset(e: &ApiError) -> bool {
    let message = match e {
        ApiError::Rejected {
            status: 400..=499,
            message,
            ..
        }
        | ApiError::NotFound { message, .. } => message,
        _ => return false,
    };
    message.to_ascii_lowercase().contains("invalid offset")
}

/// A page whose items are not a list: a broken page, never an empty one (reading it as empty
/// would hide every row on it).
fn malformed_page(e: ApiError) -> ApiError {
    match e {
        ApiError::Decode {
            api,
            route,
            path,
            message,
        } if path == "data" => ApiError::Protocol {
            api,
            route,
            message: format!("the list page has no `data` list ({message})"),
        },
        other => other,
    }
}

/// One page's items and links, as [`read_page`] finds them.
pub(crate) struct Page<W> {
    pub items: Vec<W>,
    pub next: Option<String>,
    pub has_next: Option<bool>,
}

fn protocol(route: &'static str, message: &str) -> ApiError {
    ApiError::Protocol {
        api: Api::Lever,
        route,
        message: message.to_owned(),
    }
}

/// Reads one list page's body. Serde would read a bare array positionally into the envelope's
/// fields, so anything but a JSON object is refused before decoding; a `data` that is missing,
/// null or not a list is a broken page, never an empty one.
pub(crate) fn read_page<W: serde::de::DeserializeOwned>(
    route: &'static str,
    body: &[u8],
) -> Result<Page<W>, ApiError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(protocol(
            route,
            "the list page is not a `{data, next, hasNext}` object",
        ));
    }
    let page: ListEnvelope<W> = decode(Api::Lever, route, body).map_err(malformed_page)?;
    let Some(items) = page.data else {
        return Err(protocol(
            route,
            "the list page has no `data` list (missing or null)",
        ));
    };
    Ok(Page {
        items,
        next: page.next,
        has_next: page.has_next,
    })
}

impl Pager {
    fn protocol(&self, message: &str) -> ApiError {
        protocol(self.route, message)
    }

    /// One page, fetched and read.
    async fn fetch<W: serde::de::DeserializeOwned>(&self, url: Url) -> Result<Page<W>, ApiError> {
        let reply = self.client.send(&Call::get(url, self.route)).await?;
        read_page(self.route, &reply.body)
    }

    /// The next page's new items; `None` when the listing is complete.
    async fn next_page<W, T>(&mut self) -> Result<Option<Vec<T>>, ApiError>
    where
        W: serde::de::DeserializeOwned,
        T: From<W> + Listing,
    {
        loop {
            if self.done {
                return Ok(None);
            }
            let mut url = self.url.clone();
            if let Some(offset) = &self.offset {
                url.query_pairs_mut().append_pair("offset", offset);
            }
            let fetched = self.fetch(url).await;
            let page: Page<W> = match fetched {
                Ok(page) => page,
                Err(e) if self.offset.is_some() && is_invalid_offset(&e) => {
                    if self.restarted {
                        return Err(self.protocol("offset token refused again after a restart"));
                    }
                    tracing::warn!(
                        route = self.route,
                        "Lever refused its offset token; restarting the listing once"
                    );
                    self.restarted = true;
                    self.offset = None;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let next = page.next.filter(|n| !n.is_empty());
            match (page.has_next, next) {
                (Some(true), None) => {
                    return Err(self.protocol("hasNext is true but next is missing"));
                }
                (Some(false), _) | (None, None) => self.done = true,
                (_, Some(n)) => {
                    if self.offset.as_deref() == Some(n.as_str()) {
                        return Err(self.protocol("next repeats the offset just used"));
                    }
                    self.offset = Some(n);
                }
            }
            let items = page
                .items
                .into_iter()
                .map(T::from)
                .filter(|item| self.seen.insert(item.listing_id().to_owned()))
                .collect();
            return Ok(Some(items));
        }
    }
}

/// Pages of `route` as a stream of items; the next page is requested only when the previous
/// one has been consumed.
pub(crate) fn stream<W, T>(
    client: LeverClient,
    url: Url,
    route: &'static str,
) -> impl Stream<Item = Result<T, ApiError>> + Send + 'static
where
    W: serde::de::DeserializeOwned + Send + 'static,
    T: From<W> + Listing + Send + 'static,
{
    let pager = Pager {
        client,
        url,
        route,
        offset: None,
        done: false,
        restarted: false,
        seen: HashSet::new(),
    };
    stream::try_unfold(pager, |mut pager| async move {
        Ok(pager.next_page::<W, T>().await?.map(|items| (items, pager)))
    })
    .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
    .try_flatten()
    .boxed()
}
