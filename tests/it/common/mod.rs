//! Shared by the planner's case tests and property tests: a world builder, a one-line rendering
//! of actions and warnings, and a simulation of applying a plan.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use willo_lever_sync::domain::Millis;
use willo_lever_sync::domain::attention::AttentionReason;
use willo_lever_sync::domain::email::email_key;
use willo_lever_sync::domain::invite::InviteState;
use willo_lever_sync::domain::note::NoteState;
use willo_lever_sync::domain::status_map::StatusMap;
use willo_lever_sync::domain::tags::TagTemplate;
use willo_lever_sync::plan::{
    Action, Interview, InviteRecord, KnownInterview, KnownParticipant, Memory, Observed,
    Opportunity, Participant, Plan, Rules, Scope, Warning, plan,
};

pub const INVITED: &str = "Willo:Invited";
pub const TO_REVIEW: &str = "Willo:To Review";
pub const ACCEPTED: &str = "Willo:Accepted";
pub const REJECTED: &str = "Willo:Rejected";
pub const TRIGGER: &str = "stage-screen";
pub const NOW: Millis = 1_000_000;

/// Everything the planner is given.
#[derive(Debug, Clone)]
pub struct World {
    pub rules: Rules,
    pub observed: Observed,
    pub memory: Memory,
    pub now: Millis,
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}

impl World {
    /// Account "Acme", default template and status map, trigger stage `TRIGGER`, posting tags
    /// matched, no catalog; a full observation with no interviews, postings or opportunities.
    pub fn new() -> World {
        World {
            rules: Rules {
                account_name: "Acme".into(),
                tag_template: TagTemplate::default(),
                trigger_stage_ids: [TRIGGER.to_owned()].into(),
                match_posting_tags: true,
                status_map: StatusMap::default(),
                catalog_opportunity_id: None,
                catalog_max_tags: 500,
                // Off here: the completion-note cases turn it on, so the other cases
                // keep naming only the actions they are about.
                completion_note: false,
            },
            observed: Observed {
                scope: Scope::Full,
                interviews: Some(Vec::new()),
                postings: Some(BTreeMap::new()),
                opportunities: Vec::new(),
                deleted: BTreeSet::new(),
                participants: Vec::new(),
                catalog: None,
            },
            memory: Memory::default(),
            now: NOW,
        }
    }

    pub fn rules(mut self, f: impl FnOnce(&mut Rules)) -> World {
        f(&mut self.rules);
        self
    }

    /// A Willo interview listed now.
    pub fn interview(mut self, key: &str, title: &str) -> World {
        self.observed
            .interviews
            .get_or_insert_with(Vec::new)
            .push(Interview {
                key: key.into(),
                title: title.into(),
            });
        self
    }

    /// Interviews not observed this time (a targeted reconcile).
    pub fn interviews_unobserved(mut self) -> World {
        self.observed.interviews = None;
        self.observed.scope = Scope::Targeted;
        self
    }

    /// Postings not observed this time.
    pub fn postings_unobserved(mut self) -> World {
        self.observed.postings = None;
        self
    }

    /// An interview the store remembers, with every tag issued for it.
    pub fn known_interview(mut self, key: &str, title: &str, issued: &[&str], open: bool) -> World {
        let current = self.rules.interview_tag(title);
        let mut issued: BTreeSet<String> = issued.iter().map(|s| s.to_string()).collect();
        issued.insert(current.clone());
        self.memory.interviews.push(KnownInterview {
            key: key.into(),
            title: title.into(),
            current_tag: current,
            issued_tags: issued,
            open,
        });
        self
    }

    pub fn posting(mut self, id: &str, tags: &[&str]) -> World {
        self.observed
            .postings
            .get_or_insert_with(BTreeMap::new)
            .insert(id.into(), tags.iter().map(|s| s.to_string()).collect());
        self
    }

