//! The sandbox's configuration: `config/sandbox.toml`, built into the binary, pointed at the
//! running simulators and a fresh state directory.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use crate::config::{self, ConfigError, ENV_PREFIX, Settings};

/// The file as shipped; it also passes `check-config` on its own.
pub const SANDBOX_TOML: &str = include_str!("../../config/sandbox.toml");

/// How the built-in file is named in messages (there is no file on disk to point at).
pub const SOURCE_NAME: &str = "config/sandbox.toml (built in)";

/// Where the daemon finds what the sandbox started.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub lever_base_url: String,
    pub willo_base_url: String,
    pub catalog_opportunity_id: String,
    pub state_dir: PathBuf,
}

/// The environment override that would defeat the sandbox's fresh state directory.
const STATE_DIR_OVERRIDE: &str = "WLS__DAEMON__STATE_DIR";

/// Loads the built-in configuration with the simulators' URLs, the catalog opportunity and
/// the state directory filled in. `WLS__…` overrides in `env` apply as to any configuration
/// (e.g. `WLS__LOG__LEVEL=debug`), except the state directory, which is always fresh.
pub fn settings(
    endpoints: &Endpoints,
    env: &HashMap<String, String>,
) -> Result<Settings, ConfigError> {
    let text = filled_in(endpoints)?;
    let env: HashMap<String, String> = env
        .iter()
        .filter(|(k, _)| k.as_str() != STATE_DIR_OVERRIDE)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    config::load_from_str(&text, Path::new(SOURCE_NAME), &env)
}

/// The configuration text the sandbox runs with (for a kept state's `sandbox.toml`, which
/// `status` and `tags` read it with).
pub fn text(endpoints: &Endpoints) -> Result<String, ConfigError> {
    let body = filled_in(endpoints)?;
    Ok(format!(
        "# Written by `willo-lever-sync sandbox --keep-state`: the sandbox's configuration, with\n\
         # its state directory. The simulators it names ran inside the sandbox and are gone, so\n\
         # this file is for `status` and `tags`, which read only the state.\n\n{body}"
    ))
}

/// True when the environment asked for a state directory the sandbox will not use.
pub fn ignores_state_dir_override(env: &HashMap<String, String>) -> bool {
    env.contains_key(STATE_DIR_OVERRIDE)
}

/// The configuration text with the placeholders replaced. Edits the parsed table rather
/// than the text, so the file's comments and layout can change freely.
fn filled_in(e: &Endpoints) -> Result<String, ConfigError> {
    let invalid = |key: &str, problem: &str| ConfigError::Invalid {
        path: PathBuf::from(SOURCE_NAME),
        key: key.to_owned(),
        problem: problem.to_owned(),
    };
    let mut table: Table =
        SANDBOX_TOML
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Syntax {
                path: PathBuf::from(SOURCE_NAME),
                message: e.message().to_owned(),
            })?;
    let daemon = table
        .entry("daemon")
        .or_insert_with(|| Value::Table(Table::new()))
        .as_table_mut()
        .ok_or_else(|| invalid("daemon", "must be a table"))?;
    daemon.insert(
        "state_dir".into(),
        Value::String(e.state_dir.display().to_string()),
    );
    let tenants = table
        .get_mut("tenants")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| invalid("tenants", "the sandbox needs its demo tenant"))?;
    let [Value::Table(tenant)] = tenants.as_mut_slice() else {
        return Err(invalid("tenants", "the sandbox runs exactly one tenant"));
    };
    tenant.insert(
        "catalog_opportunity_id".into(),
        Value::String(e.catalog_opportunity_id.clone()),
    );
    for (api, url) in [("lever", &e.lever_base_url), ("willo", &e.willo_base_url)] {
        tenant
            .get_mut(api)
            .and_then(Value::as_table_mut)
            .ok_or_else(|| invalid(&format!("tenants[0].{api}"), "must be a table"))?
            .insert("base_url".into(), Value::String(url.clone()));
    }
    toml::to_string(&table).map_err(|e| invalid("", &e.to_string()))
}

