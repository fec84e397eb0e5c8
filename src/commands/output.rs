//! Standard output for what a command prints.
//!
//! A reader that goes away (`check-config | head -c 10`) is not an error: what it did not read
//! is dropped and the command ends as it would have, quietly. Rust ignores SIGPIPE, so a
//! closed pipe shows up as an `EPIPE` write error, which `print!` would turn into a panic and
//! `?` into an I/O error; commands therefore write through [`stdout`] and never `print!`.

use std::io::{self, ErrorKind, Write};

pub(super) struct Stdout {
    out: io::StdoutLock<'static>,
    /// The reader has gone; everything further is dropped.
    closed: bool,
}

/// Standard output, locked for the command's output.
pub(super) fn stdout() -> Stdout {
    Stdout {
        out: io::stdout().lock(),
        closed: false,
    }
}

impl Stdout {
    fn gone<T>(&mut self, result: io::Result<T>, or: T) -> io::Result<T> {
        match result {
            Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(or)
            }
            other => other,
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let r = self.out.write(buf);
        self.gone(r, buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let r = self.out.flush();
        self.gone(r, ())
    }
}
