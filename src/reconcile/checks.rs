//! An incremental pass's status checks: which open invites' participants are read again this
//! pass, within the tenant's Willo budget (rule: status-check budget). The choice is the
//! planner's (`plan::checks`); this reads what it chose and stores what changed.

use std::collections::{BTreeMap, BTreeSet};

use super::error::PassError;
use super::pass::Pass;
use super::reads;
use crate::domain::status_map::Mapped;
use crate::domain::{InterviewKey, ParticipantKey};
use crate::plan::checks::{self, Budget, Checks, Listing, OpenInvite};
use crate::store::Sweep;

type Listings = BTreeMap<InterviewKey, Listing>;
type Sweeps = BTreeMap<InterviewKey, Sweep>;

impl Pass<'_> {
    /// Checks the open invites of `listed` interviews that are due; returns the participants
    /// whose state changed.
    pub(crate) async fn check_open(
        &mut self,
        listed: &BTreeSet<&str>,
    ) -> Result<BTreeSet<ParticipantKey>, PassError> {
        let t = self.tenant;
        let map = &t.settings.willo.status_map;
        let mut open: Vec<OpenInvite> = Vec::new();
        t.store
            .read(|r| {
                r.invite_checks(&t.id, |r| {
                    let decided = || {
                        matches!(map.lookup(r.state.as_deref()), Mapped::Tag(tag) if tag.is_decision())
                    };
                    if listed.contains(r.interview_key.as_str()) && !decided() {
                        open.push(OpenInvite {
                            interview: r.interview_key,
                            participant: r.participant_key,
                            checked_at: r.checked_at,
                        });
                    }
                })
            })
            .map_err(|e| t.store_err(e))?;
        let mut changed = BTreeSet::new();
        if open.is_empty() {
            return Ok(changed);
        }
        let (listings, sweeps) = self.listings(&open)?;
        let budget = self.check_budget();
        let chosen = checks::choose(&open, &listings, &budget, self.now);
        self.report_checks(&chosen, open.len(), &budget);
        if !chosen.reads.is_empty() {
            let keys: Vec<String> = chosen.reads.iter().map(|(k, _)| k.clone()).collect();
            let mut batch = reads::participants(t, chosen.reads).await?;
            self.save_batch(&mut batch, &mut changed)?;
            let now = self.now;
            t.store
                .write(|tx| tx.mark_checked(&t.id, &keys, now))
                .map_err(|e| t.store_err(e))?;
        }
        for (interview, pages) in chosen.sweeps {
            let under_way = sweeps.get(&interview).copied();
            self.sweep(&interview, under_way, pages, &mut changed)
                .await?;
        }
        Ok(changed)
    }

    /// What sweeping each interview of `open` costs, and the sweeps under way.
    fn listings(&self, open: &[OpenInvite]) -> Result<(Listings, Sweeps), PassError> {
        let t = self.tenant;
        let interviews: Vec<String> = open
            .iter()
            .map(|o| o.interview.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let (counts, sweeps) = t
            .store
            .read(|r| Ok((r.participant_counts(&t.id, &interviews)?, r.sweeps(&t.id)?)))
            .map_err(|e| t.store_err(e))?;
        let page = t.willo.page_size().max(1);
        let listings = interviews
            .into_iter()
            .map(|i| {
                let pages = counts.get(&i).copied().unwrap_or(0).div_ceil(page).max(1);
                let left = sweeps
                    .get(&i)
                    .map(|s| pages.saturating_sub(s.next_page - 1).max(1));
                (i, Listing { pages, left })
            })
            .collect();
        Ok((listings, sweeps))
    }

    /// What one pass may spend: the configured share of what Willo's rate allows in one
    /// schedule interval, one request at least.
    fn check_budget(&self) -> Budget {
        let t = self.tenant;
        let checks = t.settings.willo.status_checks;
        let rate = t.settings.willo.client.http.requests_per_second.get();
        let interval = t.options.interval;
        let requests = (checks.share * rate * interval.as_secs_f64()).floor();
        Budget {
            requests: if requests.is_finite() && requests >= 1.0 {
                requests as u64
            } else {
                1
            },
            window: millis(checks.freshness),
            interval: millis(interval),
        }
    }

    fn report_checks(&self, chosen: &Checks, open: usize, budget: &Budget) {
        let t = self.tenant;
        tracing::debug!(tenant = %t.id, open, requests = chosen.requests, budget = budget.requests,
            reads = chosen.reads.len(), sweeps = chosen.sweeps.len(), due_left = chosen.due_left,
            "status checks");
        if chosen.overdue_left > 0 {
            tracing::warn!(tenant = %t.id, overdue = chosen.overdue_left, budget = budget.requests,
                "open invites past the status freshness window are left unchecked: the Willo budget of an incremental pass does not cover them; raise willo.status_check_share or willo.requests_per_second, or lengthen willo.status_freshness_seconds");
        }
    }

    /// Reads up to `pages` pages of an interview's sweep, from where it stopped; at the last
    /// page the interview counts as listed when the sweep started.
    async fn sweep(
        &mut self,
        interview: &str,
        under_way: Option<Sweep>,
        pages: u64,
        changed: &mut BTreeSet<ParticipantKey>,
    ) -> Result<(), PassError> {
        let t = self.tenant;
        let mut sweep = under_way.unwrap_or(Sweep {
            next_page: 1,
            started_at: self.now,
        });
        for _ in 0..pages {
            let page = t
                .willo
                .participants_page(interview, sweep.next_page)
                .await
                .map_err(|e| t.api_err(e))?;
            let Some(page) = page else {
                // Past the end (the interview shrank since the sweep began): it is over.
                return self.finish_sweep(interview, sweep, under_way.is_none());
            };
            let mut batch = Vec::with_capacity(page.rows.len());
            for p in &page.rows {
                if p.interview_key.as_deref().is_some_and(|k| k != interview) {
                    self.directory.note_filter_ignored();
                    continue;
                }
                batch.push(super::convert::participant_seen(t, p, interview));
            }
            self.save_batch(&mut batch, changed)?;
            if page.last {
                return self.finish_sweep(interview, sweep, under_way.is_none());
            }
            sweep.next_page += 1;
        }
        t.store
            .write(|tx| tx.save_sweep(&t.id, interview, sweep))
            .map_err(|e| t.store_err(e))
    }

    fn finish_sweep(
        &mut self,
        interview: &str,
        sweep: Sweep,
        this_pass: bool,
    ) -> Result<(), PassError> {
        let t = self.tenant;
        t.store
            .write(|tx| tx.finish_sweep(&t.id, interview, sweep.started_at))
            .map_err(|e| t.store_err(e))?;
        if this_pass {
            // Listed from its first page to its last within this pass: as good as `refresh`.
            self.directory.mark_stored(interview.to_owned());
        }
        Ok(())
    }
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
