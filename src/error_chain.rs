//! Showing an error with its causes, each once.
//!
//! The crate's convention: an error's `Display` says what failed, in its own words, and never
//! repeats its cause; the cause is reachable only through `source()`. Whatever shows an error
//! to a person (the binary's last line, a log field, a pass summary, `status`) shows the whole
//! chain through [`chain`], so each cause appears exactly once:
//!
//! ```text
//! cannot read configuration file nope.toml: No such file or directory (os error 2)
//! ```
//!
//! Errors from other crates do not all follow the convention (some repeat their cause in their
//! own message), so a cause whose text was already printed is skipped.

use std::error::Error;
use std::fmt;

/// `Display`s an error and its causes as `error: cause: cause…`.
#[derive(Clone, Copy)]
pub struct Chain<'a>(&'a (dyn Error + 'static));

/// The error and its causes, for `{}` in messages and `%` in `tracing` fields.
pub fn chain<'a>(error: &'a (dyn Error + 'static)) -> Chain<'a> {
    Chain(error)
}

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.0.to_string();
        f.write_str(&shown)?;
        let mut cause = self.0.source();
        while let Some(c) = cause {
            let text = c.to_string();
            if !text.is_empty() && !shown.contains(&text) {
                write!(f, ": {text}")?;
                shown.push_str(": ");
                shown.push_str(&text);
            }
            cause = c.source();
        }
        Ok(())
    }
}

impl fmt::Debug for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read configuration file nope.toml")]
    struct Outer(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("wrapped: {0}")]
    struct Repeats(#[source] std::io::Error);

    fn not_found() -> std::io::Error {
        std::io::Error::from(std::io::ErrorKind::NotFound)
    }

    #[test]
    fn every_cause_is_shown_once_in_order() {
        let e = Outer(not_found());
        let cause = not_found().to_string();
        assert_eq!(
            chain(&e).to_string(),
            format!("cannot read configuration file nope.toml: {cause}")
        );
    }

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let e = Repeats(not_found());
        let text = chain(&e).to_string();
        assert_eq!(text.matches(&not_found().to_string()).count(), 1, "{text}");
    }

    /// The crate's own errors that wrap a cause: none repeats it in its message.
    #[test]
    fn the_crate_s_errors_leave_their_cause_to_source() {
        use std::path::PathBuf;
        let io = not_found;
        let errors: Vec<Box<dyn Error + 'static>> = vec![
            Box::new(crate::config::ConfigError::Read {
                path: PathBuf::from("c.toml"),
                source: io(),
            }),
            Box::new(crate::config::secret::SecretError::Unreadable {
                path: PathBuf::from("k"),
                source: io(),
            }),
            Box::new(crate::store::StoreError::Io {
                path: PathBuf::from("state"),
                action: "create state directory",
                source: io(),
            }),
            Box::new(crate::commands::CommandError::Output(io())),
            Box::new(crate::commands::CommandError::Runtime(io())),
            Box::new(crate::daemon::DaemonError::Listen {
                addr: "127.0.0.1:1".parse().unwrap(),
                source: io(),
            }),
            Box::new(crate::daemon::DaemonError::Signals(io())),
            Box::new(crate::lever::ConnectError::Bind {
                addr: "127.0.0.1:1".parse().unwrap(),
                source: io(),
            }),
            Box::new(crate::sandbox::SandboxError::TempDir(io())),
        ];
        let cause = io().to_string();
        for e in &errors {
            assert!(!e.to_string().contains(&cause), "{e} repeats its cause");
            assert!(e.source().is_some(), "{e} hides its cause");
            assert_eq!(chain(e.as_ref()).to_string().matches(&cause).count(), 1);
        }
    }

    #[test]
    fn an_error_without_a_source_is_its_message() {
        let e = not_found();
        assert_eq!(chain(&e).to_string(), e.to_string());
    }
}
