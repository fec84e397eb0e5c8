//! The narrator: watches the simulated Lever and Willo accounts (and the daemon's
//! needs-attention list) and says, in one line each, what the daemon did and why.
//!
//! It observes effects only — invite emails Willo sent, status tags on Lever opportunities —
//! never the daemon's internals, so what it prints is what a recruiter would see. The story
//! registers what it expects after each of its actions (an [`Expectation`]); the narrator
//! marks them met and names the cause ("via Lever's webhook", "polling caught it").

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::demo::{CATALOG_NAME, Demo};
use crate::domain::attention::AttentionReason;
use crate::domain::tags::{StatusTag, WILLO_PREFIX};
use crate::sim::lever::LeverSim;
use crate::sim::willo::WilloSim;
use crate::store::Store;

/// Where narrative lines go: stdout in the command, a buffer in tests. One line per call,
/// written whole, so lines from the story and the narrator never interleave.
#[derive(Clone)]
pub struct Narrative {
    sink: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl Narrative {
    pub fn stdout() -> Narrative {
        Narrative::to(Box::new(std::io::stdout()))
    }

    pub fn to(sink: Box<dyn Write + Send>) -> Narrative {
        Narrative {
            sink: Arc::new(Mutex::new(sink)),
        }
    }

    pub fn line(&self, text: impl fmt::Display) {
        let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        // A closed stdout (e.g. `| head`) must not stop the demo; the daemon log goes on.
        let _ = writeln!(sink, "{text}");
        let _ = sink.flush();
    }
}

/// Why the story expects a change, which is what the narrator says when it happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The daemon's first full pass, for candidates already in the trigger stage.
    StartUp,
    /// A stage move whose webhook was delivered.
    LeverWebhook,
    /// A stage move whose webhook was dropped.
    LostLeverWebhook,
    /// A Willo change whose webhook (this event) was delivered.
    WilloWebhook(&'static str),
    /// A Willo change whose webhook (this event) was dropped.
    LostWilloWebhook(&'static str),
    /// A status tag removed by hand.
    HandEdit,
}

/// What the story expects to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// An invite email for the opportunity's email (or an adopted participant) and
    /// `Willo:Invited` on the opportunity.
    Invite,
    /// This status tag on the opportunity.
    Tag(StatusTag),
    /// This needs-attention item for the opportunity.
    Attention(AttentionReason),
}

#[derive(Debug, Clone)]
pub struct Expectation {
    pub opportunity: String,
    pub want: Want,
    pub cause: Cause,
    since: Instant,
    met: Option<Duration>,
}

impl Expectation {
    pub fn is_met(&self) -> bool {
        self.met.is_some()
    }
}

/// Totals for the closing line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub invited: usize,
    pub adopted: usize,
    pub tag_changes: usize,
    pub attention: usize,
}

#[derive(Default)]
struct State {
    /// The status tag each opportunity carried when last looked at.
    status: Vec<(String, Option<StatusTag>)>,
    /// Invite emails already reported (an index into Willo's list).
    invites_seen: usize,
    /// Opportunities reported invited or adopted.
    invited: HashSet<String>,
    /// Opportunities whose first `Willo:Invited` was seen (it needs no line of its own).
    invited_tag_seen: HashSet<String>,
    attention: BTreeSet<(String, String)>,
    catalog: Vec<String>,
    expectations: Vec<Expectation>,
    tally: Tally,
}

/// The narrator's memory, shared by the story (which adds expectations and waits on them)
/// and the watching loop.
pub struct Narrator {
    demo: Demo,
    lever: LeverSim,
    willo: WilloSim,
    store: Arc<Store>,
    tenant: String,
    out: Narrative,
    state: Mutex<State>,
    /// Bumped after every look; waiters re-check their condition on each bump.
    looked: watch::Sender<u64>,
}

