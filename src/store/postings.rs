//! Posting tags as last seen by a full pass, so targeted reconciles can tell which postings
//! connect to an interview (rule: posting tags, docs/behaviour.md) without listing every posting again.

use super::db::{Value, params};

use super::{Ctx, Reader, StoreError, Tx, from_json_list, to_json_list};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostingRow {
    pub id: String,
    pub title: Option<String>,
    pub tags: Vec<String>,
}

impl Reader<'_> {
    pub fn postings(&self, tenant: &str) -> Result<Vec<PostingRow>, StoreError> {
        self.query_postings(
            "SELECT id, title, tags FROM postings WHERE tenant = ?1 ORDER BY id",
            params![tenant],
        )
    }

    /// The postings with these ids.
    pub fn postings_by_ids(
        &self,
        tenant: &str,
        ids: &[String],
    ) -> Result<Vec<PostingRow>, StoreError> {
        self.query_postings(
            "SELECT id, title, tags FROM postings WHERE tenant = ?1
               AND id IN (SELECT value FROM json_each(?2))",
            params![tenant, to_json_list(ids)],
        )
    }

    fn query_postings(&self, sql: &str, args: &[Value<'_>]) -> Result<Vec<PostingRow>, StoreError> {
        let mut st = self.conn.prepare_cached(sql).ctx("prepare postings")?;
        let rows = st
            .query_map(args, |r| {
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
            .execute("DELETE FROM postings WHERE tenant = ?1", params![tenant])
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
