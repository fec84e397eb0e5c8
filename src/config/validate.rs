//! Raw file → validated [`Settings`]. Each check names the key path and the problem.

use std::collections::BTreeSet;
use std::net::{SocketAddr, ToSocketAddrs};
use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use url::Url;

mod bounds;

pub(super) use bounds::finite_numbers;
use bounds::{MAX_SECONDS, MIN_REQUESTS_PER_SECOND};

use super::load::invalid;
use super::raw::{RawConfig, RawDaemon, RawLever, RawLog, RawOAuth, RawTenant};
use super::schedule::Schedule;
use super::secret::{self, Secret, SecretDirs};
use super::{
    ConfigError, DEFAULT_CATALOG_MAX_TAGS, DaemonSettings, LeverSettings, LogFormat, LogSettings,
    Settings, StateSettings, TenantSettings,
};
use crate::domain::tags::TagTemplate;
use crate::error_chain::chain;
use crate::http::{HttpConfig, RequestsPerSecond};
use crate::lever::oauth::{
    DEFAULT_SCOPES, LEVER_AUDIENCE, LEVER_AUTHORIZE_URL, LEVER_TOKEN_URL, OFFLINE_ACCESS,
};
use crate::lever::permission::CONFIDENTIAL_SCOPE;
use crate::lever::{LeverAuth, LeverClientConfig, OAuthConfig};

#[derive(Clone, Copy)]
pub(super) struct Ctx<'a> {
    path: &'a Path,
    dirs: &'a SecretDirs,
}

impl Ctx<'_> {
    pub(super) fn err(&self, key: &str, problem: impl Into<String>) -> ConfigError {
        invalid(self.path, key, problem)
    }

    pub(super) fn secret(
        &self,
        prefix: &str,
        name: &str,
        inline: Option<&str>,
        file: Option<&Path>,
    ) -> Result<Option<Secret>, ConfigError> {
        secret::resolve(name, inline, file, self.dirs).map_err(|e| {
            let key = match e {
                secret::SecretError::Unreadable { .. } | secret::SecretError::EmptyFile { .. } => {
                    format!("{prefix}.{name}_file")
                }
                _ => format!("{prefix}.{name}"),
            };
            self.err(&key, chain(&e).to_string())
        })
    }
}

fn daemon_and_log(
    cx: &Ctx,
    d: RawDaemon,
    l: RawLog,
) -> Result<(DaemonSettings, LogSettings), ConfigError> {
    let daemon = DaemonSettings {
        state_dir: d.state_dir,
        listen: socket_addr(cx, "daemon.listen", &d.listen)?,
        schedule: cron(cx, "daemon.schedule", &d.schedule)?,
        full_schedule: cron(cx, "daemon.full_schedule", &d.full_schedule)?,
        concurrency: positive_int(cx, "daemon.concurrency", d.concurrency, 1024)?,
        incremental_overlap: Duration::from_secs(non_negative(
            cx,
            "daemon.incremental_overlap_seconds",
            d.incremental_overlap_seconds,
            7 * 86_400,
        )?),
        hint_queue_capacity: positive_int(
            cx,
            "daemon.hint_queue_capacity",
            d.hint_queue_capacity,
            1_000_000,
        )?,
        shutdown_grace: Duration::from_secs(non_negative(
            cx,
            "daemon.shutdown_grace_seconds",
            d.shutdown_grace_seconds,
            3600,
        )?),
        status_page: d.status_page,
        instance_id: super::state_store::instance_id(cx, d.instance_id)?,
    };
    let format = match l.format.as_str() {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        other => {
            return Err(cx.err(
                "log.format",
                format!("must be \"text\" or \"json\", got {other:?}"),
            ));
        }
    };
    crate::logging::level::check(&l.level).map_err(|problem| cx.err("log.level", problem))?;
    let log = LogSettings {
        level: l.level,
        format,
        dir: l.dir,
    };
    Ok((daemon, log))
}

/// The raw file → validated [`Settings`], secrets read.
pub(super) fn settings(
    raw: RawConfig,
    path: &Path,
    dirs: &SecretDirs,
) -> Result<Settings, ConfigError> {
    let cx = Ctx { path, dirs };
    let (daemon, log) = daemon_and_log(&cx, raw.daemon, raw.log)?;
    let store = super::state_store::settings(&cx, raw.store)?;
    let mut tenants = Vec::with_capacity(raw.tenants.len());
    for (key, t) in tenant_keys(&cx, raw.tenants)? {
        tenants.push(tenant(&cx, &key, t)?);
    }
    Ok(Settings {
        source: path.to_path_buf(),
        daemon,
        log,
        store,
        tenants,
    })
}

