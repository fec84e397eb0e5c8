//! The SQLite backend: one file in `state_dir`, WAL mode, one writer per directory (the lock
//! file), migrations numbered by `PRAGMA user_version`.

use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::{Ctx, DB_FILE, LOCK_FILE, OpenMode, SCHEMA_VERSION, StoreError, lock, migrations};

/// Opens the SQLite database in `state_dir` as `mode` asks: the connection, its path and,
/// for a writer, the lock held for the store's life.
pub(super) fn open(
    state_dir: &Path,
    mode: OpenMode,
) -> Result<(Connection, PathBuf, Option<lock::Lock>), StoreError> {
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
            Ok((conn, path, Some(lock)))
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
            super::same_version(&path, found)?;
            Ok((conn, path, None))
        }
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

pub(super) fn user_version(conn: &Connection) -> Result<u32, StoreError> {
    let v: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .ctx("read user_version")?;
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative user_version {v}")))
}

pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
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
