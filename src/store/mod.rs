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
mod copy;
mod cursors;
pub(crate) mod db;
mod facts;
mod interviews;
mod invites;
mod leases;
mod lock;
mod lookups;
mod migrations;
mod migrations_pg;
mod notes;
mod opportunities;
mod participants;
mod passes;
mod postgresql;
mod postings;
mod query_plans;
mod sqlite;
mod stages;
mod tenants;
mod tokens;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use db::{Db, DbError};

pub use attention::AttentionRow;
pub use checks::{InviteCheckRow, Sweep};
pub use db::Dialect;
pub use facts::{COMPLETION_NOTES_FROM, PARTICIPANT_FILTER_IGNORED};
pub use interviews::InterviewRow;
pub use invites::{InviteCounts, InviteRow};
pub use leases::{HINT_CHANNEL, LeaseRow, Taken, listen_for_hints};
pub use lock::live_writer;
pub use lookups::InterviewKnowledge;
pub use migrations::SCHEMA_VERSION;
pub use notes::NoteRow;
pub use opportunities::{OpportunityRow, SeenOpportunity};
pub use participants::{ParticipantRow, SeenParticipant};
pub use passes::PassRow;
pub(crate) use postgresql::PgStore;
pub use postgresql::{PgSettings, check_url, redact};
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
    Db {
        context: &'static str,
        #[source]
        source: DbError,
    },
    #[error("state store {url}: {what}")]
    Postgres {
        /// The connection string without its password.
        url: String,
        what: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    #[error(
        "{held} (several instances share this PostgreSQL store); --once runs only tenants no instance holds: stop the daemons or let them run the pass, or wait until a stopped instance's lease lapses"
    )]
    Leased { held: String },
    #[error(
        "{url} already holds willo-lever-sync state ({rows} rows in `{table}`); the copy goes only into an empty store"
    )]
    NotEmpty {
        url: String,
        table: &'static str,
        rows: i64,
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
            StoreError::Db { source, .. } => source.backend(),
            StoreError::Postgres { .. } => "postgres",
            StoreError::NotEmpty { .. } => "not_empty",
            StoreError::Leased { .. } => "leased",
            StoreError::Corrupt(_) => "corrupt",
        }
    }
}

pub(crate) trait Ctx<T> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError>;
}

impl From<DbError> for StoreError {
    fn from(source: DbError) -> StoreError {
        StoreError::Db {
            context: "query",
            source,
        }
    }
}

impl<T> Ctx<T> for Result<T, DbError> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Db { context, source })
    }
}

impl<T> Ctx<T> for Result<T, ::postgres::Error> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Db {
            context,
            source: DbError::Postgres(e),
        })
    }
}

impl<T> Ctx<T> for Result<T, rusqlite::Error> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Db {
            context,
            source: DbError::Sqlite(e),
        })
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
    backend: Backend,
    path: PathBuf,
    // Held for the store's lifetime (see `lock`).
    _lock: Option<lock::Lock>,
}

