//! Fault injection shared by both simulators, deterministic from a seed.
//!
//! A [`FaultPlan`] is a list of rules; each rule targets a method and/or route template and
//! fires on some of the matching requests ([`Trigger`]). Decisions come from
//! `hash(seed, rule, n)` for the rule's n-th match, so a plan replays the same way every run.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::ids::unit_draw;

/// Which of a rule's matching requests it hits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trigger {
    /// Every matching request.
    Always,
    /// A seeded share of matching requests, `0.0..=1.0`.
    Share(f64),
    /// Only the n-th matching request (1-based, counted from when the plan was set).
    Nth(u64),
    /// The first n matching requests.
    FirstN(u64),
}

/// What a rule does to a request it hits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// Answer this status (e.g. 500, 503) WITHOUT applying the request.
    Status(u16),
    /// Apply the request, then answer this status instead of the real response (a write that
    /// happened although the client saw an error).
    StatusAfterApply(u16),
    /// Answer 429 without applying the request, optionally with `Retry-After: secs`.
    TooManyRequests {
        /// Seconds for the `Retry-After` header; `None` sends no header.
        retry_after: Option<u64>,
    },
    /// Wait this long before handling the request.
    Latency(Duration),
    /// Apply the request, send the status line and headers (with the full `Content-Length`)
    /// and `after_bytes` bytes of the body, then close the connection. The client sees an
    /// error while reading the body, never a clean response.
    DropConnection {
        /// Body bytes sent before the connection is closed; 0 = right after the headers.
        after_bytes: usize,
    },
    /// Apply the request and answer its real status with only the first `keep` share
    /// (`0.0..1.0`) of the body: a clean HTTP response whose JSON does not parse.
    TruncateBody {
        /// Share of the body kept.
        keep: f64,
    },
    /// Apply the request and answer 200 with a list page whose item array is broken in the
    /// chosen way (Lever's `data`, Willo's `results`). Responses that are not a list page
    /// (errors, single objects) pass unchanged.
    MalformedPage(PageDefect),
}

/// How [`Fault::MalformedPage`] breaks a list page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageDefect {
    /// The item array is missing from the envelope (`{"hasNext": false}`).
    MissingItems,
    /// The item array is an object (`{"data": {}, ...}`).
    ItemsObject,
    /// The item array is null (`{"data": null, ...}`).
    ItemsNull,
    /// The whole body is the bare item array (`[{...}, ...]`), no envelope.
    BareArray,
}

/// One fault-injection rule.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// Method to match (`None` = any), compared case-insensitively.
    pub method: Option<String>,
    /// Route template to match, e.g. `/v1/opportunities/{id}/addTags` (`None` = any).
    pub route: Option<String>,
    /// Only requests whose concrete path contains this text (`None` = any), e.g. one id.
    pub path_contains: Option<String>,
    /// Which matching requests it hits.
    pub trigger: Trigger,
    /// What it does.
    pub fault: Fault,
}

impl FaultRule {
    /// A rule that hits every request with `fault`; narrow it with the builder methods.
    pub fn new(fault: Fault) -> Self {
        FaultRule {
            method: None,
            route: None,
            path_contains: None,
            trigger: Trigger::Always,
            fault,
        }
    }

    /// Only requests with this method and route template.
    pub fn on(mut self, method: &str, route: &str) -> Self {
        self.method = Some(method.to_owned());
        self.route = Some(route.to_owned());
        self
    }

    /// Only requests to this route template (any method).
    pub fn route(mut self, route: &str) -> Self {
        self.route = Some(route.to_owned());
        self
    }

    /// Only requests with this method (any route).
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_owned());
        self
    }

    /// Only requests whose concrete path contains `text` (e.g. one opportunity's id).
    pub fn path_contains(mut self, text: &str) -> Self {
        self.path_contains = Some(text.to_owned());
        self
    }

    /// Hit a seeded share of the matching requests.
    pub fn share(mut self, share: f64) -> Self {
        self.trigger = Trigger::Share(share);
        self
    }

    /// Hit only the n-th matching request (1-based).
    pub fn nth(mut self, n: u64) -> Self {
        self.trigger = Trigger::Nth(n);
        self
    }

    /// Hit the first n matching requests.
    pub fn first(mut self, n: u64) -> Self {
        self.trigger = Trigger::FirstN(n);
        self
    }

    fn matches(&self, method: &str, route: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.route.as_deref().is_none_or(|r| r == route)
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| path.contains(p))
    }
}

/// A set of rules plus the seed their shares are drawn from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultPlan {
    /// Seed for [`Trigger::Share`] decisions.
    pub seed: u64,
    /// The rules, all evaluated for every request.
    pub rules: Vec<FaultRule>,
}

