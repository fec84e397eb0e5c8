//! Reload, as an operator does it: SIGHUP (what `systemctl reload` sends) reads the
//! configuration and the secret files again. Tenants are added, removed and changed, webhook
//! secrets switch at once, a rotated key is picked up, the pass in flight finishes, and a bad
//! configuration or a listen change is refused with the running one kept. `connect` next to a
//! running daemon hands it the tokens without stopping it.

use crate::support;

use std::process::Stdio;
use std::time::Duration;

use support::daemon::{
    Daemon, SIGHUP, SIGNATURE_TOKEN, SIGTERM, WILLO_TOKEN, eventually, now_ms, signed_body,
    world_for_daemon,
};
use support::{WILLO_KEY, World};
use tokio::io::{AsyncBufReadExt, BufReader};
use willo_lever_sync::sim::hold::HoldRule;

const RELOADED: &str = "configuration reloaded";
const REFUSED: &str = "configuration reload refused";

/// Sends SIGHUP and waits for the `n`th line saying how the reload went (`what`).
async fn reload(d: &Daemon, what: &str, n: usize) -> String {
    d.signal(SIGHUP);
    let found = eventually(Duration::from_secs(20), || {
        d.log().lines().filter(|l| l.contains(what)).count() >= n
    })
    .await;
    assert!(found, "no {what:?} after SIGHUP:\n{}", d.log());
    d.log()
        .lines()
        .filter(|l| l.contains(what))
        .nth(n - 1)
        .unwrap()
        .to_owned()
}

async fn willo_hook(d: &Daemon, tenant: &str, token: &str) -> u16 {
    d.post(
        &format!("/webhooks/willo/{tenant}?token={token}&event=stage_change"),
        br#"{"participant":"0123456789abcdef0123456789abcdef"}"#.to_vec(),
    )
    .await
    .0
}

/// Whether a webhook delivery was taken (queued or acknowledged).
fn accepted(code: u16) -> bool {
    (200..300).contains(&code)
}

