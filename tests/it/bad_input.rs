//! Bad input, through the binary: malformed configurations (exit 78 naming the key), broken
//! state (exit 74, nothing half-written), and malformed API responses (a protocol error, never
//! "nothing to do", the cursor unmoved). Rule: exit statuses, rule: cursor moves with what it
//! covers, docs/behaviour.md.
//!
//! `config_validation.rs` checks the loader in-process (35 table cases and every numeric key
//! out of range); the cases here are other kinds, and each one runs the real binary, so the
//! exit status and the message are what an operator sees.

use std::process::Stdio;

use futures::StreamExt;
use willo_lever_sync::domain::{PassKind, PassResult};
use willo_lever_sync::sim::faults::{Fault, FaultPlan, FaultRule, PageDefect};
use willo_lever_sync::sim::willo::ParticipantSeed;

use crate::convergence::{
    Cast, Cmd, InProcess, PARTICIPANTS, Tally, once_until_converged, open_writer, tally,
};
use crate::secrets_scan;
use crate::support::World;
use crate::support::daemon::{command, command_as};

const BASE: &str = r#"[daemon]
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
api_key = "lever-key-0123456789"

[tenants.willo]
base_url = "https://api.willotalent.com/api/integrations/v2"
api_key = "willo-key-0123456789"
"#;

const LEVER_TABLE: &str = "[tenants.lever]";
const WILLO_TABLE: &str = "[tenants.willo]";
const LEVER_KEY: &str = "api_key = \"lever-key-0123456789\"";
const WILLO_KEY: &str = "api_key = \"willo-key-0123456789\"";
const OAUTH: &str = "[tenants.lever.oauth]\nclient_id = \"c\"\nclient_secret = \"oauth-secret-0123456789\"\nredirect_uri = \"http://127.0.0.1:9/callback\"\n";

