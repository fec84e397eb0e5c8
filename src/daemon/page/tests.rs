//! The status page's data from a store, and its HTML: escaped, address-free, safe links.

use super::*;
use crate::config::Schedule;
use crate::store::{SeenOpportunity, Store};

const HOSTILE: &str = "Ann <script>alert(1)</script> & \"O'Neil\"";

fn page() -> StatusPage {
    StatusPage {
        schedule: Schedule::parse("0 */5 * * * *").unwrap(),
        full_schedule: Schedule::parse("0 30 3 * * *").unwrap(),
    }
}

fn live() -> Live {
    Live {
        hint_queue_depth: 2,
        missing_permissions: vec![
            "posting tags not read: Lever GET /postings: permission denied (HTTP 403): grant \"Postings: read\"".into(),
        ],
    }
}

/// A store with one hostile-named opportunity that needs attention, one failing one with a
/// `javascript:` link and an address in its error, and one finished full pass.
fn store(now: i64) -> Store {
    let store = Store::open_memory().unwrap();
    store
        .write(|tx| {
            let tags: Vec<String> = Vec::new();
            let seen = |id, name, link| SeenOpportunity {
                id,
                name,
                link,
                stage_id: None,
                tags: &tags,
                email: Some("hidden@example.com"),
                posting_id: None,
                updated_at: None,
                settled: false,
                touch: true,
            };
            tx.save_opportunity(
                "acme",
                &seen(
                    "opp-1",
                    HOSTILE,
                    Some("https://hire.lever.co/candidates/opp-1"),
                ),
                now,
            )?;
            tx.save_opportunity(
                "acme",
                &seen("opp-2", "Bo", Some("javascript:alert(2)")),
                now,
            )?;
            tx.record_attention("acme", "opp-1", "no_email", None, now)?;
            tx.record_opportunity_failure(
                "acme",
                "opp-2",
                "Willo rejected bo@example.com: 400",
                now + 60_000,
                now,
            )?;
            let id = tx.begin_pass("acme", PassKind::Full, now - 2_000)?;
            tx.finish_pass(
                id,
                PassResult::ActionsFailed,
                &serde_json::json!({"deferred": 3}),
                None,
                now,
            )?;
            tx.set_tenant_connected("acme", true, None, now - 2_000)
        })
        .unwrap();
    store
}

fn doc() -> StatusDoc {
    let now = Utc::now();
    let store = store(now.timestamp_millis());
    let t = store
        .read(|r| Ok(TenantStatus::read("acme", Ok(r), &page(), live(), now)))
        .unwrap();
    StatusDoc::new(vec![t], now)
}

#[test]
fn a_tenant_shows_its_connection_passes_failures_attention_and_gaps() {
    let d = doc();
    assert_eq!(d.schema_version, SCHEMA_VERSION);
    let t = &d.tenants[0];
    assert_eq!(t.connection.state, "connected");
    assert_eq!(t.hint_queue_depth, 2);
    assert_eq!(t.deferred_work, Some(3));
    assert_eq!(t.passes.len(), 1);
    assert_eq!(t.passes[0].result, Some("actions_failed"));
    assert_eq!(t.passes[0].duration_ms, Some(2_000));
    assert!(t.next_passes.incremental.is_some() && t.next_passes.full.is_some());
    assert_eq!(t.needs_attention[0].name.as_deref(), Some(HOSTILE));
    assert_eq!(t.needs_attention[0].reason, "no_email");
    assert_eq!(t.failing[0].opportunity_id, "opp-2");
    assert!(t.failing[0].deferred);
    assert!(t.missing_permissions[0].contains("GET /postings"));
}

#[test]
fn links_are_http_only_and_addresses_never_shown() {
    let d = doc();
    let t = &d.tenants[0];
    assert_eq!(
        t.needs_attention[0].link.as_deref(),
        Some("https://hire.lever.co/candidates/opp-1")
    );
    assert_eq!(t.failing[0].link, None, "a javascript: link is dropped");
    let json = serde_json::to_string(&d).unwrap();
    let html = render(&d);
    for out in [&json, &html] {
        assert!(!out.contains("example.com"), "{out}");
        assert!(!out.contains("javascript:"), "{out}");
    }
    assert!(json.contains(redact::HIDDEN), "{json}");
}

#[test]
fn the_html_escapes_what_came_from_outside() {
    let html = render(&doc());
    assert!(!html.contains("<script"), "{html}");
    assert!(
        html.contains("Ann &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;O'Neil&quot;"),
        "{html}"
    );
    assert!(html.contains(r#"<a href="https://hire.lever.co/candidates/opp-1""#));
    assert!(html.contains(r#"<meta http-equiv="refresh" content="30">"#));
}

#[test]
fn an_unreadable_store_is_said_and_the_rest_still_shown() {
    let t = TenantStatus::read(
        "acme",
        Err("disk on fire".into()),
        &page(),
        live(),
        Utc::now(),
    );
    assert_eq!(t.store_error.as_deref(), Some("disk on fire"));
    assert_eq!(t.connection.state, "unknown");
    assert_eq!(t.hint_queue_depth, 2);
    let html = render(&StatusDoc::new(vec![t], Utc::now()));
    assert!(html.contains("The state store could not be read: disk on fire"));
}
