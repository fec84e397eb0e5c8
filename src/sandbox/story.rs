//! The story: what happens in the demo account while the daemon runs. Candidates move into
//! the trigger stage (some webhooks lost on purpose), complete their interviews, and are
//! accepted or rejected; a recruiter removes a status tag by hand. Each action is one
//! `story:` line; the [`Narrator`] reports what the daemon did about it.

use std::time::Duration;

use super::demo::{Candidate, OFFICE_MANAGER, TRIGGER_STAGE};
use super::narrator::{Cause, Narrator, Want};
use crate::domain::attention::AttentionReason;
use crate::domain::tags::StatusTag;
use crate::sim::SimError;
use crate::sim::lever::LeverSim;
use crate::sim::webhook::DropRule;
use crate::sim::willo::{WilloEvent, WilloSim};

/// How the story is paced and how long it waits for the daemon.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Between two story actions.
    pub pace: Duration,
    /// The longest wait for the daemon's start-up full pass.
    pub start_up: Duration,
    /// The longest wait, after the last action, for everything to be reconciled: enough
    /// for the polling to catch the lost webhooks (a few incremental intervals).
    pub catch_up: Duration,
}

/// One step of the story.
#[derive(Debug, Clone, Copy)]
enum Beat {
    /// Move into the trigger stage; `lost`: the webhook is dropped.
    Move { who: Who, lost: bool },
    /// The participant submits their responses (`new_response`).
    Complete { who: Who, lost: bool },
    /// A reviewer decides (`stage_change`).
    Decide { who: Who, accept: bool },
    /// A recruiter removes the status tag by hand.
    RemoveTag { who: Who },
}

