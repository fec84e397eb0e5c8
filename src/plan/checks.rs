//! Which open invites an incremental pass checks on Willo, within its request budget (rule:
//! status-check budget, docs/behaviour.md).
//!
//! An open invite is checked either by reading its participant (one request) or by sweeping
//! its interview's listing (one request per page, for every participant of the interview at
//! once). A sweep may take several passes; its invites count as checked when it ends. The
//! oldest checks go first. A pass spends what keeps every open invite within the freshness
//! window, at least an even share of the window's work (so checks spread over time rather
//! than arriving all at once every window), and never more than the budget.

use std::collections::BTreeMap;

use crate::domain::{InterviewKey, ParticipantKey};

/// An open invite and when it was last checked (`None`: never).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenInvite {
    pub interview: InterviewKey,
    /// `None` when the journal holds no participant key: only a sweep can check it.
    pub participant: Option<ParticipantKey>,
    pub checked_at: Option<i64>,
}

/// What sweeping an interview costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listing {
    /// Pages a complete listing reads (estimated from the participants stored).
    pub pages: u64,
    /// Pages an unfinished sweep has left, if one is under way.
    pub left: Option<u64>,
}

/// What a pass may spend, over which window, at which schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Requests one pass may spend.
    pub requests: u64,
    /// Milliseconds: every open invite checked at least this often.
    pub window: i64,
    /// Milliseconds between incremental passes.
    pub interval: i64,
}

/// What to check this pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checks {
    /// Interviews to sweep, with the most pages to read of each this pass.
    pub sweeps: BTreeMap<InterviewKey, u64>,
    /// Participants to read one by one, with their interview.
    pub reads: Vec<(ParticipantKey, InterviewKey)>,
    /// Requests planned (pages and reads).
    pub requests: u64,
    /// Open invites due (they would pass the window before the next pass) left unchecked.
    pub due_left: usize,
    /// Of those, how many are already past the window.
    pub overdue_left: usize,
}

/// One piece of work: a read of one participant, or (part of) a sweep.
enum Unit<'a> {
    Read(&'a OpenInvite),
    Sweep(&'a str),
}

/// Chooses this pass's checks. Deterministic and independent of the order of `open`.
pub fn choose(
    open: &[OpenInvite],
    listings: &BTreeMap<InterviewKey, Listing>,
    budget: &Budget,
    now: i64,
) -> Checks {
    let age = |i: &OpenInvite| i.checked_at.map_or(i64::MAX, |c| now.saturating_sub(c));
    let due = |i: &OpenInvite| age(i) >= budget.window.saturating_sub(budget.interval);
    // Checked within the last half interval (by the previous pass, or a hint): not again.
    let eligible = |i: &OpenInvite| age(i) >= budget.interval / 2;
    let mut by_interview: BTreeMap<&str, Vec<&OpenInvite>> = BTreeMap::new();
    for i in open {
        by_interview.entry(&i.interview).or_default().push(i);
    }
    let mut units: Vec<(i64, Unit<'_>, u64)> = Vec::new();
    let (mut due_cost, mut window_cost) = (0u64, 0u64);
    for (interview, mut invites) in by_interview {
        invites.sort_by(|a, b| age(b).cmp(&age(a)).then(a.participant.cmp(&b.participant)));
        let listing = listings.get(interview).copied().unwrap_or(Listing {
            pages: 1,
            left: None,
        });
        let pages = listing.left.unwrap_or(listing.pages).max(1);
        let chosen: Vec<&OpenInvite> = invites.iter().copied().filter(|i| eligible(i)).collect();
        let n_due = invites.iter().filter(|i| due(i)).count() as u64;
        window_cost += listing.pages.max(1).min(invites.len() as u64);
        let unreadable = chosen.iter().any(|i| i.participant.is_none());
        let sweep = unreadable || listing.left.is_some() || pages <= chosen.len() as u64;
        if sweep {
            if let Some(oldest) = chosen.first() {
                due_cost += if n_due > 0 { pages } else { 0 };
                units.push((age(oldest), Unit::Sweep(interview), pages));
            }
        } else {
            due_cost += n_due;
            units.extend(chosen.into_iter().map(|i| (age(i), Unit::Read(i), 1)));
        }
    }
    // An even share of the window's work, so that checks spread out.
    let passes_per_window = (budget.window / budget.interval.max(1)).max(1) as u64;
    let pace = window_cost.div_ceil(passes_per_window);
    let quota = budget.requests.min(due_cost.max(pace));
    units.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| key(&a.1).cmp(&key(&b.1))));
    let mut checks = Checks::default();
    for (_, unit, cost) in units {
        let room = quota - checks.requests;
        match unit {
            Unit::Read(i) if room >= 1 => {
                if let Some(p) = &i.participant {
                    checks.reads.push((p.clone(), i.interview.clone()));
                    checks.requests += 1;
                }
            }
            Unit::Sweep(interview) if room >= 1 => {
                let pages = cost.min(room);
                checks.sweeps.insert(interview.to_owned(), pages);
                checks.requests += pages;
            }
            _ => {}
        }
    }
    for i in open.iter().filter(|i| due(i)) {
        let covered = match &i.participant {
            Some(p) if checks.reads.iter().any(|(r, _)| r == p) => true,
            _ => checks.sweeps.get(&i.interview).is_some_and(|&n| {
                let l = listings.get(&i.interview);
                n >= l.map_or(1, |l| l.left.unwrap_or(l.pages).max(1))
            }),
        };
        if !covered {
            checks.due_left += 1;
            if age(i) >= budget.window {
                checks.overdue_left += 1;
            }
        }
    }
    checks
}

