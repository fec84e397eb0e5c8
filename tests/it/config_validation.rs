//! Every configuration problem names its key and maps to exit status 78 (rule: exit statuses, docs/behaviour.md).

use std::collections::HashMap;
use std::path::Path;

use willo_lever_sync::commands::CommandError;
use willo_lever_sync::config::{ConfigError, load_from_str};
use willo_lever_sync::exit::ExitStatus;
use willo_lever_sync::lever::LeverAuth;

const BASE: &str = r#"
[daemon]
state_dir = "state"
listen = "127.0.0.1:8787"
schedule = "0 */5 * * * *"
full_schedule = "0 30 3 * * *"

[log]
level = "info"
format = "text"

[[tenants]]
id = "acme"
account_name = "Acme Corp"
trigger_stages = ["Video Interview"]

[tenants.lever]
base_url = "https://api.lever.co/v1"
api_key = "lever-key"

[tenants.willo]
base_url = "https://api.willotalent.com/api/integrations/v2"
api_key = "willo-key"
"#;

const LEVER_KEY_LINE: &str = "api_key = \"lever-key\"";
const WILLO_KEY_LINE: &str = "api_key = \"willo-key\"";

fn load(text: &str) -> Result<willo_lever_sync::config::Settings, ConfigError> {
    load_from_str(text, Path::new("/etc/wls/test.toml"), &HashMap::new())
}

/// Replaces the first occurrence of `from` in the base config (which must be there).
fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "test bug: {from:?} not in BASE");
    BASE.replacen(from, to, 1)
}

fn second_tenant(id: &str) -> String {
    format!(
        "{BASE}\n[[tenants]]\nid = \"{id}\"\naccount_name = \"B\"\ntrigger_stages = [\"S\"]\n\
         [tenants.lever]\napi_key = \"k\"\n[tenants.willo]\napi_key = \"k\"\n"
    )
}

#[test]
fn the_base_config_is_valid() {
    let s = load(BASE).expect("base config loads");
    assert_eq!(s.tenants[0].id, "acme");
    assert!(matches!(
        s.tenants[0].lever.client.auth,
        LeverAuth::ApiKey(_)
    ));
    assert_eq!(
        s.tenants[0].lever.client.http.requests_per_second.get(),
        8.0
    );
    assert_eq!(s.tenants[0].willo.client.http.burst.get(), 4);
}