impl Beat {
    fn who(self) -> Who {
        match self {
            Beat::Move { who, .. }
            | Beat::Complete { who, .. }
            | Beat::Decide { who, .. }
            | Beat::RemoveTag { who } => who,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Who {
    Ada,
    Edsger,
    Donald,
    Hedy,
    GraceReferral,
    Barbara,
    Alan,
    Katherine,
    Margaret,
    Grace,
}

const BEATS: [Beat; 13] = [
    Beat::Move {
        who: Who::Ada,
        lost: false,
    },
    Beat::Move {
        who: Who::Edsger,
        lost: true,
    },
    Beat::Complete {
        who: Who::Alan,
        lost: false,
    },
    Beat::Move {
        who: Who::Donald,
        lost: false,
    },
    Beat::Move {
        who: Who::Hedy,
        lost: false,
    },
    Beat::Complete {
        who: Who::Katherine,
        lost: true,
    },
    Beat::Decide {
        who: Who::Alan,
        accept: true,
    },
    Beat::Move {
        who: Who::GraceReferral,
        lost: false,
    },
    Beat::Complete {
        who: Who::Margaret,
        lost: false,
    },
    Beat::Move {
        who: Who::Barbara,
        lost: true,
    },
    Beat::Decide {
        who: Who::Margaret,
        accept: false,
    },
    Beat::Complete {
        who: Who::Grace,
        lost: false,
    },
    Beat::RemoveTag { who: Who::Alan },
];

pub struct Story<'a> {
    narrator: &'a Narrator,
    lever: LeverSim,
    willo: WilloSim,
    timing: Timing,
}

impl<'a> Story<'a> {
    pub fn new(narrator: &'a Narrator, lever: LeverSim, willo: WilloSim, timing: Timing) -> Self {
        Story {
            narrator,
            lever,
            willo,
            timing,
        }
    }

    fn say(&self, text: impl std::fmt::Display) {
        self.narrator.out().line(format_args!("story: {text}"));
    }

    fn candidate(&self, who: Who) -> Option<&Candidate> {
        let a = &self.narrator.demo().actors;
        let id = match who {
            Who::Ada => &a.ada,
            Who::Edsger => &a.edsger,
            Who::Donald => &a.donald,
            Who::Hedy => &a.hedy,
            Who::GraceReferral => &a.grace_referral,
            Who::Barbara => &a.barbara,
            Who::Alan => &a.alan,
            Who::Katherine => &a.katherine,
            Who::Margaret => &a.margaret,
            Who::Grace => &a.grace,
        };
        self.narrator.demo().candidate(id)
    }

    /// What the daemon's start-up full pass must do: invite everyone connected who is
    /// already in the trigger stage, and flag those it must not invite.
    pub fn expect_start_up(&self) {
        for c in &self.narrator.demo().candidates {
            if !c.starts_in_trigger || c.interview.is_none() {
                continue;
            }
            let want = if c.email.is_none() {
                Want::Attention(AttentionReason::NoEmail)
            } else if c.declined_contact {
                Want::Attention(AttentionReason::NoConsent)
            } else {
                Want::Invite
            };
            self.narrator.expect(&c.id, want, Cause::StartUp);
        }
    }

    /// Plays the whole story, then waits for the daemon to catch up and says how it ended.
    pub async fn play(&self) {
        let n = self.narrator;
        let start_up = n.demo().invited_at_start().count();
        self.say(format_args!(
            "the daemon starts with a full pass: {start_up} connected candidates are already in \
             {TRIGGER_STAGE}, two more cannot be invited (no email; declined contact)"
        ));
        let deadline = tokio::time::Instant::now() + self.timing.start_up;
        if !n
            .wait_until(deadline, |es| es.iter().all(|e| e.is_met()))
            .await
        {
            self.say(format_args!(
                "the start-up pass has not finished after {} s; going on (see the log on stderr)",
                self.timing.start_up.as_secs()
            ));
        }
        for beat in BEATS {
            tokio::time::sleep(self.timing.pace).await;
            // Keep the story causal: a reviewer decides only once the completion shows.
            self.settled(beat.who()).await;
            if let Err(e) = self.beat(beat) {
                self.say(format_args!("could not play {beat:?}: {e}"));
            }
        }
        self.finish().await;
    }

    async fn finish(&self) {
        let n = self.narrator;
        if !n.unmet().is_empty() {
            self.say(format_args!(
                "that was the last action; waiting for the daemon to catch up with the lost \
                 webhooks (up to {} s)",
                self.timing.catch_up.as_secs()
            ));
        }
        let deadline = tokio::time::Instant::now() + self.timing.catch_up;
        let all = n
            .wait_until(deadline, |es| es.iter().all(|e| e.is_met()))
            .await;
        if let Some(hedy) = self.candidate(Who::Hedy) {
            let tags = self.lever.tags_of(&hedy.id);
            if tags.iter().any(|t| StatusTag::from_tag(t).is_some()) {
                self.say(format_args!(
                    "unexpected: {} was tagged although her job is not connected to an interview",
                    hedy.label
                ));
            } else {
                self.say(format_args!(
                    "as expected, {} was not invited: the {OFFICE_MANAGER} job is not connected \
                     to any interview",
                    hedy.label
                ));
            }
        }
        let t = n.tally();
        if all {
            self.say(format_args!(
                "over — everything converged: {} invited, {} adopted (no second email), {} \
                 status-tag changes, {} needing attention. The daemon keeps running (it polls on \
                 its schedule and takes webhooks); Ctrl-C stops it.",
                t.invited, t.adopted, t.tag_changes, t.attention
            ));
        } else {
            self.say(format_args!(
                "over, but still waiting for: {}. The daemon keeps running; see its log on stderr. \
                 Ctrl-C stops it.",
                n.unmet().join(", ")
            ));
        }
    }

    /// Waits (bounded) until what the story expects of this candidate so far has happened.
    async fn settled(&self, who: Who) {
        let Some(id) = self.candidate(who).map(|c| c.id.clone()) else {
            return;
        };
        let deadline = tokio::time::Instant::now() + self.timing.catch_up;
        self.narrator
            .wait_until(deadline, |es| {
                es.iter()
                    .filter(|e| e.opportunity == id)
                    .all(|e| e.is_met())
            })
            .await;
    }

    fn beat(&self, beat: Beat) -> Result<(), SimError> {
        match beat {
            Beat::Move { who, lost } => self.move_into_trigger(who, lost),
            Beat::Complete { who, lost } => self.willo_change(who, "Completed", lost),
            Beat::Decide { who, accept } => {
                self.willo_change(who, if accept { "Accepted" } else { "Rejected" }, false)
            }
            Beat::RemoveTag { who } => self.remove_tag(who),
        }
    }

    fn move_into_trigger(&self, who: Who, lost: bool) -> Result<(), SimError> {
        let Some(c) = self.candidate(who) else {
            return Ok(());
        };
        let connected = c.interview.is_some();
        let why = match (connected, lost) {
            (false, _) => format!(
                "no interview is connected to the {} job: nothing should happen",
                c.job
            ),
            (true, true) => "webhook dropped: polling will catch it".to_owned(),
            (true, false) if c.via_posting => format!(
                "webhook delivered; the opportunity has no interview tag, its {} posting does",
                c.job
            ),
            (true, false) if c.job == "referral" => {
                "webhook delivered; the same email was invited at start".to_owned()
            }
            (true, false) => "webhook delivered".to_owned(),
        };
        if connected {
            self.narrator.expect(
                &c.id,
                Want::Invite,
                if lost {
                    Cause::LostLeverWebhook
                } else {
                    Cause::LeverWebhook
                },
            );
        }
        self.lever.drop_webhooks(if lost {
            DropRule::Subject(c.id.clone())
        } else {
            DropRule::None
        });
        let moved = self
            .lever
            .move_stage(&c.id, &self.narrator.demo().trigger_stage);
        self.lever.drop_webhooks(DropRule::None);
        moved?;
        self.say(format_args!(
            "moved {} ({}) into {TRIGGER_STAGE} ({why})",
            c.label, c.role
        ));
        Ok(())
    }

    /// Sets the participant's state on the Willo board and sends (or loses) the webhook.
    fn willo_change(&self, who: Who, state: &str, lost: bool) -> Result<(), SimError> {
        let Some(c) = self.candidate(who) else {
            return Ok(());
        };
        let Some(participant) = self.participant_of(c) else {
            self.say(format_args!(
                "skipped: {} has no Willo participant yet (the start-up pass has not invited them)",
                c.label
            ));
            return Ok(());
        };
        let (event, tag, what) = match state {
            "Completed" => (
                WilloEvent::NewResponse,
                StatusTag::ToReview,
                format!(
                    "{} completed the {} interview",
                    c.label,
                    c.interview.as_deref().unwrap_or_default()
                ),
            ),
            "Accepted" => (
                WilloEvent::StageChange,
                StatusTag::Accepted,
                format!("a reviewer accepted {} in Willo", c.label),
            ),
            _ => (
                WilloEvent::StageChange,
                StatusTag::Rejected,
                format!("a reviewer rejected {} in Willo", c.label),
            ),
        };
        let cause = if lost {
            Cause::LostWilloWebhook(event.as_str())
        } else {
            Cause::WilloWebhook(event.as_str())
        };
        // Every opportunity that shares this participant (one person applying twice)
        // follows it.
        for other in self.sharing_participant(c) {
            self.narrator.expect(&other.id, Want::Tag(tag), cause);
        }
        self.willo.set_participant_state(&participant, state)?;
        self.willo.drop_webhooks(if lost {
            DropRule::Subject(participant.clone())
        } else {
            DropRule::None
        });
        let sent = self.willo.emit(event, &participant);
        self.willo.drop_webhooks(DropRule::None);
        sent?;
        let note = if lost {
            format!("{} webhook dropped: polling will catch it", event.as_str())
        } else {
            format!("Willo sends {}", event.as_str())
        };
        self.say(format_args!("{what} ({note})"));
        Ok(())
    }

    fn remove_tag(&self, who: Who) -> Result<(), SimError> {
        let Some(c) = self.candidate(who) else {
            return Ok(());
        };
        let tags = self.lever.tags_of(&c.id);
        let Some(tag) = tags.iter().find_map(|t| StatusTag::from_tag(t)) else {
            self.say(format_args!(
                "skipped: {} carries no status tag to remove",
                c.label
            ));
            return Ok(());
        };
        self.narrator.expect(&c.id, Want::Tag(tag), Cause::HandEdit);
        self.narrator.hand_edit(&c.id, || {
            self.lever.remove_tags_by_hand(&c.id, &[tag.as_str()])
        })?;
        self.say(format_args!(
            "a recruiter removed {tag} from {} by hand (the next pass puts it back)",
            c.label
        ));
        Ok(())
    }

    /// The candidate and any other opportunity of the same email, connected to the same
    /// interview and already carrying a status tag (an adopted participant).
    fn sharing_participant<'c>(&'c self, c: &'c Candidate) -> Vec<&'c Candidate> {
        self.narrator
            .demo()
            .candidates
            .iter()
            .filter(|o| {
                o.id == c.id
                    || (o.email.is_some()
                        && o.email == c.email
                        && o.interview == c.interview
                        && self
                            .lever
                            .tags_of(&o.id)
                            .iter()
                            .any(|t| StatusTag::from_tag(t).is_some()))
            })
            .collect()
    }

    fn participant_of(&self, c: &Candidate) -> Option<String> {
        let email = c.email.as_deref()?;
        let title = c.interview.as_deref()?;
        let interview = self
            .narrator
            .demo()
            .interviews
            .iter()
            .find(|i| i.title == title)?;
        self.willo
            .participants(&interview.key)
            .into_iter()
            .find(|p| p.email.eq_ignore_ascii_case(email))
            .map(|p| p.key)
    }
}