/// What `status` and `tags` need: the daemon and log settings and the tenant ids, with no
/// secret read (they may be readable only by the service) but the store's `url`, without
/// which there is no state to read.
pub(super) fn state(
    raw: RawConfig,
    path: &Path,
    dirs: &SecretDirs,
) -> Result<StateSettings, ConfigError> {
    let cx = Ctx { path, dirs };
    let (daemon, log) = daemon_and_log(&cx, raw.daemon, raw.log)?;
    let store = super::state_store::settings(&cx, raw.store)?;
    let tenants = tenant_keys(&cx, raw.tenants)?
        .into_iter()
        .map(|(_, t)| t.id)
        .collect();
    Ok(StateSettings {
        source: path.to_path_buf(),
        daemon,
        log,
        store,
        tenants,
    })
}

/// Each tenant with the key path its errors name: `tenants[acme]`, by id, or by position when
/// the id itself is what is wrong. Ids are checked for shape and duplicates here.
fn tenant_keys(cx: &Ctx, raw: Vec<RawTenant>) -> Result<Vec<(String, RawTenant)>, ConfigError> {
    if raw.is_empty() {
        return Err(cx.err("tenants", "at least one [[tenants]] table is required"));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, t) in raw.into_iter().enumerate() {
        if !valid_tenant_id(&t.id) {
            return Err(cx.err(
                &format!("tenants[{i}].id"),
                format!("{:?} must match [a-z0-9-]{{1,32}}", t.id),
            ));
        }
        if !seen.insert(t.id.clone()) {
            return Err(cx.err(
                &format!("tenants[{i}].id"),
                format!("duplicate tenant id {:?}", t.id),
            ));
        }
        out.push((format!("tenants[{}]", t.id), t));
    }
    Ok(out)
}

fn tenant(cx: &Ctx, key: &str, t: RawTenant) -> Result<TenantSettings, ConfigError> {
    if t.account_name.trim().is_empty() {
        return Err(cx.err(&format!("{key}.account_name"), "must not be empty"));
    }
    if t.trigger_stages.is_empty() {
        return Err(cx.err(
            &format!("{key}.trigger_stages"),
            "must name at least one Lever stage (name or id)",
        ));
    }
    if let Some(i) = t.trigger_stages.iter().position(|s| s.trim().is_empty()) {
        return Err(cx.err(&format!("{key}.trigger_stages[{i}]"), "must not be empty"));
    }
    let interview_tag_template = match &t.interview_tag_template {
        None => TagTemplate::default(),
        Some(text) => TagTemplate::parse(text).map_err(|e| {
            cx.err(
                &format!("{key}.interview_tag_template"),
                format!("{text:?} {e}"),
            )
        })?,
    };
    if let Some(c) = &t.catalog_opportunity_id
        && c.trim().is_empty()
    {
        return Err(cx.err(
            &format!("{key}.catalog_opportunity_id"),
            "must not be empty",
        ));
    }
    let catalog_max_tags = match t.catalog_max_tags {
        None => DEFAULT_CATALOG_MAX_TAGS,
        Some(n) => positive_int(cx, &format!("{key}.catalog_max_tags"), n, 100_000)?,
    };
    Ok(TenantSettings {
        lever: lever(cx, &format!("{key}.lever"), t.lever)?,
        willo: super::willo::settings(cx, &format!("{key}.willo"), t.willo)?,
        id: t.id,
        account_name: t.account_name.trim().to_owned(),
        trigger_stages: t.trigger_stages,
        catalog_opportunity_id: t.catalog_opportunity_id,
        match_posting_tags: t.match_posting_tags,
        interview_tag_template,
        catalog_max_tags,
    })
}

