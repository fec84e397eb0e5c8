//! Posting tags as last seen by a full pass, so targeted reconciles can tell which postings
//! connect to an interview (rule: posting tags, docs/behaviour.md) without listing every posting again.

use rusqlite::params;

use super::{Ctx, Reader, StoreError, Tx, from_json_list, to_json_list};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostingRow {
    pub id: String,
    pub title: Option<String>,
    pub tags: Vec<String>,
}

impl Reader<'_> {
    pub fn postings(&self, tenant: &str) -> Result<Vec<PostingRow>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT id, title, tags FROM postings WHERE tenant = ?1 ORDER BY id")
            .ctx("prepare postings")?;
        let rows = st
            .query_map([tenant], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .ctx("read postings")?;
        rows.map(|r| {
            let (id, title, tags) = r.ctx("read postings")?;
            Ok(PostingRow {
                id,
                title,
                tags: from_json_list(&tags, "postings.tags")?,
            })
        })
        .collect()
    }
}

impl Tx<'_> {
    /// Replaces the tenant's postings with a complete listing (full passes only).
    pub fn replace_postings(
        &self,
        tenant: &str,
        postings: &[PostingRow],
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM postings WHERE tenant = ?1", [tenant])
            .ctx("clear postings")?;
        let mut st = self
            .conn()
            .prepare_cached("INSERT INTO postings (tenant, id, title, tags, seen_at) VALUES (?1, ?2, ?3, ?4, ?5)")
            .ctx("prepare posting insert")?;
        for p in postings {
            st.execute(params![tenant, p.id, p.title, to_json_list(&p.tags), now])
                .ctx("insert posting")?;
        }
        Ok(())
    }
}
