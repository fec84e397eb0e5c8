//! Willo interviews and every tag issued for each (the current one and rename aliases).

use std::collections::BTreeMap;

use super::db::params;

use super::{Ctx, Reader, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterviewRow {
    pub key: String,
    pub title: String,
    pub current_tag: String,
    /// Listed by Willo at the last look (listed = open).
    pub open: bool,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    /// Every tag ever issued for this interview, oldest first, including `current_tag`.
    pub tags: Vec<String>,
}

impl Reader<'_> {
    pub fn interviews(&self, tenant: &str) -> Result<Vec<InterviewRow>, StoreError> {
        let mut tags: BTreeMap<String, Vec<String>> = BTreeMap::new();
        {
            let mut st = self
                .conn
                .prepare_cached(
                    "SELECT interview_key, tag FROM interview_tags WHERE tenant = ?1
                     ORDER BY issued_at, tag",
                )
                .ctx("prepare interview tags")?;
            let rows = st
                .query_map(params![tenant], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .ctx("read interview tags")?;
            for r in rows {
                let (k, t) = r.ctx("read interview tags")?;
                tags.entry(k).or_default().push(t);
            }
        }
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT key, title, current_tag, open, first_seen_at, last_seen_at
                 FROM interviews WHERE tenant = ?1 ORDER BY key",
            )
            .ctx("prepare interviews")?;
        let rows = st
            .query_map(params![tenant], |r| {
                Ok(InterviewRow {
                    key: r.get(0)?,
                    title: r.get(1)?,
                    current_tag: r.get(2)?,
                    open: r.get(3)?,
                    first_seen_at: r.get(4)?,
                    last_seen_at: r.get(5)?,
                    tags: Vec::new(),
                })
            })
            .ctx("read interviews")?;
        rows.map(|r| {
            let mut row = r.ctx("read interviews")?;
            row.tags = tags.remove(&row.key).unwrap_or_default();
            Ok(row)
        })
        .collect()
    }
}

impl Tx<'_> {
    /// Records an interview as it is now; its current tag joins the issued tags (never removed).
    pub fn save_interview(
        &self,
        tenant: &str,
        key: &str,
        title: &str,
        current_tag: &str,
        open: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO interviews (tenant, key, title, current_tag, open, first_seen_at, last_seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
                 ON CONFLICT (tenant, key) DO UPDATE SET title = excluded.title,
                   current_tag = excluded.current_tag, open = excluded.open,
                   last_seen_at = CASE WHEN excluded.open <> 0 THEN excluded.last_seen_at
                                       ELSE interviews.last_seen_at END",
            )
            .ctx("prepare save interview")?
            .execute(params![tenant, key, title, current_tag, open, now])
            .ctx("save interview")?;
        self.issue_interview_tag(tenant, key, current_tag, now)
    }

    /// Records a tag as issued for an interview (kept forever as an alias once renamed).
    pub fn issue_interview_tag(
        &self,
        tenant: &str,
        key: &str,
        tag: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO interview_tags (tenant, interview_key, tag, issued_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
            )
            .ctx("prepare issue tag")?
            .execute(params![tenant, key, tag, now])
            .ctx("issue interview tag")?;
        Ok(())
    }
}
