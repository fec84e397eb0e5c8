//! `connect TENANT` as a process — the authorization-code flow against the
//! simulator's OAuth endpoints (this test plays the browser) — and then `--once` on the stored,
//! rotating tokens.

use crate::support;

use std::process::Stdio;
use std::time::Duration;

use support::World;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_stores_tokens_that_the_next_pass_uses() {
    let w = World::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    w.lever
        .add_oauth_client("client-1", "client-secret-1", &redirect);
    let (interview, posting) = w.interview_with_posting("Pilot");
    w.candidate("Amelia", "amelia@example.com", &posting);
    // Swap the tenant's API key for an OAuth table.
    let text = w.config_text().replace(
        "api_key = \"lever-test-key\"",
        &format!(
            "[tenants.lever.oauth]\nclient_id = \"client-1\"\nclient_secret = \"client-secret-1\"\n\
             redirect_uri = \"{redirect}\"\nauthorize_url = \"{}\"\ntoken_url = \"{}\"\naudience = \"{}\"",
            w.lever.oauth_authorize_url(),
            w.lever.oauth_token_url(),
            w.lever.audience()
        ),
    );
    // The [oauth] table must come after the lever table's own keys.
    let text = move_oauth_table_last(&text);
    let config = w.dir.path().join("oauth.toml");
    std::fs::write(&config, text).unwrap();

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_willo-lever-sync"))
        .arg("--config")
        .arg(&config)
        .args(["connect", "acme"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(u) = line.trim().strip_prefix("http") {
                return format!("http{u}");
            }
        }
        panic!("connect printed no authorize URL");
    })
    .await
    .unwrap();
    assert!(
        url.contains("client_id=client-1") && url.contains("state="),
        "{url}"
    );
    // The browser: follow the authorize URL to the redirect, which `connect` serves.
    let page = reqwest::get(&url).await.unwrap();
    assert!(page.status().is_success(), "{}", page.status());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let tokens = w
        .store()
        .read(|r| r.tokens("acme"))
        .unwrap()
        .expect("tokens stored");
    assert!(!tokens.refresh_token.is_empty());

    // The pass authenticates with the stored Bearer token.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_willo-lever-sync"))
        .arg("--config")
        .arg(&config)
        .arg("--once")
        .output()
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(w.willo.participants(&interview).len(), 1);
}

/// Moves the `[tenants.lever.oauth]` block (inserted where `api_key` was) after the rest of
/// the `[tenants.lever]` table, so the table's remaining keys stay in the right table.
fn move_oauth_table_last(text: &str) -> String {
    let start = text.find("[tenants.lever.oauth]").unwrap();
    let oauth_end = text[start..].find("audience").map(|i| start + i).unwrap();
    let oauth_end = oauth_end + text[oauth_end..].find('\n').unwrap() + 1;
    let block = &text[start..oauth_end];
    let rest = format!("{}{}", &text[..start], &text[oauth_end..]);
    let willo = rest.find("[tenants.willo]").unwrap();
    format!("{}{}\n{}", &rest[..willo], block, &rest[willo..])
}