    pub fn known_posting(mut self, id: &str, tags: &[&str]) -> World {
        self.memory
            .posting_tags
            .insert(id.into(), tags.iter().map(|s| s.to_string()).collect());
        self
    }

    pub fn opp(mut self, o: Opp) -> World {
        self.observed.opportunities.push(o.0);
        self
    }

    /// A participant read from Willo now.
    pub fn participant(
        mut self,
        key: &str,
        interview: &str,
        email: &str,
        state: Option<&str>,
    ) -> World {
        self.observed.participants.push(Participant {
            key: key.into(),
            interview_key: interview.into(),
            email: Some(email.into()),
            state: state.map(str::to_owned),
            updated_at: None,
            response_link: None,
        });
        self
    }

    /// A participant state the store remembers.
    pub fn known_participant(
        mut self,
        key: &str,
        state: Option<&str>,
        changed_at: Millis,
    ) -> World {
        self.memory.participants.insert(
            key.into(),
            KnownParticipant {
                state: state.map(str::to_owned),
                changed_at,
                response_link: None,
            },
        );
        self
    }

    /// A journal row: `state` is the stored text (`planned`, `in_flight`, `done`, ...).
    pub fn invite_row(
        mut self,
        opp: &str,
        interview: &str,
        email: &str,
        participant: Option<&str>,
        state: &str,
    ) -> World {
        self.memory.invites.push(InviteRecord {
            opportunity_id: opp.into(),
            interview_key: interview.into(),
            email: email.into(),
            participant_key: participant.map(str::to_owned),
            state: InviteState::from_str(state).expect("a journal state"),
        });
        self
    }

    pub fn attention(mut self, opp: &str, reason: AttentionReason) -> World {
        self.memory.attention.insert((opp.into(), reason));
        self
    }

    pub fn backoff(mut self, opp: &str, until: Millis) -> World {
        self.memory.backoff_until.insert(opp.into(), until);
        self
    }

    /// A completion-note journal row.
    pub fn known_note(mut self, opp: &str, interview: &str, state: NoteState) -> World {
        self.memory
            .notes
            .insert((opp.into(), interview.into()), state);
        self
    }

    pub fn deleted(mut self, opp: &str) -> World {
        self.observed.deleted.insert(opp.into());
        self
    }

    /// Configures `id` as the catalog opportunity and observes it with these tags.
    pub fn catalog(mut self, id: &str, tags: &[&str]) -> World {
        self.rules.catalog_opportunity_id = Some(id.into());
        self.observed.catalog = Some(Opp::new(id).tags(tags).0);
        self
    }

    pub fn plan(&self) -> Plan {
        plan(&self.rules, &self.observed, &self.memory, self.now)
    }
}

/// An opportunity builder. Defaults: named "Ada Lovelace", email `<id>@example.com`, in the
/// trigger stage, no tags, no posting, active, consent unknown.
#[derive(Debug, Clone)]
pub struct Opp(pub Opportunity);

