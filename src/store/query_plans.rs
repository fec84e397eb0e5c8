//! The reads a hint's reconcile makes must find their rows by index, whatever the size of the
//! journal: checked on SQLite's own query plans of the filters the store functions use.

#[cfg(test)]
mod tests {
    use crate::store::Store;

    /// SQLite's plan for `sql` with three parameters bound, one line per step.
    fn plan(store: &Store, sql: &str) -> Vec<String> {
        let conn = store.lock_conn();
        let mut st = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let count = st.parameter_count();
        let args: Vec<&dyn rusqlite::ToSql> =
            [&"t" as &dyn rusqlite::ToSql, &"[\"a\",\"b\"]", &0_i64]
                .into_iter()
                .take(count)
                .collect();
        st.query_map(&*args, |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn a_hint_s_reads_search_by_index_and_never_scan_a_table() {
        let store = Store::open_memory().unwrap();
        use crate::store::{invites, opportunities, participants};
        for (what, sql) in [
            (
                "invites of opportunities",
                format!("SELECT * FROM invites {}", invites::OF_OPPORTUNITIES),
            ),
            (
                "invites of a participant",
                format!("SELECT * FROM invites {}", invites::OF_PARTICIPANT),
            ),
            (
                "invites by email",
                format!("SELECT * FROM invites {}", invites::BY_EMAIL),
            ),
            (
                "invites in a state",
                format!("SELECT * FROM invites {}", invites::IN_STATE),
            ),
            (
                "participants by key",
                format!("SELECT * FROM participants {}", participants::BY_KEYS),
            ),
            (
                "backoffs of opportunities",
                format!(
                    "SELECT id FROM opportunities {}",
                    opportunities::BACKOFFS_OF
                ),
            ),
        ] {
            let steps = plan(&store, &sql);
            let scans: Vec<&String> = steps
                .iter()
                .filter(|s| s.starts_with("SCAN") && !s.contains("json_each"))
                .collect();
            assert!(scans.is_empty(), "{what} scans a table: {steps:?}");
            assert!(
                steps.iter().any(|s| s.starts_with("SEARCH")),
                "{what}: {steps:?}"
            );
        }
    }

    /// Issue 12 (bench): every pass and hint counted the tenant's attention items by reading
    /// them all, and every `/metrics` scrape read every opportunity of every tenant to count
    /// those in backoff. Both counts, and the list of the failing, search an index.
    #[test]
    fn issue12_the_counts_of_each_pass_and_scrape_search_an_index() {
        let store = Store::open_memory().unwrap();
        use crate::store::{attention, opportunities};
        for (what, sql, index) in [
            ("attention count", attention::COUNT.to_owned(), "attention"),
            (
                "failing count",
                format!(
                    "SELECT COUNT(*) FROM opportunities {}",
                    opportunities::FAILING
                ),
                "opportunities_failing",
            ),
            (
                "failing list",
                format!(
                    "SELECT id FROM opportunities {} ORDER BY failure_count DESC, id",
                    opportunities::FAILING
                ),
                "opportunities_failing",
            ),
        ] {
            let steps = plan(&store, &sql);
            assert!(
                steps.iter().all(|s| !s.starts_with("SCAN")),
                "{what} scans: {steps:?}"
            );
            assert!(
                steps
                    .iter()
                    .any(|s| s.starts_with("SEARCH") && s.contains(index)),
                "{what} does not search {index}: {steps:?}"
            );
        }
    }

    /// Issue 12 (bench): a hint's lookup of one address read every participant of the
    /// interview to count those without an address, so a first pass grew with the square of
    /// an interview's size. Both reads must narrow the index down to the address itself.
    #[test]
    fn issue12_interview_lookups_narrow_the_index_to_the_address() {
        let store = Store::open_memory().unwrap();
        use crate::store::lookups::{BY_INTERVIEW_AND_EMAIL, WITHOUT_EMAIL};
        for (what, sql) in [
            ("participant by address", BY_INTERVIEW_AND_EMAIL),
            ("participants without address", WITHOUT_EMAIL),
        ] {
            let steps = plan(&store, sql);
            assert!(
                steps.iter().any(|s| s.starts_with("SEARCH")
                    && s.contains("participants_by_interview")
                    && s.contains("interview_key=? AND email")),
                "{what} does not search by interview and address: {steps:?}"
            );
        }
    }
}