impl FaultPlan {
    /// An empty plan with this seed.
    pub fn seeded(seed: u64) -> Self {
        FaultPlan {
            seed,
            rules: Vec::new(),
        }
    }

    /// Adds a rule.
    pub fn with(mut self, rule: FaultRule) -> Self {
        self.rules.push(rule);
        self
    }
}

/// What the gate does before the handler runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Before {
    Status(u16),
    TooMany(Option<u64>),
}

/// What the gate does to the handler's response.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum After {
    Status(u16),
    Drop(usize),
    Truncate(f64),
    Malformed(PageDefect),
}

/// The combined decision for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Decision {
    pub(crate) latency: Duration,
    pub(crate) before: Option<Before>,
    pub(crate) after: Option<After>,
}

#[derive(Debug, Default)]
struct State {
    plan: FaultPlan,
    matches: Vec<u64>,
    storm: Option<(Instant, Option<u64>)>,
}

/// The live fault switchboard of one simulator.
#[derive(Debug, Default)]
pub struct Faults {
    state: Mutex<State>,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the plan; match counters restart.
    pub fn set(&self, plan: FaultPlan) {
        let mut s = self.lock();
        s.matches = vec![0; plan.rules.len()];
        s.plan = plan;
    }

    /// Adds one rule to the current plan.
    pub fn add(&self, rule: FaultRule) {
        let mut s = self.lock();
        s.plan.rules.push(rule);
        s.matches.push(0);
    }

    /// Removes every rule and ends any storm.
    pub fn clear(&self) {
        let mut s = self.lock();
        s.plan.rules.clear();
        s.matches.clear();
        s.storm = None;
    }

    /// Every request answers 429 (applying nothing) for `window` from now, with
    /// `Retry-After: retry_after` when given. Uses tokio's clock, so a paused test clock works.
    pub fn storm_429(&self, window: Duration, retry_after: Option<u64>) {
        self.lock().storm = Some((Instant::now() + window, retry_after));
    }

    /// Ends a 429 storm early.
    pub fn end_storm(&self) {
        self.lock().storm = None;
    }

    pub(crate) fn decide(&self, method: &str, route: &str, path: &str) -> Decision {
        let mut s = self.lock();
        let mut d = Decision::default();
        if let Some((until, retry_after)) = s.storm {
            if Instant::now() < until {
                d.before = Some(Before::TooMany(retry_after));
            } else {
                s.storm = None;
            }
        }
        let seed = s.plan.seed;
        let State { plan, matches, .. } = &mut *s;
        for (i, rule) in plan.rules.iter().enumerate() {
            if !rule.matches(method, route, path) {
                continue;
            }
            let n = {
                let c = &mut matches[i];
                *c += 1;
                *c
            };
            let hit = match rule.trigger {
                Trigger::Always => true,
                Trigger::Share(p) => unit_draw(seed, i as u64, n) < p,
                Trigger::Nth(k) => n == k,
                Trigger::FirstN(k) => n <= k,
            };
            if !hit {
                continue;
            }
            match rule.fault {
                Fault::Latency(l) => d.latency += l,
                Fault::Status(code) => {
                    d.before.get_or_insert(Before::Status(code));
                }
                Fault::TooManyRequests { retry_after } => {
                    d.before.get_or_insert(Before::TooMany(retry_after));
                }
                Fault::StatusAfterApply(code) => {
                    d.after.get_or_insert(After::Status(code));
                }
                Fault::DropConnection { after_bytes } => {
                    d.after.get_or_insert(After::Drop(after_bytes));
                }
                Fault::TruncateBody { keep } => {
                    d.after.get_or_insert(After::Truncate(keep));
                }
                Fault::MalformedPage(defect) => {
                    d.after.get_or_insert(After::Malformed(defect));
                }
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_count_matching_requests_only() {
        let f = Faults::default();
        f.set(
            FaultPlan::seeded(1).with(FaultRule::new(Fault::Status(503)).on("POST", "/a").nth(2)),
        );
        assert_eq!(f.decide("GET", "/a", "/a").before, None);
        assert_eq!(f.decide("POST", "/a", "/a").before, None);
        assert_eq!(f.decide("GET", "/b", "/b").before, None);
        assert_eq!(
            f.decide("post", "/a", "/a").before,
            Some(Before::Status(503))
        );
        assert_eq!(f.decide("POST", "/a", "/a").before, None);
    }

    #[test]
    fn shares_replay_from_the_seed() {
        let run = |seed| {
            let f = Faults::default();
            f.set(FaultPlan::seeded(seed).with(FaultRule::new(Fault::Status(500)).share(0.5)));
            (0..64)
                .map(|_| f.decide("GET", "/x", "/x").before.is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
    }
}