/// The address the daemon should listen on: `wanted` when it is free, else a free port on
/// the same interface (returned with `true`, so the sandbox can say so). A sandbox must not
/// fail because another program, or another sandbox, already uses the port.
pub fn listen_address(wanted: SocketAddr) -> (SocketAddr, bool) {
    if wanted.port() == 0 {
        return (wanted, false);
    }
    // Probing and releasing leaves a short window in which someone else could take the
    // port; the daemon then reports a clear listen error, which is acceptable for a demo.
    match TcpListener::bind(wanted) {
        Ok(_) => (wanted, false),
        Err(_) => (SocketAddr::new(wanted.ip(), 0), true),
    }
}

/// The process environment's configuration overrides (`WLS__…`).
pub fn env_overrides() -> HashMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with(&format!("{ENV_PREFIX}__")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tags::TagTemplate;
    use crate::lever::LeverAuth;
    use crate::sandbox::demo;

    fn endpoints() -> Endpoints {
        Endpoints {
            lever_base_url: "http://127.0.0.1:4001/v1".into(),
            willo_base_url: "http://127.0.0.1:4002/api/integrations/v2".into(),
            catalog_opportunity_id: "opp-catalog".into(),
            state_dir: PathBuf::from("/tmp/sandbox-state"),
        }
    }

    #[test]
    fn the_built_in_file_is_pointed_at_the_simulators_and_the_fresh_state_dir() {
        let s = settings(&endpoints(), &HashMap::new()).unwrap();
        assert_eq!(s.daemon.state_dir, PathBuf::from("/tmp/sandbox-state"));
        let t = &s.tenants[0];
        assert_eq!(t.lever.client.base_url.as_str(), "http://127.0.0.1:4001/v1");
        assert_eq!(
            t.willo.client.base_url.as_str(),
            "http://127.0.0.1:4002/api/integrations/v2"
        );
        assert_eq!(t.catalog_opportunity_id.as_deref(), Some("opp-catalog"));
        assert!(matches!(t.lever.client.auth, LeverAuth::ApiKey(_)));
        assert!(t.lever.webhook_signature_token.is_some());
        assert!(t.willo.webhook_token.is_some());
    }

    #[test]
    fn the_file_agrees_with_the_demo_world() {
        let s = settings(&endpoints(), &HashMap::new()).unwrap();
        let t = &s.tenants[0];
        assert_eq!(t.account_name, demo::ACCOUNT);
        assert_eq!(t.trigger_stages, vec![demo::TRIGGER_STAGE.to_owned()]);
        assert_eq!(
            t.interview_tag_template.as_str(),
            TagTemplate::DEFAULT,
            "the demo renders its posting tags with the default template"
        );
        assert!(t.match_posting_tags, "the demo shows posting-tag matching");
    }

    #[test]
    fn environment_overrides_apply_except_the_state_directory() {
        let env: HashMap<String, String> = [
            ("WLS__LOG__LEVEL", "debug"),
            ("WLS__DAEMON__STATE_DIR", "/var/lib/production"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let s = settings(&endpoints(), &env).unwrap();
        assert_eq!(s.log.level, "debug");
        assert_eq!(s.daemon.state_dir, PathBuf::from("/tmp/sandbox-state"));
        assert!(ignores_state_dir_override(&env));
    }

    #[test]
    fn a_taken_port_falls_back_to_a_free_one_on_the_same_interface() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let (chosen, fell_back) = listen_address(addr);
        assert!(fell_back);
        assert_eq!(chosen, SocketAddr::new(addr.ip(), 0));
        drop(taken);
        let free = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        // Released above, so (barring a race with another process) it is free now.
        let (chosen, fell_back) = listen_address(free);
        assert_eq!((chosen, fell_back), (free, false));
    }
}
