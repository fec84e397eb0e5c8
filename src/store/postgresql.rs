//! The PostgreSQL backend: one connection per instance (like SQLite's), reconnected when it
//! breaks, its statements prepared once. Every call runs off the async workers ([`offload`]),
//! because the driver blocks.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Mutex, RwLock};

use postgres::IsolationLevel;

use super::db::pg::{self, PgConn};
use super::db::{Db, PgTx};
use super::migrations_pg::MIGRATIONS;
use super::{Ctx, OpenMode, Reader, SCHEMA_VERSION, StoreError, Tx};

/// What the store needs to reach PostgreSQL.
#[derive(Clone)]
pub struct PgSettings {
    /// The connection string; may hold a password, so it is never printed (see
    /// [`redact`]).
    pub url: String,
}

impl std::fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSettings")
            .field("url", &redact(&self.url))
            .finish()
    }
}

/// Whether `url` is a connection string the driver reads; its complaint otherwise (which
/// quotes no part of the string, so no password).
pub fn check_url(url: &str) -> Result<(), String> {
    url.parse::<::postgres::Config>()
        .map(drop)
        .map_err(|e| e.to_string())
}

/// The connection string without its password, for logs, errors and `status`.
pub fn redact(url: &str) -> String {
    if let Ok(mut u) = url::Url::parse(url) {
        if u.password().is_some() {
            let _ = u.set_password(Some("***"));
        }
        return u.to_string();
    }
    // The `key=value` form.
    url.split_whitespace()
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => kv.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) struct PgStore {
    settings: PgSettings,
    conn: Mutex<Option<PgConn>>,
    /// Set while this process holds leases: every write transaction then names the
    /// instance and its fences, and the database refuses rows of tenants it no longer holds
    /// (`wls_fence()` in the schema).
    fencing: RwLock<Option<Fencing>>,
}

#[derive(Debug, Clone, Default)]
struct Fencing {
    owner: String,
    /// JSON object: tenant → fence.
    fences: String,
}

impl Drop for PgStore {
    /// Closing a connection blocks on the driver's runtime, which may not run on a runtime's
    /// thread: the store is often dropped on one.
    fn drop(&mut self) {
        let conn = self
            .conn
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(conn) = conn {
            offload(move || drop(conn));
        }
    }
}

/// A key for `pg_advisory_xact_lock`: instances starting together migrate one at a time.
const MIGRATION_LOCK: i64 = 0x0077_6c73_5f6d_6967;

impl PgStore {
    pub(super) fn open(settings: &PgSettings, mode: OpenMode) -> Result<PgStore, StoreError> {
        let store = PgStore {
            settings: settings.clone(),
            conn: Mutex::new(None),
            fencing: RwLock::new(None),
        };
        offload(|| {
            store.with_connection(|conn| match mode {
                OpenMode::Writer => migrate(&mut conn.client, &store.display_url()),
                OpenMode::Reader | OpenMode::BesideWriter => {
                    check_version(&mut conn.client, &store.display_url())
                }
            })
        })?;
        Ok(store)
    }

    /// From now on, write transactions are those of `owner` holding `fences`.
    pub(crate) fn set_fences(&self, owner: &str, fences: &BTreeMap<String, i64>) {
        let fences = serde_json::to_string(fences).unwrap_or_else(|_| "{}".to_owned());
        *self.fencing.write().unwrap_or_else(|p| p.into_inner()) = Some(Fencing {
            owner: owner.to_owned(),
            fences,
        });
    }

