//! What a pass learned, stored: after each step, what the step read and applied (one
//! transaction per step); at the end of the pass, one closing transaction with what covers
//! the whole pass: the cursor (only once everything it covers is stored, and only forwards),
//! the resolved trigger stages, what the pass found out about Willo, and the connection.

use std::collections::{BTreeMap, BTreeSet};

use super::apply::ApplyReport;
use super::error::PassError;
use super::observe::{CURSOR_DELETED_AT, CURSOR_UPDATED_AT, Observation};
use super::pass::Pass;
use super::scheduled::Closing;
use crate::domain::PassKind;
use crate::domain::attention::AttentionReason;
use crate::plan::{self, Plan};
use crate::store::{
    PARTICIPANT_FILTER_IGNORED, PostingRow, SeenOpportunity, SeenParticipant, StoreError, Tx,
};

impl Pass<'_> {
    /// Persists what a step read and applied, in one transaction.
    pub(crate) fn commit(
        &self,
        obs: &Observation,
        plan: &Plan,
        report: &ApplyReport,
    ) -> Result<(), PassError> {
        let t = self.tenant;
        t.store
            .write(|tx| {
                self.save_opportunities(tx, obs, plan, report)?;
                self.save_learned(tx, obs, plan)
            })
            .map_err(|e| t.store_err(e))
    }

    /// The pass's closing transaction: cursors, trigger stages, facts and the connection.
    pub(crate) fn close(&self, closing: &Closing) -> Result<(), PassError> {
        let t = self.tenant;
        if self.dry {
            return Ok(());
        }
        t.store
            .write(|tx| {
                if let Some(row) = closing
                    .stages
                    .as_ref()
                    .and_then(|s| s.row(&t.settings.trigger_stages, self.now))
                {
                    tx.save_trigger_stages(&t.id, &row)?;
                }
                self.move_cursors(tx, closing)?;
                if self.directory.found_filter_ignored() {
                    tx.set_fact(&t.id, PARTICIPANT_FILTER_IGNORED, "true", self.now)?;
                }
                tx.set_tenant_connected(&t.id, true, None, self.now)
            })
            .map_err(|e| t.store_err(e))
    }

    /// The mirror of every opportunity read (with its tags as written), and the deleted ones:
    /// reported deleted, found gone on a re-read, or answering 404 to a write.
    fn save_opportunities(
        &self,
        tx: &Tx<'_>,
        obs: &Observation,
        plan: &Plan,
        report: &ApplyReport,
    ) -> Result<(), StoreError> {
        let (tenant, now) = (&self.tenant.id, self.now);
        let acted: BTreeSet<&str> = plan
            .actions
            .iter()
            .flat_map(|a| a.opportunity_ids())
            .map(String::as_str)
            .collect();
        for o in &obs.observed.opportunities {
            if report.vanished.contains(&o.id) {
                continue;
            }
            let tags: Vec<String> = report
                .tags_after
                .get(&o.id)
                .unwrap_or(&o.tags)
                .iter()
                .cloned()
                .collect();
            let email = o.emails.iter().map(|e| e.trim()).find(|e| !e.is_empty());
            let seen = SeenOpportunity {
                id: &o.id,
                name: &o.name,
                link: o.link.as_deref(),
                stage_id: o.stage_id.as_deref(),
                tags: &tags,
                email,
                posting_id: o.posting_id.as_deref(),
                updated_at: o.updated_at,
                settled: !acted.contains(o.id.as_str()),
                touch: self.kind == PassKind::Full,
            };
            tx.save_opportunity(tenant, &seen, now)?;
        }
        let deleted = obs.observed.deleted.iter().chain(&report.vanished);
        for id in deleted {
            tx.mark_opportunity_deleted(tenant, id, now)?;
            tx.clear_attention_for(tenant, id)?;
        }
        for id in &obs.no_access {
            let reason = AttentionReason::NoAccess.as_str();
            let detail = "Lever answers 403 for this opportunity (a confidential requisition, or a key without access to it)";
            tx.record_attention(tenant, id, reason, Some(detail), now)?;
        }
        Ok(())
    }

    /// Interviews and their issued tags, participants' states and posting tags.
    fn save_learned(&self, tx: &Tx<'_>, obs: &Observation, plan: &Plan) -> Result<(), StoreError> {
        let (tenant, now) = (&self.tenant.id, self.now);
        for i in &plan.remember.interviews {
            tx.save_interview(tenant, &i.key, &i.title, &i.current_tag, i.open, now)?;
            for alias in i.issued_tags.iter().filter(|a| **a != i.current_tag) {
                tx.issue_interview_tag(tenant, &i.key, alias, now)?;
            }
        }
        let observed: BTreeMap<&str, &plan::Participant> = obs
            .observed
            .participants
            .iter()
            .map(|p| (p.key.as_str(), p))
            .collect();
        for (key, known) in &plan.remember.participants {
            let Some(p) = observed.get(key.as_str()) else {
                continue;
            };
            let seen = SeenParticipant {
                key,
                interview_key: &p.interview_key,
                email: p.email.as_deref(),
                state: known.state.as_deref(),
                response_link: known.response_link.as_deref(),
            };
            tx.save_participant(tenant, &seen, known.changed_at, now)?;
        }
        if let Some(postings) = &plan.remember.posting_tags {
            let rows: Vec<PostingRow> = postings
                .iter()
                .map(|(id, tags)| PostingRow {
                    id: id.clone(),
                    title: None,
                    tags: tags.iter().cloned().collect(),
                })
                .collect();
            tx.replace_postings(tenant, &rows, now)?;
        }
        Ok(())
    }

    /// The incremental cursor moves to the largest `updatedAt` listed (never back); a full pass
    /// that read the deleted opportunities also moves their cursor to now minus the overlap.
    fn move_cursors(&self, tx: &Tx<'_>, closing: &Closing) -> Result<(), StoreError> {
        let (tenant, now) = (&self.tenant.id, self.now);
        if matches!(self.kind, PassKind::Full | PassKind::Incremental)
            && let Some(max) = closing.max_updated_at
        {
            let old = tx.cursor(tenant, CURSOR_UPDATED_AT)?.unwrap_or(i64::MIN);
            tx.set_cursor(tenant, CURSOR_UPDATED_AT, old.max(max), now)?;
        }
        if self.kind == PassKind::Full && closing.deleted_listed {
            let overlap = i64::try_from(self.tenant.options.overlap.as_millis()).unwrap_or(0);
            tx.set_cursor(tenant, CURSOR_DELETED_AT, (now - overlap).max(0), now)?;
        }
        Ok(())
    }
}
