//! DRF `PageNumberPagination` and the absolute links it writes.
//!
//! A page renders only its own rows: the caller passes the row count and a function that
//! renders a range, so a page of 30 out of 100,000 costs 30 renders.

use std::ops::Range;

use serde_json::{Value, json};

use super::variants::PageLinks;
use crate::sim::query::QueryParams;

/// The absolute URL of `path` as the page links name it.
pub(crate) fn absolute(links: &PageLinks, host: Option<&str>, origin: &str, path: &str) -> String {
    match links {
        PageLinks::FromRequest => match host {
            Some(host) => format!("http://{host}{path}"),
            None => format!("{origin}{path}"),
        },
        PageLinks::Proxied { scheme, port } => {
            let host = host.unwrap_or_else(|| origin.trim_start_matches("http://"));
            // The host name without the port the client used.
            let name = match host.rsplit_once(':') {
                Some((name, p)) if p.chars().all(|c| c.is_ascii_digit()) => name,
                _ => host,
            };
            format!("{scheme}://{name}:{port}{path}")
        }
        PageLinks::Host(other) => format!("{}{path}", other.trim_end_matches('/')),
    }
}

/// Page size and number from the query; `Err` is DRF's 404 text.
struct PageSpec {
    size: usize,
    page: usize,
    pages: usize,
}

fn spec(
    count: usize,
    q: &QueryParams,
    default_size: usize,
    max_size: usize,
) -> Result<PageSpec, &'static str> {
    // A non-positive or non-numeric page_size falls back to the default; larger than the
    // maximum is clamped (DRF's `max_page_size`).
    let size = q
        .first("page_size")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .map_or(default_size, |n| n.min(max_size))
        .max(1);
    let pages = count.div_ceil(size).max(1);
    let page = match q.first("page") {
        None => 1,
        Some("last") => pages,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=pages).contains(&n) => n,
            _ => return Err("Invalid page."),
        },
    };
    Ok(PageSpec { size, page, pages })
}

/// `{count, next, previous, results}` for the requested page of `count` rows.
pub(crate) fn paginate(
    count: usize,
    q: &QueryParams,
    absolute_path: &str,
    default_size: usize,
    max_size: usize,
    render: impl FnOnce(Range<usize>) -> Vec<Value>,
) -> Result<Value, &'static str> {
    let PageSpec { size, page, pages } = spec(count, q, default_size, max_size)?;
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
    let start = ((page - 1) * size).min(count);
    let results = render(start..(start + size).min(count));
    Ok(json!({"count": count, "next": next, "previous": previous, "results": results}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_follow_the_request_a_proxy_or_another_host() {
        let path = "/api/integrations/v2/participants/";
        let o = "http://127.0.0.1:9";
        assert_eq!(
            absolute(&PageLinks::FromRequest, Some("127.0.0.1:5000"), o, path),
            format!("http://127.0.0.1:5000{path}")
        );
        let proxied = PageLinks::Proxied {
            scheme: "https".into(),
            port: 8443,
        };
        assert_eq!(
            absolute(&proxied, Some("127.0.0.1:5000"), o, path),
            format!("https://127.0.0.1:8443{path}")
        );
        assert_eq!(
            absolute(
                &PageLinks::Host("https://api.willotalent.com/".into()),
                None,
                o,
                path
            ),
            format!("https://api.willotalent.com{path}")
        );
    }

    #[test]
    fn only_the_requested_rows_are_rendered() {
        let q = QueryParams::parse(Some("page=3&page_size=30"));
        let mut asked = None;
        let v = paginate(100_000, &q, "/p/", 10, 30, |r| {
            asked = Some(r.clone());
            r.map(|i| json!(i)).collect()
        })
        .unwrap();
        assert_eq!(asked, Some(60..90));
        assert_eq!(v["count"], 100_000);
        assert_eq!(v["results"][0], 60);
    }
}
