//! No output or log of the product shows a configured secret. `assert_clean` is the helper the
//! process-level suites call on what they captured; the test below runs every command with
//! known secrets (API keys, webhook tokens, the OAuth client secret, access and refresh tokens)
//! and scans everything each one wrote.

#![allow(dead_code)]

use std::path::Path;

use crate::support::daemon::{
    Daemon, SIGNATURE_TOKEN, SIGTERM, WILLO_TOKEN, signed_body, world_for_daemon,
};
use crate::support::{LEVER_KEY, WILLO_KEY, World};

/// Secrets shorter than this are not scanned for: they would match ordinary text. Every secret
/// the suites configure is longer.
const MIN_SECRET_LEN: usize = 8;

/// The string values under the configuration's secret keys (`api_key`, `client_secret`,
/// `webhook_token`, `webhook_signature_token` and their `previous_` forms), at any depth.
pub fn secrets_in_config(text: &str) -> Vec<String> {
    fn walk(v: &toml::Value, out: &mut Vec<String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let secret_key = !k.ends_with("_file")
                        && (k.ends_with("api_key")
                            || k.ends_with("client_secret")
                            || k.ends_with("webhook_token")
                            || k.ends_with("webhook_signature_token"));
                    match v {
                        toml::Value::String(s) if secret_key => out.push(s.clone()),
                        other => walk(other, out),
                    }
                }
            }
            toml::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = text.parse::<toml::Table>() {
        walk(&toml::Value::Table(v), &mut out);
    }
    out
}

/// Every secret of a test world: its configuration's, the fixed test keys, and the OAuth
/// tokens stored in its state, if any.
pub fn world_secrets(w: &World) -> Vec<String> {
    let mut s = secrets_in_config(&w.config_text());
    s.extend([LEVER_KEY.to_owned(), WILLO_KEY.to_owned()]);
    if let Ok(store) = willo_lever_sync::store::Store::open(
        &w.state_dir(),
        willo_lever_sync::store::OpenMode::Reader,
    ) && let Ok(Some(t)) = store.read(|r| r.tokens("acme"))
    {
        s.extend([t.access_token, t.refresh_token]);
    }
    s.sort();
    s.dedup();
    s
}

/// Where each secret occurs in the texts: `(secret's first 4 characters, text index)`, so a
/// failure message does not print the secret either.
pub fn find(texts: &[&str], secrets: &[String]) -> Vec<(String, usize)> {
    let mut hits = Vec::new();
    for secret in secrets.iter().filter(|s| s.len() >= MIN_SECRET_LEN) {
        for (i, text) in texts.iter().enumerate() {
            if text.contains(secret.as_str()) {
                hits.push((format!("{}…", &secret[..4]), i));
            }
        }
    }
    hits
}

/// Panics when any text shows any secret.
pub fn assert_clean(texts: &[&str], secrets: &[String]) {
    let hits = find(texts, secrets);
    assert!(hits.is_empty(), "secrets found in output: {hits:?}");
}

/// Every file under `dir` (log files, state), read as text.
pub fn files_under(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    out
}

#[test]
fn the_scanner_finds_what_it_must_and_names_no_secret() {
    let secrets = vec!["s3cret-value-123".to_owned(), "short".to_owned()];
    assert_eq!(find(&["nothing here", "short"], &secrets), vec![]);
    let hits = find(&["a s3cret-value-123 b", "x"], &secrets);
    assert_eq!(hits, vec![("s3cr…".to_owned(), 0)]);
    let config = "[a]\napi_key = \"k1-abcdefgh\"\napi_key_file = \"f\"\n[[t]]\n[t.o]\nclient_secret = \"cs-abcdefgh\"\nprevious_webhook_token = \"pw-abcdefgh\"\nlevel = \"info\"\n";
    let mut found = secrets_in_config(config);
    found.sort();
    assert_eq!(found, ["cs-abcdefgh", "k1-abcdefgh", "pw-abcdefgh"]);
}

