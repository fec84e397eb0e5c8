//! Logging with `tracing`: stderr (text or JSON) and, with `log.dir`, daily-rolling files.

use std::io::IsTerminal;
use std::path::PathBuf;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

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

pub fn init(settings: &LogSettings) -> Result<LogGuard, LogError> {
    let filter = |level: &str| {
        EnvFilter::try_new(level).map_err(|source| LogError::Filter {
            level: level.to_owned(),
            source,
        })
    };
    // journald stamps every line itself; a second timestamp only adds noise.
    let under_journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let ansi = std::io::stderr().is_terminal();
    let stderr = match (settings.format, under_journald) {
        (LogFormat::Json, _) => fmt::layer().json().with_writer(std::io::stderr).boxed(),
        (LogFormat::Text, true) => fmt::layer()
            .without_time()
            .with_ansi(false)
            .with_writer(std::io::stderr)
            .boxed(),
        (LogFormat::Text, false) => fmt::layer()
            .with_ansi(ansi)
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let mut layers = vec![stderr.with_filter(filter(&settings.level)?).boxed()];
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
            LogFormat::Json => fmt::layer().json().with_writer(writer).boxed(),
            LogFormat::Text => fmt::layer().with_ansi(false).with_writer(writer).boxed(),
        };
        layers.push(file.with_filter(filter(&settings.level)?).boxed());
    }
    // A second init (tests that run commands in-process) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(layers).try_init();
    Ok(LogGuard { _file: guard })
}
