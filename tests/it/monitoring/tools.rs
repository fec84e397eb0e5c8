//! The external tools these tests drive, found on PATH or the tests fail saying how to get them.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// promtool, or a failing test that says where it comes from.
pub fn promtool() -> PathBuf {
    find(&["promtool"]).unwrap_or_else(|| {
        panic!(
            "promtool is not installed, so the alert rules cannot be checked: install Debian's \
             `prometheus` package (`apt-get install prometheus`; .ci/run does this)"
        )
    })
}

/// Chromium, or a failing test that says where it comes from.
pub fn chromium() -> PathBuf {
    find(&["chromium", "chromium-browser"]).unwrap_or_else(|| {
        panic!(
            "chromium is not installed, so the status page cannot be checked in a browser: \
             install Debian's `chromium` package (`apt-get install chromium`; .ci/run does this)"
        )
    })
}

/// The repository's root (where Cargo.toml is).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `program` with `args`, feeding `stdin`, within `limit`.
pub async fn run(program: &Path, args: &[&str], stdin: Option<&str>, limit: Duration) -> Output {
    use tokio::io::AsyncWriteExt;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(repo())
        .stdin(if stdin.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(text.as_bytes()).await.unwrap();
        drop(pipe);
    }
    tokio::time::timeout(limit, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{} did not finish within {limit:?}", program.display()))
        .unwrap()
}

/// What a finished tool printed, for assertion messages.
pub fn printed(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