/// An OAuth tenant with every kind of secret set, tokens stored, and logs also written to files.
async fn world_with_every_secret() -> (World, Vec<String>) {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let redirect = "http://127.0.0.1:9/callback";
    w.lever
        .add_oauth_client("client-evidence", "oauth-client-secret-0123", redirect);
    w.lever_extra = format!(
        "webhook_signature_token = \"{SIGNATURE_TOKEN}\"\n\
         previous_webhook_signature_token = \"previous-signature-token-4567\"\n\
         [tenants.lever.oauth]\nclient_id = \"client-evidence\"\n\
         client_secret = \"oauth-client-secret-0123\"\nredirect_uri = \"{redirect}\"\n\
         authorize_url = \"{}\"\ntoken_url = \"{}\"\naudience = \"{}\"",
        w.lever.oauth_authorize_url(),
        w.lever.oauth_token_url(),
        w.lever.audience()
    );
    w.willo_extra = format!(
        "webhook_token = \"{WILLO_TOKEN}\"\nprevious_webhook_token = \"previous-willo-token-8901\""
    );
    w.log_level = "debug".into();
    let text = w
        .config_text()
        .replace("api_key = \"lever-test-key\"\n", "")
        .replace(
            "[log]\nlevel = \"debug\"",
            &format!(
                "[log]\nlevel = \"debug\"\ndir = \"{}\"",
                w.dir.path().join("logs").display()
            ),
        );
    std::fs::write(w.dir.path().join("secrets.toml"), &text).unwrap();
    // Tokens as `connect` would have stored them; the access token expires within the refresh
    // margin, so the first call refreshes and rotates both.
    let issued = w
        .lever
        .issue_oauth_tokens("client-evidence", "offline_access");
    let row = willo_lever_sync::store::TokenRow {
        access_token: issued.access_token.clone(),
        refresh_token: issued.refresh_token.clone().unwrap(),
        expires_at: willo_lever_sync::clock::now_ms() + 60_000,
        scope: Some(issued.scope.clone()),
        updated_at: 0,
    };
    crate::convergence::open_writer(&w.state_dir())
        .write(|tx| tx.save_tokens("acme", &row))
        .unwrap();
    let mut secrets = secrets_in_config(&text);
    secrets.extend([issued.access_token, issued.refresh_token.unwrap()]);
    (w, secrets)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_command_output_or_log_shows_a_configured_secret() {
    use crate::convergence::{Cast, run_config};
    let (w, mut secrets) = world_with_every_secret().await;
    assert!(secrets.len() >= 8, "{} secrets", secrets.len());
    let cast = Cast::seed(&w, "Scanner", 2, 0);
    let config = w.dir.path().join("secrets.toml");
    let mut texts: Vec<(String, String)> = Vec::new();
    let mut commands = 0;
    for args in [
        &["check-config"][..],
        &["check-config", "--online"],
        // A real pass first: it refreshes the near-expiry token and stores the rotated pair
        // (a dry run cannot store them; see the defect test below).
        &["--once"],
        &["--once", "--json"],
        &["--once", "--dry-run"],
        &["--once", "--dry-run", "--json"],
        &["status"],
        &["status", "--json"],
        &["tags"],
        &["doctor"],
        &["doctor", "--json"],
    ] {
        let out = run_config(&config, args, &secrets).await;
        assert!(
            [0, 1].contains(&out.code),
            "{args:?} exited {}: {}{}",
            out.code,
            out.stdout,
            out.stderr
        );
        commands += 1;
        texts.push((format!("{args:?} stdout"), out.stdout));
        texts.push((format!("{args:?} stderr"), out.stderr));
        // Every refresh rotated the tokens: the new ones are secrets too.
        if let Ok(Some(t)) = w.store().read(|r| r.tokens("acme")) {
            secrets.extend([t.access_token, t.refresh_token]);
        }
    }
    assert!(
        w.willo.participants(&cast.interview).len() == 2,
        "the --once runs did not work, so the scan saw little"
    );
    // The daemon for a moment: ready, a valid and a forged webhook of each kind, metrics.
    let d = Daemon::start_command(
        {
            let mut c = crate::support::daemon::command();
            c.arg("--config").arg(&config);
            c
        },
        &[],
    )
    .await;
    d.wait_ready().await;
    let now = crate::support::daemon::now_ms();
    let opp = &cast.people[0].opportunity;
    for key in [SIGNATURE_TOKEN, "forged-signature-token-000"] {
        let body = signed_body(opp, &format!("tok{now}{key}"), now, key);
        d.post("/webhooks/lever/acme", body).await;
    }
    for token in [WILLO_TOKEN, "forged-willo-token-000"] {
        d.post(
            &format!("/webhooks/willo/acme?token={token}"),
            br#"{"participant":"0123456789abcdef0123456789abcdef"}"#.to_vec(),
        )
        .await;
    }
    let (_, metrics) = d.get("/metrics").await;
    let (_, ready) = d.get("/readyz").await;
    d.signal(SIGTERM);
    let log = d.log.clone();
    assert_eq!(d.exit_code().await, 0);
    commands += 1;
    texts.push(("daemon stderr".into(), log.lock().unwrap().clone()));
    texts.push(("metrics".into(), metrics));
    texts.push(("readyz".into(), ready));
    if let Ok(Some(t)) = w.store().read(|r| r.tokens("acme")) {
        secrets.extend([t.access_token, t.refresh_token]);
    }
    let files = files_under(&w.dir.path().join("logs"));
    assert!(!files.is_empty(), "no log file was written");
    texts.extend(files);
    secrets.sort();
    secrets.dedup();
    let refs: Vec<&str> = texts.iter().map(|(_, t)| t.as_str()).collect();
    let hits = find(&refs, &secrets);
    let named: Vec<String> = hits
        .iter()
        .map(|(s, i)| format!("{s} in {}", texts[*i].0))
        .collect();
    assert!(named.is_empty(), "secrets shown: {named:?}");
    let bytes: usize = refs.iter().map(|t| t.len()).sum();
    eprintln!(
        "secrets scan: {commands} commands, {} texts, {bytes} bytes, {} secrets, 0 found",
        texts.len(),
        secrets.len()
    );
}

/// Found by the secrets scan: with OAuth, a dry run whose access token is near expiry refreshes
/// it, which rotates the refresh token at Lever, and then cannot store the new pair (a dry run
/// opens the state read-only). The stored refresh token is dead from then on: every later pass
/// is disconnected until someone runs `connect` again. `doctor` avoids this by not refreshing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_scan_found_a_dry_run_spends_the_stored_refresh_token() {
    use crate::convergence::run_config;
    let (w, secrets) = world_with_every_secret().await;
    let config = w.dir.path().join("secrets.toml");
    run_config(&config, &["--once", "--dry-run"], &secrets).await;
    let once = run_config(&config, &["--once"], &secrets).await;
    assert_eq!(
        once.code, 0,
        "the grant is gone: {}{}",
        once.stdout, once.stderr
    );
}
