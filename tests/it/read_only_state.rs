//! `status` on a state directory or database it may not write must not leave files behind
//! that the writer then trips on (SQLite's `-wal` and `-shm`, created with the reader's
//! permissions): after the permissions are put back, `--once` works.
//!
//! Permissions do not bind root, so when the tests run as root the binary runs as `nobody`
//! (uid 65534) in a directory given to it.

use crate::support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use support::World;
use support::daemon::{command, command_as};

const NOBODY: u32 = 65534;

/// The uid to run the binary as: `nobody` when the tests run as root, else the tests' own.
fn runner(w: &World) -> Option<u32> {
    let me = std::fs::metadata(w.dir.path()).unwrap().uid();
    if me != 0 {
        return None;
    }
    std::os::unix::fs::chown(w.dir.path(), Some(NOBODY), Some(NOBODY)).unwrap();
    Some(NOBODY)
}

async fn run(w: &World, uid: Option<u32>, args: &[&str]) -> (i32, String) {
    let config = w.config_file();
    let mut cmd = match uid {
        Some(uid) => {
            std::os::unix::fs::chown(&config, Some(uid), Some(uid)).unwrap();
            command_as(uid, w.dir.path())
        }
        None => command(),
    };
    let out = cmd
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let mode = e.metadata().unwrap().mode() & 0o777;
            format!("{} {mode:o}", e.file_name().to_string_lossy())
        })
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_on_a_read_only_state_leaves_nothing_the_writer_trips_on() {
    let w = World::new().await;
    let (_interview, posting) = w.interview_with_posting("Pilot");
    w.candidate("Amelia", "a@example.com", &posting);
    let uid = runner(&w);
    let (code, text) = run(&w, uid, &["--once"]).await;
    assert_eq!(code, 0, "{text}");
    let state = w.state_dir();
    let db = state.join(willo_lever_sync::store::DB_FILE);
    let clean = listing(&state);

    // The database read-only, then the directory read-only.
    for (what, path, locked, open) in [
        ("database", db.as_path(), 0o400, 0o600),
        ("state directory", state.as_path(), 0o500, 0o700),
    ] {
        chmod(path, locked);
        let (code, text) = run(&w, uid, &["status"]).await;
        chmod(path, open);
        assert_eq!(code, 0, "status on a read-only {what}: {text}");
        assert!(text.contains("tenant acme: connected"), "{what}: {text}");
        assert_eq!(
            listing(&state),
            clean,
            "status on a read-only {what} left files"
        );
        let (code, text) = run(&w, uid, &["--once"]).await;
        assert_eq!(
            code, 0,
            "the writer after status on a read-only {what}: {text}"
        );
    }
}
