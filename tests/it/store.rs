//! The state store — migrations, the lock, permissions, and the typed functions.

use std::os::unix::fs::PermissionsExt;

use willo_lever_sync::commands::CommandError;
use willo_lever_sync::domain::invite::InviteState;
use willo_lever_sync::domain::{PassKind, PassResult};
use willo_lever_sync::exit::ExitStatus;
use willo_lever_sync::store::{
    DB_FILE, LOCK_FILE, OpenMode, SCHEMA_VERSION, SeenOpportunity, SeenParticipant, Store,
    StoreError, TokenRow,
};

/// A store test on both backends: `NAME::sqlite` on a fresh state directory, `NAME::postgres`
/// on a fresh PostgreSQL database (issue 14: one store, two backends, the same meaning).
macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            use willo_lever_sync::store::{OpenMode, Store};

            #[test]
            fn sqlite() {
                let dir = tempfile::tempdir().unwrap();
                super::$name(&Store::open(dir.path(), OpenMode::Writer).unwrap());
            }

            #[test]
            fn postgres() {
                let db = crate::support::pg::PgDb::new();
                super::$name(&db.store(OpenMode::Writer));
            }
        }
    };
}

fn exit_of(e: StoreError) -> ExitStatus {
    CommandError::from(e).exit_status()
}

#[test]
fn a_fresh_store_is_migrated_in_wal_mode_with_private_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let store = Store::open(&state, OpenMode::Writer).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&state), 0o700);
    assert_eq!(mode(&state.join(DB_FILE)), 0o600);
    drop(store);
    let conn = rusqlite::Connection::open(state.join(DB_FILE)).unwrap();
    let journal: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "wal");
}

#[test]
fn reopening_keeps_data_and_does_not_migrate_again() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), OpenMode::Writer).unwrap();
        store
            .write(|tx| tx.set_cursor("acme", "updated_at", 42, 1))
            .unwrap();
    }
    let store = Store::open(dir.path(), OpenMode::Writer).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(
        store.read(|r| r.cursor("acme", "updated_at")).unwrap(),
        Some(42)
    );
}

#[test]
fn a_database_from_a_newer_version_is_refused_with_exit_74() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), OpenMode::Writer).unwrap());
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    for mode in [OpenMode::Writer, OpenMode::Reader] {
        let err = Store::open(dir.path(), mode).unwrap_err();
        assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("newer"), "{msg}");
        assert!(msg.contains(DB_FILE), "{msg}");
        assert_eq!(exit_of(err).code(), 74);
    }
}

#[test]
fn a_second_writer_is_refused_naming_the_lock_file() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Store::open(dir.path(), OpenMode::Writer).unwrap();
    let err = Store::open(dir.path(), OpenMode::Writer).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Locked { .. }), "{msg}");
    assert!(
        msg.contains(&dir.path().join(LOCK_FILE).display().to_string()),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("pid {}", std::process::id())),
        "{msg}"
    );
    assert_eq!(exit_of(err).code(), 74);
    // Readers (status, tags) still work next to the writer.
    let reader = Store::open(dir.path(), OpenMode::Reader).unwrap();
    assert_eq!(reader.read(|r| r.cursor("acme", "x")).unwrap(), None);
}

#[test]
fn the_lock_is_released_when_the_store_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), OpenMode::Writer).unwrap());
    // Other tests of this binary spawn processes: a child forked at that moment holds a copy of
    // the lock's descriptor until it execs (close-on-exec), so allow that moment to pass.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match Store::open(dir.path(), OpenMode::Writer) {
            Ok(_) => break,
            Err(e) if std::time::Instant::now() < deadline => {
                assert!(matches!(e, StoreError::Locked { .. }), "{e}");
                std::thread::yield_now();
            }
            Err(e) => panic!("the lock was not released: {e}"),
        }
    }
}

#[test]
fn a_reader_on_a_missing_database_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(dir.path(), OpenMode::Reader).unwrap_err();
    assert!(matches!(err, StoreError::Missing { .. }), "{err}");
}

