//! A credential value that never shows itself.
//!
//! A `Secret` never shows its value through `Debug`, `Display`, `Serialize` or an error
//! message; the only way to read it is [`Secret::expose`], called where a request is built.
//! It lives outside `config` because the API clients' settings hold it too: the same value
//! goes from the file to the `Authorization` header, and `check-config` can still say where it
//! came from.

use std::fmt;
use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

#[derive(Clone)]
pub struct Secret {
    value: SecretString,
    origin: SecretOrigin,
}

/// Where a secret came from, shown (instead of the value) by `check-config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretOrigin {
    Inline,
    File(PathBuf),
    /// Given by a program rather than a file (sandbox, tests).
    Builtin,
}

impl Secret {
    pub fn new(value: impl Into<String>, origin: SecretOrigin) -> Secret {
        Secret {
            value: SecretString::from(value.into()),
            origin,
        }
    }

    pub fn inline(value: impl Into<String>) -> Secret {
        Secret::new(value, SecretOrigin::Inline)
    }

    pub fn builtin(value: impl Into<String>) -> Secret {
        Secret::new(value, SecretOrigin::Builtin)
    }

    pub fn expose(&self) -> &str {
        self.value.expose_secret()
    }

    pub fn origin(&self) -> &SecretOrigin {
        &self.origin
    }

    fn describe(&self) -> String {
        match &self.origin {
            SecretOrigin::Inline => "<redacted, inline>".to_owned(),
            SecretOrigin::File(p) => format!("<redacted, from {}>", p.display()),
            SecretOrigin::Builtin => "<redacted, built in>".to_owned(),
        }
    }
}

/// A value handed over by a program (tests, the sandbox), not read from a file.
impl From<SecretString> for Secret {
    fn from(value: SecretString) -> Secret {
        Secret {
            value,
            origin: SecretOrigin::Builtin,
        }
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret::builtin(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret::builtin(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.describe())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_display_and_serialize_never_show_the_value() {
        let s = Secret::inline("hunter2-very-secret");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{s}").contains("hunter2"));
        assert!(!serde_json::to_string(&s).unwrap().contains("hunter2"));
        assert_eq!(s.expose(), "hunter2-very-secret");
    }
}
