//! Raw query strings with repeated keys (`tag=a&tag=b`), which axum's `Query` cannot express.

/// The decoded `key=value` pairs of a query string, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        QueryParams {
            pairs: url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        }
    }

    /// Every value given for `key`, in order.
    pub(crate) fn all<'a>(&'a self, key: &str) -> impl Iterator<Item = &'a str> {
        let key = key.to_owned();
        self.pairs
            .iter()
            .filter(move |(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first value given for `key`.
    pub(crate) fn first(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// All pairs except those whose key is in `skip`, sorted: the identity of a query for
    /// binding page tokens to it (the order of repeated keys does not change the result).
    pub(crate) fn canonical(&self, skip: &[&str]) -> String {
        let mut kept: Vec<&(String, String)> = self
            .pairs
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()))
            .collect();
        kept.sort();
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(kept.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .finish()
    }

    /// Re-encodes the pairs with `key` set to `value` (or removed when `None`), sorted by key
    /// as Django REST framework's `replace_query_param` does.
    pub(crate) fn with(&self, key: &str, value: Option<&str>) -> String {
        let mut pairs: Vec<(&str, &str)> = self
            .pairs
            .iter()
            .filter(|(k, _)| k != key)
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if let Some(v) = value {
            pairs.push((key, v));
        }
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_all_kept() {
        let q = QueryParams::parse(Some("tag=a&tag=b%20c&limit=5&tag=Willo%3AInvited"));
        assert_eq!(
            q.all("tag").collect::<Vec<_>>(),
            ["a", "b c", "Willo:Invited"]
        );
        assert_eq!(q.first("limit"), Some("5"));
        assert_eq!(q.first("offset"), None);
    }

    #[test]
    fn canonical_form_ignores_order_and_skipped_keys() {
        let a = QueryParams::parse(Some("tag=b&tag=a&offset=x&limit=1"));
        let b = QueryParams::parse(Some("tag=a&limit=9&tag=b"));
        assert_eq!(
            a.canonical(&["offset", "limit"]),
            b.canonical(&["offset", "limit"])
        );
    }
}
