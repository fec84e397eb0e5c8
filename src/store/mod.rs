//! The state store: one SQLite database in `state_dir`. All SQL of the product lives under this
//! module; everything else calls the typed functions on [`Reader`] and [`Tx`].
//!
//! Invariants:
//! - one writer process per state directory (an exclusive lock file, held for the store's life);
//! - every write happens inside [`Store::write`], one IMMEDIATE transaction, so what a pass
//!   learned and the cursor that covers it commit together or not at all;
//! - times are arguments (ms since the epoch): the store never reads a clock.

mod attention;
mod checks;
mod cursors;
mod facts;
mod interviews;
mod invites;
mod lock;
mod lookups;
mod migrations;
mod notes;
mod opportunities;
mod participants;
mod passes;
mod postings;
mod query_plans;
mod stages;
mod tenants;
mod tokens;

use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

pub use attention::AttentionRow;
pub use checks::{InviteCheckRow, Sweep};
pub use facts::{COMPLETION_NOTES_FROM, PARTICIPANT_FILTER_IGNORED};
pub use interviews::InterviewRow;
pub use invites::{InviteCounts, InviteRow};
pub use lock::live_writer;
pub use lookups::InterviewKnowledge;
pub use migrations::SCHEMA_VERSION;
pub use notes::NoteRow;
pub use opportunities::{OpportunityRow, SeenOpportunity};
pub use participants::{ParticipantRow, SeenParticipant};
pub use passes::PassRow;
pub use postings::PostingRow;
pub use stages::TriggerStagesRow;
pub use tenants::TenantRow;
pub use tokens::TokenRow;

/// The database file inside `state_dir`.
pub const DB_FILE: &str = "willo-lever-sync.db";
/// The lock file inside `state_dir`.
pub const LOCK_FILE: &str = "willo-lever-sync.lock";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state store {}: {action}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "state directory is in use by another willo-lever-sync{}: lock file {} is held",
        holder.map(|p| format!(" (pid {p})")).unwrap_or_default(),
        path.display()
    )]
    Locked { path: PathBuf, holder: Option<u32> },
    #[error(
        "state database {} has schema version {found}, newer than this build understands ({supported}); run a newer willo-lever-sync or restore a backup",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error(
        "state database {} has schema version {found}, older than this build ({supported}); start the daemon or `--once` once to migrate it",
        path.display()
    )]
    TooOld {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("no state database at {} yet: no pass has run with this state_dir", path.display())]
    Missing { path: PathBuf },
    #[error("state store: {context}")]
    Sqlite {
        context: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("state store holds unreadable data: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn kind(&self) -> &'static str {
        match self {
            StoreError::Io { .. } => "io",
            StoreError::Locked { .. } => "locked",
            StoreError::TooNew { .. } => "too_new",
            StoreError::TooOld { .. } => "too_old",
            StoreError::Missing { .. } => "missing",
            StoreError::Sqlite { .. } => "sqlite",
            StoreError::Corrupt(_) => "corrupt",
        }
    }
}

pub(crate) trait Ctx<T> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError>;
}

impl<T> Ctx<T> for Result<T, rusqlite::Error> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Sqlite { context, source })
    }
}

/// `Connection::execute` and `query_row` parse their SQL on every call; these keep the
/// statement in the connection's cache (see [`STATEMENT_CACHE`]), as `prepare_cached` does.
pub(crate) trait Cached {
    fn execute_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn query_row_cached<T, P, F>(&self, sql: &str, params: P, row: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn execute_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn query_row_cached<T, P, F>(&self, sql: &str, params: P, row: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, row)
    }
}

/// How the store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// The daemon and `--once`: create and migrate as needed, and hold the exclusive lock.
    Writer,
    /// `status` and `tags`: read what is there, next to a running daemon; never migrate.
    Reader,
    /// `connect` next to a running writer: read and write without the lock (SQLite takes its
    /// own locks per transaction; the lock file is this project's rule for passes), never
    /// migrate, create no file. For a few rows the writer reads again (OAuth tokens).
    BesideWriter,
}

pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
    // Held for the store's lifetime (see `lock`).
    _lock: Option<lock::Lock>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    pub fn open(state_dir: &Path, mode: OpenMode) -> Result<Store, StoreError> {
        let path = state_dir.join(DB_FILE);
        match mode {
            OpenMode::Writer => {
                DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(state_dir)
                    .map_err(|source| StoreError::Io {
                        path: state_dir.to_path_buf(),
                        action: "create state directory",
                        source,
                    })?;
                let lock = lock::take(&state_dir.join(LOCK_FILE))?;
                // Create the file ourselves so it is 0600 from its first byte; SQLite gives
                // its -wal and -shm files the database's permissions.
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(|source| StoreError::Io {
                        path: path.clone(),
                        action: "create database file",
                        source,
                    })?;
                let mut conn = Connection::open(&path).ctx("open database")?;
                configure(&conn)?;
                migrate(&mut conn, &path)?;
                Ok(Store {
                    conn: Mutex::new(conn),
                    path,
                    _lock: Some(lock),
                })
            }
            OpenMode::Reader | OpenMode::BesideWriter => {
                if !path.exists() {
                    return Err(StoreError::Missing { path });
                }
                let conn = if mode == OpenMode::Reader {
                    open_reader(&path)?
                } else {
                    let conn = Connection::open_with_flags(
                        &path,
                        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )
                    .ctx("open database")?;
                    configure(&conn)?;
                    conn
                };
                let found = user_version(&conn)?;
                if found > SCHEMA_VERSION {
                    return Err(StoreError::TooNew {
                        path,
                        found,
                        supported: SCHEMA_VERSION,
                    });
                }
                if found < SCHEMA_VERSION {
                    return Err(StoreError::TooOld {
                        path,
                        found,
                        supported: SCHEMA_VERSION,
                    });
                }
                Ok(Store {
                    conn: Mutex::new(conn),
                    path,
                    _lock: None,
                })
            }
        }
    }

    /// An empty, migrated, private in-memory store: what `--dry-run` plans against when no
    /// state file exists yet (so it can report without creating one), and a test fixture.
    pub fn open_memory() -> Result<Store, StoreError> {
        let mut conn = Connection::open_in_memory().ctx("open in-memory database")?;
        conn.pragma_update(None, "foreign_keys", true)
            .ctx("foreign_keys")?;
        let path = PathBuf::from(":memory:");
        migrate(&mut conn, &path)?;
        Ok(Store {
            conn: Mutex::new(conn),
            path,
            _lock: None,
        })
    }

    /// A private in-memory copy of this store's database, to run a dry run over: it may list
    /// participants into its copy, and nothing reaches the real state file.
    pub fn scratch_copy(&self) -> Result<Store, StoreError> {
        let conn = self.lock_conn();
        let mut copy = Connection::open_in_memory().ctx("open scratch database")?;
        {
            let backup = rusqlite::backup::Backup::new(&conn, &mut copy).ctx("start copy")?;
            backup
                .run_to_completion(1024, Duration::ZERO, None)
                .ctx("copy the state")?;
        }
        copy.pragma_update(None, "foreign_keys", true)
            .ctx("foreign_keys")?;
        Ok(Store {
            conn: Mutex::new(copy),
            path: PathBuf::from(":memory:"),
            _lock: None,
        })
    }

    /// Frees SQLite's page cache and other memory it holds for reuse: called between passes so
    /// that an idle daemon does not keep the last pass's pages (they come back from the OS's
    /// cache when the next pass needs them).
    pub fn release_memory(&self) -> Result<(), StoreError> {
        self.lock_conn().release_memory().ctx("release memory")
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema_version(&self) -> Result<u32, StoreError> {
        self.read(|r| user_version(r.conn))
    }

    /// Runs `f` with read access. Reads see one consistent snapshot only within `f`.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Reader<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self.lock_conn();
        f(&Reader { conn: &conn })
    }

    /// Runs `f` in one IMMEDIATE transaction; commits if it returns `Ok`, rolls back otherwise.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock_conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("begin transaction")?;
        let out = f(&Tx {
            r: Reader { conn: &tx },
        })?;
        tx.commit().ctx("commit")?;
        Ok(out)
    }

    pub(super) fn lock_conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the connection leaves SQLite itself consistent (the open
        // transaction rolls back on drop), so a poisoned mutex is safe to keep using.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Read access to the store. All typed read functions are methods on this type.
pub struct Reader<'c> {
    pub(crate) conn: &'c Connection,
}

