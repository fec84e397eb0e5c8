//! Per-tenant connection state: a 401 or a refused OAuth grant marks a tenant disconnected (rule: disconnect, docs/behaviour.md).

use super::db::{Optional, params};

use super::{Ctx, Reader, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRow {
    pub id: String,
    pub connected: bool,
    pub disconnected_reason: Option<String>,
    /// When `connected` last changed.
    pub changed_at: i64,
}

impl Reader<'_> {
    pub fn tenant(&self, id: &str) -> Result<Option<TenantRow>, StoreError> {
        self.conn
            .query_row(
                "SELECT id, connected, disconnected_reason, changed_at FROM tenants WHERE id = ?1",
                params![id],
                |r| {
                    Ok(TenantRow {
                        id: r.get(0)?,
                        connected: r.get(1)?,
                        disconnected_reason: r.get(2)?,
                        changed_at: r.get(3)?,
                    })
                },
            )
            .optional()
            .ctx("read tenant")
    }
}

impl Tx<'_> {
    /// Records whether the tenant's credentials work. `changed_at` moves only on a change.
    pub fn set_tenant_connected(
        &self,
        id: &str,
        connected: bool,
        reason: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO tenants (id, connected, disconnected_reason, changed_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET
                   changed_at = CASE WHEN tenants.connected = excluded.connected
                                     THEN tenants.changed_at ELSE excluded.changed_at END,
                   connected = excluded.connected,
                   disconnected_reason = excluded.disconnected_reason",
                params![id, connected, reason, now],
            )
            .ctx("write tenant")?;
        Ok(())
    }
}
