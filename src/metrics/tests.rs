//! The registry's encoding, in both formats.

use super::*;
use crate::http::{Api, ApiError, ApiObserver};

#[test]
fn encoded_text_names_every_family_with_its_labels() {
    let m = Metrics::new();
    m.passes
        .get_or_create(&PassLabels {
            tenant: "acme".into(),
            kind: "full".into(),
            result: "converged".into(),
        })
        .inc();
    m.full_pass_repairs
        .get_or_create(&Metrics::tenant("acme"))
        .inc_by(3);
    let text = m.encode();
    assert!(
        text.contains(
            r#"willo_lever_sync_passes_total{tenant="acme",kind="full",result="converged"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"willo_lever_sync_full_pass_repairs_total{tenant="acme"} 3"#),
        "{text}"
    );
    assert!(
        text.contains("# TYPE willo_lever_sync_hint_queue_depth gauge"),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"));
}

#[test]
fn a_failed_pass_is_counted_by_tenant_and_reason() {
    let m = Metrics::new();
    m.pass_failed("acme", "disconnected");
    m.pass_failed("acme", "disconnected");
    m.pass_failed("acme", "transient");
    let text = m.encode();
    assert!(
        text.contains(
            r#"willo_lever_sync_pass_failures_total{tenant="acme",reason="disconnected"} 2"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"willo_lever_sync_pass_failures_total{tenant="acme",reason="transient"} 1"#
        ),
        "{text}"
    );
}

#[test]
fn a_call_that_failed_for_good_is_counted_by_its_error_kind() {
    let m = Metrics::new();
    let observer = MetricsObserver::new(m.clone());
    let error = ApiError::Ambiguous {
        api: Api::Willo,
        route: "/participants/",
        reason: "connection reset".into(),
    };
    observer.on_call_failed(Api::Willo, "/participants/", &error);
    let text = m.encode();
    assert!(
        text.contains(
            r#"willo_lever_sync_api_errors_total{api="willo",route="/participants/",reason="ambiguous"} 1"#
        ),
        "{text}"
    );
}

#[test]
fn build_info_names_the_version() {
    let text = Metrics::new().encode();
    let line = format!(
        r#"willo_lever_sync_build_info{{version="{}",commit="#,
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.contains(&line), "{text}");
    assert!(
        text.contains("# TYPE willo_lever_sync_build info"),
        "{text}"
    );
}

#[test]
fn the_two_formats_differ_where_their_specifications_do() {
    let m = Metrics::new();
    m.pass("acme", PassKind::Full, PassResult::Converged, 1500);
    let om = m.encode_as(Format::OpenMetrics);
    let text = m.encode_as(Format::Text);
    // OpenMetrics: family names without `_total`, units, info type, the end marker.
    assert!(
        om.contains("# TYPE willo_lever_sync_passes counter"),
        "{om}"
    );
    assert!(
        om.contains("# UNIT willo_lever_sync_pass_duration_seconds seconds"),
        "{om}"
    );
    assert!(om.ends_with("# EOF\n"), "{om}");
    // 0.0.4: the counter's family carries `_total`, info is a gauge, no units, no end marker.
    assert!(
        text.contains("# TYPE willo_lever_sync_passes_total counter"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE willo_lever_sync_build_info gauge"),
        "{text}"
    );
    assert!(!text.contains("# UNIT"), "{text}");
    assert!(!text.contains("# EOF"), "{text}");
    // The samples are named alike in both.
    for t in [&om, &text] {
        assert!(
            t.contains(
                r#"willo_lever_sync_passes_total{tenant="acme",kind="full",result="converged"} 1"#
            ),
            "{t}"
        );
        assert!(t.contains("process_resident_memory_bytes "), "{t}");
    }
}

#[test]
fn pass_durations_are_bucketed_up_to_eight_hours() {
    let m = Metrics::new();
    m.pass(
        "acme",
        PassKind::Full,
        PassResult::Converged,
        3 * 3600 * 1000,
    );
    let text = m.encode_as(Format::Text);
    let bucket = |le: &str| {
        let series = format!(
            r#"willo_lever_sync_pass_duration_seconds_bucket{{tenant="acme",kind="full",le="{le}"}} "#
        );
        text.lines()
            .find_map(|l| l.strip_prefix(series.as_str()))
            .unwrap_or_else(|| panic!("no bucket {le}: {text}"))
            .to_owned()
    };
    assert_eq!(bucket("7200"), "0");
    assert_eq!(bucket("14400"), "1");
    assert_eq!(bucket("28800"), "1");
}

#[test]
fn the_textfile_holds_the_project_metrics_only() {
    let m = Metrics::new();
    m.set_missing_permissions("acme", 2);
    let file = m.encode_for_textfile();
    assert!(
        file.contains(r#"willo_lever_sync_missing_permissions{tenant="acme"} 2"#),
        "{file}"
    );
    assert!(!file.contains("process_"), "{file}");
    assert!(!file.contains("# EOF"), "{file}");
}

#[test]
fn store_state_fills_in_only_what_this_process_does_not_know() {
    let m = Metrics::new();
    m.set_connected("acme", false);
    m.pass_completed("acme", PassKind::Full, 5_000);
    m.observe_state(
        "acme",
        &TenantState {
            needs_attention: 3,
            failing_opportunities: 2,
            deferred_work: Some(1),
            connected: Some(true),
            last_success: vec![(PassKind::Full, 1_000), (PassKind::Incremental, 2_000)],
        },
    );
    let text = m.encode_as(Format::Text);
    for line in [
        r#"willo_lever_sync_needs_attention{tenant="acme"} 3"#,
        r#"willo_lever_sync_failing_opportunities{tenant="acme"} 2"#,
        r#"willo_lever_sync_deferred_work{tenant="acme"} 1"#,
        r#"willo_lever_sync_tenant_connected{tenant="acme"} 0"#,
        r#"willo_lever_sync_last_success_timestamp_seconds{tenant="acme",kind="full"} 5"#,
        r#"willo_lever_sync_last_success_timestamp_seconds{tenant="acme",kind="incremental"} 2"#,
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
}
