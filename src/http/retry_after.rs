//! How long a server asked us to wait: `Retry-After` (RFC 9110: delay-seconds or an HTTP date)
//! and `X-RateLimit-Reset` (seen in Lever client code; epoch seconds or seconds to wait).
//!
//! `now` is an argument so the parsing is testable without a clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

/// Values at least this large are read as absolute epoch seconds (2001-09-09 onwards); smaller
/// ones as a number of seconds to wait.
const EPOCH_SECONDS_THRESHOLD: u64 = 1_000_000_000;
/// Values at least this large are epoch milliseconds (some servers send those).
const EPOCH_MILLIS_THRESHOLD: u64 = 1_000_000_000_000;

/// Parses a `Retry-After` value. A date in the past means "now" (zero).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses an `X-RateLimit-Reset` value: epoch seconds (or milliseconds) when large, else a
/// number of seconds to wait.
pub fn parse_rate_limit_reset(value: &str, now: SystemTime) -> Option<Duration> {
    let raw: u64 = match value.trim().parse::<u64>() {
        Ok(v) => v,
        Err(_) => {
            let f = value.trim().parse::<f64>().ok()?;
            if !f.is_finite() || f < 0.0 {
                return None;
            }
            f as u64
        }
    };
    let epoch = if raw >= EPOCH_MILLIS_THRESHOLD {
        UNIX_EPOCH + Duration::from_millis(raw)
    } else if raw >= EPOCH_SECONDS_THRESHOLD {
        UNIX_EPOCH + Duration::from_secs(raw)
    } else {
        return Some(Duration::from_secs(raw));
    };
    Some(epoch.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The wait a response asks for: `Retry-After` first, then `X-RateLimit-Reset`.
pub fn requested_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    text("retry-after")
        .and_then(|v| parse_retry_after(v, now))
        .or_else(|| text("x-ratelimit-reset").and_then(|v| parse_rate_limit_reset(v, now)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = at(1_700_000_000);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("0.5", now),
            Some(Duration::from_millis(500))
        );
        let date = httpdate::fmt_http_date(at(1_700_000_030));
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(30)));
        let past = httpdate::fmt_http_date(at(1_699_999_000));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn rate_limit_reset_small_is_a_delay_large_is_an_epoch() {
        let now = at(1_700_000_000);
        assert_eq!(
            parse_rate_limit_reset("12", now),
            Some(Duration::from_secs(12))
        );
        assert_eq!(
            parse_rate_limit_reset("1700000045", now),
            Some(Duration::from_secs(45))
        );
        assert_eq!(
            parse_rate_limit_reset("1700000002500", now),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(
            parse_rate_limit_reset("1600000000", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_rate_limit_reset("x", now), None);
    }

    #[test]
    fn retry_after_wins_over_rate_limit_reset() {
        let now = at(1_700_000_000);
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset", "1700000060".parse().unwrap());
        assert_eq!(requested_wait(&h, now), Some(Duration::from_secs(60)));
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(requested_wait(&h, now), Some(Duration::from_secs(3)));
        assert_eq!(requested_wait(&HeaderMap::new(), now), None);
    }
}