fn lever(cx: &Ctx, key: &str, l: RawLever) -> Result<LeverSettings, ConfigError> {
    let api_key = cx.secret(
        key,
        "api_key",
        l.api_key.as_deref(),
        l.api_key_file.as_deref(),
    )?;
    let auth = match (api_key, l.oauth) {
        (Some(_), Some(_)) => {
            return Err(cx.err(
                &format!("{key}.oauth"),
                "use either an API key or an [oauth] table, not both",
            ));
        }
        (Some(k), None) => LeverAuth::ApiKey(k),
        (None, Some(o)) => {
            let mut o = oauth(cx, &format!("{key}.oauth"), o)?;
            // Confidential rows need the scope; asking for them without it is refused.
            if l.include_confidential && !o.scopes.iter().any(|s| s == CONFIDENTIAL_SCOPE) {
                o.scopes.push(CONFIDENTIAL_SCOPE.to_owned());
            }
            LeverAuth::OAuth(o)
        }
        (None, None) => {
            return Err(cx.err(
                &format!("{key}.api_key"),
                "missing: set api_key, api_key_file or an [oauth] table",
            ));
        }
    };
    let webhook_signature_token = cx.secret(
        key,
        "webhook_signature_token",
        l.webhook_signature_token.as_deref(),
        l.webhook_signature_token_file.as_deref(),
    )?;
    let previous_webhook_signature_token = cx.secret(
        key,
        "previous_webhook_signature_token",
        l.previous_webhook_signature_token.as_deref(),
        l.previous_webhook_signature_token_file.as_deref(),
    )?;
    let mut client =
        LeverClientConfig::new(base_url(cx, &format!("{key}.base_url"), &l.base_url)?, auth);
    client.perform_as = l.perform_as.filter(|p| !p.trim().is_empty());
    client.include_confidential = l.include_confidential;
    client.http = http(
        cx,
        key,
        RawHttp {
            requests_per_second: l.requests_per_second,
            burst: l.burst,
            connect_timeout_seconds: l.connect_timeout_seconds,
            request_timeout_seconds: l.request_timeout_seconds,
            retry_max_elapsed_seconds: l.retry_max_elapsed_seconds,
        },
        client.http,
    )?;
    Ok(LeverSettings {
        client,
        completion_note: l.completion_note,
        webhook_signature_token,
        previous_webhook_signature_token,
    })
}

fn oauth(cx: &Ctx, key: &str, o: RawOAuth) -> Result<OAuthConfig, ConfigError> {
    if o.client_id.trim().is_empty() {
        return Err(cx.err(&format!("{key}.client_id"), "must not be empty"));
    }
    let client_secret = cx
        .secret(
            key,
            "client_secret",
            o.client_secret.as_deref(),
            o.client_secret_file.as_deref(),
        )?
        .ok_or_else(|| {
            cx.err(
                &format!("{key}.client_secret"),
                "missing: set client_secret or client_secret_file",
            )
        })?;
    let redirect_uri = base_url(cx, &format!("{key}.redirect_uri"), &o.redirect_uri)?;
    let listen = match &o.listen {
        Some(l) => socket_addr(cx, &format!("{key}.listen"), l)?,
        None => {
            let host = redirect_uri.host_str().unwrap_or("127.0.0.1");
            let port = redirect_uri.port_or_known_default().unwrap_or(80);
            (host, port)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .ok_or_else(|| {
                    cx.err(
                        &format!("{key}.listen"),
                        format!(
                            "cannot derive a local address from redirect_uri {redirect_uri}; set listen"
                        ),
                    )
                })?
        }
    };
    let url_or = |name: &str, v: &Option<String>, default: &str| -> Result<Url, ConfigError> {
        base_url(
            cx,
            &format!("{key}.{name}"),
            v.as_deref().unwrap_or(default),
        )
    };
    let scopes = o
        .scopes
        .unwrap_or_else(|| DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect());
    if !scopes.iter().any(|s| s == OFFLINE_ACCESS) {
        return Err(cx.err(
            &format!("{key}.scopes"),
            "must include offline_access, or Lever issues no refresh token",
        ));
    }
    Ok(OAuthConfig {
        client_id: o.client_id,
        client_secret,
        authorize_url: url_or("authorize_url", &o.authorize_url, LEVER_AUTHORIZE_URL)?,
        token_url: url_or("token_url", &o.token_url, LEVER_TOKEN_URL)?,
        audience: o.audience.unwrap_or_else(|| LEVER_AUDIENCE.to_owned()),
        redirect_uri,
        scopes,
        listen,
    })
}

pub(crate) fn valid_tenant_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn cron(cx: &Ctx, key: &str, expr: &str) -> Result<Schedule, ConfigError> {
    Schedule::parse(expr).map_err(|e| cx.err(key, chain(&e).to_string()))
}

