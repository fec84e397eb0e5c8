//! Cursors: how far a tenant's incremental reads have got (ms since the epoch).

use super::db::{Optional, params};

use super::{Ctx, Reader, StoreError, Tx};

impl Reader<'_> {
    pub fn cursor(&self, tenant: &str, name: &str) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row(
                "SELECT value FROM cursors WHERE tenant = ?1 AND name = ?2",
                params![tenant, name],
                |r| r.get(0),
            )
            .optional()
            .ctx("read cursor")
    }
}

impl Tx<'_> {
    /// Sets a cursor. Call it in the same transaction that stores what the cursor covers.
    pub fn set_cursor(
        &self,
        tenant: &str,
        name: &str,
        value: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO cursors (tenant, name, value, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (tenant, name) DO UPDATE SET value = excluded.value,
                                                          updated_at = excluded.updated_at",
                params![tenant, name, value, now],
            )
            .ctx("write cursor")?;
        Ok(())
    }
}
