//! `--once --metrics-file`: the pass's metrics for node_exporter's textfile collector.
//!
//! The collector reads every `*.prom` file of its directory on each scrape, so the file must
//! never be seen half-written: it is written to a temporary file in the same directory (whose
//! name does not end in `.prom`, so the collector skips it), flushed to disk, made readable by
//! the collector's user and renamed over the old one; the directory is then synced so the
//! rename survives a crash.

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum TextfileError {
    #[error("--metrics-file {path}: the directory {dir} does not exist")]
    NoDirectory { path: PathBuf, dir: PathBuf },
    #[error("--metrics-file {path}: cannot write it")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The directory `path` is written in (the current one for a bare file name).
fn directory(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Checks, before any pass runs, that `path` can be written where it is meant to go.
pub fn check(path: &Path) -> Result<(), TextfileError> {
    let dir = directory(path);
    if dir.is_dir() {
        Ok(())
    } else {
        Err(TextfileError::NoDirectory {
            path: path.to_owned(),
            dir: dir.to_owned(),
        })
    }
}

/// Replaces `path` with `contents` atomically: readers see the old file or the new one.
pub fn write_atomically(path: &Path, contents: &str) -> Result<(), TextfileError> {
    let err = |source| TextfileError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = directory(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".willo-lever-sync-metrics-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(contents.as_bytes()).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    // Temporary files are private; node_exporter runs as another user and must read it.
    set_readable(tmp.as_file()).map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(err)
}

#[cfg(unix)]
fn set_readable(f: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_readable(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_replaced_whole_readable_and_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("willo_lever_sync.prom");
        std::fs::write(&path, "old\n").unwrap();
        write_atomically(&path, "new 1\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new 1\n");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["willo_lever_sync.prom"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
    }

    #[test]
    fn a_missing_directory_is_named() {
        let e = check(Path::new("/nonexistent-dir-13/x.prom")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--metrics-file /nonexistent-dir-13/x.prom: the directory /nonexistent-dir-13 does not exist"
        );
        assert!(check(Path::new("bare.prom")).is_ok());
    }
}
