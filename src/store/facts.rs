//! What the daemon has learned about a tenant's accounts, as named facts (e.g. that Willo
//! ignores the participant filter), so every later pass and every instance starts from it.

use super::db::{Optional, params};

use super::{Ctx, Reader, StoreError, Tx};

/// Willo answered a `?interview=` listing with rows of other interviews.
pub const PARTICIPANT_FILTER_IGNORED: &str = "willo.participant_filter_ignored";

/// When completion notes began for a tenant that ran before they existed (ms since the
/// epoch, set by migration 8): completions first seen before it get no note.
pub const COMPLETION_NOTES_FROM: &str = "lever.completion_notes_from";

impl Reader<'_> {
    pub fn fact(&self, tenant: &str, name: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT value FROM tenant_facts WHERE tenant = ?1 AND name = ?2",
                params![tenant, name],
                |r| r.get(0),
            )
            .optional()
            .ctx("read fact")
    }
}

impl Tx<'_> {
    pub fn set_fact(
        &self,
        tenant: &str,
        name: &str,
        value: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO tenant_facts (tenant, name, value, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (tenant, name) DO UPDATE SET value = excluded.value,
                                                          updated_at = excluded.updated_at",
                params![tenant, name, value, now],
            )
            .ctx("write fact")?;
        Ok(())
    }
}
