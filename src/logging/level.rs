//! `log.level`: which words it accepts, and the filter built from it.
//!
//! `tracing`'s filter syntax reads any bare word as a target name, so `"warning"` or
//! `"verbose"` would be accepted and silence everything. Here a bare word must be a level, and
//! so must the part after `=` in a `target=level` directive.

use tracing_subscriber::EnvFilter;

/// The level words accepted, in order of verbosity.
pub const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// Third-party crates that log routine chatter at `info` (the scheduler announces every job it
/// starts) or below. They log at `warn` and above unless a directive names them.
const QUIET: [&str; 8] = [
    "tokio_cron_scheduler",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "rustls",
    "tower",
    "axum",
];

fn is_level(word: &str) -> bool {
    LEVELS.iter().any(|l| l.eq_ignore_ascii_case(word.trim()))
}

/// Checks `text` as `log.level`; the error is the sentence an operator reads after the key.
pub fn check(text: &str) -> Result<(), String> {
    let accepted = || {
        format!(
            "use one of {}, or directives such as \"info,willo_lever_sync=debug\"",
            LEVELS.join(", ")
        )
    };
    let directives: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    if directives.is_empty() {
        return Err(format!("is empty; {}", accepted()));
    }
    for d in directives {
        // Span and field filters (`target[span{field=value}]=level`) are passed to `tracing`
        // as written; its parser judges them below.
        if d.contains('[') {
            continue;
        }
        match d.rsplit_once('=') {
            None if !is_level(d) => {
                return Err(format!("{d:?} is not a log level; {}", accepted()));
            }
            Some((target, level)) if target.trim().is_empty() || !is_level(level) => {
                return Err(format!(
                    "{d:?} is not a directive of the form target=level; {}",
                    accepted()
                ));
            }
            _ => {}
        }
    }
    EnvFilter::builder()
        .parse(normalised(text))
        .map(|_| ())
        .map_err(|e| format!("{text:?} is not a filter: {e}; {}", accepted()))
}

/// The directives without the blanks around them, which `tracing`'s parser does not skip.
fn normalised(text: &str) -> String {
    text.split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

/// The filter for `text` (already [`check`]ed): what it says, with the third-party crates it
/// does not name held at `warn`. `RUST_LOG` is not read: `log.level` (or `WLS__LOG__LEVEL`) is
/// the one setting, so a variable left in a shell or a unit never changes the daemon's log.
pub fn filter(text: &str) -> Result<EnvFilter, tracing_subscriber::filter::ParseError> {
    let mut directives = normalised(text);
    for target in QUIET {
        if !text.contains(target) {
            directives.push_str(&format!(",{target}=warn"));
        }
    }
    EnvFilter::builder().parse(directives)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_words_and_directives_are_accepted() {
        for ok in [
            "info",
            "WARN",
            "off",
            "info,willo_lever_sync=debug",
            "warn, willo_lever_sync::daemon=trace",
            "info,willo_lever_sync[pass]=debug",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn words_that_tracing_would_read_as_targets_are_refused_with_the_accepted_words() {
        for bad in [
            "warning",
            "verbose",
            "info,debug2",
            "willo_lever_sync=loud",
            "=info",
            "",
        ] {
            let e = check(bad).unwrap_err();
            assert!(
                e.contains("off, error, warn, info, debug, trace"),
                "{bad}: {e}"
            );
        }
        assert!(check("warning").unwrap_err().contains("\"warning\""));
    }

    #[test]
    fn third_party_crates_are_quiet_unless_named() {
        let f = filter("info").unwrap().to_string();
        assert!(f.contains("tokio_cron_scheduler=warn"), "{f}");
        let f = filter("info,tokio_cron_scheduler=debug")
            .unwrap()
            .to_string();
        assert!(f.contains("tokio_cron_scheduler=debug"), "{f}");
        assert!(!f.contains("tokio_cron_scheduler=warn"), "{f}");
    }
}
