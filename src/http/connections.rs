//! One `reqwest::Client` per runtime and timeout pair, shared by every tenant's transports.
//!
//! Building a client loads and parses the platform's root certificates and sets up a TLS
//! configuration and a connection pool. With a client per tenant and API, 200 tenants held 93 MB
//! after their first passes; sharing them, 51 MB (docs/performance.md). Sharing is safe because nothing
//! tenant-specific lives in the client: credentials, pacing and retries are per request, in
//! [`super::Transport`], and pooled connections are keyed by host.
//!
//! A client's pooled connections are driven by tasks of the runtime that opened them, so a
//! client is never handed to another runtime (the key holds the runtime's id), and an entry
//! lives only while some transport holds its client (`Weak`): a runtime id that tokio reuses
//! after a runtime ended finds no live entry from the old one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use super::error::BuildError;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    runtime: tokio::runtime::Id,
    connect_timeout: Duration,
    request_timeout: Duration,
}

type Entries = Mutex<HashMap<Key, Weak<reqwest::Client>>>;

fn entries() -> &'static Entries {
    static ENTRIES: OnceLock<Entries> = OnceLock::new();
    ENTRIES.get_or_init(Entries::default)
}

/// The shared client for these timeouts on the current runtime, built on first use. Outside a
/// runtime every call builds its own client (nothing would drive a shared pool).
pub fn client(
    connect_timeout: Duration,
    request_timeout: Duration,
) -> Result<Arc<reqwest::Client>, BuildError> {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return build(connect_timeout, request_timeout).map(Arc::new);
    };
    let key = Key {
        runtime: handle.id(),
        connect_timeout,
        request_timeout,
    };
    // A poisoned lock only means another thread panicked while holding a map of weak
    // pointers; the map is still consistent, so keep using it.
    let mut map = entries().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(live) = map.get(&key).and_then(Weak::upgrade) {
        return Ok(live);
    }
    map.retain(|_, weak| weak.strong_count() > 0);
    let fresh = Arc::new(build(connect_timeout, request_timeout)?);
    map.insert(key, Arc::downgrade(&fresh));
    Ok(fresh)
}

fn build(
    connect_timeout: Duration,
    request_timeout: Duration,
) -> Result<reqwest::Client, BuildError> {
    reqwest::Client::builder()
        .user_agent(concat!("willo-lever-sync/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(connect_timeout)
        .timeout(request_timeout)
        // A redirect would silently drop credentials on another host (reqwest strips
        // Authorization cross-host); surface it instead so the operator fixes the base URL.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| BuildError::Http(super::transport::root_cause(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[tokio::test]
    async fn transports_on_one_runtime_share_one_client_per_timeout_pair() {
        let a = client(SECOND, 10 * SECOND).unwrap();
        let b = client(SECOND, 10 * SECOND).unwrap();
        let other = client(SECOND, 20 * SECOND).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &other));
    }

    #[test]
    fn runtimes_never_share_a_client() {
        let on = |rt: &tokio::runtime::Runtime| {
            rt.block_on(async { client(SECOND, 3 * SECOND).unwrap() })
        };
        let first = tokio::runtime::Runtime::new().unwrap();
        let second = tokio::runtime::Runtime::new().unwrap();
        let (a, b) = (on(&first), on(&second));
        assert!(!Arc::ptr_eq(&a, &b));
    }

    #[tokio::test]
    async fn a_client_nobody_holds_is_rebuilt() {
        let a = client(2 * SECOND, 7 * SECOND).unwrap();
        let weak = Arc::downgrade(&a);
        drop(a);
        assert!(weak.upgrade().is_none());
        let b = client(2 * SECOND, 7 * SECOND).unwrap();
        assert_eq!(Arc::strong_count(&b), 1);
    }
}