    /// A write transaction outside the fence, for the lease bookkeeping itself.
    pub(crate) fn unfenced<T: Send>(
        &self,
        f: impl FnOnce(Db<'_>) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        offload(|| self.in_transaction(Kind::Unfenced, f))
    }

    pub(crate) fn display_url(&self) -> String {
        redact(&self.settings.url)
    }

    fn error(
        &self,
        what: &str,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> StoreError {
        StoreError::Postgres {
            url: self.display_url(),
            what: what.to_owned(),
            source,
        }
    }

    /// Runs `f` with the connection, opened again if it is closed (the server restarted, the
    /// network dropped it): the next call after an outage works without a restart of the
    /// daemon.
    fn with_connection<T>(
        &self,
        f: impl FnOnce(&mut PgConn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let conn = match &mut *guard {
            Some(c) if !c.client.is_closed() => c,
            slot => slot.insert(self.connect()?),
        };
        f(conn)
    }

    fn connect(&self) -> Result<PgConn, StoreError> {
        let mut conn = pg::connect(&self.settings.url)
            .map_err(|e| self.error("connect", Some(Box::new(e))))?;
        // A transaction left open by a process that stopped (SIGSTOP, a hung host) would
        // keep the lease rows it read FOR SHARE locked, and no other instance could take
        // its tenants over: the server ends such sessions. The store's transactions never
        // wait on anything but the database (no API call happens inside one), so five
        // idle seconds mean the process is not running.
        conn.client
            .batch_execute("SET idle_in_transaction_session_timeout = '5s'")
            .map_err(|e| self.error("configure the session", Some(Box::new(e))))?;
        Ok(conn)
    }

    pub(super) fn schema_version(&self) -> Result<u32, StoreError> {
        offload(|| self.with_connection(|conn| version(&mut conn.client)))
    }

    pub(super) fn read<T: Send>(
        &self,
        f: impl FnOnce(&Reader<'_>) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        offload(|| self.read_in_place(f))
    }

    pub(super) fn write<T: Send>(
        &self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        offload(|| self.write_in_place(f))
    }

    /// [`Self::read`] on the calling thread, which must be one that may block.
    pub(super) fn read_in_place<T>(
        &self,
        f: impl FnOnce(&Reader<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.in_transaction(Kind::Read, |conn| f(&Reader { conn }))
    }

    /// [`Self::write`] on the calling thread, which must be one that may block.
    pub(super) fn write_in_place<T>(
        &self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.in_transaction(Kind::Write, |conn| f(&Tx { r: Reader { conn } }))
    }

    /// Runs `f` in one transaction of `kind`; commits if it returns `Ok`.
    fn in_transaction<T>(
        &self,
        kind: Kind,
        f: impl FnOnce(Db<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with_connection(|PgConn { client, statements }| {
            let mut tx = match kind {
                Kind::Read => client
                    .build_transaction()
                    .isolation_level(IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start(),
                Kind::Write | Kind::Unfenced => client.transaction(),
            }
            .ctx("begin transaction")?;
            let fencing = match kind {
                Kind::Write => self
                    .fencing
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone(),
                Kind::Read | Kind::Unfenced => None,
            };
            if let Some(Fencing { owner, fences }) = fencing {
                tx.execute(
                    "SELECT set_config('wls.owner', $1, true), set_config('wls.fences', $2, true)",
                    &[&owner, &fences],
                )
                .ctx("name the lease holder")?;
            }
            let ptx = PgTx {
                tx: RefCell::new(tx),
                statements: RefCell::new(statements),
            };
            let out = f(Db::Pg(&ptx));
            finish(ptx, out)
        })
    }
}

/// What a transaction may do.
#[derive(Clone, Copy)]
enum Kind {
    /// Read-only, one snapshot (REPEATABLE READ).
    Read,
    /// A write, fenced when this process holds leases.
    Write,
    /// A write of the lease bookkeeping, never fenced.
    Unfenced,
}

/// Commits when `out` is `Ok`; rolls back (by dropping the transaction) otherwise.
fn finish<T>(ptx: PgTx<'_>, out: Result<T, StoreError>) -> Result<T, StoreError> {
    let tx = ptx.tx.into_inner();
    match out {
        Ok(v) => {
            tx.commit().ctx("commit")?;
            Ok(v)
        }
        Err(e) => Err(e),
    }
}

/// Runs blocking work where it cannot stall the async workers: on a multi-threaded runtime
/// the worker hands its other tasks over first (`block_in_place`); on a current-thread
/// runtime (tests, one-shot commands) on a scoped thread of its own; outside a runtime in
/// place. The `postgres` driver runs its own small runtime, which may not start on a thread
/// inside another.
pub(crate) fn offload<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        Ok(_) => std::thread::scope(|s| match s.spawn(f).join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        }),
        Err(_) => f(),
    }
}

fn version(client: &mut impl postgres::GenericClient) -> Result<u32, StoreError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .ctx("read schema version")?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let v: Option<i64> = client
        .query_opt("SELECT version FROM schema_version", &[])
        .ctx("read schema version")?
        .map(|r| r.get(0));
    u32::try_from(v.unwrap_or(0))
        .map_err(|_| StoreError::Corrupt(format!("schema version {v:?} out of range")))
}

fn check_version(client: &mut postgres::Client, url: &str) -> Result<(), StoreError> {
    let found = version(client)?;
    let path = PathBuf::from(url);
    if found == 0 {
        return Err(StoreError::Missing { path });
    }
    super::same_version(&path, found)
}

/// Applies the migrations the database lacks, in one transaction, under an advisory lock so
/// that instances starting at once do not race; refuses a database newer than this build.
fn migrate(client: &mut postgres::Client, url: &str) -> Result<(), StoreError> {
    let mut tx = client.transaction().ctx("begin migration")?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .ctx("lock for migration")?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             one     BIGINT PRIMARY KEY DEFAULT 1 CHECK (one = 1),
             version BIGINT NOT NULL
         )",
    )
    .ctx("create schema_version")?;
    let found = version(&mut tx)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: PathBuf::from(url),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (to, sql) in MIGRATIONS.iter().filter(|(to, _)| *to > found) {
        tx.batch_execute(sql).ctx("apply migration")?;
        tx.execute(
            "INSERT INTO schema_version (one, version) VALUES (1, $1)
             ON CONFLICT (one) DO UPDATE SET version = excluded.version",
            &[&i64::from(*to)],
        )
        .ctx("set schema version")?;
    }
    tx.commit().ctx("commit migration")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_strings_are_printed_without_their_password() {
        assert_eq!(
            redact("postgres://wls:s3cret@db.internal/wls?sslmode=require"),
            "postgres://wls:***@db.internal/wls?sslmode=require"
        );
        assert_eq!(
            redact("host=/tmp user=wls password=s3cret dbname=wls"),
            "host=/tmp user=wls password=*** dbname=wls"
        );
    }

    #[test]
    fn the_postgres_schema_ends_at_this_builds_version() {
        assert_eq!(MIGRATIONS.last().map(|(v, _)| *v), Some(SCHEMA_VERSION));
    }
}
