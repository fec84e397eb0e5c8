//! Reading the file and the environment, in that order of precedence (environment wins).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};

use super::raw::RawConfig;
use super::secret::SecretDirs;
use super::{ConfigError, Settings, StateSettings, validate};

/// Where the configuration is read from when `--config` is not given.
pub const DEFAULT_PATH: &str = "config/willo-lever-sync.toml";
/// Environment overrides look like `WLS__DAEMON__LISTEN`.
pub const ENV_PREFIX: &str = "WLS";

/// Loads and validates `path`, with overrides from the process environment.
pub fn load(path: &Path) -> Result<Settings, ConfigError> {
    let env: HashMap<String, String> = std::env::vars().collect();
    load_from_str(&read(path)?, path, &env)
}

/// Loads what `status` and `tags` need from `path` (with the process environment's
/// overrides), reading no secret.
pub fn load_state(path: &Path) -> Result<StateSettings, ConfigError> {
    let env: HashMap<String, String> = std::env::vars().collect();
    load_state_from_str(&read(path)?, path, &env)
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Loads configuration text as if read from `path`, with `env` as the environment. Taking the
/// environment as an argument keeps tests from racing on the process environment.
pub fn load_from_str(
    text: &str,
    path: &Path,
    env: &HashMap<String, String>,
) -> Result<Settings, ConfigError> {
    let (raw, dirs) = raw(text, path, env)?;
    validate::settings(raw, path, &dirs).map_err(|e| from_env(e, env))
}

/// [`load_state`] from text, with `env` as the environment.
pub fn load_state_from_str(
    text: &str,
    path: &Path,
    env: &HashMap<String, String>,
) -> Result<StateSettings, ConfigError> {
    let (raw, dirs) = raw(text, path, env)?;
    validate::state(raw, path, &dirs).map_err(|e| from_env(e, env))
}

/// The file merged with the environment's overrides, as the file's contract.
fn raw(
    text: &str,
    path: &Path,
    env: &HashMap<String, String>,
) -> Result<(RawConfig, SecretDirs), ConfigError> {
    // Parse once with `toml` ourselves: its errors carry line and column, which the merged
    // view below no longer knows.
    let table = match text.parse::<toml::Table>() {
        Ok(t) => t,
        Err(e) => {
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
    };
    let ids = tenant_ids(&table);
    let named = |e: ConfigError| from_env(by_tenant_id(e, &ids), env);
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
    validate::finite_numbers(path, "", &tree).map_err(named)?;
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
        named(invalid(path, &key, problem))
    })?;
    let credentials = env
        .get("CREDENTIALS_DIRECTORY")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    Ok((raw, SecretDirs::new(path, credentials)))
}

/// Each `[[tenants]]` table's id as written, when it is one (by position).
fn tenant_ids(table: &toml::Table) -> Vec<Option<String>> {
    table
        .get("tenants")
        .and_then(toml::Value::as_array)
        .map(|ts| {
            ts.iter()
                .map(|t| {
                    t.get("id")
                        .and_then(toml::Value::as_str)
                        .filter(|id| validate::valid_tenant_id(id))
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `tenants[1].lever.x` → `tenants[beta].lever.x`, when the tenant's id can name it: an
/// operator finds a tenant by its id, not by counting tables.
fn by_tenant_id(e: ConfigError, ids: &[Option<String>]) -> ConfigError {
    let ConfigError::Invalid { path, key, problem } = e else {
        return e;
    };
    let renamed = key
        .strip_prefix("tenants[")
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(i, rest)| {
            let id = ids.get(i.parse::<usize>().ok()?)?.as_deref()?;
            // The id key itself stays by position: the id may be what is wrong.
            (rest != ".id").then(|| format!("tenants[{id}]{rest}"))
        });
    ConfigError::Invalid {
        path,
        key: renamed.unwrap_or(key),
        problem,
    }
}

/// An error about a key that an environment override set names that variable: the file is
/// not where the value came from.
fn from_env(e: ConfigError, env: &HashMap<String, String>) -> ConfigError {
    let ConfigError::Invalid { path, key, problem } = e else {
        return e;
    };
    let prefix = format!("{ENV_PREFIX}__");
    let var = env.keys().filter(|v| v.starts_with(&prefix)).find(|v| {
        let overridden = v[prefix.len()..].to_lowercase().replace("__", ".");
        key == overridden || key.starts_with(&format!("{overridden}."))
    });
    match var {
        Some(var) => ConfigError::Env {
            var: var.clone(),
            key,
            problem,
        },
        None => ConfigError::Invalid { path, key, problem },
    }
}

pub(super) fn invalid(path: &Path, key: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_path_buf(),
        key: key.to_owned(),
        problem: problem.into(),
    }
}