on_both!(a_failed_write_rolls_back_everything_it_did);
fn a_failed_write_rolls_back_everything_it_did(store: &Store) {
    let result: Result<(), StoreError> = store.write(|tx| {
        tx.set_cursor("acme", "updated_at", 100, 1)?;
        Err(StoreError::Corrupt("simulated failure part-way".into()))
    });
    assert!(result.is_err());
    assert_eq!(
        store.read(|r| r.cursor("acme", "updated_at")).unwrap(),
        None
    );
}

on_both!(the_invite_journal_only_moves_along_allowed_transitions);
fn the_invite_journal_only_moves_along_allowed_transitions(store: &Store) {
    store
        .write(|tx| {
            assert_eq!(
                tx.plan_invite("t", "opp1", "iv1", "a@x.io", 1)?,
                InviteState::Planned
            );
            // Cannot be done twice: only planned → in_flight.
            assert!(tx.mark_invite_in_flight("t", "opp1", "iv1", 2)?);
            assert!(!tx.mark_invite_in_flight("t", "opp1", "iv1", 3)?);
            // Planning again leaves an in-flight row alone.
            assert_eq!(
                tx.plan_invite("t", "opp1", "iv1", "b@x.io", 4)?,
                InviteState::InFlight
            );
            assert!(tx.mark_invite_ambiguous("t", "opp1", "iv1", "timeout", 5)?);
            assert!(tx.reset_invite_to_planned("t", "opp1", "iv1", None, 6)?);
            assert!(tx.mark_invite_in_flight("t", "opp1", "iv1", 7)?);
            assert!(tx.mark_invite_done("t", "opp1", "iv1", "pk1", 8)?);
            // Done is final for these transitions.
            assert!(!tx.mark_invite_failed("t", "opp1", "iv1", "x", 9)?);
            assert!(!tx.reset_invite_to_planned("t", "opp1", "iv1", None, 9)?);
            assert!(!tx.record_adopted_invite("t", "opp1", "iv1", "a@x.io", "pk2", 9)?);
            Ok(())
        })
        .unwrap();
    let row = store
        .read(|r| r.invite("t", "opp1", "iv1"))
        .unwrap()
        .unwrap();
    assert_eq!(row.state, InviteState::Done);
    assert_eq!(row.participant_key.as_deref(), Some("pk1"));
    assert_eq!(row.attempts, 2);
    assert_eq!(row.email, "a@x.io");
    let done = store
        .read(|r| r.invites_in_states("t", &[InviteState::Done, InviteState::Failed]))
        .unwrap();
    assert_eq!(done.len(), 1);
    let open = store
        .read(|r| r.invites_in_states("t", &[InviteState::InFlight, InviteState::Ambiguous]))
        .unwrap();
    assert!(open.is_empty(), "{open:?}");
    let counts = store.read(|r| r.invite_counts("t")).unwrap();
    assert_eq!(counts.get(&InviteState::Done), Some(&1));
    // Tenants are separate.
    assert!(store.read(|r| r.invites("other")).unwrap().is_empty());
}

on_both!(participants_remember_when_their_state_last_changed);
fn participants_remember_when_their_state_last_changed(store: &Store) {
    store
        .write(|tx| {
            let seen = |email, state| SeenParticipant {
                key: "pk",
                interview_key: "iv",
                email,
                state,
                response_link: None,
            };
            tx.save_participant("t", &seen(Some("a@x.io"), Some("invited")), 10, 10)?;
            tx.save_participant("t", &seen(None, Some("invited")), 20, 20)?;
            Ok(())
        })
        .unwrap();
    let p = store.read(|r| r.participant("t", "pk")).unwrap().unwrap();
    assert_eq!((p.changed_at, p.seen_at), (10, 20));
    assert_eq!(p.email.as_deref(), Some("a@x.io"));
    store
        .write(|tx| {
            let seen = SeenParticipant {
                key: "pk",
                interview_key: "iv",
                email: None,
                state: Some("completed"),
                response_link: None,
            };
            tx.save_participant("t", &seen, 30, 30)
        })
        .unwrap();
    let p = store.read(|r| r.participant("t", "pk")).unwrap().unwrap();
    assert_eq!((p.changed_at, p.state.as_deref()), (30, Some("completed")));
}

