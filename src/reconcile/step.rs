//! One step of a pass: plan what an observation calls for, apply it, store what it taught. A
//! hint's reconcile is one step; a scheduled pass is one step for what concerns the whole
//! account (interviews, catalog, postings, deleted opportunities) and one per chunk of
//! opportunities, so it never holds more than a chunk of them.

use std::collections::BTreeSet;

use tokio_util::sync::CancellationToken;

use super::apply::Applier;
use super::directory::Lookup;
use super::error::PassError;
use super::gap::optional;
use super::observe::Observation;
use super::pass::Pass;
use super::rules::rules;
use crate::domain::email::email_key;
use crate::domain::{InterviewKey, PassKind};
use crate::plan::{self, Action, Memory, Participant, Plan, Warning};

const NO_LOOKUP: &str = "participants not looked up: invites into these interviews fail";
const NO_PARTICIPANTS: &str =
    "participants not listed: status tags wait, and invites into these interviews fail";

impl Pass<'_> {
    /// Plans `obs` over `memory`, applies the plan (a dry run only keeps it) and commits what
    /// it learned. Counts go to the pass's progress as they come.
    pub(crate) async fn step(
        &mut self,
        mut obs: Observation,
        memory: Memory,
        cancel: &CancellationToken,
    ) -> Result<(), PassError> {
        if cancel.is_cancelled() {
            return Err(PassError::Interrupted {
                tenant: self.tenant.id.clone(),
            });
        }
        self.progress.examined += obs.observed.opportunities.len();
        let plan = self.plan_with_listings(&mut obs, &memory).await?;
        self.progress.note_gaps(&obs.gaps);
        self.progress.deferred += plan.deferred.len();
        self.progress.planned_count += plan.actions.len();
        // Read by the `--once` progress line (logging::progress): the phase and the actions
        // planned so far, which grow step by step in a chunked pass.
        tracing::debug!(tenant = %self.tenant.id, phase = "applying",
            actions = self.progress.planned_count as u64, "planned");
        self.warn(&plan.warnings);
        if self.dry {
            for w in plan.warnings {
                if !self.progress.planned_warnings.contains(&w) {
                    self.progress.planned_warnings.push(w);
                }
            }
            for a in plan.actions {
                if self.progress.planned_seen.insert(format!("{a:?}")) {
                    self.progress.planned.push(a);
                }
            }
            return Ok(());
        }
        let report = Applier::new(
            self.tenant,
            &self.directory,
            &self.reader,
            &obs.observed.opportunities,
            cancel,
            self.now,
        )
        .apply(&plan)
        .await;
        self.progress.applied.add(&report.applied);
        self.progress
            .failures
            .extend(report.failures.iter().cloned());
        if let Some(e) = report.disconnect {
            // Credentials rejected mid-apply: nothing further is written, not even the mirror.
            return Err(self.tenant.api_err(e));
        }
        self.commit(&obs, &plan, &report)
    }

    /// Plans; when the plan would invite into an interview this pass has not listed, looks
    /// the address up first and plans again, so that a person already in Willo is adopted with
    /// the state their participant shows (rule: adoption) instead of being invited or tagged as
    /// freshly invited. A hint looks up one address (at most two Willo requests); a scheduled
    /// pass lists the interview into the store.
    async fn plan_with_listings(
        &mut self,
        obs: &mut Observation,
        memory: &Memory,
    ) -> Result<Plan, PassError> {
        let plan = self.plan(obs, memory);
        let invites: Vec<(InterviewKey, String)> = plan
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Invite {
                    interview_key,
                    email,
                    ..
                } if !self.directory.is_stored(interview_key) => {
                    Some((interview_key.clone(), email.clone()))
                }
                _ => None,
            })
            .collect();
        if invites.is_empty() {
            return Ok(plan);
        }
        let found = if self.kind == PassKind::Targeted && !self.directory.shared() {
            self.look_up_each(&invites, obs).await?
        } else {
            self.list_and_find(&invites, obs).await?
        };
        obs.observed.participants.extend(found.iter().cloned());
        Ok(if found.is_empty() {
            plan
        } else {
            self.plan(obs, memory)
        })
    }

    /// A hint's invites: one bounded lookup per address, kept for the apply step.
    async fn look_up_each(
        &mut self,
        invites: &[(InterviewKey, String)],
        obs: &mut Observation,
    ) -> Result<Vec<Participant>, PassError> {
        let t = self.tenant;
        let mut found = Vec::new();
        for (interview, email) in invites {
            let lookup = match super::bounded::look_up(t, interview, email).await {
                Ok(lookup) => Ok(lookup),
                Err(super::bounded::Unbounded::Api(e)) => Err(t.api_err(e)),
                Err(super::bounded::Unbounded::Store(e)) => Err(t.store_err(e)),
                // Nothing bounds it: the apply step lists the interview.
                Err(super::bounded::Unbounded::Open(_)) => continue,
            };
            let Some(lookup) = optional(lookup, NO_LOOKUP, &mut obs.gaps)? else {
                continue;
            };
            if let Lookup::Found(p) = &lookup {
                found.push(p.clone());
            }
            self.directory.remember_lookup(interview, email, lookup);
        }
        Ok(found)
    }

    /// A scheduled pass's invites: their interviews listed into the store, then the stored
    /// participants with those addresses.
    async fn list_and_find(
        &mut self,
        invites: &[(InterviewKey, String)],
        obs: &mut Observation,
    ) -> Result<Vec<Participant>, PassError> {
        let interviews: BTreeSet<InterviewKey> = invites.iter().map(|(i, _)| i.clone()).collect();
        let listed = self.refresh(&interviews).await;
        if optional(listed, NO_PARTICIPANTS, &mut obs.gaps)?.is_none() {
            // Refused: the apply step's own lookup is refused the same way.
            return Ok(Vec::new());
        }
        let emails: Vec<String> = invites.iter().map(|(_, e)| e.clone()).collect();
        let wanted: BTreeSet<(InterviewKey, String)> = invites
            .iter()
            .filter_map(|(i, e)| Some((i.clone(), email_key(e)?)))
            .collect();
        Ok(self
            .stored_participants(&emails)?
            .into_iter()
            .filter(|p| {
                p.email
                    .as_deref()
                    .and_then(email_key)
                    .is_some_and(|e| wanted.contains(&(p.interview_key.clone(), e)))
            })
            .collect())
    }

    /// Stored participants with any of these addresses.
    pub(crate) fn stored_participants(
        &self,
        emails: &[String],
    ) -> Result<Vec<Participant>, PassError> {
        let t = self.tenant;
        let rows = t
            .store
            .read(|r| r.participants_by_emails(&t.id, emails))
            .map_err(|e| t.store_err(e))?;
        Ok(rows
            .into_iter()
            .map(|p| Participant {
                key: p.key,
                interview_key: p.interview_key,
                email: p.email,
                state: p.state,
                updated_at: None,
                response_link: p.response_link,
            })
            .collect())
    }

    fn plan(&self, obs: &Observation, memory: &Memory) -> Plan {
        let rules = rules(&self.tenant.settings, &obs.stages.ids);
        plan::plan(&rules, &obs.observed, memory, self.now)
    }

    /// Logs each warning (an unknown state once per value) and counts them all; those logged
    /// go to the summary.
    fn warn(&mut self, warnings: &[Warning]) {
        let t = self.tenant;
        for w in warnings {
            t.metrics.warning(&t.id, w.kind());
            if let Warning::UnknownState { value, .. } = w
                && !t.notices.first("unknown_state", value)
            {
                continue;
            }
            tracing::warn!(tenant = %t.id, kind = w.kind(), "{w}");
            self.note_warning(w.to_string());
        }
    }
}
