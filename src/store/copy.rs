//! Copies a whole store into another, across backends: `migrate-store` moves a SQLite state
//! into an empty PostgreSQL database, and a dry run over PostgreSQL plans against a private
//! in-memory SQLite copy. One read snapshot of the source, one transaction on the target:
//! the copy lands whole or not at all.

use super::db::{OwnedValue, Value, params};
use super::{Ctx, Dialect, Reader, Store, StoreError};

/// Every table with every column, in an order that satisfies the foreign keys
/// (`interviews` before `interview_tags`). A test checks this against SQLite's schema, so a
/// column added by a migration cannot be left out of the copy.
pub(super) const TABLES: &[(&str, &[&str])] = &[
    (
        "tenants",
        &["id", "connected", "disconnected_reason", "changed_at"],
    ),
    ("cursors", &["tenant", "name", "value", "updated_at"]),
    (
        "opportunities",
        &[
            "tenant",
            "id",
            "stage_id",
            "tags",
            "email",
            "posting_id",
            "updated_at",
            "deleted",
            "next_check_at",
            "failure_count",
            "last_error",
            "seen_at",
            "name",
            "link",
        ],
    ),
    ("postings", &["tenant", "id", "title", "tags", "seen_at"]),
    (
        "interviews",
        &[
            "tenant",
            "key",
            "title",
            "current_tag",
            "open",
            "first_seen_at",
            "last_seen_at",
            "listed_at",
            "complete_at",
        ],
    ),
    (
        "interview_tags",
        &["tenant", "interview_key", "tag", "issued_at"],
    ),
    (
        "invites",
        &[
            "tenant",
            "opportunity_id",
            "interview_key",
            "email",
            "participant_key",
            "state",
            "attempts",
            "last_error",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "participants",
        &[
            "tenant",
            "key",
            "interview_key",
            "email",
            "state",
            "changed_at",
            "seen_at",
            "first_seen_at",
            "checked_at",
            "response_link",
        ],
    ),
    (
        "passes",
        &[
            "id",
            "tenant",
            "kind",
            "started_at",
            "finished_at",
            "result",
            "counts",
            "error",
        ],
    ),
    (
        "attention",
        &["tenant", "opportunity_id", "reason", "detail", "since"],
    ),
    (
        "oauth_tokens",
        &[
            "tenant",
            "access_token",
            "refresh_token",
            "expires_at",
            "scope",
            "updated_at",
        ],
    ),
    (
        "trigger_stages",
        &["tenant", "configured", "stage_ids", "resolved_at"],
    ),
    ("tenant_facts", &["tenant", "name", "value", "updated_at"]),
    (
        "interview_sweeps",
        &["tenant", "interview_key", "next_page", "started_at"],
    ),
    (
        "notes",
        &[
            "tenant",
            "opportunity_id",
            "interview_key",
            "state",
            "note_id",
            "attempts",
            "last_error",
            "created_at",
            "updated_at",
        ],
    ),
];

/// Rows copied, per table.
pub type CopyCounts = Vec<(&'static str, u64)>;

/// Refuses a target that holds any row of the product's tables: a copy merged into another
/// instance's state would mix two journals.
fn ensure_empty(r: &Reader<'_>, name: &str) -> Result<(), StoreError> {
    for (table, _) in TABLES {
        let rows: i64 = r
            .conn
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), params![], |row| {
                row.get(0)
            })
            .ctx("count rows")?;
        if rows > 0 {
            return Err(StoreError::NotEmpty {
                url: name.to_owned(),
                table,
                rows,
            });
        }
    }
    Ok(())
}

/// Copies every row of `from` into `to`, which must be empty: checked in the transaction
/// that copies, so two copies at once cannot both find it empty.
pub(super) fn copy_all(from: &Store, to: &Store) -> Result<CopyCounts, StoreError> {
    super::postgresql::offload(|| copy_in_place(from, to))
}

fn copy_in_place(from: &Store, to: &Store) -> Result<CopyCounts, StoreError> {
    to.write_in_place(|tx| {
        if tx.conn().dialect() == Dialect::Postgres {
            // Other instances' copies wait for this one, then find it not empty.
            tx.conn()
                .execute("LOCK TABLE invites IN EXCLUSIVE MODE", params![])
                .ctx("lock the target")?;
        }
        ensure_empty(tx, &to.path.display().to_string())?;
        from.read_in_place(|r| {
            let mut counts = CopyCounts::new();
            for (table, columns) in TABLES {
                let list = columns.join(", ");
                let marks = (1..=columns.len())
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let insert = format!("INSERT INTO {table} ({list}) VALUES ({marks})");
                let mut n = 0_u64;
                r.conn
                    .for_each(&format!("SELECT {list} FROM {table}"), params![], |row| {
                        let values = (0..columns.len())
                            .map(|i| row.get::<_, OwnedValue>(i))
                            .collect::<Result<Vec<_>, _>>()
                            .ctx("read a row to copy")?;
                        let bound: Vec<Value<'_>> =
                            values.iter().map(super::db::Param::value).collect();
                        tx.conn().execute(&insert, &bound).ctx("copy a row")?;
                        n += 1;
                        Ok::<(), StoreError>(())
                    })?;
                counts.push((*table, n));
            }
            if tx.conn().dialect() == Dialect::Postgres {
                // Copied ids were given explicitly; new passes continue after the last one.
                tx.conn()
                    .execute(
                        "SELECT setval(pg_get_serial_sequence('passes', 'id'),
                                       COALESCE((SELECT MAX(id) FROM passes), 0) + 1, false)",
                        params![],
                    )
                    .ctx("continue pass ids")?;
            }
            Ok(counts)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_names_every_column_of_every_table() {
        let store = Store::open_memory().unwrap();
        let conn = store.lock_conn();
        let mut tables: Vec<String> = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        tables.sort();
        let mut listed: Vec<String> = TABLES.iter().map(|(t, _)| (*t).to_owned()).collect();
        listed.sort();
        assert_eq!(tables, listed);
        for (table, columns) in TABLES {
            let actual: Vec<String> = conn
                .prepare(&format!(
                    "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
                ))
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let mut actual_sorted = actual.clone();
            actual_sorted.sort();
            let mut expected: Vec<String> = columns.iter().map(|c| (*c).to_owned()).collect();
            expected.sort();
            assert_eq!(actual_sorted, expected, "columns of {table}");
        }
    }
}
