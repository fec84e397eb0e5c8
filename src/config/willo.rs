//! `[tenants.willo]` -> [`WilloSettings`]: the client's settings (state fields among them), the
//! webhook tokens, the status map and the interview scope. Each check names its key path.

use super::ConfigError;
use super::raw::{RawInterviewScope, RawWillo};
use super::validate::{Ctx, RawHttp, base_url, http};
use super::{StatusChecks, WilloSettings};
use crate::domain::status_map::StatusMap;
use crate::domain::tags::StatusTag;
use crate::willo::{InterviewScope, StateFields, WilloClientConfig};

pub(super) fn settings(cx: &Ctx, key: &str, w: RawWillo) -> Result<WilloSettings, ConfigError> {
    let api_key = cx
        .secret(
            key,
            "api_key",
            w.api_key.as_deref(),
            w.api_key_file.as_deref(),
        )?
        .ok_or_else(|| {
            cx.err(
                &format!("{key}.api_key"),
                "missing: set api_key or api_key_file",
            )
        })?;
    let webhook_token = cx.secret(
        key,
        "webhook_token",
        w.webhook_token.as_deref(),
        w.webhook_token_file.as_deref(),
    )?;
    let previous_webhook_token = cx.secret(
        key,
        "previous_webhook_token",
        w.previous_webhook_token.as_deref(),
        w.previous_webhook_token_file.as_deref(),
    )?;
    let mut overrides = Vec::new();
    for (state, tag) in &w.status_map {
        let Some(tag) = StatusTag::from_tag(tag) else {
            return Err(cx.err(
                &format!("{key}.status_map.{state:?}"),
                format!(
                    "{tag:?} is not a status tag; use one of \"Willo:Invited\", \"Willo:To Review\", \"Willo:Accepted\", \"Willo:Rejected\""
                ),
            ));
        };
        if state.trim().is_empty() {
            return Err(cx.err(&format!("{key}.status_map"), "a state name is empty"));
        }
        overrides.push((state.as_str(), tag));
    }
    let mut client = WilloClientConfig::new(
        base_url(cx, &format!("{key}.base_url"), &w.base_url)?,
        api_key,
    );
    if let Some(paths) = &w.state_fields {
        client.state_fields = StateFields::new(paths).map_err(|e| {
            let problem = if paths.is_empty() {
                "must name at least one dotted JSON path, such as \"stage.name\"".to_owned()
            } else {
                e.to_string()
            };
            cx.err(&format!("{key}.state_fields"), problem)
        })?;
    }
    if let Some(paths) = &w.response_link_fields {
        // An empty list is allowed here (unlike state_fields): it means "no link in notes".
        client.response_link_fields = if paths.is_empty() {
            StateFields::none()
        } else {
            StateFields::new(paths)
                .map_err(|e| cx.err(&format!("{key}.response_link_fields"), e.to_string()))?
        };
    }
    client.http = http(
        cx,
        key,
        RawHttp {
            requests_per_second: w.requests_per_second,
            burst: w.burst,
            connect_timeout_seconds: w.connect_timeout_seconds,
            request_timeout_seconds: w.request_timeout_seconds,
            retry_max_elapsed_seconds: w.retry_max_elapsed_seconds,
        },
        client.http,
    )?;
    Ok(WilloSettings {
        client,
        webhook_token,
        previous_webhook_token,
        status_map: StatusMap::with_overrides(overrides),
        interview_scope: scope(cx, &format!("{key}.interview_scope"), w.interview_scope)?,
        status_checks: status_checks(cx, key, w.status_check_share, w.status_freshness_seconds)?,
    })
}

fn status_checks(
    cx: &Ctx,
    key: &str,
    share: Option<f64>,
    freshness: Option<f64>,
) -> Result<StatusChecks, ConfigError> {
    let mut checks = StatusChecks::default();
    if let Some(s) = share {
        if !(s.is_finite() && s > 0.0 && s <= 1.0) {
            return Err(cx.err(
                &format!("{key}.status_check_share"),
                format!(
                    "must be a number above 0 and at most 1 (a share of Willo's rate), got {s}"
                ),
            ));
        }
        checks.share = s;
    }
    if let Some(f) = freshness {
        // A minute at least: a window shorter than the schedule interval cannot be kept.
        if !(f.is_finite() && (60.0..=MAX_FRESHNESS_SECONDS).contains(&f)) {
            return Err(cx.err(
                &format!("{key}.status_freshness_seconds"),
                format!("must be a number of seconds from 60 to {MAX_FRESHNESS_SECONDS}, got {f}"),
            ));
        }
        checks.freshness = std::time::Duration::from_secs_f64(f);
    }
    Ok(checks)
}

/// A week: the longest freshness window accepted.
const MAX_FRESHNESS_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

fn scope(cx: &Ctx, key: &str, s: RawInterviewScope) -> Result<InterviewScope, ConfigError> {
    for (name, values) in [
        ("departments", &s.departments),
        ("owner_emails", &s.owner_emails),
        ("title_patterns", &s.title_patterns),
    ] {
        if let Some(i) = values.iter().position(|v| v.trim().is_empty()) {
            return Err(cx.err(&format!("{key}.{name}[{i}]"), "must not be empty"));
        }
    }
    if let Some(i) = s.owner_emails.iter().position(|e| !e.contains('@')) {
        return Err(cx.err(
            &format!("{key}.owner_emails[{i}]"),
            format!("{:?} is not an email address", s.owner_emails[i]),
        ));
    }
    Ok(InterviewScope::new(
        s.departments,
        s.owner_emails,
        s.title_patterns,
    ))
}
