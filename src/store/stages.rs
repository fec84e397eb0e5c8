//! Trigger stages as a pass resolved them: the configured names or ids, and the stage ids they
//! named in the Lever account at the time.

use super::db::{Optional, params};

use super::{Ctx, Reader, StoreError, Tx, from_json_list, to_json_list};

/// Resolved trigger stages of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerStagesRow {
    /// The configured `trigger_stages`, in the order they were configured.
    pub configured: Vec<String>,
    pub stage_ids: Vec<String>,
    pub resolved_at: i64,
}

impl Reader<'_> {
    pub fn trigger_stages(&self, tenant: &str) -> Result<Option<TriggerStagesRow>, StoreError> {
        let row: Option<(String, String, i64)> = self
            .conn
            .query_row(
                "SELECT configured, stage_ids, resolved_at FROM trigger_stages WHERE tenant = ?1",
                params![tenant],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .ctx("read trigger stages")?;
        row.map(|(configured, ids, resolved_at)| {
            Ok(TriggerStagesRow {
                configured: from_json_list(&configured, "trigger_stages.configured")?,
                stage_ids: from_json_list(&ids, "trigger_stages.stage_ids")?,
                resolved_at,
            })
        })
        .transpose()
    }
}

impl Tx<'_> {
    pub fn save_trigger_stages(
        &self,
        tenant: &str,
        row: &TriggerStagesRow,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO trigger_stages (tenant, configured, stage_ids, resolved_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (tenant) DO UPDATE SET configured = excluded.configured,
                                                    stage_ids = excluded.stage_ids,
                                                    resolved_at = excluded.resolved_at",
                params![
                    tenant,
                    to_json_list(&row.configured),
                    to_json_list(&row.stage_ids),
                    row.resolved_at
                ],
            )
            .ctx("write trigger stages")?;
        Ok(())
    }
}
