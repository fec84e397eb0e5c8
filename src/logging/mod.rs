//! Logging with `tracing`: stderr (text or JSON) and, with `log.dir`, daily-rolling files.
//!
//! - Under journald (`JOURNAL_STREAM` set) each stderr line starts with its syslog priority
//!   (`<3>` error … `<7>` debug), which journald strips and stores, so `journalctl -p warning`
//!   works; text lines then carry no timestamp of their own.
//! - JSON lines carry every field at the top level, arrays as arrays ([`format::Json`]).
//! - Colours only on a terminal, and never with `NO_COLOR` set.
//! - `log.level` is the one setting (`RUST_LOG` is not read); a reload can change it.
//! - Third-party crates log at `warn` and above unless `log.level` names them.

pub mod format;
pub mod level;
pub mod progress;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry, fmt, reload};

use crate::config::{LogFormat, LogSettings};

/// Keeps the file writer's buffer alive: drop it only at exit, or buffered lines are lost.
#[must_use = "dropping the guard stops file logging and loses buffered lines"]
pub struct LogGuard {
    _file: Option<WorkerGuard>,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("log.dir: cannot write log files in {}", dir.display())]
    Dir {
        dir: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("log.level: {level:?} is not a tracing filter directive")]
    Filter {
        level: String,
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
}

/// Files kept by the rolling appender (two weeks).
const KEEP_FILES: usize = 14;

type LevelHandle = reload::Handle<EnvFilter, Registry>;

/// The handles of the installed filters, for [`set_level`].
static LEVELS: OnceLock<Mutex<Vec<LevelHandle>>> = OnceLock::new();

/// Whether stderr gets colours: only a terminal, and never when `NO_COLOR` is set to anything
/// but the empty string (no-color.org).
pub fn colours(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

pub fn init(settings: &LogSettings) -> Result<LogGuard, LogError> {
    let filter = |level: &str| {
        level::filter(level).map_err(|source| LogError::Filter {
            level: level.to_owned(),
            source,
        })
    };
    let under_journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let ansi = colours(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let stderr = progress::Stderr;
    let stderr_layer = match (settings.format, under_journald) {
        (LogFormat::Json, false) => fmt::layer()
            .event_format(format::Json)
            .with_writer(stderr)
            .boxed(),
        (LogFormat::Json, true) => fmt::layer()
            .event_format(format::Prioritised(format::Json))
            .with_writer(stderr)
            .boxed(),
        (LogFormat::Text, true) => fmt::layer()
            .with_ansi(false)
            .event_format(format::Prioritised(
                fmt::format().without_time().with_ansi(false),
            ))
            .with_writer(stderr)
            .boxed(),
        (LogFormat::Text, false) => fmt::layer().with_ansi(ansi).with_writer(stderr).boxed(),
    };
    let (stderr_filter, stderr_handle) = reload::Layer::new(filter(&settings.level)?);
    let mut handles = vec![stderr_handle];
    let mut layers = vec![
        stderr_layer.with_filter(stderr_filter).boxed(),
        progress::BoardLayer
            .with_filter(
                tracing_subscriber::filter::Targets::new()
                    .with_target("willo_lever_sync", tracing::Level::DEBUG),
            )
            .boxed(),
    ];
    let mut guard = None;
    if let Some(dir) = &settings.dir {
        std::fs::create_dir_all(dir).map_err(|e| LogError::Dir {
            dir: dir.clone(),
            source: e.into(),
        })?;
        // The builder returns an error where `rolling::daily` would panic on a bad directory.
        let appender = RollingFileAppender::builder()
            .rotation(Rotation::DAILY)
            .filename_prefix("willo-lever-sync")
            .filename_suffix("log")
            .max_log_files(KEEP_FILES)
            .build(dir)
            .map_err(|e| LogError::Dir {
                dir: dir.clone(),
                source: e.into(),
            })?;
        // Not lossy: a log line about an invite is worth a moment of back-pressure.
        let (writer, g) = tracing_appender::non_blocking::NonBlockingBuilder::default()
            .lossy(false)
            .finish(appender);
        guard = Some(g);
        let file = match settings.format {
            LogFormat::Json => fmt::layer()
                .event_format(format::Json)
                .with_writer(writer)
                .boxed(),
            LogFormat::Text => fmt::layer().with_ansi(false).with_writer(writer).boxed(),
        };
        let (file_filter, file_handle) = reload::Layer::new(filter(&settings.level)?);
        handles.push(file_handle);
        layers.push(file.with_filter(file_filter).boxed());
    }
    // A second init (tests that run commands in-process) keeps the first subscriber.
    if tracing_subscriber::registry()
        .with(layers)
        .try_init()
        .is_ok()
    {
        let _ = LEVELS.set(Mutex::new(handles));
    }
    Ok(LogGuard { _file: guard })
}

/// Changes the level of every installed log output (a reload with a new `log.level`).
pub fn set_level(level: &str) -> Result<(), LogError> {
    let Some(handles) = LEVELS.get() else {
        return Ok(());
    };
    let handles = handles.lock().unwrap_or_else(|p| p.into_inner());
    for h in handles.iter() {
        let f = level::filter(level).map_err(|source| LogError::Filter {
            level: level.to_owned(),
            source,
        })?;
        // Fails only when the subscriber is gone, at exit.
        let _ = h.reload(f);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        assert!(colours(true, None));
        assert!(!colours(false, None));
        assert!(!colours(true, Some("1".as_ref())));
        // An empty NO_COLOR does not count (no-color.org).
        assert!(colours(true, Some("".as_ref())));
    }
}
