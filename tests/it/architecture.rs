//! The code map's invariants that a reader of the source can check, checked on the source:
//! production code never depends on the simulators, SQL stays in the store, and the pure core
//! does no I/O and reads no clock.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Source files under `src/` (as paths relative to `src/`) that mention any of `needles` in
/// code, comments aside, except those under one of `allowed`.
fn offenders(needles: &[&str], allowed: &[&str]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    for file in rust_files(&src) {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if allowed.iter().any(|a| rel.starts_with(a)) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if needles.iter().any(|needle| code.contains(needle)) {
                out.push(format!("src/{rel}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    out
}

#[test]
fn production_code_never_uses_the_simulators() {
    let found = offenders(
        &["crate::sim", "sim::"],
        &["sim/", "sandbox/", "commands/sandbox.rs", "lib.rs"],
    );
    assert!(
        found.is_empty(),
        "the simulators used from production code:\n{}",
        found.join("\n")
    );
}

#[test]
fn sql_stays_in_the_store() {
    let found = offenders(&["rusqlite", "postgres::", "tokio_postgres"], &["store/"]);
    assert!(
        found.is_empty(),
        "a database driver used outside store/:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_pure_core_does_no_io_and_reads_no_clock() {
    let io = [
        "tokio",
        "reqwest",
        "rusqlite",
        "std::fs",
        "std::net",
        "SystemTime",
        "Instant",
        "Utc::now",
        "tracing::",
        "async fn",
    ];
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for core in ["plan", "domain"] {
        for file in rust_files(&src.join(core)) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if io.iter().any(|needle| code.contains(needle)) {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "I/O, clocks or async in the pure core:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_sees_a_planted_offence() {
    // The scans above would pass vacuously if they read nothing: check they read real files.
    let found = offenders(&["fn main"], &[]);
    assert!(
        found.iter().any(|f| f.starts_with("src/main.rs")),
        "{found:?}"
    );
}