impl Narrator {
    pub fn new(
        demo: Demo,
        lever: LeverSim,
        willo: WilloSim,
        store: Arc<Store>,
        tenant: &str,
        out: Narrative,
    ) -> Narrator {
        // Start from the seeded world: only changes after this are news.
        let status = demo
            .candidates
            .iter()
            .map(|c| (c.id.clone(), status_of(&lever.tags_of(&c.id))))
            .collect();
        let invites_seen = willo.invites_sent().len();
        Narrator {
            demo,
            lever,
            willo,
            store,
            tenant: tenant.to_owned(),
            out,
            state: Mutex::new(State {
                status,
                invites_seen,
                ..State::default()
            }),
            looked: watch::Sender::new(0),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn out(&self) -> &Narrative {
        &self.out
    }

    pub fn demo(&self) -> &Demo {
        &self.demo
    }

    /// Registers what the story expects next; call it before acting, so that a fast daemon
    /// cannot beat the registration.
    pub fn expect(&self, opportunity: &str, want: Want, cause: Cause) {
        self.state().expectations.push(Expectation {
            opportunity: opportunity.to_owned(),
            want,
            cause,
            since: Instant::now(),
            met: None,
        });
    }

    /// Runs a change the story makes to an opportunity's tags by hand, and takes its result
    /// as the new baseline, so the narrator reports only what the daemon does about it.
    pub fn hand_edit<T>(&self, opportunity: &str, edit: impl FnOnce() -> T) -> T {
        let mut s = self.state();
        let out = edit();
        let now = status_of(&self.lever.tags_of(opportunity));
        if let Some(entry) = s.status.iter_mut().find(|(id, _)| id == opportunity) {
            entry.1 = now;
        }
        out
    }

    pub fn tally(&self) -> Tally {
        self.state().tally
    }

    /// The expectations not met yet, described for people.
    pub fn unmet(&self) -> Vec<String> {
        self.state()
            .expectations
            .iter()
            .filter(|e| !e.is_met())
            .map(|e| {
                let who = self.demo.label(&e.opportunity);
                match e.want {
                    Want::Invite => format!("{who}'s invite"),
                    Want::Tag(t) => format!("{t} on {who}"),
                    Want::Attention(r) => format!("needs-attention ({r}) for {who}"),
                }
            })
            .collect()
    }

    /// Waits until `done` holds for the expectations or `deadline` passes; true if it held.
    pub async fn wait_until(
        &self,
        deadline: tokio::time::Instant,
        done: impl Fn(&[Expectation]) -> bool,
    ) -> bool {
        let mut looked = self.looked.subscribe();
        loop {
            if done(&self.state().expectations) {
                return true;
            }
            match tokio::time::timeout_at(deadline, looked.changed()).await {
                Ok(Ok(())) => {}
                // Timed out, or the narrator is gone.
                _ => return done(&self.state().expectations),
            }
        }
    }

    /// Looks at both accounts every `every` until cancelled.
    pub async fn watch(&self, every: Duration, stop: tokio_util::sync::CancellationToken) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => self.look(),
            }
        }
    }

    /// One look: reports what changed since the last one.
    pub fn look(&self) {
        let mut s = self.state();
        self.invites(&mut s);
        self.status_tags(&mut s);
        self.attention(&mut s);
        self.catalog(&mut s);
        drop(s);
        self.looked.send_modify(|n| *n += 1);
    }

    fn invites(&self, s: &mut State) {
        let sent = self.willo.invites_sent();
        for invite in sent.iter().skip(s.invites_seen) {
            let title = self
                .demo
                .interview_title(&invite.interview)
                .unwrap_or("an interview outside the demo");
            // The same email can belong to several opportunities (one person applying
            // twice): the one the story is waiting for, else one not yet invited.
            let candidates: Vec<_> = self
                .demo
                .candidates
                .iter()
                .filter(|c| {
                    c.email
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(&invite.email))
                        && c.interview.as_deref() == Some(title)
                })
                .collect();
            let pending = candidates.iter().find(|c| {
                s.expectations
                    .iter()
                    .any(|e| e.opportunity == c.id && e.want == Want::Invite && !e.is_met())
            });
            let Some(c) = pending
                .or_else(|| candidates.iter().find(|c| !s.invited.contains(&c.id)))
                .copied()
            else {
                self.out.line(format_args!(
                    "daemon: invited {} to “{title}”",
                    invite.email
                ));
                continue;
            };
            s.invited.insert(c.id.clone());
            s.tally.invited += 1;
            let cause = meet(s, &c.id, Want::Invite);
            let posting = if c.via_posting {
                format!(" (connected through the {} posting's tag)", c.job)
            } else {
                String::new()
            };
            self.out.line(format_args!(
                "daemon: invited {} <{}> to “{title}”{posting}{}",
                c.label,
                invite.email,
                Because(cause)
            ));
        }
        s.invites_seen = sent.len();
    }

    fn status_tags(&self, s: &mut State) {
        for i in 0..s.status.len() {
            let (id, before) = s.status[i].clone();
            let now = status_of(&self.lever.tags_of(&id));
            if now == before {
                continue;
            }
            s.status[i].1 = now;
            let who = self.demo.label(&id);
            let first_invited_tag = before.is_none()
                && now == Some(StatusTag::Invited)
                && s.invited_tag_seen.insert(id.clone());
            match (before, now) {
                (None, Some(StatusTag::Invited))
                    if first_invited_tag && s.invited.contains(&id) =>
                {
                    // The invite line already said it.
                    meet(s, &id, Want::Tag(StatusTag::Invited));
                }
                (None, Some(StatusTag::Invited)) if first_invited_tag => {
                    // Tagged without an invite email: the email was already a participant.
                    s.invited.insert(id.clone());
                    s.tally.adopted += 1;
                    let cause = meet(s, &id, Want::Invite);
                    meet(s, &id, Want::Tag(StatusTag::Invited));
                    let (email, title) = self
                        .demo
                        .candidate(&id)
                        .map(|c| {
                            (
                                c.email.clone().unwrap_or_default(),
                                c.interview.clone().unwrap_or_default(),
                            )
                        })
                        .unwrap_or_default();
                    self.out.line(format_args!(
                        "daemon: tagged {who} {}: {email} was already a participant of “{title}”, \
                         so the daemon adopted it (no second invite email){}",
                        StatusTag::Invited,
                        Because(cause)
                    ));
                }
                (_, Some(tag)) => {
                    s.tally.tag_changes += 1;
                    let cause = meet(s, &id, Want::Tag(tag));
                    let change = match before {
                        Some(old) => format!("{old} → {tag}"),
                        None => format!("tagged {tag}"),
                    };
                    self.out
                        .line(format_args!("daemon: {who}: {change}{}", Because(cause)));
                }
                (Some(old), None) => {
                    s.tally.tag_changes += 1;
                    self.out.line(format_args!("daemon: {who}: {old} removed"));
                }
                (None, None) => {}
            }
        }
    }

    fn attention(&self, s: &mut State) {
        let rows = match self.store.read(|r| r.attention(&self.tenant)) {
            Ok(rows) => rows,
            // The daemon's own log reports store problems; the narrative just skips a look.
            Err(_) => return,
        };
        for row in rows {
            let key = (row.opportunity_id.clone(), row.reason.clone());
            if !s.attention.insert(key) {
                continue;
            }
            s.tally.attention += 1;
            let reason = row.reason.parse::<AttentionReason>().ok();
            let cause = reason.and_then(|r| meet(s, &row.opportunity_id, Want::Attention(r)));
            let why = match reason {
                Some(AttentionReason::NoEmail) => "no email address, so there is nobody to invite",
                Some(AttentionReason::NoConsent) => "the candidate declined contact, so no invite",
                Some(AttentionReason::InviteRejected) => "Willo refused the invite",
                Some(AttentionReason::LookupInconclusive) => {
                    "Willo lists participants without an email, so no invite until someone checks"
                }
                Some(AttentionReason::NoAccess) => "Lever does not show it to the daemon's key",
                None => row.reason.as_str(),
            };
            self.out.line(format_args!(
                "daemon: {} needs attention: {why}{}",
                self.demo.label(&row.opportunity_id),
                Because(cause)
            ));
        }
    }

    fn catalog(&self, s: &mut State) {
        let mut tags: Vec<String> = self
            .lever
            .tags_of(&self.demo.catalog_opportunity)
            .into_iter()
            .filter(|t| t.starts_with(WILLO_PREFIX))
            .collect();
        tags.sort();
        if tags == s.catalog || tags.is_empty() {
            return;
        }
        s.catalog = tags.clone();
        let interviews: Vec<&str> = tags
            .iter()
            .map(String::as_str)
            .filter(|t| StatusTag::from_tag(t).is_none())
            .collect();
        let status = tags.len() - interviews.len();
        self.out.line(format_args!(
            "daemon: the tag catalog (placeholder candidate “{CATALOG_NAME}”) now carries {}{}, \
             so they show in Lever's tag picker",
            interviews.join(", "),
            match status {
                0 => String::new(),
                4 => " and the four status tags".to_owned(),
                n => format!(" and {n} status tags"),
            }
        ));
    }
}

