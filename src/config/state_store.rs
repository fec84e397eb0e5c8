//! `[store]` and `daemon.instance_id` -> [`StoreSettings`]: SQLite in `daemon.state_dir` unless
//! a PostgreSQL `url` (or `url_file`, a secret: it may hold a password) is set.

use std::time::Duration;

use super::ConfigError;
use super::raw::RawStore;
use super::validate::Ctx;
use super::{PostgresSettings, StoreSettings};

/// `store.lease_seconds` when unset.
const DEFAULT_LEASE_SECONDS: u64 = 30;

pub(super) fn settings(cx: &Ctx, s: RawStore) -> Result<StoreSettings, ConfigError> {
    let url = cx.secret("store", "url", s.url.as_deref(), s.url_file.as_deref())?;
    let Some(url) = url else {
        if s.lease_seconds.is_some() {
            return Err(cx.err(
                "store.lease_seconds",
                "applies to a PostgreSQL store only: set store.url or store.url_file, or remove it",
            ));
        }
        return Ok(StoreSettings { postgres: None });
    };
    let text = url.expose();
    if !(text.starts_with("postgres://") || text.starts_with("postgresql://") || text.contains('='))
    {
        return Err(cx.err(
            "store.url",
            "must be a PostgreSQL connection string (postgres://user@host/db or host=… dbname=…)",
        ));
    }
    if let Err(e) = crate::store::check_url(text) {
        return Err(cx.err(
            "store.url",
            format!("is not a valid connection string: {e}"),
        ));
    }
    let lease = match s.lease_seconds {
        None => DEFAULT_LEASE_SECONDS,
        Some(v) => u64::try_from(v)
            .ok()
            .filter(|v| (5..=3600).contains(v))
            .ok_or_else(|| {
                cx.err(
                    "store.lease_seconds",
                    format!("must be between 5 and 3600, got {v}"),
                )
            })?,
    };
    Ok(StoreSettings {
        postgres: Some(PostgresSettings {
            url,
            lease: Duration::from_secs(lease),
        }),
    })
}

/// `daemon.instance_id`, or the host name and process id.
pub(super) fn instance_id(cx: &Ctx, configured: Option<String>) -> Result<String, ConfigError> {
    match configured {
        Some(id) => {
            let id = id.trim().to_owned();
            let ok = !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
            if !ok {
                return Err(cx.err(
                    "daemon.instance_id",
                    format!("{id:?} must be 1 to 64 letters, digits, '-', '_', '.' or ':'"),
                ));
            }
            Ok(id)
        }
        None => Ok(default_instance_id()),
    }
}

fn default_instance_id() -> String {
    let uname = rustix::system::uname();
    let host = uname.nodename().to_string_lossy();
    let host = if host.is_empty() {
        "localhost".into()
    } else {
        host
    };
    format!("{host}-{}", std::process::id())
}

impl StoreSettings {
    /// Opens the configured store: PostgreSQL when `[store]` names one, else SQLite in
    /// `state_dir`.
    pub fn open(
        &self,
        state_dir: &std::path::Path,
        mode: crate::store::OpenMode,
    ) -> Result<crate::store::Store, crate::store::StoreError> {
        match &self.postgres {
            Some(pg) => crate::store::Store::open_postgres(
                &crate::store::PgSettings {
                    url: pg.url.expose().to_owned(),
                },
                mode,
            ),
            None => crate::store::Store::open(state_dir, mode),
        }
    }

    /// Whether several instances may share the state (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        self.postgres.is_some()
    }
}