/// A second tenant on the same simulators, as a `[[tenants]]` table.
fn beta(w: &World, token: &str) -> String {
    format!(
        "\n[[tenants]]\nid = \"beta\"\naccount_name = \"Beta\"\ntrigger_stages = [\"Video Interview\"]\n\
         [tenants.lever]\nbase_url = \"{}\"\napi_key = \"{}\"\n\
         [tenants.willo]\nbase_url = \"{}\"\napi_key = \"{WILLO_KEY}\"\nwebhook_token = \"{token}\"\n",
        w.lever.base_url(),
        support::LEVER_KEY,
        w.willo.base_url()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_adds_changes_and_removes_tenants_and_switches_webhook_secrets_at_once() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let d = Daemon::start(&w, &[]).await;
    d.wait_ready().await;
    assert!(accepted(willo_hook(&d, "acme", WILLO_TOKEN).await));
    assert_eq!(willo_hook(&d, "beta", "beta-token").await, 404);

    // The Willo token is rotated and a tenant added.
    let rotated = "willo-url-token-rotated";
    let text = w.config_text().replace(WILLO_TOKEN, rotated) + &beta(&w, "beta-token");
    std::fs::write(w.dir.path().join("config.toml"), &text).unwrap();
    let line = reload(&d, RELOADED, 1).await;
    assert!(line.contains("added=[\"beta\"]"), "{line}");
    assert!(line.contains("changed=[\"acme\"]"), "{line}");
    assert_eq!(willo_hook(&d, "acme", WILLO_TOKEN).await, 401);
    assert!(accepted(willo_hook(&d, "acme", rotated).await));
    assert!(accepted(willo_hook(&d, "beta", "beta-token").await));
    // The new tenant starts with a full pass, like every tenant at start-up.
    assert!(
        eventually(Duration::from_secs(20), || d
            .log()
            .lines()
            .any(|l| l.contains("pass finished") && l.contains("tenant=beta")))
        .await,
        "{}",
        d.log()
    );
    d.wait_ready().await;

    // And removed again.
    let text = w.config_text().replace(WILLO_TOKEN, rotated);
    std::fs::write(w.dir.path().join("config.toml"), &text).unwrap();
    let line = reload(&d, RELOADED, 2).await;
    assert!(line.contains("removed=[\"beta\"]"), "{line}");
    assert!(line.contains("unchanged=[\"acme\"]"), "{line}");
    assert_eq!(willo_hook(&d, "beta", "beta-token").await, 404);
    assert_eq!(d.get("/readyz").await.0, 200);
    d.signal(SIGTERM);
    assert_eq!(d.exit_code().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_configuration_or_a_listen_change_is_refused_and_the_running_one_kept() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let d = Daemon::start(&w, &[]).await;
    d.wait_ready().await;
    let path = w.dir.path().join("config.toml");
    std::fs::write(&path, w.config_text().replace("[log]", "[log")).unwrap();
    let line = reload(&d, REFUSED, 1).await;
    assert!(line.contains("not valid TOML"), "{line}");
    assert!(
        line.contains("goes on with the configuration it has"),
        "{line}"
    );
    assert!(accepted(willo_hook(&d, "acme", WILLO_TOKEN).await));

    let moved = w
        .config_text()
        .replace("listen = \"127.0.0.1:0\"", "listen = \"127.0.0.1:9\"")
        .replace(WILLO_TOKEN, "a-new-token");
    std::fs::write(&path, moved).unwrap();
    let line = reload(&d, REFUSED, 2).await;
    assert!(
        line.contains("daemon.listen (127.0.0.1:0 -> 127.0.0.1:9)") && line.contains("restart"),
        "{line}"
    );
    // Nothing of the refused file applies: the old webhook token still works.
    assert!(accepted(willo_hook(&d, "acme", WILLO_TOKEN).await));
    assert_eq!(d.get("/healthz").await.0, 200);
    d.signal(SIGTERM);
    assert_eq!(d.exit_code().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pass_in_flight_finishes_and_the_next_one_uses_a_rotated_key_file() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    w.daemon_extra.push_str("\nconcurrency = 1");
    let key_file = w.dir.path().join("willo.key");
    std::fs::write(&key_file, WILLO_KEY).unwrap();
    let with_key_file = |w: &World| {
        w.config_text().replace(
            &format!("api_key = \"{WILLO_KEY}\""),
            &format!("api_key_file = \"{}\"", key_file.display()),
        )
    };
    std::fs::write(w.dir.path().join("config.toml"), with_key_file(&w)).unwrap();
    let (interview, posting) = w.interview_with_posting("Pilot");
    w.candidate("Amy", "amy@example.com", &posting);
    w.candidate("Bea", "bea@example.com", &posting);
    let hold = w
        .willo
        .hold(HoldRule::new("POST", "/api/integrations/v2/participants/"));
    let mut cmd = support::daemon::command();
    cmd.arg("--config").arg(w.dir.path().join("config.toml"));
    let d = Daemon::start_command(cmd, &[]).await;
    tokio::time::timeout(Duration::from_secs(30), hold.held())
        .await
        .expect("no invite started");

    // The key is rotated in Willo and in its file while the first invite is in flight.
    w.willo.add_api_key("willo-rotated-key");
    std::fs::write(&key_file, "willo-rotated-key\n").unwrap();
    let line = reload(&d, RELOADED, 1).await;
    assert!(line.contains("changed=[\"acme\"]"), "{line}");
    hold.release();
    assert!(
        eventually(Duration::from_secs(20), || d.log().lines().any(|l| l
            .contains("pass finished")
            && l.contains("result=converged")))
        .await,
        "the pass in flight did not finish:\n{}",
        d.log()
    );
    assert_eq!(w.willo.participants(&interview).len(), 2);

    // The old key is gone: only the new runtime can still reach Willo.
    w.willo.remove_api_key(WILLO_KEY);
    let carl = w.candidate("Carl", "carl@example.com", &posting);
    let body = signed_body(&carl, "tok-carl-1", now_ms(), SIGNATURE_TOKEN);
    assert_eq!(d.post("/webhooks/lever/acme", body).await.0, 202);
    assert!(
        eventually(Duration::from_secs(20), || w
            .willo
            .participants(&interview)
            .len()
            == 3)
        .await,
        "the hint's reconcile did not use the rotated key:\n{}",
        d.log()
    );
    d.signal(SIGTERM);
    assert_eq!(d.exit_code().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_next_to_a_running_daemon_hands_it_the_tokens() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
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
    // The [oauth] table goes last in the Lever table, so the keys after it stay where they are.
    let oauth = format!(
        "[tenants.lever.oauth]\nclient_id = \"client-1\"\nclient_secret = \"client-secret-1\"\n\
         redirect_uri = \"{redirect}\"\nauthorize_url = \"{}\"\ntoken_url = \"{}\"\naudience = \"{}\"\n",
        w.lever.oauth_authorize_url(),
        w.lever.oauth_token_url(),
        w.lever.audience()
    );
    let text = w
        .config_text()
        .replace(&format!("api_key = \"{}\"\n", support::LEVER_KEY), "")
        .replace("[tenants.willo]", &format!("{oauth}\n[tenants.willo]"));
    let config = w.dir.path().join("oauth.toml");
    std::fs::write(&config, text).unwrap();
    let mut cmd = support::daemon::command();
    cmd.arg("--config").arg(&config);
    let d = Daemon::start_command(cmd, &[]).await;
    // No tokens yet: the start-up pass finds the tenant disconnected.
    assert!(
        eventually(Duration::from_secs(20), || d
            .log()
            .contains("result=disconnected"))
        .await,
        "{}",
        d.log()
    );

    let mut child = support::daemon::command()
        .arg("--config")
        .arg(&config)
        .args(["connect", "acme"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
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
    // The browser: follow the authorize URL to the redirect, which `connect` serves.
    assert!(reqwest::get(&url).await.unwrap().status().is_success());
    let mut rest = String::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        rest.push_str(&line);
        rest.push('\n');
    }
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0), "{rest}");
    assert!(rest.contains("asked to reload"), "{rest}");
    assert!(
        eventually(Duration::from_secs(20), || d.log().contains(RELOADED)).await,
        "{}",
        d.log()
    );
    // The daemon picked the tokens up and ran a pass at once: the candidate is invited.
    assert!(
        eventually(Duration::from_secs(20), || w
            .willo
            .participants(&interview)
            .len()
            == 1)
        .await,
        "{}",
        d.log()
    );
    d.wait_ready().await;
    d.signal(SIGTERM);
    assert_eq!(d.exit_code().await, 0);
}