/// Where the state lives: one SQLite file, or a PostgreSQL database that several instances
/// share.
enum Backend {
    Sqlite(Mutex<Connection>),
    Postgres(Box<postgresql::PgStore>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    fn sqlite(conn: Connection, path: PathBuf, lock: Option<lock::Lock>) -> Store {
        Store {
            backend: Backend::Sqlite(Mutex::new(conn)),
            path,
            _lock: lock,
        }
    }

    /// Opens the PostgreSQL store of `settings` (creating and migrating its schema when `mode`
    /// is [`OpenMode::Writer`]).
    pub fn open_postgres(settings: &PgSettings, mode: OpenMode) -> Result<Store, StoreError> {
        let pg = postgresql::PgStore::open(settings, mode)?;
        Ok(Store {
            path: PathBuf::from(pg.display_url()),
            backend: Backend::Postgres(Box::new(pg)),
            _lock: None,
        })
    }

    /// The backend's SQL dialect.
    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The PostgreSQL side, for leases and hand-offs.
    pub(crate) fn postgres(&self) -> Option<&postgresql::PgStore> {
        match &self.backend {
            Backend::Postgres(pg) => Some(pg),
            Backend::Sqlite(_) => None,
        }
    }

    pub fn open(state_dir: &Path, mode: OpenMode) -> Result<Store, StoreError> {
        let (conn, path, lock) = sqlite::open(state_dir, mode)?;
        Ok(Store::sqlite(conn, path, lock))
    }

    /// An empty, migrated, private in-memory store: what `--dry-run` plans against when no
    /// state file exists yet (so it can report without creating one), and a test fixture.
    pub fn open_memory() -> Result<Store, StoreError> {
        let mut conn = Connection::open_in_memory().ctx("open in-memory database")?;
        conn.pragma_update(None, "foreign_keys", true)
            .ctx("foreign_keys")?;
        let path = PathBuf::from(":memory:");
        sqlite::migrate(&mut conn, &path)?;
        Ok(Store::sqlite(conn, path, None))
    }

    /// Copies every row of this store into `to`, which must hold no state yet; one
    /// transaction on `to`, so it gets all of it or nothing. Rows copied per table.
    pub fn copy_into(&self, to: &Store) -> Result<copy::CopyCounts, StoreError> {
        copy::copy_all(self, to)
    }

    /// A private in-memory copy of this store's database, to run a dry run over: it may list
    /// participants into its copy, and nothing reaches the real state file (or database).
    pub fn scratch_copy(&self) -> Result<Store, StoreError> {
        let conn = match &self.backend {
            Backend::Sqlite(conn) => lock(conn),
            Backend::Postgres(_) => {
                let copy = Store::open_memory()?;
                copy::copy_all(self, &copy)?;
                return Ok(copy);
            }
        };
        let mut copy = Connection::open_in_memory().ctx("open scratch database")?;
        {
            let backup = rusqlite::backup::Backup::new(&conn, &mut copy).ctx("start copy")?;
            backup
                .run_to_completion(1024, Duration::ZERO, None)
                .ctx("copy the state")?;
        }
        copy.pragma_update(None, "foreign_keys", true)
            .ctx("foreign_keys")?;
        Ok(Store::sqlite(copy, PathBuf::from(":memory:"), None))
    }

    /// Frees SQLite's page cache and other memory it holds for reuse: called between passes so
    /// that an idle daemon does not keep the last pass's pages (they come back from the OS's
    /// cache when the next pass needs them).
    pub fn release_memory(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(conn) => lock(conn).release_memory().ctx("release memory"),
            Backend::Postgres(_) => Ok(()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema_version(&self) -> Result<u32, StoreError> {
        match &self.backend {
            Backend::Sqlite(conn) => sqlite::user_version(&lock(conn)),
            Backend::Postgres(pg) => pg.schema_version(),
        }
    }

    /// Runs `f` with read access. Reads see one consistent snapshot only within `f` (on
    /// PostgreSQL, `f` runs in a read-only REPEATABLE READ transaction).
    pub fn read<T: Send>(
        &self,
        f: impl FnOnce(&Reader<'_>) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => self.read_in_place(f),
            Backend::Postgres(pg) => pg.read(f),
        }
    }

    /// Runs `f` in one transaction (IMMEDIATE on SQLite); commits if it returns `Ok`, rolls
    /// back otherwise.
    pub fn write<T: Send>(
        &self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, StoreError> + Send,
    ) -> Result<T, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => self.write_in_place(f),
            Backend::Postgres(pg) => pg.write(f),
        }
    }

    /// [`Self::read`] on the calling thread, for work already off the async workers
    /// ([`postgresql::offload`]) that nests two stores' transactions (`copy`).
    fn read_in_place<T>(
        &self,
        f: impl FnOnce(&Reader<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &self.backend {
            Backend::Sqlite(conn) => {
                let conn = lock(conn);
                f(&Reader {
                    conn: Db::Lite(&conn),
                })
            }
            Backend::Postgres(pg) => pg.read_in_place(f),
        }
    }

    /// [`Self::write`] on the calling thread (see [`Self::read_in_place`]).
    fn write_in_place<T>(
        &self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &self.backend {
            Backend::Sqlite(conn) => {
                let mut conn = lock(conn);
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .ctx("begin transaction")?;
                let out = f(&Tx {
                    r: Reader {
                        conn: Db::Lite(&tx),
                    },
                })?;
                tx.commit().ctx("commit")?;
                Ok(out)
            }
            Backend::Postgres(pg) => pg.write_in_place(f),
        }
    }
}

/// Refuses a schema a reader of this build cannot use: a newer one (a later build wrote it) or
/// an older one (only a writer migrates).
fn same_version(path: &Path, found: u32) -> Result<(), StoreError> {
    let path = path.to_path_buf();
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
    Ok(())
}

#[cfg(test)]
impl Store {
    /// The SQLite connection of a SQLite store, for tests of SQLite's own views (query plans,
    /// the schema).
    pub(super) fn lock_conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        match &self.backend {
            Backend::Sqlite(conn) => lock(conn),
            Backend::Postgres(_) => panic!("not a SQLite store"),
        }
    }
}

// A panic while holding the connection leaves SQLite itself consistent (the open transaction
// rolls back on drop), so a poisoned mutex is safe to keep using.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Read access to the store. All typed read functions are methods on this type.
pub struct Reader<'c> {
    pub(crate) conn: Db<'c>,
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

impl<'c> Tx<'c> {
    pub(crate) fn conn(&self) -> Db<'c> {
        self.r.conn
    }
}

/// JSON text of a list of strings, the way list columns are stored.
pub(crate) fn to_json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn from_json_list(text: &str, what: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}
