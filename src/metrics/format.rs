//! Which exposition format a `/metrics` client gets, from its `Accept` header.
//!
//! The two formats differ in more than their content type: OpenMetrics names a counter's
//! family without `_total` (the samples carry it), declares units (`# UNIT`), has an `info`
//! type and ends with `# EOF`; the Prometheus text format (0.0.4) names counters with their
//! `_total`, has no units, shows info metrics as gauges and has no end marker. Both are
//! encoded by prometheus-client; this module only chooses.

/// An exposition format `/metrics` can answer in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OpenMetrics 1.0.0: what Prometheus prefers, and the answer when nothing else is asked.
    OpenMetrics,
    /// The Prometheus text format 0.0.4, for clients that ask for `text/plain` over
    /// OpenMetrics (older scrapers, node_exporter's textfile collector, `curl -H`).
    Text,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Text => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        }
    }

    /// The format an `Accept` header asks for: `text/plain` when the client weighs it above
    /// OpenMetrics (by the `q` of the most specific range that matches each), OpenMetrics
    /// otherwise, including when there is no header, when both weigh the same (`*/*`) and
    /// when neither is acceptable (answering something beats a 406 for a scraper).
    pub fn negotiate(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::OpenMetrics;
        };
        let ranges: Vec<Range<'_>> = accept.split(',').filter_map(Range::parse).collect();
        let openmetrics = weight(&ranges, "application", "openmetrics-text");
        let text = weight(&ranges, "text", "plain");
        if text > openmetrics {
            Format::Text
        } else {
            Format::OpenMetrics
        }
    }
}

/// One media range of an `Accept` header, e.g. `text/plain;version=0.0.4;q=0.5`.
struct Range<'a> {
    kind: &'a str,
    subtype: &'a str,
    q: f32,
}

impl<'a> Range<'a> {
    fn parse(item: &'a str) -> Option<Range<'a>> {
        let mut parts = item.split(';');
        let (kind, subtype) = parts.next()?.trim().split_once('/')?;
        let q = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .map(|(_, v)| v.trim().parse::<f32>().unwrap_or(0.0))
            .unwrap_or(1.0)
            .clamp(0.0, 1.0);
        Some(Range {
            kind: kind.trim(),
            subtype: subtype.trim(),
            q,
        })
    }

    /// How specifically it matches `kind/subtype`: 2 exactly, 1 as `kind/*`, 0 as `*/*`.
    fn specificity(&self, kind: &str, subtype: &str) -> Option<u8> {
        let kind_matches = self.kind.eq_ignore_ascii_case(kind);
        if kind_matches && self.subtype.eq_ignore_ascii_case(subtype) {
            Some(2)
        } else if kind_matches && self.subtype == "*" {
            Some(1)
        } else if self.kind == "*" && self.subtype == "*" {
            Some(0)
        } else {
            None
        }
    }
}

/// The `q` of the most specific range matching `kind/subtype` (the highest among equals), or
/// 0 when none matches.
fn weight(ranges: &[Range<'_>], kind: &str, subtype: &str) -> f32 {
    ranges
        .iter()
        .filter_map(|r| r.specificity(kind, subtype).map(|s| (s, r.q)))
        .max_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)))
        .map_or(0.0, |(_, q)| q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_gets_openmetrics_and_text_only_clients_get_text() {
        // What Prometheus 2.x sends by default.
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prometheus)), Format::OpenMetrics);
        // A scraper configured for the classic format only.
        let classic = "text/plain;version=0.0.4;q=1.0,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(classic)), Format::Text);
        assert_eq!(Format::negotiate(Some("text/plain")), Format::Text);
        assert_eq!(Format::negotiate(Some("text/*")), Format::Text);
    }

    #[test]
    fn no_preference_gets_openmetrics() {
        assert_eq!(Format::negotiate(None), Format::OpenMetrics);
        assert_eq!(Format::negotiate(Some("*/*")), Format::OpenMetrics);
        assert_eq!(Format::negotiate(Some("")), Format::OpenMetrics);
        assert_eq!(
            Format::negotiate(Some("application/json")),
            Format::OpenMetrics
        );
        // A browser weighs everything by `*/*`.
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(Format::negotiate(Some(browser)), Format::OpenMetrics);
    }

    #[test]
    fn the_most_specific_range_sets_the_weight() {
        // text/plain is refused outright although */* would accept it.
        assert_eq!(
            Format::negotiate(Some("text/plain;q=0, */*")),
            Format::OpenMetrics
        );
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text;q=0.2, text/plain;q=0.3")),
            Format::Text
        );
        assert_eq!(
            Format::negotiate(Some("TEXT/PLAIN; Q=0.9, application/*;q=0.5")),
            Format::Text
        );
        // A q that is not a number counts as not acceptable.
        assert_eq!(
            Format::negotiate(Some(
                "text/plain;q=high, application/openmetrics-text;q=0.1"
            )),
            Format::OpenMetrics
        );
    }
}
