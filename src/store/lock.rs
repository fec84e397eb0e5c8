//! The state directory's lock file: held exclusively by the one writer (the daemon or
//! `--once`) for its life, and naming that writer's pid so that a refused second writer and
//! `status` can say who holds it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::StoreError;

/// The held lock. The OS releases it when the process ends, so a crash never leaves a stale
/// lock behind; a clean end also empties the file, so its pid is never mistaken for a writer.
pub(super) struct Lock {
    file: File,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

pub(super) fn take(path: &Path) -> Result<Lock, StoreError> {
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            action: "open lock file",
            source,
        })?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut text = String::new();
            let holder = file
                .read_to_string(&mut text)
                .ok()
                .and_then(|_| text.trim().parse().ok());
            return Err(StoreError::Locked {
                path: path.to_path_buf(),
                holder,
            });
        }
        Err(std::fs::TryLockError::Error(source)) => {
            return Err(StoreError::Io {
                path: path.to_path_buf(),
                action: "lock",
                source,
            });
        }
    }
    // Record who holds it, for the message a second process prints and for `status`.
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = write!(file, "{}", std::process::id());
    let _ = file.flush();
    Ok(Lock { file })
}

/// The pid of the writer holding the lock of `state_dir`, if the lock file names a process
/// that is alive. Read without touching the lock, so it never gets in a writer's way; a pid
/// left by a writer that was killed and since reused by another process reads as alive.
pub fn live_writer(state_dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(state_dir.join(super::LOCK_FILE)).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    let raw = rustix::process::Pid::from_raw(i32::try_from(pid).ok()?)?;
    match rustix::process::test_kill_process(raw) {
        // EPERM: it exists but belongs to someone else (the daemon's own user).
        Ok(()) | Err(rustix::io::Errno::PERM) => Some(pid),
        Err(_) => None,
    }
}