/// The status tag an opportunity carries (the first, should a person have added two).
fn status_of(tags: &[String]) -> Option<StatusTag> {
    tags.iter().find_map(|t| StatusTag::from_tag(t))
}

/// Marks the oldest unmet expectation for (opportunity, want) met; returns its cause and
/// how long it took.
fn meet(s: &mut State, opportunity: &str, want: Want) -> Option<(Cause, Duration)> {
    let e = s
        .expectations
        .iter_mut()
        .find(|e| e.opportunity == opportunity && e.want == want && !e.is_met())?;
    let took = e.since.elapsed();
    e.met = Some(took);
    Some((e.cause, took))
}

/// " — 0.4 s after the move, via Lever's webhook", or nothing for unexpected changes.
struct Because(Option<(Cause, Duration)>);

impl fmt::Display for Because {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((cause, took)) = self.0 else {
            return Ok(());
        };
        let t = format!("{:.1} s", took.as_secs_f64());
        match cause {
            Cause::StartUp => write!(f, " — start-up full pass"),
            Cause::LeverWebhook => write!(f, " — {t} after the move, via Lever's webhook"),
            Cause::LostLeverWebhook => write!(
                f,
                " — {t} after the move; its webhook was lost, so polling caught it"
            ),
            Cause::WilloWebhook(event) => write!(f, " — {t} after Willo's {event} webhook"),
            Cause::LostWilloWebhook(event) => write!(
                f,
                " — {t} later; Willo's {event} webhook was lost, so polling caught it"
            ),
            Cause::HandEdit => write!(
                f,
                " — {t} after it was removed by hand (passes repair drift)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::lever::LeverSimConfig;
    use crate::sim::willo::{ParticipantSeed, WilloSimConfig};

    /// A narrative sink tests can read.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Buffer {
        fn take(&self) -> String {
            String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
        }
    }

    struct Fixture {
        lever: LeverSim,
        willo: WilloSim,
        narrator: Narrator,
        out: Buffer,
    }

    impl Fixture {
        async fn new() -> Fixture {
            let lever = LeverSim::start(LeverSimConfig::for_tests()).await.unwrap();
            let willo = WilloSim::start(WilloSimConfig::for_tests()).await.unwrap();
            let demo = Demo::seed(&lever, &willo).unwrap();
            let out = Buffer::default();
            let narrator = Narrator::new(
                demo,
                lever.clone(),
                willo.clone(),
                Arc::new(Store::open_memory().unwrap()),
                "demo",
                Narrative::to(Box::new(out.clone())),
            );
            Fixture {
                lever,
                willo,
                narrator,
                out,
            }
        }

        /// Does what the daemon does for an invite: a participant (Willo sends the invite
        /// email) and `Willo:Invited`.
        fn daemon_invites(&self, id: &str) {
            let c = self.narrator.demo().candidate(id).unwrap().clone();
            let interview = self
                .narrator
                .demo()
                .interviews
                .iter()
                .find(|i| Some(&i.title) == c.interview.as_ref())
                .unwrap()
                .key
                .clone();
            self.willo
                .add_participant(ParticipantSeed::new(
                    &interview,
                    &c.label,
                    c.email.as_deref().unwrap(),
                ))
                .unwrap();
            self.lever
                .add_tags_by_hand(id, &[StatusTag::Invited.as_str()])
                .unwrap();
        }
    }

    #[tokio::test]
    async fn an_invite_is_told_with_the_cause_the_story_registered() {
        let f = Fixture::new().await;
        let ada = f.narrator.demo().actors.ada.clone();
        f.narrator.expect(&ada, Want::Invite, Cause::LeverWebhook);
        f.narrator.look();
        assert_eq!(f.out.take(), "", "nothing happened yet");
        assert_eq!(f.narrator.unmet().len(), 1);

        f.daemon_invites(&ada);
        f.narrator.look();
        let text = f.out.take();
        assert!(
            text.starts_with(
                "daemon: invited Ada Lovelace <ada.lovelace@example.com> to “Product Manager” — "
            ),
            "{text}"
        );
        assert!(
            text.contains("after the move, via Lever's webhook"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1, "the tag is not told twice: {text}");
        assert!(f.narrator.unmet().is_empty());
        assert_eq!(f.narrator.tally().invited, 1);
    }

    #[tokio::test]
    async fn a_status_tag_without_a_new_invite_email_is_told_as_an_adoption() {
        let f = Fixture::new().await;
        let (grace, referral) = {
            let a = &f.narrator.demo().actors;
            (a.grace.clone(), a.grace_referral.clone())
        };
        f.daemon_invites(&grace);
        f.narrator.look();
        assert!(f.out.take().contains("daemon: invited Grace Hopper <"));

        f.narrator
            .expect(&referral, Want::Invite, Cause::LostLeverWebhook);
        f.lever
            .add_tags_by_hand(&referral, &[StatusTag::Invited.as_str()])
            .unwrap();
        f.narrator.look();
        let text = f.out.take();
        assert!(
            text.contains("Grace Hopper's second opportunity Willo:Invited"),
            "{text}"
        );
        assert!(
            text.contains("adopted it (no second invite email)"),
            "{text}"
        );
        assert!(
            text.contains("its webhook was lost, so polling caught it"),
            "{text}"
        );
        assert_eq!(f.narrator.tally().adopted, 1);
        assert!(f.narrator.unmet().is_empty());
    }

    #[tokio::test]
    async fn the_storys_hand_edits_are_not_told_as_the_daemons_but_the_repair_is() {
        let f = Fixture::new().await;
        let alan = f.narrator.demo().actors.alan.clone();
        f.daemon_invites(&alan);
        f.narrator.look();
        f.out.take();

        let tag = StatusTag::Invited;
        f.narrator.expect(&alan, Want::Tag(tag), Cause::HandEdit);
        f.narrator
            .hand_edit(&alan, || {
                f.lever.remove_tags_by_hand(&alan, &[tag.as_str()])
            })
            .unwrap();
        f.narrator.look();
        assert_eq!(f.out.take(), "", "the removal was the story's own");

        f.lever.add_tags_by_hand(&alan, &[tag.as_str()]).unwrap();
        f.narrator.look();
        let text = f.out.take();
        assert!(
            text.starts_with("daemon: Alan Turing: tagged Willo:Invited — "),
            "{text}"
        );
        assert!(text.contains("after it was removed by hand"), "{text}");
    }

    #[tokio::test]
    async fn waiting_ends_when_the_expectation_is_met_or_at_the_deadline() {
        let f = Fixture::new().await;
        let ada = f.narrator.demo().actors.ada.clone();
        f.narrator.expect(&ada, Want::Invite, Cause::LeverWebhook);
        let all_met = |es: &[Expectation]| es.iter().all(Expectation::is_met);
        let soon = tokio::time::Instant::now() + Duration::from_millis(1);
        assert!(!f.narrator.wait_until(soon, all_met).await);

        let later = tokio::time::Instant::now() + Duration::from_secs(30);
        let (met, ()) = tokio::join!(f.narrator.wait_until(later, all_met), async {
            f.daemon_invites(&ada);
            f.narrator.look();
        });
        assert!(met);
    }
}