on_both!(opportunity_backoff_grows_and_resets);
fn opportunity_backoff_grows_and_resets(store: &Store) {
    let tags = vec!["a".to_owned()];
    store
        .write(|tx| {
            tx.save_opportunity(
                "t",
                &SeenOpportunity {
                    id: "o",
                    name: "Olive Oyl",
                    link: Some("https://hire.lever.co/candidates/o"),
                    stage_id: Some("s"),
                    tags: &tags,
                    email: None,
                    posting_id: None,
                    updated_at: Some(5),
                    settled: false,
                    touch: true,
                },
                1,
            )?;
            assert_eq!(tx.record_opportunity_failure("t", "o", "boom", 100, 2)?, 1);
            assert_eq!(tx.record_opportunity_failure("t", "o", "boom", 200, 3)?, 2);
            Ok(())
        })
        .unwrap();
    assert_eq!(
        store.read(|r| r.opportunity_backoffs("t", 150)).unwrap(),
        vec![("o".to_owned(), 200)]
    );
    store
        .write(|tx| tx.record_opportunity_success("t", "o"))
        .unwrap();
    assert!(
        store
            .read(|r| r.opportunity_backoffs("t", 0))
            .unwrap()
            .is_empty()
    );
    let o = store.read(|r| r.opportunity("t", "o")).unwrap().unwrap();
    assert_eq!(o.tags, tags);
    assert_eq!(o.name.as_deref(), Some("Olive Oyl"));
    assert_eq!(o.failure_count, 0);
}

// Issue 12 (bench): an incremental pass whose window holds many unchanged opportunities
// rewrote a page per opportunity. Unchanged rows are left alone unless a full pass touches
// them (it proves with `seen_at` which invited opportunities it saw).
on_both!(issue12_an_unchanged_opportunity_is_written_only_by_a_full_pass);
fn issue12_an_unchanged_opportunity_is_written_only_by_a_full_pass(store: &Store) {
    let tags = vec!["a".to_owned()];
    let moved = vec!["a".to_owned(), "b".to_owned()];
    let seen = |tags: &'static [String], touch: bool| SeenOpportunity {
        id: "o",
        name: "Olive Oyl",
        link: None,
        stage_id: Some("s"),
        tags,
        email: None,
        posting_id: None,
        updated_at: Some(5),
        settled: true,
        touch,
    };
    let tags: &'static [String] = Box::leak(tags.into_boxed_slice());
    let moved: &'static [String] = Box::leak(moved.into_boxed_slice());
    let seen_at = || {
        store
            .read(|r| r.opportunity("t", "o"))
            .unwrap()
            .unwrap()
            .seen_at
    };
    store
        .write(|tx| tx.save_opportunity("t", &seen(tags, false), 1))
        .unwrap();
    assert_eq!(seen_at(), 1, "a new opportunity is stored");
    store
        .write(|tx| tx.save_opportunity("t", &seen(tags, false), 2))
        .unwrap();
    assert_eq!(seen_at(), 1, "an unchanged one is not rewritten");
    store
        .write(|tx| tx.save_opportunity("t", &seen(moved, false), 3))
        .unwrap();
    assert_eq!(seen_at(), 3, "a changed one is");
    store
        .write(|tx| tx.save_opportunity("t", &seen(moved, true), 4))
        .unwrap();
    assert_eq!(seen_at(), 4, "a full pass touches every one it saw");
}

on_both!(interviews_keep_every_tag_they_were_issued);
fn interviews_keep_every_tag_they_were_issued(store: &Store) {
    store
        .write(|tx| {
            tx.save_interview("t", "iv", "PM", "Willo:PM-Acme", true, 1)?;
            tx.save_interview(
                "t",
                "iv",
                "Product Manager",
                "Willo:Product Manager-Acme",
                true,
                2,
            )
        })
        .unwrap();
    let ivs = store.read(|r| r.interviews("t")).unwrap();
    assert_eq!(ivs.len(), 1);
    assert_eq!(ivs[0].current_tag, "Willo:Product Manager-Acme");
    assert_eq!(
        ivs[0].tags,
        vec!["Willo:PM-Acme", "Willo:Product Manager-Acme"]
    );
}

