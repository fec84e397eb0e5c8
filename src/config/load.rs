//! Reading the file and the environment, in that order of precedence (environment wins).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};

use super::raw::RawConfig;
use super::secret::SecretDirs;
use super::{ConfigError, Settings, validate};

/// Where the configuration is read from when `--config` is not given.
pub const DEFAULT_PATH: &str = "config/willo-lever-sync.toml";
/// Environment overrides look like `WLS__DAEMON__LISTEN`.
pub const ENV_PREFIX: &str = "WLS";

/// Loads and validates `path`, with overrides from the process environment.
pub fn load(path: &Path) -> Result<Settings, ConfigError> {
    let env: HashMap<String, String> = std::env::vars().collect();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    load_from_str(&text, path, &env)
}

/// Loads configuration text as if read from `path`, with `env` as the environment. Taking the
/// environment as an argument keeps tests from racing on the process environment.
pub fn load_from_str(
    text: &str,
    path: &Path,
    env: &HashMap<String, String>,
) -> Result<Settings, ConfigError> {
    // Parse once with `toml` ourselves: its errors carry line and column, which the merged
    // view below no longer knows.
    if let Err(e) = text.parse::<toml::Table>() {
        let at = e
            .span()
            .map(|span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("line {line}, column {column}: ")
            })
            .unwrap_or_default();
        return Err(ConfigError::Syntax {
            path: path.to_path_buf(),
            message: format!("{at}{}", e.message().trim_end()),
        });
    }
    let overrides: HashMap<String, String> = env
        .iter()
        .filter(|(k, _)| k.starts_with(&format!("{ENV_PREFIX}__")))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let merged = Config::builder()
        .add_source(File::from_str(text, FileFormat::Toml))
        .add_source(
            Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(overrides)),
        )
        .build()
        .map_err(|e| invalid(path, "", e.to_string()))?;
    let tree: config::Value = merged
        .clone()
        .try_deserialize()
        .map_err(|e| invalid(path, "", e.to_string()))?;
    validate::finite_numbers(path, "", &tree)?;
    // Deserialising through a JSON value lets serde_path_to_error name the exact key path of
    // a missing, mistyped or unknown key.
    let value: serde_json::Value = merged
        .try_deserialize()
        .map_err(|e| invalid(path, "", e.to_string()))?;
    let raw: RawConfig = serde_path_to_error::deserialize(value).map_err(|e| {
        let mut key = e.path().to_string();
        if key == "." {
            key.clear();
        }
        let problem = e.into_inner().to_string();
        // serde names a missing field in the message only; put it in the key path too.
        if let Some(field) = problem
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            key = if key.is_empty() {
                field.to_owned()
            } else {
                format!("{key}.{field}")
            };
        }
        invalid(path, &key, problem)
    })?;
    let credentials = env
        .get("CREDENTIALS_DIRECTORY")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let dirs = SecretDirs::new(path, credentials);
    validate::settings(raw, path, &dirs)
}

pub(super) fn invalid(path: &Path, key: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_path_buf(),
        key: key.to_owned(),
        problem: problem.into(),
    }
}
