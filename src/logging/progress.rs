//! The progress line `--once` keeps at the bottom of a terminal, and the log writer that
//! keeps it out of log lines' way.
//!
//! Every log line written to stderr goes through [`Stderr`]: while a progress line is shown, it
//! is erased first and drawn again after the log line, under the same lock, so a log line never
//! starts in the middle of the progress line and the progress line never lands inside a log
//! line. What the line says comes from the [`Board`], which [`BoardLayer`] fills from the log
//! events themselves: "pass started" and "pass finished", one event per action, events that
//! carry a `phase` (and the number of `actions` planned), and the HTTP layer's "retrying".

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::{LazyLock, Mutex, MutexGuard};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;

/// The message of the line that starts a pass (one wording, matched here).
pub const PASS_STARTED: &str = "pass started";
/// The message of the line that ends a pass.
pub const PASS_FINISHED: &str = "pass finished";

/// The progress line currently on the terminal, if any.
static SHOWN: Mutex<Option<String>> = Mutex::new(None);

fn shown() -> MutexGuard<'static, Option<String>> {
    SHOWN.lock().unwrap_or_else(|p| p.into_inner())
}

/// Erase the current terminal line and go back to its start.
const ERASE: &[u8] = b"\r\x1b[K";

/// Writes `buf` (complete log lines) with the progress line `line` moved out of its way.
pub fn write_around(out: &mut impl Write, line: Option<&str>, buf: &[u8]) -> io::Result<()> {
    if line.is_some() {
        out.write_all(ERASE)?;
    }
    out.write_all(buf)?;
    if let Some(line) = line {
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}

/// Shows `text` as the progress line (cut to the terminal's width, so that erasing it erases
/// all of it).
pub fn show(text: &str) {
    let text = fit(text, terminal_width());
    let mut line = shown();
    let mut err = io::stderr().lock();
    let _ = err
        .write_all(ERASE)
        .and_then(|()| err.write_all(text.as_bytes()))
        .and_then(|()| err.flush());
    *line = Some(text);
}

/// Removes the progress line.
pub fn clear() {
    let mut line = shown();
    if line.take().is_some() {
        let mut err = io::stderr().lock();
        let _ = err.write_all(ERASE).and_then(|()| err.flush());
    }
}

/// `text` cut to fewer than `width` characters.
pub fn fit(text: &str, width: usize) -> String {
    let max = width.saturating_sub(1).max(10);
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

fn terminal_width() -> usize {
    rustix::termios::tcgetwinsize(io::stderr())
        .ok()
        .map(|w| usize::from(w.ws_col))
        .filter(|w| *w > 0)
        .unwrap_or(80)
}

/// The log's stderr: each log line written whole, around the progress line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stderr;

impl<'a> MakeWriter<'a> for Stderr {
    type Writer = StderrLine;

    fn make_writer(&'a self) -> StderrLine {
        StderrLine
    }
}

pub struct StderrLine;

impl Write for StderrLine {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let line = shown();
        write_around(&mut io::stderr().lock(), line.as_deref(), buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// How far each tenant's pass has got, and the retries seen.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Board {
    pub tenants: BTreeMap<String, TenantProgress>,
    /// API calls retried (throttled, server errors, timeouts), all tenants.
    pub retries: u64,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TenantProgress {
    pub phase: String,
    /// Actions done (or failed) so far.
    pub done: u64,
    /// Actions planned, once the pass says.
    pub planned: Option<u64>,
    pub finished: bool,
}

static BOARD: LazyLock<Mutex<Board>> = LazyLock::new(|| Mutex::new(Board::default()));

fn board() -> MutexGuard<'static, Board> {
    BOARD.lock().unwrap_or_else(|p| p.into_inner())
}

/// What the board shows now.
pub fn snapshot() -> Board {
    board().clone()
}

impl Board {
    /// Takes in one log event.
    pub fn note(&mut self, target: &str, e: &Seen) {
        if !target.starts_with("willo_lever_sync") {
            return;
        }
        if e.message == "retrying" {
            self.retries += 1;
            return;
        }
        let Some(tenant) = &e.tenant else { return };
        if e.message == PASS_STARTED {
            self.tenants.insert(
                tenant.clone(),
                TenantProgress {
                    phase: "reading".into(),
                    ..TenantProgress::default()
                },
            );
            return;
        }
        let Some(t) = self.tenants.get_mut(tenant) else {
            return;
        };
        if e.message == PASS_FINISHED {
            t.finished = true;
            t.phase = e.result.clone().unwrap_or_else(|| "finished".into());
        } else if let Some(phase) = &e.phase {
            t.phase.clone_from(phase);
            if e.actions.is_some() {
                t.planned = e.actions;
            }
        } else if e.action.is_some() && !t.finished {
            t.phase = "applying".into();
            t.done += 1;
        }
    }

    /// The progress line: the passes finished of all, the retries so far, and each tenant's
    /// phase and actions done of planned (the short, global parts first: a narrow terminal
    /// cuts the end). `extra` adds to a tenant's part (API calls).
    pub fn line(&self, extra: impl Fn(&str) -> String) -> String {
        let finished = self.tenants.values().filter(|t| t.finished).count();
        let mut parts = vec![
            format!("passes {finished} of {} finished", self.tenants.len()),
            format!(
                "{} {}",
                self.retries,
                if self.retries == 1 {
                    "retry"
                } else {
                    "retries"
                }
            ),
        ];
        for (id, t) in &self.tenants {
            let actions = match (t.done, t.planned) {
                (_, Some(n)) => format!(", {} of {n} actions", t.done),
                (0, None) => String::new(),
                (d, None) => format!(", {d} actions"),
            };
            parts.push(format!("{id}: {}{actions}{}", t.phase, extra(id)));
        }
        format!("… {}", parts.join(" · "))
    }
}

/// The fields of an event the board reads.
#[derive(Debug, Default)]
pub struct Seen {
    pub message: String,
    pub tenant: Option<String>,
    pub phase: Option<String>,
    pub actions: Option<u64>,
    pub action: Option<String>,
    pub result: Option<String>,
}

impl Visit for Seen {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field, value.to_owned());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "actions" {
            self.actions = Some(value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if let Ok(v) = u64::try_from(value) {
            self.record_u64(field, v);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.set(field, format!("{value:?}"));
    }
}

impl Seen {
    fn set(&mut self, field: &Field, value: String) {
        match field.name() {
            "message" => self.message = value,
            "tenant" => self.tenant = Some(value),
            "phase" => self.phase = Some(value),
            "action" => self.action = Some(value),
            "result" => self.result = Some(value),
            _ => {}
        }
    }
}

/// Feeds the [`Board`] from log events, whatever the log's own level.
pub struct BoardLayer;

impl<S: Subscriber> tracing_subscriber::Layer<S> for BoardLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut seen = Seen::default();
        event.record(&mut seen);
        board().note(event.metadata().target(), &seen);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(message: &str, tenant: &str) -> Seen {
        Seen {
            message: message.into(),
            tenant: Some(tenant.into()),
            ..Seen::default()
        }
    }

    #[test]
    fn the_board_follows_a_pass_from_start_to_finish() {
        let t = "willo_lever_sync::reconcile::outcome";
        let mut b = Board::default();
        b.note(t, &seen(PASS_STARTED, "acme"));
        b.note(t, &seen(PASS_STARTED, "beta"));
        assert_eq!(b.tenants["acme"].phase, "reading");
        b.note(
            t,
            &Seen {
                phase: Some("applying".into()),
                actions: Some(3),
                ..seen("applying the plan", "acme")
            },
        );
        b.note(
            t,
            &Seen {
                action: Some("invite".into()),
                ..seen("invited", "acme")
            },
        );
        b.note(
            "willo_lever_sync::http::retry",
            &Seen {
                message: "retrying".into(),
                ..Seen::default()
            },
        );
        // Other crates' events are not the pass's.
        b.note("hyper::proto", &seen(PASS_FINISHED, "beta"));
        assert_eq!(
            b.line(|_| String::new()),
            "… passes 0 of 2 finished · 1 retry · acme: applying, 1 of 3 actions · beta: reading"
        );
        b.note(
            t,
            &Seen {
                result: Some("converged".into()),
                ..seen(PASS_FINISHED, "beta")
            },
        );
        assert!(
            b.line(|id| format!(" ({id})"))
                .contains("passes 1 of 2 finished · 1 retry · acme: applying, 1 of 3 actions (acme) · beta: converged (beta)")
        );
    }

    #[test]
    fn a_log_line_never_lands_inside_the_progress_line() {
        let mut out = Vec::new();
        write_around(&mut out, Some("... passes 0 of 1"), b"INFO a log line\n").unwrap();
        assert_eq!(out, b"\r\x1b[KINFO a log line\n... passes 0 of 1");
        let mut out = Vec::new();
        write_around(&mut out, None, b"INFO a log line\n").unwrap();
        assert_eq!(out, b"INFO a log line\n");
    }

    #[test]
    fn a_long_line_is_cut_to_the_terminal() {
        assert_eq!(fit("abcdefghijklmnop", 12), "abcdefghij…");
        assert_eq!(fit("short", 80), "short");
    }
}
