//! Walking Willo's lists: DRF pages (or a bare array) as a stream of raw rows, and the `next`
//! links rebuilt on the configured base. A child of `client` so it reads the client's settings.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use futures::{Stream, StreamExt, TryStreamExt, stream};
use serde_json::Value;
use url::Url;

use super::super::wire;
use super::WilloClient;
use crate::http::ApiError;
use crate::http::observer::Api;
use crate::http::transport::Call;

/// DRF pages as a lazy stream of raw rows, following `next` only on the configured host.
///
/// Django builds `next` from the request it saw: behind a TLS-terminating proxy it can name
/// another scheme or port than the one configured. Such a link is rebuilt on the configured
/// base (its path and query kept); a link to another host is refused, since following it would
/// send the key to another server.
pub(super) fn rows(
    client: WilloClient,
    first: Url,
    route: &'static str,
) -> impl Stream<Item = Result<Value, ApiError>> + Send + 'static {
    struct Pager {
        client: WilloClient,
        next: Option<Url>,
        visited: HashSet<String>,
        route: &'static str,
        /// The page number last asked for by number (bare arrays only).
        page: u64,
        /// The first row of the last bare page, to notice a server that ignores `page`.
        bare_first: Option<Value>,
        /// A page asked for by number may not exist (DRF answers 404 past the end).
        tolerate_404: bool,
    }
    let pager = Pager {
        client,
        next: Some(first),
        visited: HashSet::new(),
        route,
        page: 1,
        bare_first: None,
        tolerate_404: false,
    };
    stream::try_unfold(pager, move |mut p| async move {
        let Some(url) = p.next.take() else {
            return Ok(None);
        };
        p.visited.insert(url.to_string());
        let reply = match p.client.send(&Call::get(url.clone(), p.route)).await {
            Ok(reply) => reply,
            Err(ApiError::NotFound { .. }) if p.tolerate_404 => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut page = wire::page(p.route, &reply.body)?;
        if page.bare && !page.results.is_empty() && page.results.first() == p.bare_first.as_ref() {
            // The page number was ignored: the previous bare page was the whole list.
            return Ok(None);
        }
        if let Some(next) = page.next.take() {
            let next = next_on_base(&p.client, &url, &next, p.route)?;
            if p.visited.contains(next.as_str()) {
                return Err(protocol(
                    p.route,
                    "next points at a page already read".into(),
                ));
            }
            p.next = Some(next);
        } else if page.bare_and_full(usize::from(p.client.inner.page_size)) {
            // A bare array as long as a page says nothing of what follows: ask for the next
            // page number; the same rows again (paging ignored), nothing or 404 end the list.
            p.page += 1;
            p.bare_first = page.results.first().cloned();
            p.next = Some(with_page(&url, p.page));
            p.tolerate_404 = true;
        }
        Ok(Some((page.results, p)))
    })
    .map_ok(|rows| stream::iter(rows.into_iter().map(Ok)))
    .try_flatten()
    .boxed()
}

/// `url` with its `page` query parameter set to `number`.
pub(super) fn with_page(url: &Url, number: u64) -> Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut next = url.clone();
    next.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair("page", &number.to_string());
    next
}

fn protocol(route: &'static str, message: String) -> ApiError {
    ApiError::Protocol {
        api: Api::Willo,
        route,
        message,
    }
}

/// `next` as a URL on the configured base: same host required, scheme and port taken from
/// the base, path and query kept.
fn next_on_base(
    client: &WilloClient,
    current: &Url,
    next: &str,
    route: &'static str,
) -> Result<Url, ApiError> {
    let base = &client.inner.base;
    let next = current
        .join(next)
        .map_err(|_| protocol(route, "next is not a URL".into()))?;
    if next.host_str() != base.host_str() {
        return Err(protocol(
            route,
            format!(
                "next points at host {} instead of the configured host {}; set base_url to \
                 the host Willo names, or fix the proxy in front of it",
                next.host_str().unwrap_or("(none)"),
                base.host_str().unwrap_or("(none)")
            ),
        ));
    }
    if next.origin() == base.origin() {
        return Ok(next);
    }
    let mut rebuilt = base.clone();
    rebuilt.set_path(next.path());
    rebuilt.set_query(next.query());
    if client.inner.rebuilt_links.fetch_add(1, Ordering::Relaxed) == 0 {
        tracing::warn!(
            named = %next.origin().ascii_serialization(),
            configured = %base.origin().ascii_serialization(),
            "Willo's next links name another scheme or port than base_url (a proxy?); \
             following them on base_url"
        );
    }
    Ok(rebuilt)
}