/// A file the case needs next to the configuration.
#[derive(Debug, Clone, Copy)]
enum File {
    Text(&'static str),
    Dir,
}

/// One malformed configuration.
struct Case {
    name: &'static str,
    /// The whole configuration text (`None`: no file is written at all).
    text: Option<Vec<u8>>,
    files: Vec<(&'static str, File)>,
    env: Vec<(&'static str, String)>,
    /// The key path the message must name ("" for file-level errors).
    key: &'static str,
    /// Words the message must contain.
    words: &'static str,
}

fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "test bug: {from:?} not in BASE");
    BASE.replacen(from, to, 1)
}

/// `line` added at the top of `table`.
fn with(table: &str, line: &str) -> String {
    edit(table, &format!("{table}\n{line}"))
}

fn case(name: &'static str, text: String, key: &'static str, words: &'static str) -> Case {
    Case {
        name,
        text: Some(text.into_bytes()),
        files: Vec::new(),
        env: Vec::new(),
        key,
        words,
    }
}

fn second_tenant(id: &str) -> String {
    format!(
        "{BASE}\n[[tenants]]\nid = \"{id}\"\naccount_name = \"B\"\ntrigger_stages = [\"S\"]\n\
         [tenants.lever]\napi_key = \"lever-key-2\"\n[tenants.willo]\napi_key = \"willo-key-2\"\n"
    )
}

fn oauth(extra: &str) -> String {
    edit(LEVER_KEY, &format!("{OAUTH}{extra}"))
}

fn cases() -> Vec<Case> {
    let mut c = vec![
        // --- syntax ---
        case(
            "unclosed string",
            edit("\"Acme Corp\"", "\"Acme Corp"),
            "",
            "line",
        ),
        case(
            "duplicate key",
            with("[log]", "level = \"debug\""),
            "",
            "duplicate key",
        ),
        case(
            "duplicate table",
            format!("{BASE}\n[log]\nformat = \"json\"\n"),
            "",
            "line",
        ),
        case("key without a value", with("[log]", "colour ="), "", "line"),
        case(
            "invalid escape",
            edit("\"Acme Corp\"", "\"Acme\\q\""),
            "",
            "line",
        ),
        case(
            "bare key with a space",
            with("[log]", "log level = \"x\""),
            "",
            "line",
        ),
        case(
            "array of tables as a table",
            edit("[[tenants]]", "[tenants]"),
            "tenants",
            "invalid type",
        ),
        case("empty file", String::new(), "tenants", "at least one"),
        Case {
            name: "not UTF-8",
            text: Some(b"\xff\xfe[daemon]\n".to_vec()),
            files: Vec::new(),
            env: Vec::new(),
            key: "",
            words: "UTF-8",
        },
        Case {
            name: "no configuration file",
            text: None,
            files: Vec::new(),
            env: Vec::new(),
            key: "",
            words: "cannot read configuration file",
        },
        // --- wrong types ---
        case(
            "concurrency as text",
            with("[daemon]", "concurrency = \"four\""),
            "daemon.concurrency",
            "invalid type",
        ),
        case(
            "schedule as a number",
            edit("schedule = \"0 */5 * * * *\"", "schedule = 5"),
            "daemon.schedule",
            "invalid type",
        ),
        case(
            "trigger_stages as text",
            edit(
                "trigger_stages = [\"Video Interview\"]",
                "trigger_stages = \"Video Interview\"",
            ),
            "tenants[acme].trigger_stages",
            "invalid type",
        ),
        case(
            "account_name as a number",
            edit("account_name = \"Acme Corp\"", "account_name = 42"),
            "tenants[acme].account_name",
            "invalid type",
        ),
        case(
            "match_posting_tags as text",
            with(
                "trigger_stages = [\"Video Interview\"]",
                "match_posting_tags = \"yes\"",
            ),
            "tenants[acme].match_posting_tags",
            "invalid type",
        ),
        case(
            "status_map as a list",
            with(WILLO_TABLE, "status_map = [\"a\"]"),
            "tenants[acme].willo.status_map",
            "invalid type",
        ),
        case(
            "burst as a fraction",
            with(LEVER_TABLE, "burst = 1.5"),
            "tenants[acme].lever.burst",
            "burst",
        ),
        case(
            "log level as a boolean",
            edit("level = \"info\"", "level = true"),
            "log.level",
            "invalid type",
        ),
        case(
            "api_key as a number",
            edit(WILLO_KEY, "api_key = 123"),
            "tenants[acme].willo.api_key",
            "invalid type",
        ),
        case(
            "listen as a list",
            edit(
                "listen = \"127.0.0.1:8787\"",
                "listen = [\"127.0.0.1:8787\"]",
            ),
            "daemon.listen",
            "invalid type",
        ),
        // --- unknown keys ---
        case(
            "unknown key in log",
            with("[log]", "colour = \"always\""),
            "log",
            "colour",
        ),
        case(
            "unknown key in a tenant",
            with("trigger_stages = [\"Video Interview\"]", "name = \"x\""),
            "tenants[acme]",
            "name",
        ),
        case(
            "misspelt willo key",
            with(WILLO_TABLE, "apikey = \"x\""),
            "tenants[acme].willo",
            "apikey",
        ),
        case(
            "unknown key in oauth",
            oauth("scope = \"x\"\n"),
            "tenants[acme].lever.oauth",
            "scope",
        ),
        case(
            "unknown top-level key",
            format!("state_dir = \"x\"\n{BASE}"),
            "",
            "state_dir",
        ),
        // --- URLs ---
        case(
            "lever base_url without a host",
            edit("\"https://api.lever.co/v1\"", "\"http://\""),
            "tenants[acme].lever.base_url",
            "not a URL",
        ),
        case(
            "willo base_url with a bad port",
            edit(
                "\"https://api.willotalent.com/api/integrations/v2\"",
                "\"https://api.willotalent.com:99999/api\"",
            ),
            "tenants[acme].willo.base_url",
            "not a URL",
        ),
        case(
            "lever base_url without a scheme",
            edit("\"https://api.lever.co/v1\"", "\"api.lever.co/v1\""),
            "tenants[acme].lever.base_url",
            "not a URL",
        ),
        case(
            "willo base_url as mailto",
            edit(
                "\"https://api.willotalent.com/api/integrations/v2\"",
                "\"mailto:a@example.com\"",
            ),
            "tenants[acme].willo.base_url",
            "http",
        ),
        case(
            "willo base_url with a space",
            edit(
                "\"https://api.willotalent.com/api/integrations/v2\"",
                "\"https://api willotalent.com/\"",
            ),
            "tenants[acme].willo.base_url",
            "not a URL",
        ),
        case(
            "oauth token_url not a URL",
            oauth("token_url = \"not a url\"\n"),
            "tenants[acme].lever.oauth.token_url",
            "not a URL",
        ),
        case(
            "oauth redirect_uri not a URL",
            edit(
                LEVER_KEY,
                &OAUTH.replace("http://127.0.0.1:9/callback", "callback"),
            ),
            "tenants[acme].lever.oauth.redirect_uri",
            "URL",
        ),
        // --- cron ---
        case(
            "cron value out of range",
            edit(
                "schedule = \"0 */5 * * * *\"",
                "schedule = \"61 * * * * *\"",
            ),
            "daemon.schedule",
            "cron",
        ),
        case(
            "cron with too few fields",
            edit("schedule = \"0 */5 * * * *\"", "schedule = \"* * * *\""),
            "daemon.schedule",
            "cron",
        ),
        case(
            "cron in words",
            edit(
                "full_schedule = \"0 30 3 * * *\"",
                "full_schedule = \"every day\"",
            ),
            "daemon.full_schedule",
            "cron",
        ),
        case(
            "empty cron",
            edit("schedule = \"0 */5 * * * *\"", "schedule = \"\""),
            "daemon.schedule",
            "cron",
        ),
        // --- secrets ---
        Case {
            files: vec![("empty.key", File::Text(""))],
            ..case(
                "secret file empty",
                edit(WILLO_KEY, "api_key_file = \"empty.key\""),
                "tenants[acme].willo.api_key_file",
                "empty",
            )
        },
        Case {
            files: vec![("blank.key", File::Text(" \n\t\n"))],
            ..case(
                "secret file blank",
                edit(WILLO_KEY, "api_key_file = \"blank.key\""),
                "tenants[acme].willo.api_key_file",
                "empty",
            )
        },
        Case {
            files: vec![("a.key", File::Dir)],
            ..case(
                "secret file unreadable (a directory)",
                edit(LEVER_KEY, "api_key_file = \"a.key\""),
                "tenants[acme].lever.api_key_file",
                "cannot read",
            )
        },
        case(
            "secret file missing",
            edit(LEVER_KEY, "api_key_file = \"missing.key\""),
            "tenants[acme].lever.api_key_file",
            "missing.key",
        ),
        Case {
            files: vec![("sig.key", File::Text("sig-0123456789"))],
            ..case(
                "signature token inline and in a file",
                with(
                    LEVER_TABLE,
                    "webhook_signature_token = \"sig-abcdefgh\"\nwebhook_signature_token_file = \"sig.key\"",
                ),
                "tenants[acme].lever.webhook_signature_token",
                "not both",
            )
        },
        Case {
            files: vec![("cs.key", File::Text("cs-0123456789"))],
            ..case(
                "client secret inline and in a file",
                oauth("client_secret_file = \"cs.key\"\n"),
                "tenants[acme].lever.oauth.client_secret",
                "not both",
            )
        },
        Case {
            files: vec![("wh.key", File::Text(""))],
            ..case(
                "webhook token file empty",
                with(WILLO_TABLE, "webhook_token_file = \"wh.key\""),
                "tenants[acme].willo.webhook_token_file",
                "empty",
            )
        },
        Case {
            env: vec![("CREDENTIALS_DIRECTORY", "/nonexistent-credentials".into())],
            ..case(
                "credential missing from CREDENTIALS_DIRECTORY",
                edit(WILLO_KEY, "api_key_file = \"willo.key\""),
                "tenants[acme].willo.api_key_file",
                "willo.key",
            )
        },
        case(
            "api_key and oauth both",
            edit(LEVER_KEY, &format!("{LEVER_KEY}\n{OAUTH}")),
            "tenants[acme].lever",
            "oauth",
        ),
        case(
            "empty api key",
            edit(WILLO_KEY, "api_key = \"\""),
            "tenants[acme].willo.api_key",
            "empty",
        ),
        case(
            "oauth without a client secret",
            edit(
                LEVER_KEY,
                &OAUTH.replace("client_secret = \"oauth-secret-0123456789\"\n", ""),
            ),
            "tenants[acme].lever.oauth.client_secret",
            "missing",
        ),
        // --- tenants ---
        case(
            "duplicate tenant ids",
            second_tenant("acme"),
            "tenants[1].id",
            "duplicate",
        ),
        case(
            "tenant id in capitals",
            edit("id = \"acme\"", "id = \"Acme\""),
            // A tenant whose id is refused is named by its place in the file.
            "tenants[0].id",
            "[a-z0-9-]",
        ),
        case(
            "empty tenant id",
            edit("id = \"acme\"", "id = \"\""),
            "tenants[0].id",
            "[a-z0-9-]",
        ),
        case(
            "blank trigger stage",
            edit("[\"Video Interview\"]", "[\" \"]"),
            "tenants[acme].trigger_stages",
            "empty",
        ),
        case(
            "empty account name",
            edit("\"Acme Corp\"", "\"\""),
            "tenants[acme].account_name",
            "empty",
        ),
        // --- daemon ---
        case(
            "listen without a port",
            edit("\"127.0.0.1:8787\"", "\"127.0.0.1\""),
            "daemon.listen",
            "port",
        ),
        case(
            "listen on a bad address",
            edit("\"127.0.0.1:8787\"", "\"256.0.0.1:80\""),
            "daemon.listen",
            "IP address",
        ),
    ];
    // --- environment overrides ---
    for (name, var, value, key, words) in [
        (
            "bad log level in the environment",
            "WLS__LOG__LEVEL",
            "foo=bar=baz",
            "log.level",
            "directive",
        ),
        (
            "bad listen in the environment",
            "WLS__DAEMON__LISTEN",
            "nope",
            "daemon.listen",
            "IP address",
        ),
        (
            "unknown key in the environment",
            "WLS__DAEMON__BOGUS",
            "1",
            "daemon.bogus",
            "unknown field",
        ),
        (
            "concurrency as words in the environment",
            "WLS__DAEMON__CONCURRENCY",
            "many",
            "daemon.concurrency",
            "concurrency",
        ),
    ] {
        c.push(Case {
            env: vec![(var, value.into())],
            ..case(name, BASE.to_owned(), key, words)
        });
    }
    c
}

/// Runs `check-config` for one case; returns a failure description, if any.
async fn check(case: Case) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("wls.toml");
    if let Some(text) = &case.text {
        std::fs::write(&config, text).unwrap();
    }
    for (name, file) in &case.files {
        let path = dir.path().join(name);
        match file {
            File::Text(t) => std::fs::write(&path, t).unwrap(),
            File::Dir => std::fs::create_dir(&path).unwrap(),
        }
    }
    let mut cmd = command();
    cmd.arg("--config").arg(&config).arg("check-config");
    for (k, v) in &case.env {
        cmd.env(k, v);
    }
    let out = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let secrets: Vec<String> = [
        "lever-key-0123456789",
        "willo-key-0123456789",
        "oauth-secret-0123456789",
        "sig-0123456789",
        "cs-0123456789",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if !secrets_scan::find(&[&stdout, &stderr], &secrets).is_empty() {
        return Some(format!("{}: output shows a secret", case.name));
    }
    let code = out.status.code().unwrap_or(-1);
    let mut problems = Vec::new();
    if code != 78 {
        problems.push(format!("exit {code}"));
    }
    if !stderr.contains(case.key) {
        problems.push(format!("does not name {:?}", case.key));
    }
    if !stderr.contains(case.words) {
        problems.push(format!("lacks {:?}", case.words));
    }
    // A bad override is named by its environment variable, anything else by the file.
    match case.env.first() {
        Some((var, _)) if var.starts_with("WLS__") && !stderr.contains(var) => {
            problems.push(format!("does not name {var}"));
        }
        Some((var, _)) if !var.starts_with("WLS__") && !stderr.contains("wls.toml") => {
            problems.push("does not name the file".into());
        }
        None if !stderr.contains("wls.toml") => problems.push("does not name the file".into()),
        _ => {}
    }
    if stderr.lines().count() > 3 {
        problems.push("more than 3 lines".into());
    }
    (!problems.is_empty())
        .then(|| format!("{}: {}: {}", case.name, problems.join(", "), stderr.trim()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_malformed_configuration_exits_78_naming_its_key() {
    let cases = cases();
    let n = cases.len();
    assert!(n >= 50, "{n} cases");
    let failures: Vec<String> = futures::stream::iter(cases)
        .map(check)
        .buffer_unordered(4)
        .filter_map(|f| async move { f })
        .collect()
        .await;
    assert!(
        failures.is_empty(),
        "{} of {n} cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Found by this suite: a base URL missing its host (`https:///v1`) is read by the URL
/// standard's rules for special schemes as host `v1` with path `/`, so the configured path is
/// lost and the mistake only shows as connection errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_found_a_base_url_without_a_host_is_accepted() {
    let failure = check(case(
        "lever base_url with three slashes",
        edit("\"https://api.lever.co/v1\"", "\"https:///v1\""),
        "tenants[acme].lever.base_url",
        "host",
    ))
    .await;
    assert_eq!(failure, None);
}

/// Found by this suite: a password written into a base URL (`https://user:pw@host/`) is
/// accepted and `check-config` prints it, although it redacts every secret key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_found_credentials_in_a_base_url_are_printed() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("wls.toml");
    let text = edit(
        "\"https://api.lever.co/v1\"",
        "\"https://user:url-password-0123456789@api.lever.co/v1\"",
    );
    std::fs::write(&config, text).unwrap();
    let out = command()
        .arg("--config")
        .arg(&config)
        .arg("check-config")
        .output()
        .await
        .unwrap();
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.code() == Some(78) || !shown.contains("url-password-0123456789"),
        "accepted and printed:\n{shown}"
    );
}

// --- broken state: exit 74, nothing half-written ---

/// A world that converged once, plus a newcomer due an invite: what a broken state must not
/// cause is a write for the newcomer, or any change to the state file.
async fn converged_with_newcomer() -> (World, Cmd, Cast, String) {
    let w = World::new().await;
    let cast = Cast::seed(&w, "State", 2, 0);
    let cmd = Cmd::of(&w);
    once_until_converged(&cmd, 2).await;
    let newcomer = w.candidate("Nina New", "nina@example.com", &cast.posting);
    (w, cmd, cast, newcomer)
}

fn db(w: &World) -> std::path::PathBuf {
    w.state_dir().join(willo_lever_sync::store::DB_FILE)
}

/// `--once` on a broken state: exit 74 naming the state file, no API write, the file as it
/// was; and `status` refuses it the same way.
async fn refused_untouched(w: &World, cmd: &Cmd, what: &str, words: &str) {
    let before = std::fs::read(db(w)).unwrap();
    let marks = w.marks();
    let out = cmd.run(&["--once"]).await;
    assert_eq!(out.code, 74, "{what}: {}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(willo_lever_sync::store::DB_FILE) || out.stderr.contains("state"),
        "{what}: {}",
        out.stderr
    );
    assert!(out.stderr.contains(words), "{what}: {}", out.stderr);
    assert_eq!(w.writes_since(marks), Vec::<String>::new(), "{what}");
    assert!(
        std::fs::read(db(w)).unwrap() == before,
        "{what}: the state file changed"
    );
    let status = cmd.run(&["status"]).await;
    assert_eq!(
        status.code, 74,
        "{what}: status: {}{}",
        status.stdout, status.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_state_file_exits_74_and_writes_nothing() {
    let (w, cmd, _cast, _) = converged_with_newcomer().await;
    let len = std::fs::metadata(db(&w)).unwrap().len() as usize;
    let garbage: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
    std::fs::write(db(&w), garbage).unwrap();
    refused_untouched(&w, &cmd, "corrupt", "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_state_file_exits_74_and_writes_nothing() {
    let (w, cmd, _cast, _) = converged_with_newcomer().await;
    let bytes = std::fs::read(db(&w)).unwrap();
    // Past the header, into the pages: SQLite sees the header but not the tables it names.
    std::fs::write(db(&w), &bytes[..bytes.len() / 2]).unwrap();
    refused_untouched(&w, &cmd, "truncated", "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_file_from_a_newer_version_exits_74_and_writes_nothing() {
    let (w, cmd, _cast, _) = converged_with_newcomer().await;
    let conn = rusqlite::Connection::open(db(&w)).unwrap();
    conn.pragma_update(
        None,
        "user_version",
        willo_lever_sync::store::SCHEMA_VERSION + 1,
    )
    .unwrap();
    drop(conn);
    refused_untouched(&w, &cmd, "newer schema", "newer").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_directory_the_process_may_not_write_exits_74_and_writes_nothing() {
    use std::os::unix::fs::MetadataExt;
    let (w, cmd, cast, _) = converged_with_newcomer().await;
    // Permissions do not bind root: the binary runs as `nobody` when the tests run as root,
    // with the configuration readable and the state directory (root's, 0755) not writable.
    let me = std::fs::metadata(w.dir.path()).unwrap().uid();
    let uid = if me == 0 { 65534 } else { me };
    if me == 0 {
        std::os::unix::fs::chown(w.dir.path(), Some(uid), Some(uid)).unwrap();
        std::os::unix::fs::chown(&cmd.config, Some(uid), Some(uid)).unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(w.state_dir(), std::fs::Permissions::from_mode(0o555)).unwrap();
    std::fs::set_permissions(db(&w), std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = std::fs::read(db(&w)).unwrap();
    let marks = w.marks();
    let mut binary = if me == 0 {
        command_as(uid, w.dir.path())
    } else {
        command()
    };
    let out = binary
        .arg("--config")
        .arg(&cmd.config)
        .arg("--once")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    std::fs::set_permissions(w.state_dir(), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(db(&w), std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(out.status.code(), Some(74), "{stderr}");
    assert!(stderr.contains("state"), "{stderr}");
    assert_eq!(w.writes_since(marks), Vec::<String>::new());
    assert!(
        std::fs::read(db(&w)).unwrap() == before,
        "the state file changed"
    );
    secrets_scan::assert_clean(&[&stderr], &cmd.secrets);
    if me == 0 {
        std::os::unix::fs::chown(w.dir.path(), Some(0), Some(0)).unwrap();
    }
    // Writable again: the next run converges, the newcomer invited once.
    once_until_converged(&cmd, 2).await;
    let mut cast = cast;
    cast.people.push(crate::convergence::Person {
        opportunity: String::new(),
        name: "Nina New".into(),
        email: "nina@example.com".into(),
    });
    cast.people.pop();
    assert_eq!(tally(&w, &cast), Tally::default());
}

/// A full disk, without a tiny filesystem: the process runs under `ulimit -f` (files may not
/// grow past a size) with SIGXFSZ ignored, so a write past it fails with EFBIG, which SQLite
/// reports like a full disk. The pass needs to mirror 3,000 more opportunities.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_exits_74_and_leaves_a_state_that_converges_afterwards() {
    let (w, cmd, cast, newcomer) = converged_with_newcomer().await;
    w.lever
        .add_opportunities((0..3000).map(|i| {
            willo_lever_sync::sim::lever::OppSeed::new(
                &format!("Filler {i}"),
                &format!("f{i}@example.com"),
            )
            .stage(&w.trigger)
        }))
        .unwrap();
    let blocks = std::fs::metadata(db(&w)).unwrap().len() / 512 + 64;
    let script = format!("trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" --config \"$1\" --once");
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_willo-lever-sync"))
        .arg(&cmd.config)
        .env_remove("WLS_CONFIG")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    secrets_scan::assert_clean(&[&text], &cmd.secrets);
    assert_eq!(out.status.code(), Some(74), "{text}");
    assert!(text.contains("state store"), "{text}");
    // Nothing half-written: the database is whole, and every participant Willo has for the
    // newcomer has its journal row (it was committed before the POST).
    let store = open_writer(&w.state_dir());
    let journal = store.read(|r| r.invites("acme")).unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(db(&w)).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    assert_eq!(check, "ok");
    let invited = w
        .willo
        .participants(&cast.interview)
        .iter()
        .any(|p| p.email == "nina@example.com");
    if invited {
        assert!(
            journal.iter().any(|r| r.opportunity_id == newcomer),
            "an invite without a journal row"
        );
    }
    // Space again: converged, nobody twice.
    once_until_converged(&cmd, 3).await;
    let mut cast = cast;
    cast.people.push(crate::convergence::Person {
        opportunity: newcomer,
        name: "Nina New".into(),
        email: "nina@example.com".into(),
    });
    assert_eq!(tally(&w, &cast), Tally::default());
}

// --- malformed API responses ---

const LIST_ROUTES: [(&str, &str); 6] = [
    ("lever", "/v1/stages"),
    ("lever", "/v1/postings"),
    ("lever", "/v1/opportunities"),
    ("lever", "/v1/opportunities/deleted"),
    ("willo", "/api/integrations/v2/interviews/"),
    ("willo", PARTICIPANTS),
];

const DEFECTS: [Fault; 5] = [
    Fault::MalformedPage(PageDefect::MissingItems),
    Fault::MalformedPage(PageDefect::ItemsObject),
    Fault::MalformedPage(PageDefect::ItemsNull),
    Fault::MalformedPage(PageDefect::BareArray),
    Fault::TruncateBody { keep: 0.5 },
];

/// Every list route of both APIs, every broken page: the pass fails with a protocol or
/// decode error (never "converged" or "nothing to do"), the cursor stays where it was, nothing
/// is written, and the newcomer the page would have shown is not invited on a guess.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_malformed_list_page_fails_the_pass_and_moves_no_cursor() {
    let w = World::new().await;
    let cast = Cast::seed(&w, "Pages", 2, 0);
    let ip = InProcess::open(&w);
    ip.pass(PassKind::Full).await;
    let newcomer = w.candidate("Nina New", "nina@example.com", &cast.posting);
    let cursor = || {
        w.store()
            .read(|r| r.cursor("acme", "opportunities.updated_at"))
            .unwrap()
    };
    let mut failures = Vec::new();
    let mut cases = 0;
    for (api, route) in LIST_ROUTES {
        for defect in DEFECTS {
            // A bare array is a whole Willo listing by design (a DRF API without pagination),
            // so it is a page, not a defect, on Willo; the next test covers what that costs.
            if api == "willo" && defect == Fault::MalformedPage(PageDefect::BareArray) {
                continue;
            }
            cases += 1;
            let sim = if api == "lever" {
                w.lever.faults()
            } else {
                w.willo.faults()
            };
            sim.set(FaultPlan::seeded(1).with(FaultRule::new(defect).on("GET", route)));
            let before = cursor();
            let marks = w.marks();
            let out = ip.pass(PassKind::Full).await;
            sim.clear();
            let label = out
                .error
                .as_ref()
                .map(|e| e.metric_label())
                .unwrap_or("none");
            let name = format!("{route} {defect:?}");
            if out.result != PassResult::Failed {
                failures.push(format!("{name}: {:?}: {}", out.result, out.summary));
            }
            if !["protocol", "decode"].contains(&label) {
                failures.push(format!("{name}: error kind {label}"));
            }
            if cursor() != before {
                failures.push(format!("{name}: the cursor moved"));
            }
            let wrote = w.writes_since(marks);
            if !wrote.is_empty() {
                failures.push(format!("{name}: wrote {wrote:?}"));
            }
        }
    }
    assert_eq!(cases, 28);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The faults gone, the newcomer is invited once.
    let last = ip.pass(PassKind::Full).await;
    assert_eq!(last.result, PassResult::Converged, "{}", last.summary);
    let nina: Vec<_> = w
        .willo
        .participants(&cast.interview)
        .into_iter()
        .filter(|p| p.email == "nina@example.com")
        .collect();
    assert_eq!(nina.len(), 1);
    assert!(
        w.lever
            .tags_of(&newcomer)
            .contains(&"Willo:Invited".to_owned())
    );
}

/// A Willo listing that answers page 1 of a long participant list as a bare array (no
/// envelope, no `next`) looks like the whole list: a person on page 2 cannot be found, and is
/// invited again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_found_a_bare_array_page_hides_later_pages() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Long");
    for i in 0..35 {
        w.willo
            .add_participant(ParticipantSeed::new(
                &interview,
                &format!("P{i}"),
                &format!("p{i}@example.com"),
            ))
            .unwrap();
    }
    // Participant 33 is on page 2 (30 a page); their Lever candidacy is due.
    w.candidate("P33", "p33@example.com", &posting);
    w.willo.faults().set(
        FaultPlan::seeded(1).with(
            FaultRule::new(Fault::MalformedPage(PageDefect::BareArray))
                .on("GET", PARTICIPANTS)
                .first(1),
        ),
    );
    let _ = w.try_pass(PassKind::Full).await;
    w.willo.faults().clear();
    let p33 = w
        .willo
        .participants(&interview)
        .into_iter()
        .filter(|p| p.email == "p33@example.com")
        .count();
    assert_eq!(p33, 1, "invited a second time");
}
