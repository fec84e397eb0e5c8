//! SQLite writes, counted from the outside: empty the write-ahead log before a pass, then read
//! its frames after it. Each committed transaction ends with a commit frame; every frame is one
//! page written. A [`Watch`] holds a read transaction open meanwhile, so no checkpoint can
//! restart the log under the count (the log then grows for the pass: use it for passes that
//! write little, not for a first pass of 100,000 invites).

use std::path::{Path, PathBuf};

use willo_lever_sync::store::DB_FILE;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Writes {
    pub transactions: u64,
    pub pages: u64,
}

pub fn db(state_dir: &Path) -> PathBuf {
    state_dir.join(DB_FILE)
}

/// Checkpoints and truncates the log (a connection of the bench's own, no lock taken: the
/// daemon's writes stay possible).
pub fn reset(state_dir: &Path) {
    let conn = rusqlite::Connection::open(db(state_dir)).expect("open the state file");
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .expect("busy timeout");
    let (busy, _, _): (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("checkpoint");
    assert_eq!(
        busy, 0,
        "the checkpoint could not finish (a reader held the log)"
    );
}

/// Counts the SQLite writes from its start to [`Watch::finish`].
pub struct Watch {
    conn: rusqlite::Connection,
    state_dir: PathBuf,
}

impl Watch {
    pub fn start(state_dir: &Path) -> Watch {
        reset(state_dir);
        let conn = rusqlite::Connection::open(db(state_dir)).expect("open the state file");
        conn.execute_batch("BEGIN; SELECT count(*) FROM sqlite_master;")
            .expect("open a read transaction");
        Watch {
            conn,
            state_dir: state_dir.to_path_buf(),
        }
    }

    pub fn finish(self) -> Writes {
        let w = count(&self.state_dir);
        drop(self.conn);
        w
    }
}

/// Transactions and pages in the log since the last [`reset`].
pub fn count(state_dir: &Path) -> Writes {
    let mut wal = db(state_dir).into_os_string();
    wal.push("-wal");
    let bytes = std::fs::read(&wal).unwrap_or_default();
    if bytes.len() < 32 {
        return Writes::default();
    }
    let be =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let page = be(8) as usize;
    let salts = (be(16), be(20));
    let mut w = Writes::default();
    let mut at = 32;
    while at + 24 + page <= bytes.len() && (be(at + 8), be(at + 12)) == salts {
        w.pages += 1;
        if be(at + 4) != 0 {
            w.transactions += 1;
        }
        at += 24 + page;
    }
    w
}

/// The id of the full pass running now, from the `passes` table (a read-only connection: the
/// daemon's writes go on).
pub fn running_full_pass(state_dir: &Path) -> Option<i64> {
    let conn = rusqlite::Connection::open_with_flags(
        db(state_dir),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .ok()?;
    conn.query_row(
        "SELECT id FROM passes WHERE kind = 'full' AND finished_at IS NULL ORDER BY id DESC LIMIT 1",
        [],
        |r| r.get(0),
    )
    .ok()
}
