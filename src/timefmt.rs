//! Formatting of ms-epoch timestamps for people.

/// RFC 3339 in UTC with second precision, or the raw number if it is out of range.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}