#[test]
fn every_validation_case_names_its_key_and_exits_78() {
    // (case, config text, key the message must name, words the problem must contain)
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("malformed toml", edit("[log]", "[log"), "", "line"),
        (
            "unknown key in daemon",
            edit("[daemon]", "[daemon]\nlisten_addr = \"x\""),
            "daemon",
            "listen_addr",
        ),
        (
            "unknown key in tenant lever",
            edit(
                "api_key = \"lever-key\"",
                "api_key = \"lever-key\"\napi_kye = \"x\"",
            ),
            "tenants[acme].lever",
            "api_kye",
        ),
        (
            "unknown top-level table",
            format!("{BASE}\n[extra]\na = 1\n"),
            "",
            "extra",
        ),
        (
            "missing tenant id",
            edit("id = \"acme\"\n", ""),
            "tenants[0]",
            "id",
        ),
        (
            "missing account_name",
            edit("account_name = \"Acme Corp\"\n", ""),
            "tenants[acme]",
            "account_name",
        ),
        (
            "missing trigger_stages",
            edit("trigger_stages = [\"Video Interview\"]\n", ""),
            "tenants[acme]",
            "trigger_stages",
        ),
        (
            "missing willo api key",
            edit("api_key = \"willo-key\"", ""),
            "tenants[acme].willo.api_key",
            "missing",
        ),
        (
            "missing lever auth",
            edit("api_key = \"lever-key\"", ""),
            "tenants[acme].lever.api_key",
            "missing",
        ),
        (
            "bad cron",
            edit("schedule = \"0 */5 * * * *\"", "schedule = \"*/5 * * * *\""),
            "daemon.schedule",
            "cron",
        ),
        (
            "bad full cron",
            edit(
                "full_schedule = \"0 30 3 * * *\"",
                "full_schedule = \"nightly\"",
            ),
            "daemon.full_schedule",
            "cron",
        ),
        (
            "bad tenant id",
            edit("id = \"acme\"", "id = \"Acme Corp\""),
            "tenants[0].id",
            "[a-z0-9-]{1,32}",
        ),
        (
            "tenant id too long",
            edit("id = \"acme\"", &format!("id = \"{}\"", "a".repeat(33))),
            "tenants[0].id",
            "[a-z0-9-]{1,32}",
        ),
        (
            "duplicate tenant ids",
            second_tenant("acme"),
            "tenants[1].id",
            "duplicate",
        ),
        (
            "api_key and api_key_file",
            edit(
                "api_key = \"lever-key\"",
                "api_key = \"lever-key\"\napi_key_file = \"k\"",
            ),
            "tenants[acme].lever.api_key",
            "not both",
        ),
        (
            "unreadable secret file",
            edit(
                "api_key = \"willo-key\"",
                "api_key_file = \"no-such-willo-key\"",
            ),
            "tenants[acme].willo.api_key_file",
            "no-such-willo-key",
        ),
        (
            "zero rate",
            edit(
                "api_key = \"lever-key\"",
                "api_key = \"lever-key\"\nrequests_per_second = 0",
            ),
            "tenants[acme].lever.requests_per_second",
            "positive",
        ),
        (
            "negative rate",
            edit(
                "api_key = \"willo-key\"",
                "api_key = \"willo-key\"\nrequests_per_second = -2.5",
            ),
            "tenants[acme].willo.requests_per_second",
            "positive",
        ),
        (
            "zero burst",
            edit(
                "api_key = \"willo-key\"",
                "api_key = \"willo-key\"\nburst = 0",
            ),
            "tenants[acme].willo.burst",
            "positive",
        ),
        (
            "ftp base url",
            edit(
                "base_url = \"https://api.lever.co/v1\"",
                "base_url = \"ftp://api.lever.co/v1\"",
            ),
            "tenants[acme].lever.base_url",
            "http",
        ),
        (
            "not a url",
            edit(
                "base_url = \"https://api.willotalent.com/api/integrations/v2\"",
                "base_url = \"api.willotalent.com\"",
            ),
            "tenants[acme].willo.base_url",
            "not a URL",
        ),
        (
            "empty trigger_stages",
            edit(
                "trigger_stages = [\"Video Interview\"]",
                "trigger_stages = []",
            ),
            "tenants[acme].trigger_stages",
            "at least one",
        ),
        (
            "bad listen",
            edit("listen = \"127.0.0.1:8787\"", "listen = \"localhost\""),
            "daemon.listen",
            "port",
        ),
        (
            "bad log format",
            edit("format = \"text\"", "format = \"xml\""),
            "log.format",
            "json",
        ),
        (
            "bad log level",
            edit("level = \"info\"", "level = \"info,[\""),
            "log.level",
            "filter",
        ),
        (
            "bad template",
            edit(
                "trigger_stages",
                "interview_tag_template = \"{title}\"\ntrigger_stages",
            ),
            "tenants[acme].interview_tag_template",
            "Willo:",
        ),
        (
            "bad status map tag",
            format!("{BASE}\n[tenants.willo.status_map]\n\"on hold\" = \"Willo:Maybe\"\n"),
            "tenants[acme].willo.status_map",
            "not a status tag",
        ),
        (
            "no tenants",
            BASE[..BASE.find("[[tenants]]").unwrap()].to_owned(),
            "tenants",
            "at least one",
        ),
        (
            "wrong type",
            edit("listen = \"127.0.0.1:8787\"", "listen = 8787"),
            "daemon.listen",
            "invalid type",
        ),
        (
            "no state fields",
            edit(
                WILLO_KEY_LINE,
                &format!("{WILLO_KEY_LINE}\nstate_fields = []"),
            ),
            "tenants[acme].willo.state_fields",
            "at least one",
        ),
        (
            "a state field with an empty segment",
            edit(
                WILLO_KEY_LINE,
                &format!("{WILLO_KEY_LINE}\nstate_fields = [\"stage..name\"]"),
            ),
            "tenants[acme].willo.state_fields",
            "stage..name",
        ),
        (
            "unknown key in interview_scope",
            format!("{BASE}\n[tenants.willo.interview_scope]\ndepartment = [\"d\"]\n"),
            "tenants[acme].willo.interview_scope",
            "department",
        ),
        (
            "empty title pattern",
            format!("{BASE}\n[tenants.willo.interview_scope]\ntitle_patterns = [\"a*\", \" \"]\n"),
            "tenants[acme].willo.interview_scope.title_patterns[1]",
            "must not be empty",
        ),
        (
            "owner that is not an email",
            format!("{BASE}\n[tenants.willo.interview_scope]\nowner_emails = [\"hiring\"]\n"),
            "tenants[acme].willo.interview_scope.owner_emails[0]",
            "not an email address",
        ),
        (
            "zero catalog_max_tags",
            edit(
                "trigger_stages = [\"Video Interview\"]",
                "trigger_stages = [\"Video Interview\"]\ncatalog_max_tags = 0",
            ),
            "tenants[acme].catalog_max_tags",
            "positive integer",
        ),
        (
            "include_confidential not a boolean",
            edit(
                LEVER_KEY_LINE,
                &format!("{LEVER_KEY_LINE}\ninclude_confidential = \"yes\""),
            ),
            "tenants[acme].lever",
            "include_confidential",
        ),
    ];
    let mut failures = Vec::new();
    for (name, text, key, words) in &cases {
        match load(text) {
            Ok(_) => failures.push(format!("{name}: loaded without error")),
            Err(e) => {
                let msg = e.to_string();
                let status = CommandError::from(e).exit_status();
                if status != ExitStatus::Config || status.code() != 78 {
                    failures.push(format!("{name}: exit status {status:?}"));
                }
                if !msg.contains(key) {
                    failures.push(format!("{name}: message does not name key {key:?}: {msg}"));
                }
                if !msg.contains(words) {
                    failures.push(format!("{name}: message lacks {words:?}: {msg}"));
                }
                if !msg.contains("/etc/wls/test.toml") {
                    failures.push(format!("{name}: message does not name the file: {msg}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn malformed_toml_reports_the_line() {
    let err = load(&edit("[log]", "[log")).unwrap_err();
    assert_eq!(err.kind(), "syntax");
    // `[log` is on line 8 of BASE (line 1 is the empty line after r#").
    assert!(err.to_string().contains("line 8"), "{err}");
}

#[test]
fn environment_overrides_win_over_the_file() {
    let env: HashMap<String, String> = [
        ("WLS__DAEMON__LISTEN", "0.0.0.0:9999"),
        ("WLS__LOG__FORMAT", "json"),
        ("WLS__DAEMON__CONCURRENCY", "7"),
        ("UNRELATED", "x"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let s = load_from_str(BASE, Path::new("x.toml"), &env).unwrap();
    assert_eq!(s.daemon.listen.to_string(), "0.0.0.0:9999");
    assert_eq!(s.log.format, willo_lever_sync::config::LogFormat::Json);
    assert_eq!(s.daemon.concurrency, 7);
}

#[test]
fn an_invalid_environment_override_names_its_key() {
    let env: HashMap<String, String> = [(
        "WLS__DAEMON__SCHEDULE".to_owned(),
        "every five minutes".to_owned(),
    )]
    .into();
    let err = load_from_str(BASE, Path::new("x.toml"), &env).unwrap_err();
    assert_eq!(err.key(), "daemon.schedule", "{err}");
}

#[test]
fn secrets_come_from_files_next_to_the_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lever.key"), "from-file-lever\n").unwrap();
    let text = edit("api_key = \"lever-key\"", "api_key_file = \"lever.key\"");
    let s = load_from_str(&text, &dir.path().join("c.toml"), &HashMap::new()).unwrap();
    let LeverAuth::ApiKey(k) = &s.tenants[0].lever.client.auth else {
        panic!("expected an API key")
    };
    assert_eq!(k.expose(), "from-file-lever");
}

#[test]
fn relative_secret_files_are_looked_up_in_credentials_directory() {
    let config_dir = tempfile::tempdir().unwrap();
    let creds = tempfile::tempdir().unwrap();
    std::fs::write(config_dir.path().join("willo.key"), "wrong-one").unwrap();
    std::fs::write(creds.path().join("willo.key"), "from-credentials").unwrap();
    let text = edit("api_key = \"willo-key\"", "api_key_file = \"willo.key\"");
    let env: HashMap<String, String> = [(
        "CREDENTIALS_DIRECTORY".to_owned(),
        creds.path().display().to_string(),
    )]
    .into();
    let s = load_from_str(&text, &config_dir.path().join("c.toml"), &env).unwrap();
    assert_eq!(
        s.tenants[0].willo.client.api_key.expose(),
        "from-credentials"
    );
}

#[test]
fn absolute_secret_files_are_used_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("abs.key");
    std::fs::write(&key, "absolute").unwrap();
    let text = edit(
        "api_key = \"willo-key\"",
        &format!("api_key_file = \"{}\"", key.display()),
    );
    let env: HashMap<String, String> = [(
        "CREDENTIALS_DIRECTORY".to_owned(),
        "/nonexistent".to_owned(),
    )]
    .into();
    let s = load_from_str(&text, Path::new("c.toml"), &env).unwrap();
    assert_eq!(s.tenants[0].willo.client.api_key.expose(), "absolute");
}

#[test]
fn redacted_rendering_and_debug_never_show_secrets() {
    let text = BASE
        .replace("lever-key", "SECRET-LEVER-0001")
        .replace("willo-key", "SECRET-WILLO-0002")
        .replace(
            "[tenants.willo]",
            "webhook_signature_token = \"SECRET-SIG-0003\"\n[tenants.willo]\nwebhook_token = \"SECRET-WH-0004\"",
        );
    let s = load(&text).unwrap();
    let rendered = s.to_redacted_toml();
    let debug = format!("{s:?}");
    for secret in [
        "SECRET-LEVER-0001",
        "SECRET-WILLO-0002",
        "SECRET-SIG-0003",
        "SECRET-WH-0004",
    ] {
        assert!(
            !rendered.contains(secret),
            "{secret} in check-config output"
        );
        assert!(!debug.contains(secret), "{secret} in Debug output");
    }
    assert!(rendered.contains("redacted"));
    // The rendering is itself valid TOML with the file's key names.
    let table: toml::Table = rendered.parse().unwrap();
    assert!(table["daemon"].get("incremental_overlap_seconds").is_some());
}

#[test]
fn status_map_entries_merge_over_the_defaults() {
    use willo_lever_sync::domain::status_map::Mapped;
    use willo_lever_sync::domain::tags::StatusTag;
    let text = format!(
        "{BASE}\n[tenants.willo.status_map]\n\"On Hold\" = \"Willo:To Review\"\nhired = \"Willo:To Review\"\n"
    );
    let s = load(&text).unwrap();
    let m = &s.tenants[0].willo.status_map;
    assert_eq!(m.lookup(Some("on hold")), Mapped::Tag(StatusTag::ToReview));
    assert_eq!(m.lookup(Some("Hired")), Mapped::Tag(StatusTag::ToReview));
    assert_eq!(m.lookup(Some("accepted")), Mapped::Tag(StatusTag::Accepted));
}

#[test]
fn oauth_tables_resolve_with_lever_defaults() {
    let text = edit(
        "api_key = \"lever-key\"",
        "[tenants.lever.oauth]\nclient_id = \"cid\"\nclient_secret = \"cs\"\nredirect_uri = \"http://127.0.0.1:8788/callback\"",
    );
    let s = load(&text).unwrap();
    let LeverAuth::OAuth(o) = &s.tenants[0].lever.client.auth else {
        panic!("expected OAuth")
    };
    assert_eq!(o.token_url.as_str(), "https://auth.lever.co/oauth/token");
    assert_eq!(o.audience, "https://api.lever.co/v1/");
    assert_eq!(o.listen.to_string(), "127.0.0.1:8788");
    assert!(o.scopes.iter().any(|s| s == "offline_access"));
}

#[test]
fn shipped_example_configs_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sandbox = std::fs::read_to_string(root.join("config/sandbox.toml")).unwrap();
    load_from_str(&sandbox, &root.join("config/sandbox.toml"), &HashMap::new()).unwrap();
    // The production example reads its secrets from files; give it a credentials directory.
    let creds = tempfile::tempdir().unwrap();
    for f in [
        "acme-lever-api-key",
        "acme-lever-webhook-token",
        "acme-willo-api-key",
        "acme-willo-webhook-token",
    ] {
        std::fs::write(creds.path().join(f), "x").unwrap();
    }
    let prod_path = root.join("config/willo-lever-sync.toml");
    let prod = std::fs::read_to_string(&prod_path).unwrap();
    let env: HashMap<String, String> = [(
        "CREDENTIALS_DIRECTORY".to_owned(),
        creds.path().display().to_string(),
    )]
    .into();
    load_from_str(&prod, &prod_path, &env).unwrap();
}

/// What an operator does with `check-config`'s output before loading it: an inline secret is
/// printed as a placeholder, which the loader refuses, so the secrets go back in.
fn secrets_put_back(rendered: &str) -> String {
    rendered.replace("\"<redacted, inline>\"", "\"a-secret\"")
}

/// `check-config` prints keys an operator can paste back: rendering, loading the rendering
/// and rendering again changes nothing. Found when `[tenants.lever.oauth]` was printed as
/// `[tenants.lever.o_auth]`, a table the file refuses.
#[test]
fn the_rendered_configuration_loads_back_unchanged() {
    let oauth = edit(
        "api_key = \"lever-key\"",
        "perform_as = \"user-1\"\nrequests_per_second = 0.5\nretry_max_elapsed_seconds = 60\n\
         [tenants.lever.oauth]\nclient_id = \"cid\"\nclient_secret = \"cs\"\n\
         redirect_uri = \"http://127.0.0.1:8788/callback\"",
    )
    .replace(
        "api_key = \"willo-key\"",
        "api_key = \"willo-key\"\nburst = 3\nconnect_timeout_seconds = 2.5\nwebhook_token = \"t\"",
    );
    for text in [BASE.to_owned(), oauth] {
        let first = load(&text).unwrap().to_redacted_toml();
        let again = load(&secrets_put_back(&first))
            .unwrap_or_else(|e| panic!("{e}\n{first}"))
            .to_redacted_toml();
        assert_eq!(first, again);
    }
    let rendered = load(&edit(
        "api_key = \"lever-key\"",
        "[tenants.lever.oauth]\nclient_id = \"cid\"\nclient_secret = \"cs\"\n\
         redirect_uri = \"http://127.0.0.1:8788/callback\"",
    ))
    .unwrap()
    .to_redacted_toml();
    let table: toml::Table = rendered.parse().unwrap();
    let oauth = &table["tenants"][0]["lever"]["oauth"];
    assert_eq!(
        oauth["token_url"].as_str(),
        Some("https://auth.lever.co/oauth/token")
    );
    assert_eq!(oauth["client_secret"].as_str(), Some("<redacted, inline>"));
}

/// Numbers too large to be a duration or a rate are refused with their key, instead of
/// panicking while the duration is built.
#[test]
fn out_of_range_timeouts_and_rates_name_their_key() {
    for (line, key, words) in [
        (
            "connect_timeout_seconds = 1e30",
            "tenants[acme].lever.connect_timeout_seconds",
            "positive number of seconds",
        ),
        (
            "retry_max_elapsed_seconds = 1e300",
            "tenants[acme].lever.retry_max_elapsed_seconds",
            "positive number of seconds",
        ),
        (
            "requests_per_second = 1e12",
            "tenants[acme].lever.requests_per_second",
            "no larger than",
        ),
    ] {
        let text = edit(
            "api_key = \"lever-key\"",
            &format!("api_key = \"lever-key\"\n{line}"),
        );
        let err = load(&text).unwrap_err();
        assert_eq!(err.key(), key, "{err}");
        assert!(err.to_string().contains(words), "{err}");
    }
}

#[test]
fn issue_ten_keys_default_to_what_the_readme_says() {
    let s = load(BASE).unwrap();
    let t = &s.tenants[0];
    assert!(!t.lever.client.include_confidential);
    assert_eq!(t.catalog_max_tags, 500);
    assert_eq!(
        t.willo.client.state_fields.paths().collect::<Vec<_>>(),
        willo_lever_sync::willo::DEFAULT_STATE_FIELDS
    );
    assert!(t.willo.interview_scope.is_everything());
}

#[test]
fn issue_ten_keys_are_read_as_written() {
    let text = format!(
        "{}\n[tenants.willo.interview_scope]\ndepartments = [\"d1\"]\n\
         owner_emails = [\"Hiring@Example.com\"]\ntitle_patterns = [\"Sales*\"]\n",
        edit(
            LEVER_KEY_LINE,
            &format!("{LEVER_KEY_LINE}\ninclude_confidential = true")
        )
        .replace(
            WILLO_KEY_LINE,
            &format!("{WILLO_KEY_LINE}\nstate_fields = [\"current_stage.name\", \"status\"]"),
        )
        .replace(
            "trigger_stages = [\"Video Interview\"]",
            "trigger_stages = [\"Video Interview\"]\ncatalog_max_tags = 40",
        )
    );
    let s = load(&text).unwrap();
    let t = &s.tenants[0];
    assert!(t.lever.client.include_confidential);
    assert_eq!(t.catalog_max_tags, 40);
    assert_eq!(
        t.willo.client.state_fields.paths().collect::<Vec<_>>(),
        ["current_stage.name", "status"]
    );
    let scope = &t.willo.interview_scope;
    assert_eq!(scope.departments(), ["d1"]);
    assert_eq!(scope.owner_emails(), ["hiring@example.com"]);
    assert_eq!(scope.title_patterns(), ["Sales*"]);
    // And `check-config` prints them back as the same settings.
    let first = s.to_redacted_toml();
    assert!(first.contains("include_confidential = true"), "{first}");
    assert!(first.contains("catalog_max_tags = 40"), "{first}");
    let again = load(&secrets_put_back(&first)).unwrap_or_else(|e| panic!("{e}\n{first}"));
    assert_eq!(again.to_redacted_toml(), first);
}

#[test]
fn include_confidential_with_oauth_asks_for_the_confidential_scope() {
    let oauth = "[tenants.lever.oauth]\nclient_id = \"cid\"\nclient_secret = \"cs\"\n\
                 redirect_uri = \"http://127.0.0.1:8788/callback\"";
    let scopes = |text: &str| {
        let s = load(text).unwrap();
        let LeverAuth::OAuth(o) = &s.tenants[0].lever.client.auth else {
            panic!("expected OAuth")
        };
        o.scopes.clone()
    };
    let without = scopes(&edit(LEVER_KEY_LINE, oauth));
    assert!(!without.iter().any(|s| s == "confidential:access:admin"));
    let with = scopes(&edit(
        LEVER_KEY_LINE,
        &format!("include_confidential = true\n{oauth}"),
    ));
    assert!(
        with.iter().any(|s| s == "confidential:access:admin"),
        "{with:?}"
    );
    let once = scopes(&edit(
        LEVER_KEY_LINE,
        &format!(
            "include_confidential = true\n{oauth}\n\
             scopes = [\"offline_access\", \"confidential:access:admin\"]"
        ),
    ));
    assert_eq!(once, ["offline_access", "confidential:access:admin"]);
}

#[test]
fn a_willo_stage_key_works_as_a_status_map_entry() {
    use willo_lever_sync::domain::status_map::Mapped;
    use willo_lever_sync::domain::tags::StatusTag;
    let key = "9f86d081884c7d659a2feaa0c55ad015";
    let text = format!("{BASE}\n[tenants.willo.status_map]\n\"{key}\" = \"Willo:Accepted\"\n");
    let s = load(&text).unwrap();
    let m = &s.tenants[0].willo.status_map;
    assert_eq!(m.lookup(Some(key)), Mapped::Tag(StatusTag::Accepted));
    assert_eq!(m.lookup(Some("new")), Mapped::Unknown("new".into()));
}

/// Every numeric key, with values out of its range or not finite: each is refused with exit 78
/// naming the key, none panics and none is silently replaced by its default. Values come from
/// the file and from the environment (where `nan` and `inf` parse as numbers too).
#[test]
fn every_numeric_key_out_of_range_or_not_finite_exits_78_naming_the_key() {
    // (table, key, the table's header line in BASE, bad values)
    let float_bad: &[&str] = &["nan", "inf", "-inf", "-1", "0", "1e300", "1e20", "1e-300"];
    let int_bad: &[&str] = &["nan", "inf", "-1", "1e300", "9223372036854775807"];
    let mut keys: Vec<(&str, &str, &[&str])> = Vec::new();
    for api in ["lever", "willo"] {
        for key in [
            "requests_per_second",
            "connect_timeout_seconds",
            "request_timeout_seconds",
            "retry_max_elapsed_seconds",
        ] {
            keys.push((api, key, float_bad));
        }
        keys.push((
            api,
            "burst",
            &["nan", "inf", "-1", "0", "1e300", "9223372036854775807"],
        ));
    }
    for key in [
        "concurrency",
        "hint_queue_capacity",
        "shutdown_grace_seconds",
        "incremental_overlap_seconds",
    ] {
        keys.push(("daemon", key, int_bad));
    }
    let mut failures = Vec::new();
    for (table, key, values) in keys {
        let (path, header) = match table {
            "daemon" => (format!("daemon.{key}"), "[daemon]".to_owned()),
            api => (
                format!("tenants[acme].{api}.{key}"),
                format!("api_key = \"{api}-key\""),
            ),
        };
        let env_name = match table {
            "daemon" => format!("WLS__DAEMON__{}", key.to_uppercase()),
            // Environment overrides cannot reach into the tenants array.
            _ => String::new(),
        };
        for value in values {
            let file_text = edit(&header, &format!("{header}\n{key} = {value}"));
            let mut attempts: Vec<(&str, String, HashMap<String, String>)> =
                vec![("file", file_text, HashMap::new())];
            if !env_name.is_empty() {
                let env = [(env_name.clone(), (*value).to_owned())].into();
                attempts.push(("environment", BASE.to_owned(), env));
            }
            for (source, text, env) in attempts {
                let case = format!("{path} = {value} ({source})");
                let outcome = std::panic::catch_unwind(|| {
                    load_from_str(&text, Path::new("/etc/wls/test.toml"), &env)
                });
                match outcome {
                    Err(_) => failures.push(format!("{case}: panicked")),
                    Ok(Ok(_)) => failures.push(format!("{case}: accepted")),
                    Ok(Err(e)) => {
                        let msg = e.to_string();
                        if CommandError::from(e).exit_status().code() != 78 {
                            failures.push(format!("{case}: not exit 78"));
                        }
                        if !msg.contains(&path) {
                            failures.push(format!("{case}: does not name the key: {msg}"));
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn issue12_status_check_keys_default_read_and_refuse_what_cannot_work() {
    let t = &load(BASE).unwrap().tenants[0];
    assert_eq!(t.willo.status_checks.share, 0.5);
    assert_eq!(t.willo.status_checks.freshness.as_secs(), 3600);
    let with = |keys: &str| BASE.replace(WILLO_KEY_LINE, &format!("{WILLO_KEY_LINE}\n{keys}"));
    let s = load(&with(
        "status_check_share = 0.25\nstatus_freshness_seconds = 900",
    ))
    .unwrap();
    let checks = s.tenants[0].willo.status_checks;
    assert_eq!((checks.share, checks.freshness.as_secs()), (0.25, 900));
    let shown = s.to_redacted_toml();
    assert!(shown.contains("status_check_share = 0.25"), "{shown}");
    assert!(shown.contains("status_freshness_seconds = 900"), "{shown}");
    for (keys, key, words) in [
        (
            "status_check_share = 0",
            "status_check_share",
            "above 0 and at most 1",
        ),
        (
            "status_check_share = 1.5",
            "status_check_share",
            "above 0 and at most 1",
        ),
        (
            "status_freshness_seconds = 10",
            "status_freshness_seconds",
            "from 60",
        ),
    ] {
        let err = load(&with(keys)).unwrap_err();
        assert_eq!(err.key(), format!("tenants[acme].willo.{key}"), "{err}");
        assert!(err.to_string().contains(words), "{err}");
    }
}

#[test]
fn issue14_the_store_table_and_instance_id_name_their_key_when_wrong() {
    let with = |extra: &str| format!("{BASE}\n{extra}\n");
    let cases = [
        ("[store]\nurl = \"mysql://x\"", "store.url"),
        (
            "[store]\nurl = \"postgres://a@b/c?sslmode=bogus\"",
            "store.url",
        ),
        (
            "[store]\nurl = \"postgres://a@b/c\"\nlease_seconds = 2",
            "store.lease_seconds",
        ),
        ("[store]\nlease_seconds = 30", "store.lease_seconds"),
        (
            "[store]\nurl = \"postgres://a@b/c\"\nurl_file = \"f\"",
            "store.url",
        ),
        ("[store]\nuri = \"postgres://a@b/c\"", "uri"),
    ];
    for (extra, key) in cases {
        let e = load(&with(extra)).expect_err(extra);
        let text = e.to_string();
        assert!(text.contains(key), "{extra:?}: {text}");
        assert_eq!(CommandError::from(e).exit_status(), ExitStatus::Config);
    }
    let e = load(&edit("[daemon]", "[daemon]\ninstance_id = \"a b\"")).unwrap_err();
    assert!(e.to_string().contains("daemon.instance_id"), "{e}");
    // Without [store], SQLite; the instance id defaults to the host and process.
    let s = load(BASE).unwrap();
    assert!(!s.store.is_shared());
    assert!(
        s.daemon
            .instance_id
            .ends_with(&format!("-{}", std::process::id())),
        "{}",
        s.daemon.instance_id
    );
    let s = load(&with("[store]\nurl = \"postgres://wls:hunter2@db/wls\"")).unwrap();
    let pg = s.store.postgres.as_ref().unwrap();
    assert_eq!(pg.lease.as_secs(), 30);
    assert!(!format!("{s:?}").contains("hunter2"));
}