on_both!(passes_attention_tokens_and_tenants_round_trip);
fn passes_attention_tokens_and_tenants_round_trip(store: &Store) {
    let id = store
        .write(|tx| tx.begin_pass("t", PassKind::Full, 1000))
        .unwrap();
    store
        .write(|tx| {
            tx.finish_pass(
                id,
                PassResult::Converged,
                &serde_json::json!({"invites": 2}),
                None,
                2500,
            )?;
            tx.record_attention("t", "o1", "no_email", None, 1)?;
            tx.record_attention("t", "o1", "no_email", Some("again"), 9)?;
            tx.set_tenant_connected("t", false, Some("401 from Lever"), 5)?;
            tx.save_tokens(
                "t",
                &TokenRow {
                    access_token: "at".into(),
                    refresh_token: "rt".into(),
                    expires_at: 99,
                    scope: None,
                    updated_at: 5,
                },
            )
        })
        .unwrap();
    let pass = store
        .read(|r| r.last_completed_pass("t", PassKind::Full))
        .unwrap()
        .unwrap();
    assert_eq!(pass.result, Some(PassResult::Converged));
    assert_eq!(pass.counts["invites"], 2);
    let att = store.read(|r| r.attention("t")).unwrap();
    assert_eq!(
        (att.len(), att[0].since, att[0].detail.as_deref()),
        (1, 1, Some("again"))
    );
    let tenant = store.read(|r| r.tenant("t")).unwrap().unwrap();
    assert!(!tenant.connected);
    let tokens = store.read(|r| r.tokens("t")).unwrap().unwrap();
    assert_eq!(tokens.refresh_token, "rt");
    assert!(!format!("{tokens:?}").contains("rt\""));
}

on_both!(issue12_pruning_keeps_each_tenants_newest_passes);
fn issue12_pruning_keeps_each_tenants_newest_passes(store: &Store) {
    // Pruning walks the index back from the newest pass instead of probing a set of the ids
    // kept; what it keeps must not change: the newest `keep` of the tenant, other tenants'
    // untouched, nothing removed while there are fewer.
    let ids = |tenant: &str| -> Vec<i64> {
        store
            .read(|r| r.recent_passes(tenant, 100))
            .unwrap()
            .iter()
            .map(|p| p.id)
            .collect()
    };
    let mut mine = Vec::new();
    for i in 0..12 {
        mine.push(
            store
                .write(|tx| tx.begin_pass("t", PassKind::Incremental, i))
                .unwrap(),
        );
        store
            .write(|tx| tx.begin_pass("other", PassKind::Incremental, i))
            .unwrap();
        store.write(|tx| tx.prune_passes("t", 5)).unwrap();
        let kept: Vec<i64> = mine.iter().rev().take(5).copied().collect();
        assert_eq!(ids("t"), kept, "after pass {i}");
    }
    assert_eq!(
        ids("other").len(),
        12,
        "another tenant's passes were pruned"
    );
}

#[test]
fn issue14_a_postgres_database_from_a_newer_version_is_refused_with_exit_74() {
    let db = crate::support::pg::PgDb::new();
    drop(db.store(OpenMode::Writer));
    db.execute(&format!(
        "UPDATE schema_version SET version = {}",
        SCHEMA_VERSION + 1
    ));
    for mode in [OpenMode::Writer, OpenMode::Reader] {
        let err = Store::open_postgres(&db.settings(), mode).unwrap_err();
        assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
        assert_eq!(exit_of(err), ExitStatus::StateStore);
    }
    // A reader of a database no writer has created says so, and creates nothing.
    let empty = crate::support::pg::PgDb::new();
    let err = Store::open_postgres(&empty.settings(), OpenMode::Reader).unwrap_err();
    assert!(matches!(err, StoreError::Missing { .. }), "{err}");
    assert_eq!(
        empty.scalar("SELECT COUNT(*)::TEXT FROM pg_tables WHERE schemaname = 'public'"),
        "0"
    );
}