/// A write transaction. Dereferences to [`Reader`], so reads inside it see its own writes.
pub struct Tx<'c> {
    r: Reader<'c>,
}

impl<'c> std::ops::Deref for Tx<'c> {
    type Target = Reader<'c>;
    fn deref(&self) -> &Reader<'c> {
        &self.r
    }
}

impl Tx<'_> {
    pub(crate) fn conn(&self) -> &Connection {
        self.r.conn
    }
}

/// Prepared statements kept per connection: more than the store's distinct statements that
/// run more than once (about 70), so none is parsed again. rusqlite's default of 16 made a
/// hint, which runs about 25, re-parse SQL on most calls (8% of its CPU).
const STATEMENT_CACHE: usize = 128;

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.busy_timeout(Duration::from_secs(5))
        .ctx("busy_timeout")?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .ctx("journal_mode")?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!(
            "the database refused WAL mode (journal_mode is {mode})"
        )));
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .ctx("synchronous")?;
    conn.pragma_update(None, "foreign_keys", true)
        .ctx("foreign_keys")?;
    Ok(())
}

/// A read-only connection that creates no file. SQLite gives a WAL database's `-wal` and
/// `-shm` files the permissions of whoever creates them: made by a reader that may not write
/// the database (an operator's `status`, a read-only directory), they would stay read-only and
/// refuse the writer later. While a writer has the database open the `-shm` file exists and
/// the reader shares it; when it does not exist no writer is running, and the database file
/// alone is complete, so it is read as immutable (no locks, no `-wal`, no `-shm`).
fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let mut shm = path.as_os_str().to_owned();
    shm.push("-shm");
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let io = |action, source| StoreError::Io {
        path: path.to_path_buf(),
        action,
        source,
    };
    let absolute = std::path::absolute(path).map_err(|e| io("resolve the database path", e))?;
    let mut uri = url::Url::from_file_path(&absolute).map_err(|()| {
        io(
            "name the database as a URI",
            std::io::Error::from(std::io::ErrorKind::InvalidInput),
        )
    })?;
    if Path::new(&shm).exists() {
        uri.set_query(Some("mode=ro"));
    } else {
        uri.set_query(Some("mode=ro&immutable=1"));
    }
    let conn = Connection::open_with_flags(uri.as_str(), flags).ctx("open database")?;
    conn.busy_timeout(Duration::from_secs(5))
        .ctx("busy_timeout")?;
    Ok(conn)
}

fn user_version(conn: &Connection) -> Result<u32, StoreError> {
    let v: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .ctx("read user_version")?;
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative user_version {v}")))
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .ctx("begin migration")?;
    let found = user_version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (i, sql) in migrations::MIGRATIONS
        .iter()
        .enumerate()
        .skip(found as usize)
    {
        tx.execute_batch(sql).ctx("apply migration")?;
        tx.pragma_update(None, "user_version", i as i64 + 1)
            .ctx("set user_version")?;
    }
    tx.commit().ctx("commit migration")
}

/// JSON text of a list of strings, the way list columns are stored.
pub(crate) fn to_json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn from_json_list(text: &str, what: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}
