//! Lever OAuth against the simulator's authorization server: the `connect` flow end to end,
//! refresh rotation, single-flight refresh, save-before-use, revocation.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;
use willo_lever_sync::http::{
    ApiError, CountingObserver, HttpConfig, RequestsPerSecond, RetryPolicy,
};
use willo_lever_sync::lever::{
    ConnectError, LeverAuth, LeverClient, LeverClientConfig, MemoryTokenStore, OAuthConfig,
    OAuthTokens, TokenStore, connect,
};
use willo_lever_sync::sim::lever::{LeverSim, LeverSimConfig};

const CLIENT_ID: &str = "client-abc";
const CLIENT_SECRET: &str = "secret-xyz";
const TOKEN_ROUTE: &str = "/oauth/token";

fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn http() -> HttpConfig {
    HttpConfig {
        requests_per_second: RequestsPerSecond::new(1000.0).unwrap(),
        burst: NonZeroU32::new(100).unwrap(),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            initial_interval: Duration::from_millis(5),
            max_interval: Duration::from_millis(50),
            multiplier: 2.0,
            max_elapsed: Duration::from_secs(5),
        },
    }
}

struct World {
    lever: LeverSim,
    oauth: OAuthConfig,
    listen: SocketAddr,
}

async fn world() -> World {
    let lever = LeverSim::start(LeverSimConfig::for_tests()).await.unwrap();
    lever.add_stage("Video Interview");
    let listen = free_addr();
    let redirect = format!("http://{listen}/callback");
    lever.add_oauth_client(CLIENT_ID, CLIENT_SECRET, &redirect);
    let oauth = OAuthConfig {
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::from(CLIENT_SECRET).into(),
        token_url: Url::parse(&lever.oauth_token_url()).unwrap(),
        authorize_url: Url::parse(&lever.oauth_authorize_url()).unwrap(),
        redirect_uri: Url::parse(&redirect).unwrap(),
        scopes: vec![
            "stages:read:admin".into(),
            "opportunities:write:admin".into(),
        ],
        audience: lever.audience(),
        listen,
    };
    World {
        lever,
        oauth,
        listen,
    }
}

impl World {
    fn client(&self, store: Arc<MemoryTokenStore>) -> LeverClient {
        let mut config = LeverClientConfig::new(
            Url::parse(&self.lever.base_url()).unwrap(),
            LeverAuth::OAuth(self.oauth.clone()),
        );
        config.http = http();
        LeverClient::new(config, Arc::new(CountingObserver::new()), Some(store)).unwrap()
    }

    /// Tokens straight from the simulator, with the expiry the client should believe.
    fn tokens_expiring_at(&self, expires_at: i64) -> OAuthTokens {
        let t = self
            .lever
            .issue_oauth_tokens(CLIENT_ID, "offline_access stages:read:admin");
        OAuthTokens {
            access_token: SecretString::from(t.access_token),
            refresh_token: SecretString::from(
                t.refresh_token
                    .expect("offline_access gives a refresh token"),
            ),
            expires_at,
            scope: Some(t.scope),
        }
    }

    fn refreshes_seen(&self) -> usize {
        self.lever.count("POST", TOKEN_ROUTE)
    }

    /// Presents `refresh` to the token endpoint directly: (status, body).
    async fn raw_refresh(&self, refresh: &str) -> (u16, String) {
        let resp = reqwest::Client::new()
            .post(self.lever.oauth_token_url())
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("refresh_token", refresh),
            ])
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }
}

/// Plays the browser: opens the authorize URL and follows the redirect back to `connect`.
async fn browse(url: Url) -> (u16, String) {
    let resp = reqwest::Client::new().get(url).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn connect_runs_the_authorization_code_flow_end_to_end() {
    let w = world().await;
    let store = Arc::new(MemoryTokenStore::new());
    let (tx, rx) = tokio::sync::oneshot::channel();

    let flow = connect(
        &w.oauth,
        w.listen,
        |url| tx.send(url.clone()).unwrap(),
        store.as_ref(),
    );
    let browser = async {
        let url = rx.await.unwrap();
        let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["audience"], w.lever.audience());
        assert!(q["scope"].split(' ').any(|s| s == "offline_access"));
        assert_eq!(q["state"].len(), 32);
        browse(url).await
    };
    let (tokens, (status, page)) = tokio::join!(flow, browser);

    let tokens = tokens.unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("Authorization received"), "{page}");
    assert_eq!(store.saves(), 1);
    let stored = store.current().unwrap();
    assert_eq!(
        stored.refresh_token.expose_secret(),
        tokens.refresh_token.expose_secret()
    );
    assert!(tokens.expires_at > wall_ms() + 3_000_000, "one hour");

    // The stored grant works for API calls.
    let client = w.client(store.clone());
    assert_eq!(client.stages().await.unwrap().len(), 1);
    assert_eq!(client.oauth_refreshes(), 0);
}

#[tokio::test]
async fn connect_reports_a_denied_consent() {
    let w = world().await;
    w.lever.deny_consent(true);
    let store = MemoryTokenStore::new();
    let (tx, rx) = tokio::sync::oneshot::channel();

    let flow = connect(
        &w.oauth,
        w.listen,
        |url| tx.send(url.clone()).unwrap(),
        &store,
    );
    let (result, _) = tokio::join!(flow, async { browse(rx.await.unwrap()).await });

    assert!(matches!(result, Err(ConnectError::Denied(_))), "{result:?}");
    assert_eq!(store.saves(), 0);
    assert_eq!(w.refreshes_seen(), 0, "no code was exchanged");
}

