//! What an operator reads when the configuration is wrong, and what `check-config` prints
//! back: errors name a tenant by its id and an environment override by its variable;
//! `check-config`'s output loads back, and the placeholder it prints for a secret is refused
//! rather than sent as a key. `status` and `tags` need none of the secrets.

use crate::support;

use std::collections::HashMap;
use std::path::Path;

use support::{World, run};
use willo_lever_sync::config::{ConfigError, load_from_str};

const TWO_TENANTS: &str = r#"
[daemon]
state_dir = "state"

[[tenants]]
id = "acme"
account_name = "Acme"
trigger_stages = ["Video Interview"]
[tenants.lever]
api_key = "lever-key"
[tenants.willo]
api_key = "willo-key"

[[tenants]]
id = "beta"
account_name = "Beta"
trigger_stages = ["Video Interview"]
[tenants.lever]
api_key = "lever-key"
requests_per_second = -1
[tenants.willo]
api_key = "willo-key"
"#;

fn load(
    text: &str,
    env: &[(&str, &str)],
) -> Result<willo_lever_sync::config::Settings, ConfigError> {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    load_from_str(text, Path::new("/etc/wls/c.toml"), &env)
}

#[test]
fn an_error_names_the_tenant_by_its_id() {
    let e = load(TWO_TENANTS, &[]).unwrap_err();
    assert_eq!(e.key(), "tenants[beta].lever.requests_per_second", "{e}");
    // A key the file does not allow, found before validation, is named the same way.
    let e = load(
        &TWO_TENANTS.replace("requests_per_second = -1", "rps = 3"),
        &[],
    )
    .unwrap_err();
    assert_eq!(e.key(), "tenants[beta].lever.rps", "{e}");
    // A bad id cannot name its tenant: the position does.
    let e = load(
        &TWO_TENANTS.replace("id = \"beta\"", "id = \"Beta Co\""),
        &[],
    )
    .unwrap_err();
    assert_eq!(e.key(), "tenants[1].id", "{e}");
}

#[test]
fn an_error_in_an_environment_override_names_the_variable_not_the_file() {
    let text = TWO_TENANTS.replace("requests_per_second = -1", "");
    let e = load(&text, &[("WLS__DAEMON__LISTEN", "localhost")]).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("environment variable WLS__DAEMON__LISTEN"),
        "{msg}"
    );
    assert!(msg.contains("daemon.listen"), "{msg}");
    assert!(!msg.contains("/etc/wls/c.toml"), "{msg}");
    let e = load(&text, &[("WLS__DAEMON__CONCURRENCY", "many")]).unwrap_err();
    assert!(
        e.to_string()
            .contains("environment variable WLS__DAEMON__CONCURRENCY"),
        "{e}"
    );
    let e = load(&text, &[("WLS__LOG__LEVEL", "warning")]).unwrap_err();
    assert!(e.to_string().contains("WLS__LOG__LEVEL"), "{e}");
    // The same mistake in the file names the file.
    let e = load(
        &text.replace("[daemon]", "[daemon]\nlisten = \"localhost\""),
        &[],
    )
    .unwrap_err();
    assert!(e.to_string().contains("/etc/wls/c.toml"), "{e}");
}

#[test]
fn the_placeholder_check_config_prints_for_a_secret_is_refused_when_fed_back() {
    let text = TWO_TENANTS.replace("requests_per_second = -1", "");
    let rendered = load(&text, &[]).unwrap().to_redacted_toml();
    assert!(rendered.contains("<redacted, inline>"), "{rendered}");
    let e = load(&rendered, &[]).unwrap_err();
    assert!(e.key().ends_with(".api_key"), "{e}");
    assert!(e.key().starts_with("tenants[acme]"), "{e}");
    assert!(e.to_string().contains("placeholder"), "{e}");
}

#[test]
fn a_secret_read_from_a_file_is_printed_as_its_file_and_loads_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    for (f, v) in [("lever.key", "L-secret-1"), ("willo.key", "W-secret-2")] {
        std::fs::write(dir.path().join(f), v).unwrap();
    }
    let text = TWO_TENANTS
        .replace("requests_per_second = -1", "")
        .replace("api_key = \"lever-key\"", "api_key_file = \"lever.key\"")
        .replace("api_key = \"willo-key\"", "api_key_file = \"willo.key\"");
    let path = dir.path().join("c.toml");
    let first = load_from_str(&text, &path, &HashMap::new()).unwrap();
    let rendered = first.to_redacted_toml();
    assert!(!rendered.contains("secret-"), "{rendered}");
    assert!(
        rendered.contains(&format!(
            "api_key_file = \"{}\"",
            dir.path().join("lever.key").display()
        )),
        "{rendered}"
    );
    let again = load_from_str(&rendered, &path, &HashMap::new())
        .unwrap_or_else(|e| panic!("{e}\n{rendered}"));
    assert_eq!(again.to_redacted_toml(), rendered);
    assert_eq!(again.tenants[1].willo.client.api_key.expose(), "W-secret-2");
    // The OAuth table keeps its name (not `o_auth`).
    let oauth = text.replace(
        "api_key_file = \"lever.key\"\n[tenants.willo]\napi_key_file = \"willo.key\"\n\n[[tenants]]",
        "[tenants.lever.oauth]\nclient_id = \"c\"\nclient_secret_file = \"lever.key\"\nredirect_uri = \"http://127.0.0.1:8788/cb\"\n[tenants.willo]\napi_key_file = \"willo.key\"\n\n[[tenants]]",
    );
    assert_ne!(oauth, text, "test bug: the OAuth edit did not apply");
    let rendered = load_from_str(&oauth, &path, &HashMap::new())
        .unwrap()
        .to_redacted_toml();
    assert!(rendered.contains("[tenants.lever.oauth]"), "{rendered}");
    assert!(!rendered.contains("o_auth"), "{rendered}");
    load_from_str(&rendered, &path, &HashMap::new()).unwrap_or_else(|e| panic!("{e}\n{rendered}"));
}

/// Found by running `status` from a shell next to the systemd unit: its secrets are the
/// service's credentials, unreadable from there, and `status` refused to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_tags_read_the_state_without_the_secrets() {
    let w = World::new().await;
    let (_i, posting) = w.interview_with_posting("Pilot");
    w.candidate("Amy", "amy@example.com", &posting);
    assert_eq!(run(&w, &["--once"]).await.code, 0);
    // Now the secrets move where this shell cannot read them.
    let text = w
        .config_text()
        .replace(
            "api_key = \"lever-test-key\"",
            "api_key_file = \"/nonexistent/lever-key\"",
        )
        .replace(
            "api_key = \"willo-test-key\"",
            "api_key_file = \"/nonexistent/willo-key\"",
        );
    std::fs::write(w.config_file(), &text).unwrap();
    let cfg = w.dir.path().join("config.toml");
    let out = support::bin()
        .arg("--config")
        .arg(&cfg)
        .arg("check-config")
        .output()
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(78),
        "the secrets are unreadable: check-config must say so"
    );
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["tags"],
        &["tags", "--json"],
    ] {
        let out = support::bin()
            .arg("--config")
            .arg(&cfg)
            .args(args)
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("acme"), "{args:?}: {stdout}");
    }
}