fn socket_addr(cx: &Ctx, key: &str, text: &str) -> Result<SocketAddr, ConfigError> {
    text.parse().map_err(|_| {
        cx.err(
            key,
            format!("{text:?} is not an IP address and port such as \"127.0.0.1:8787\""),
        )
    })
}

pub(super) fn base_url(cx: &Ctx, key: &str, text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text).map_err(|e| cx.err(key, format!("{text:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(cx.err(key, format!("{text:?} must be an http:// or https:// URL")));
    }
    // The URL parser reads "https:///v1" as the host "v1" (special schemes skip extra
    // slashes): a host must follow "//" as written.
    let after = text.trim().split_once("://").map_or("", |(_, rest)| rest);
    if after.starts_with('/') || after.starts_with('\\') {
        return Err(cx.err(key, format!("{text:?} has no host after \"//\"")));
    }
    // Credentials belong in the key settings, which are redacted wherever they are shown.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(cx.err(
            key,
            "must not carry a user name or password; set the API key with api_key or api_key_file",
        ));
    }
    Ok(url)
}

fn positive_int(cx: &Ctx, key: &str, v: i64, max: usize) -> Result<usize, ConfigError> {
    usize::try_from(v)
        .ok()
        .filter(|v| (1..=max).contains(v))
        .ok_or_else(|| {
            cx.err(
                key,
                format!("must be a positive integer no larger than {max}, got {v}"),
            )
        })
}

/// Upper bounds keep every later computation (milliseconds in an i64, deadlines) in range.
fn non_negative(cx: &Ctx, key: &str, v: i64, max: u64) -> Result<u64, ConfigError> {
    u64::try_from(v)
        .ok()
        .filter(|v| *v <= max)
        .ok_or_else(|| cx.err(key, format!("must be between 0 and {max}, got {v}")))
}

/// The pacing and timeout keys of `[tenants.lever]` and `[tenants.willo]`, as written.
pub(super) struct RawHttp {
    pub(super) requests_per_second: Option<f64>,
    pub(super) burst: Option<i64>,
    pub(super) connect_timeout_seconds: Option<f64>,
    pub(super) request_timeout_seconds: Option<f64>,
    pub(super) retry_max_elapsed_seconds: Option<f64>,
}

/// `defaults` (the client's own) with the keys the file sets, each checked here and only here.
pub(super) fn http(
    cx: &Ctx,
    key: &str,
    raw: RawHttp,
    defaults: HttpConfig,
) -> Result<HttpConfig, ConfigError> {
    let mut h = defaults;
    if let Some(v) = raw.requests_per_second {
        h.requests_per_second = RequestsPerSecond::new(v)
            .filter(|_| v >= MIN_REQUESTS_PER_SECOND)
            .ok_or_else(|| {
                cx.err(
                    &format!("{key}.requests_per_second"),
                    format!(
                        "must be a positive number no smaller than {MIN_REQUESTS_PER_SECOND} and no larger than {}, got {v}",
                        RequestsPerSecond::MAX
                    ),
                )
            })?;
    }
    if let Some(b) = raw.burst {
        h.burst = u32::try_from(b)
            .ok()
            .and_then(NonZeroU32::new)
            .ok_or_else(|| {
                cx.err(
                    &format!("{key}.burst"),
                    format!("must be a positive integer, got {b}"),
                )
            })?;
    }
    let secs = |name: &str, v: Option<f64>, default: Duration| -> Result<Duration, ConfigError> {
        match v {
            None => Ok(default),
            Some(s) => Duration::try_from_secs_f64(s)
                .ok()
                .filter(|d| !d.is_zero() && s <= MAX_SECONDS)
                .ok_or_else(|| {
                    cx.err(
                        &format!("{key}.{name}"),
                        format!(
                            "must be a positive number of seconds up to {MAX_SECONDS}, got {s}"
                        ),
                    )
                }),
        }
    };
    h.connect_timeout = secs(
        "connect_timeout_seconds",
        raw.connect_timeout_seconds,
        h.connect_timeout,
    )?;
    h.request_timeout = secs(
        "request_timeout_seconds",
        raw.request_timeout_seconds,
        h.request_timeout,
    )?;
    h.retry.max_elapsed = secs(
        "retry_max_elapsed_seconds",
        raw.retry_max_elapsed_seconds,
        h.retry.max_elapsed,
    )?;
    Ok(h)
}