#[tokio::test]
async fn connect_refuses_a_redirect_with_another_state() {
    let w = world().await;
    let store = MemoryTokenStore::new();
    let listen = w.listen;
    let flow = connect(&w.oauth, listen, |_| {}, &store);
    let forged = async {
        // Not the state `connect` generated: a forged or stale redirect.
        browse(Url::parse(&format!("http://{listen}/callback?code=abc&state=forged")).unwrap())
            .await
    };
    let (result, _) = tokio::join!(flow, forged);

    assert!(
        matches!(result, Err(ConnectError::StateMismatch)),
        "{result:?}"
    );
    assert_eq!(store.saves(), 0);
    assert_eq!(w.refreshes_seen(), 0);
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_the_old_one_is_refused() {
    let w = world().await;
    let old = w.tokens_expiring_at(wall_ms() - 1);
    let old_refresh = old.refresh_token.expose_secret().to_owned();
    let store = Arc::new(MemoryTokenStore::with_tokens(old));
    let client = w.client(store.clone());

    client.stages().await.unwrap();
    client.stages().await.unwrap();

    assert_eq!(
        w.refreshes_seen(),
        1,
        "refreshed once, then the new token was used"
    );
    assert_eq!(client.oauth_refreshes(), 1);
    let new = store.current().unwrap();
    assert_ne!(new.refresh_token.expose_secret(), old_refresh);
    assert!(new.expires_at > wall_ms() + 3_000_000);
    let (status, body) = w.raw_refresh(&old_refresh).await;
    assert!((400..500).contains(&status), "{status}");
    assert!(body.contains("invalid_grant"), "{body}");
    // The rotated token is the live one.
    let (status, _) = w.raw_refresh(new.refresh_token.expose_secret()).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn concurrent_callers_cause_exactly_one_refresh() {
    let w = world().await;
    // Inside the five-minute margin: due for a refresh, not yet expired.
    let store = Arc::new(MemoryTokenStore::with_tokens(
        w.tokens_expiring_at(wall_ms() + 60_000),
    ));
    let client = w.client(store.clone());

    let calls = (0..12).map(|_| {
        let c = client.clone();
        tokio::spawn(async move { c.stages().await })
    });
    let results = futures::future::join_all(calls).await;

    assert!(results.into_iter().all(|r| r.unwrap().is_ok()));
    assert_eq!(w.refreshes_seen(), 1);
    assert_eq!(client.oauth_refreshes(), 1);
    assert_eq!(store.saves(), 1);
    assert_eq!(w.lever.count("GET", "/v1/stages"), 12);
}

#[tokio::test]
async fn an_access_token_rejected_early_is_refreshed_once_and_the_call_repeated() {
    let w = world().await;
    let store = Arc::new(MemoryTokenStore::with_tokens(
        w.tokens_expiring_at(wall_ms() + 3_600_000),
    ));
    let client = w.client(store.clone());
    client.stages().await.unwrap();
    w.lever.expire_access_tokens();

    client.stages().await.unwrap();

    assert_eq!(w.refreshes_seen(), 1);
    let statuses: Vec<u16> = w
        .lever
        .requests()
        .iter()
        .filter(|r| r.route == "/v1/stages")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [200, 401, 200]);
}

#[tokio::test]
async fn rotated_tokens_are_saved_before_they_are_used() {
    let w = world().await;
    let store = Arc::new(MemoryTokenStore::with_tokens(
        w.tokens_expiring_at(wall_ms() - 1),
    ));
    let client = w.client(store.clone());
    store.set_fail_saves(true);

    let err = client.stages().await.unwrap_err();

    assert!(matches!(err, ApiError::TokenStore { .. }), "{err}");
    assert_eq!(w.refreshes_seen(), 1);
    assert_eq!(
        w.lever.count("GET", "/v1/stages"),
        0,
        "the unsaved access token was not used"
    );

    // Once the store works again, the tokens kept in memory are saved and used: no second
    // refresh (the old refresh token is already dead).
    store.set_fail_saves(false);
    client.stages().await.unwrap();
    assert_eq!(w.refreshes_seen(), 1);
    assert_eq!(store.saves(), 1);
    assert_eq!(w.lever.count("GET", "/v1/stages"), 1);
}

#[tokio::test]
async fn a_revoked_grant_is_unauthorized() {
    let w = world().await;
    let store = Arc::new(MemoryTokenStore::with_tokens(
        w.tokens_expiring_at(wall_ms() - 1),
    ));
    let client = w.client(store.clone());
    w.lever.revoke_oauth_grants();

    let err = client.stages().await.unwrap_err();

    assert!(matches!(err, ApiError::Unauthorized { .. }), "{err}");
    assert!(err.is_disconnect());
    assert_eq!(w.refreshes_seen(), 1, "a refused refresh is not retried");
    assert!(!err.to_string().contains(CLIENT_SECRET));
}

#[tokio::test]
async fn no_stored_tokens_means_disconnected() {
    let w = world().await;
    let store = Arc::new(MemoryTokenStore::new());
    let client = w.client(store.clone());
    let err = client.stages().await.unwrap_err();
    assert!(err.is_disconnect(), "{err}");
    assert!(store.load().unwrap().is_none());
    assert!(w.lever.requests().is_empty());
}
