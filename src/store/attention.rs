//! Needs-attention items: opportunities the daemon will not act on until a person does
//! something (no email, no consent, an invite Willo refused).

use super::db::params;

use super::{Ctx, Reader, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttentionRow {
    pub opportunity_id: String,
    pub reason: String,
    pub detail: Option<String>,
    pub since: i64,
    /// The candidate's name and Lever link, from the opportunity mirror, when known.
    pub name: Option<String>,
    pub link: Option<String>,
}

/// How many items a tenant has: by the primary key's index, not a read of the items.
pub(super) const COUNT: &str = "SELECT COUNT(*) FROM attention WHERE tenant = ?1";

impl Reader<'_> {
    /// How many items need attention: what every pass and hint reports, and the metrics'
    /// gauge, without reading (and sorting, and joining) the items themselves.
    pub fn attention_count(&self, tenant: &str) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row(COUNT, params![tenant], |r| r.get(0))
            .ctx("count attention")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The needs-attention items of these opportunities (without names or links).
    pub fn attention_of(
        &self,
        tenant: &str,
        ids: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT opportunity_id, reason FROM attention WHERE tenant = ?1
                   AND opportunity_id IN (SELECT value FROM json_each(?2))",
            )
            .ctx("prepare attention of")?;
        let rows = st
            .query_map(params![tenant, super::to_json_list(ids)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .ctx("read attention of")?;
        rows.collect::<Result<_, _>>().ctx("read attention of")
    }

    pub fn attention(&self, tenant: &str) -> Result<Vec<AttentionRow>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT a.opportunity_id, a.reason, a.detail, a.since, o.name, o.link
                 FROM attention a
                 LEFT JOIN opportunities o ON o.tenant = a.tenant AND o.id = a.opportunity_id
                 WHERE a.tenant = ?1
                 ORDER BY a.since, a.opportunity_id, a.reason",
            )
            .ctx("prepare attention")?;
        let rows = st
            .query_map(params![tenant], |r| {
                Ok(AttentionRow {
                    opportunity_id: r.get(0)?,
                    reason: r.get(1)?,
                    detail: r.get(2)?,
                    since: r.get(3)?,
                    name: r.get(4)?,
                    link: r.get(5)?,
                })
            })
            .ctx("read attention")?;
        rows.collect::<Result<_, _>>().ctx("read attention")
    }
}

impl Tx<'_> {
    /// Records an item; `since` is kept when it is already recorded.
    pub fn record_attention(
        &self,
        tenant: &str,
        opportunity_id: &str,
        reason: &str,
        detail: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO attention (tenant, opportunity_id, reason, detail, since)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (tenant, opportunity_id, reason) DO UPDATE SET detail = excluded.detail",
            )
            .ctx("prepare record attention")?
            .execute(params![tenant, opportunity_id, reason, detail, now])
            .ctx("record attention")?;
        Ok(())
    }

    pub fn clear_attention(
        &self,
        tenant: &str,
        opportunity_id: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "DELETE FROM attention WHERE tenant = ?1 AND opportunity_id = ?2 AND reason = ?3",
            )
            .ctx("prepare clear attention")?
            .execute(params![tenant, opportunity_id, reason])
            .ctx("clear attention")?;
        Ok(())
    }

    /// Clears every item of an opportunity (it was deleted in Lever).
    pub fn clear_attention_for(
        &self,
        tenant: &str,
        opportunity_id: &str,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "DELETE FROM attention WHERE tenant = ?1 AND opportunity_id = ?2",
                params![tenant, opportunity_id],
            )
            .ctx("clear attention")?;
        Ok(())
    }
}