fn key<'a>(u: &'a Unit<'_>) -> (&'a str, &'a str) {
    match u {
        Unit::Read(i) => (&i.interview, i.participant.as_deref().unwrap_or("")),
        Unit::Sweep(interview) => (interview, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const NOW: i64 = 1_000 * MIN;

    fn budget(requests: u64) -> Budget {
        Budget {
            requests,
            window: 60 * MIN,
            interval: 5 * MIN,
        }
    }

    fn invite(interview: &str, p: &str, checked_ago: Option<i64>) -> OpenInvite {
        OpenInvite {
            interview: interview.into(),
            participant: Some(p.into()),
            checked_at: checked_ago.map(|a| NOW - a),
        }
    }

    fn pages(list: &[(&str, u64)]) -> BTreeMap<InterviewKey, Listing> {
        list.iter()
            .map(|(k, p)| {
                (
                    (*k).to_owned(),
                    Listing {
                        pages: *p,
                        left: None,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn a_few_open_invites_in_a_large_interview_are_read_one_by_one() {
        let open = vec![invite("big", "a", None), invite("big", "b", None)];
        let c = choose(&open, &pages(&[("big", 400)]), &budget(300), NOW);
        assert_eq!(c.reads.len(), 2);
        assert!(c.sweeps.is_empty());
        assert_eq!((c.requests, c.due_left), (2, 0));
    }

    #[test]
    fn many_open_invites_in_a_small_interview_are_swept() {
        let open: Vec<OpenInvite> = (0..40)
            .map(|n| invite("small", &format!("p{n:02}"), None))
            .collect();
        let c = choose(&open, &pages(&[("small", 2)]), &budget(300), NOW);
        assert!(c.reads.is_empty());
        assert_eq!(c.sweeps.get("small"), Some(&2));
        assert_eq!(c.requests, 2);
    }

    #[test]
    fn the_budget_caps_a_pass_and_the_oldest_go_first() {
        let open: Vec<OpenInvite> = (0..10)
            .map(|n| invite("big", &format!("p{n}"), Some((50 + n) * MIN)))
            .collect();
        let c = choose(&open, &pages(&[("big", 400)]), &budget(3), NOW);
        assert_eq!(c.requests, 3);
        let read: Vec<&str> = c.reads.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(read, ["p9", "p8", "p7"]);
        // Due: checked 55 minutes ago or more (p5..p9); p9..p7 were read; p6 and p5 left,
        // neither already past the window.
        assert_eq!((c.due_left, c.overdue_left), (2, 0));
    }

    #[test]
    fn nothing_due_still_spends_an_even_share_of_the_window() {
        // 120 invites read one by one over a 12-pass window: 10 per pass, oldest first.
        let open: Vec<OpenInvite> = (0..120)
            .map(|n| invite("big", &format!("p{n:03}"), Some(10 * MIN + n * 1000)))
            .collect();
        let c = choose(&open, &pages(&[("big", 4000)]), &budget(300), NOW);
        assert_eq!(c.requests, 10);
        assert_eq!(c.reads[0].0, "p119");
        assert_eq!(c.due_left, 0);
    }

    #[test]
    fn invites_checked_in_the_last_half_interval_are_not_checked_again() {
        let open = vec![
            invite("big", "hinted", Some(MIN)),
            invite("big", "old", None),
        ];
        let c = choose(&open, &pages(&[("big", 400)]), &budget(300), NOW);
        let read: Vec<&str> = c.reads.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(read, ["old"]);
    }

    #[test]
    fn a_sweep_larger_than_the_budget_resumes_where_it_stopped() {
        let open: Vec<OpenInvite> = (0..1000)
            .map(|n| invite("huge", &format!("p{n:04}"), None))
            .collect();
        let mut l = pages(&[("huge", 40)]);
        let c = choose(&open, &l, &budget(30), NOW);
        assert_eq!(c.sweeps.get("huge"), Some(&30));
        assert_eq!(c.due_left, 1000);
        if let Some(x) = l.get_mut("huge") {
            x.left = Some(10);
        }
        let c = choose(&open, &l, &budget(30), NOW);
        assert_eq!(c.sweeps.get("huge"), Some(&10));
        assert_eq!((c.requests, c.due_left), (10, 0));
    }

    #[test]
    fn an_invite_without_a_participant_key_is_swept() {
        let mut i = invite("big", "x", None);
        i.participant = None;
        let c = choose(&[i], &pages(&[("big", 4)]), &budget(300), NOW);
        assert_eq!(c.sweeps.get("big"), Some(&4));
    }

    #[test]
    fn the_choice_does_not_depend_on_the_order_of_the_invites() {
        let mut open: Vec<OpenInvite> = (0..50)
            .map(|n| invite(&format!("i{}", n % 3), &format!("p{n:02}"), Some(n * MIN)))
            .collect();
        let l = pages(&[("i0", 100), ("i1", 1), ("i2", 100)]);
        let a = choose(&open, &l, &budget(7), NOW);
        open.reverse();
        assert_eq!(choose(&open, &l, &budget(7), NOW), a);
    }
}