impl Opp {
    pub fn new(id: &str) -> Opp {
        Opp(Opportunity {
            id: id.into(),
            name: "Ada Lovelace".into(),
            emails: vec![format!("{id}@example.com")],
            stage_id: Some(TRIGGER.into()),
            tags: BTreeSet::new(),
            posting_id: None,
            archived: false,
            anonymized: false,
            contact_allowed: None,
            updated_at: Some(NOW - 1),
            link: None,
        })
    }
    pub fn name(mut self, name: &str) -> Opp {
        self.0.name = name.into();
        self
    }
    pub fn emails(mut self, emails: &[&str]) -> Opp {
        self.0.emails = emails.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn stage(mut self, stage: &str) -> Opp {
        self.0.stage_id = Some(stage.into());
        self
    }
    pub fn tags(mut self, tags: &[&str]) -> Opp {
        self.0.tags = tags.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn posting(mut self, id: &str) -> Opp {
        self.0.posting_id = Some(id.into());
        self
    }
    pub fn archived(mut self) -> Opp {
        self.0.archived = true;
        self
    }
    pub fn anonymized(mut self) -> Opp {
        self.0.anonymized = true;
        self
    }
    pub fn consent(mut self, allowed: Option<bool>) -> Opp {
        self.0.contact_allowed = allowed;
        self
    }
}

pub fn opp(id: &str) -> Opp {
    Opp::new(id)
}

/// One line per action, compact enough to list expectations by hand:
/// `invite i1 a@x o1,o2`, `adopt i1 p1 o1`, `add o1: T1 | T2`, `remove o1: T`,
/// `note o1 i1`, `record o1 no_email`, `clear o1 no_email`.
pub fn action_line(a: &Action) -> String {
    let tags = |t: &BTreeSet<String>| t.iter().cloned().collect::<Vec<_>>().join(" | ");
    match a {
        Action::Invite {
            interview_key,
            email,
            opportunity_ids,
            ..
        } => format!(
            "invite {interview_key} {email} {}",
            opportunity_ids.join(",")
        ),
        Action::Adopt {
            interview_key,
            participant_key,
            opportunity_id,
            ..
        } => format!("adopt {interview_key} {participant_key} {opportunity_id}"),
        Action::AddTags {
            opportunity_id,
            tags: t,
        } => format!("add {opportunity_id}: {}", tags(t)),
        Action::RemoveTags {
            opportunity_id,
            tags: t,
        } => format!("remove {opportunity_id}: {}", tags(t)),
        Action::PostNote {
            opportunity_id,
            interview_key,
            ..
        } => format!("note {opportunity_id} {interview_key}"),
        Action::RecordAttention {
            opportunity_id,
            reason,
        } => format!("record {opportunity_id} {reason}"),
        Action::ClearAttention {
            opportunity_id,
            reason,
        } => format!("clear {opportunity_id} {reason}"),
    }
}

/// One line per warning, prefixed `warn`.
pub fn warning_line(w: &Warning) -> String {
    let keys = |k: &BTreeSet<String>| k.iter().cloned().collect::<Vec<_>>().join(",");
    match w {
        Warning::UnknownState {
            value,
            participant_key,
        } => format!("warn unknown state {participant_key} {value}"),
        Warning::RenamedInterviewStillOnPostings {
            interview_key,
            old_tag,
            postings,
        } => format!(
            "warn renamed {interview_key} {old_tag} on {}",
            keys(postings)
        ),
        Warning::TagCollidesWithStatusTag { interview_key, tag } => {
            format!("warn collides {interview_key} {tag}")
        }
        Warning::AmbiguousInterviewTag {
            tag,
            interview_keys,
            connects_to,
        } => format!(
            "warn ambiguous {tag} {} -> {}",
            keys(interview_keys),
            connects_to.as_deref().unwrap_or("none")
        ),
        Warning::CatalogTooLarge { tags, cap } => format!("warn catalog too large {tags} > {cap}"),
        Warning::InviteWaitsForUnresolved {
            interview_key,
            opportunity_ids,
            unresolved_opportunity_id,
            unresolved_state,
        } => format!(
            "warn waits {interview_key} {} on {unresolved_opportunity_id} {unresolved_state}",
            opportunity_ids.join(",")
        ),
    }
}

/// The plan's actions then warnings, one line each.
pub fn plan_lines(p: &Plan) -> Vec<String> {
    p.actions
        .iter()
        .map(action_line)
        .chain(p.warnings.iter().map(warning_line))
        .collect()
}

/// Applies a plan the way the apply step and the store would, with every call succeeding:
/// tag actions change the observed opportunities (and the catalog), invites become `done`
/// journal rows with fresh participant keys (remembered as just invited), adoptions become
/// `done` rows, attention items are recorded or cleared, and `Remember` is folded into memory.
/// The observation is otherwise unchanged, as if Lever and Willo were read again right after.
pub fn simulate(world: &World, p: &Plan) -> World {
    let mut w = world.clone();
    let mut fresh = 0;
    let email_of = |w: &World, id: &str| -> String {
        w.observed
            .opportunities
            .iter()
            .find(|o| o.id == id)
            .and_then(|o| o.emails.iter().find(|e| email_key(e).is_some()))
            .map(|e| e.trim().to_owned())
            .unwrap_or_default()
    };
    for a in &p.actions {
        match a {
            Action::Invite {
                interview_key,
                email,
                opportunity_ids,
                ..
            } => {
                fresh += 1;
                // Sorts after every generated key, so a tie-break on participant keys would show.
                let key = format!("x-new-{interview_key}-{fresh}");
                for id in opportunity_ids {
                    record_done(&mut w.memory, id, interview_key, email, &key);
                }
                w.memory.participants.insert(
                    key,
                    KnownParticipant {
                        state: None,
                        changed_at: w.now,
                        response_link: None,
                    },
                );
            }
            Action::Adopt {
                interview_key,
                participant_key,
                opportunity_id,
                email,
            } => {
                assert_eq!(
                    *email,
                    email_of(&w, opportunity_id),
                    "adopt names the opportunity's first email"
                );
                record_done(
                    &mut w.memory,
                    opportunity_id,
                    interview_key,
                    email,
                    participant_key,
                );
            }
            Action::AddTags {
                opportunity_id,
                tags,
            } => edit_tags(&mut w.observed, opportunity_id, |t| {
                t.extend(tags.iter().cloned())
            }),
            Action::RemoveTags {
                opportunity_id,
                tags,
            } => edit_tags(&mut w.observed, opportunity_id, |t| {
                t.retain(|x| !tags.contains(x))
            }),
            Action::PostNote {
                opportunity_id,
                interview_key,
                ..
            } => {
                w.memory.notes.insert(
                    (opportunity_id.clone(), interview_key.clone()),
                    NoteState::Done,
                );
            }
            Action::RecordAttention {
                opportunity_id,
                reason,
            } => {
                w.memory.attention.insert((opportunity_id.clone(), *reason));
            }
            Action::ClearAttention {
                opportunity_id,
                reason,
            } => {
                w.memory
                    .attention
                    .remove(&(opportunity_id.clone(), *reason));
            }
        }
    }
    for k in &p.remember.interviews {
        w.memory.interviews.retain(|m| m.key != k.key);
        w.memory.interviews.push(k.clone());
    }
    w.memory.participants.extend(
        p.remember
            .participants
            .iter()
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    if let Some(postings) = &p.remember.posting_tags {
        w.memory.posting_tags = postings.clone();
    }
    w
}

fn record_done(memory: &mut Memory, opp: &str, interview: &str, email: &str, participant: &str) {
    memory
        .invites
        .retain(|r| !(r.opportunity_id == opp && r.interview_key == interview));
    memory.invites.push(InviteRecord {
        opportunity_id: opp.into(),
        interview_key: interview.into(),
        email: email.into(),
        participant_key: Some(participant.into()),
        state: InviteState::Done,
    });
}

fn edit_tags(observed: &mut Observed, id: &str, f: impl Fn(&mut BTreeSet<String>)) {
    for o in observed
        .opportunities
        .iter_mut()
        .chain(observed.catalog.iter_mut())
        .filter(|o| o.id == id)
    {
        f(&mut o.tags);
    }
}

/// Every tag the daemon owns after this plan, computed without the planner: the status tags
/// and every interview tag remembered or issued by the plan.
pub fn owned_tags(world: &World, p: &Plan) -> BTreeSet<String> {
    let mut owned: BTreeSet<String> = [INVITED, TO_REVIEW, ACCEPTED, REJECTED]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for k in world.memory.interviews.iter().chain(&p.remember.interviews) {
        owned.insert(k.current_tag.clone());
        owned.extend(k.issued_tags.iter().cloned());
    }
    owned
}

pub fn reason(text: &str) -> AttentionReason {
    text.parse().expect("an attention reason")
}
