//! Secrets from the configuration: inline or from a `*_file`, resolved into [`Secret`]s.

use std::path::{Path, PathBuf};

pub use crate::secret::{Secret, SecretOrigin};

/// Why a secret could not be resolved. The value is never part of the message.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("set either {key} or {key}_file, not both")]
    Both { key: String },
    #[error("cannot read secret file {}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("secret file {} is empty", path.display())]
    EmptyFile { path: PathBuf },
    #[error("is empty")]
    EmptyInline,
    /// `check-config` prints `<redacted, …>` where a secret goes; pasted back, it would be
    /// sent to the API as the key.
    #[error(
        "is the placeholder check-config prints instead of a secret, not a secret; write the secret here, or name a file with {key}_file"
    )]
    Placeholder { key: String },
}

/// How every placeholder `check-config` prints for a secret begins.
pub const PLACEHOLDER_PREFIX: &str = "<redacted";

/// Where relative `*_file` paths are looked up.
#[derive(Debug, Clone)]
pub struct SecretDirs {
    /// `$CREDENTIALS_DIRECTORY` (systemd `LoadCredential=`), when set.
    pub credentials: Option<PathBuf>,
    /// The directory holding the configuration file.
    pub config_dir: PathBuf,
}

impl SecretDirs {
    /// `credentials` is `$CREDENTIALS_DIRECTORY` when set.
    pub fn new(config_file: &Path, credentials: Option<PathBuf>) -> SecretDirs {
        let config_dir = config_file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        SecretDirs {
            credentials,
            config_dir,
        }
    }

    fn locate(&self, file: &Path) -> PathBuf {
        if file.is_absolute() {
            return file.to_path_buf();
        }
        match &self.credentials {
            Some(dir) => dir.join(file),
            None => self.config_dir.join(file),
        }
    }
}

/// Resolves `key` / `key_file`. `Ok(None)` when neither is set.
pub fn resolve(
    key: &str,
    inline: Option<&str>,
    file: Option<&Path>,
    dirs: &SecretDirs,
) -> Result<Option<Secret>, SecretError> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(SecretError::Both {
            key: key.to_owned(),
        }),
        (Some(v), None) => {
            if v.trim().is_empty() {
                Err(SecretError::EmptyInline)
            } else if v.trim_start().starts_with(PLACEHOLDER_PREFIX) {
                Err(SecretError::Placeholder {
                    key: key.to_owned(),
                })
            } else {
                Ok(Some(Secret::inline(v)))
            }
        }
        (None, Some(f)) => {
            let path = dirs.locate(f);
            let text =
                std::fs::read_to_string(&path).map_err(|source| SecretError::Unreadable {
                    path: path.clone(),
                    source,
                })?;
            // Files written by `echo` or editors end in a newline that is not part of the key.
            let value = text.trim_end_matches(['\n', '\r']).to_owned();
            if value.trim().is_empty() {
                return Err(SecretError::EmptyFile { path });
            }
            Ok(Some(Secret::new(value, SecretOrigin::File(path))))
        }
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_secrets_lose_their_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("k"), "abc\n").unwrap();
        let dirs = SecretDirs {
            credentials: None,
            config_dir: dir.path().to_path_buf(),
        };
        let s = resolve("api_key", None, Some(Path::new("k")), &dirs)
            .unwrap()
            .unwrap();
        assert_eq!(s.expose(), "abc");
        assert_eq!(s.origin(), &SecretOrigin::File(dir.path().join("k")));
    }
}
