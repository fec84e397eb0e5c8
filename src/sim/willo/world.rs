//! The simulated Willo account.
//!
//! Invariants: `by_key` and `by_interview` index exactly the entries of `participants`;
//! removed interviews keep their participants (readable by key) but are not listed and
//! accept no new participants.

use std::collections::{HashMap, HashSet};

use super::model::{
    Interview, InterviewForm, InviteEmail, Owner, Participant, ParticipantSeed, StateForm,
    WebhookBodyForm, WilloEvent,
};
use crate::sim::clock::SimClock;
use crate::sim::error::SimError;
use crate::sim::ids::IdGen;

/// Switches that choose among the behaviours willo-model.md allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    pub(crate) state_form: StateForm,
    pub(crate) interview_form: InterviewForm,
    pub(crate) initial_state: String,
    pub(crate) ignore_interview_filter: bool,
    pub(crate) drop_external_id: bool,
    pub(crate) webhook_body: WebhookBodyForm,
    pub(crate) default_page_size: usize,
    pub(crate) max_page_size: usize,
}

#[derive(Debug)]
pub(crate) struct WilloWorld {
    pub(crate) ids: IdGen,
    pub(crate) clock: SimClock,
    pub(crate) interviews: Vec<Interview>,
    pub(crate) participants: Vec<Participant>,
    by_key: HashMap<String, usize>,
    by_interview: HashMap<String, Vec<usize>>,
    pub(crate) api_keys: HashSet<String>,
    pub(crate) revoked: bool,
    pub(crate) invites: Vec<InviteEmail>,
    pub(crate) settings: Settings,
    pub(crate) webhooks: Vec<(String, WilloEvent)>,
}

/// A validated `POST /participants/` body.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewParticipant {
    pub(crate) interview: String,
    pub(crate) name: String,
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    pub(crate) email: String,
    pub(crate) phone: Option<String>,
    pub(crate) external_id: Option<String>,
}

impl WilloWorld {
    pub(crate) fn new(ids: IdGen, clock: SimClock, settings: Settings) -> Self {
        WilloWorld {
            ids,
            clock,
            interviews: Vec::new(),
            participants: Vec::new(),
            by_key: HashMap::new(),
            by_interview: HashMap::new(),
            api_keys: HashSet::new(),
            revoked: false,
            invites: Vec::new(),
            settings,
            webhooks: Vec::new(),
        }
    }

    pub(crate) fn interview(&self, key: &str) -> Option<&Interview> {
        self.interviews.iter().find(|i| i.key == key)
    }

    /// A listed (not removed) interview.
    pub(crate) fn open_interview(&self, key: &str) -> Option<&Interview> {
        self.interview(key).filter(|i| !i.removed)
    }

    fn interview_mut(&mut self, key: &str) -> Result<&mut Interview, SimError> {
        self.interviews
            .iter_mut()
            .find(|i| i.key == key && !i.removed)
            .ok_or_else(|| SimError::unknown("interview", key))
    }

    pub(crate) fn add_interview(&mut self, title: &str, department: Option<String>) -> String {
        let key = self.ids.hex32();
        let owner = Owner {
            key: self.ids.hex32(),
            email: "admin@example.com".to_owned(),
            full_name: "Account Admin".to_owned(),
        };
        let created_at = self.clock.stamp();
        self.interviews.push(Interview {
            key: key.clone(),
            title: title.to_owned(),
            department,
            owner,
            created_at,
            removed: false,
        });
        key
    }

    pub(crate) fn rename_interview(&mut self, key: &str, title: &str) -> Result<(), SimError> {
        self.interview_mut(key)?.title = title.to_owned();
        Ok(())
    }

    pub(crate) fn remove_interview(&mut self, key: &str) -> Result<(), SimError> {
        self.interview_mut(key)?.removed = true;
        Ok(())
    }

    pub(crate) fn participant(&self, key: &str) -> Option<&Participant> {
        self.by_key.get(key).and_then(|i| self.participants.get(*i))
    }

    fn participant_mut(&mut self, key: &str) -> Result<&mut Participant, SimError> {
        match self.by_key.get(key) {
            Some(i) => Ok(&mut self.participants[*i]),
            None => Err(SimError::unknown("participant", key)),
        }
    }

    /// Participants of one interview (or all, for `None`), oldest first.
    pub(crate) fn participants_of(&self, interview: Option<&str>) -> Vec<&Participant> {
        match interview {
            None => self.participants.iter().collect(),
            Some(k) => self
                .by_interview
                .get(k)
                .map(|ix| {
                    ix.iter()
                        .filter_map(|i| self.participants.get(*i))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// Creates a participant and "sends" the invite email. Never deduplicates: a second
    /// call for the same email and interview makes a second participant and a second email.
    pub(crate) fn create_participant(&mut self, n: NewParticipant) -> Result<String, SimError> {
        if self.open_interview(&n.interview).is_none() {
            return Err(SimError::unknown("interview", &n.interview));
        }
        let key = self.ids.hex32();
        let now = self.clock.stamp();
        let mut parts = n.name.trim().splitn(2, ' ');
        let first = n
            .first_name
            .unwrap_or_else(|| parts.next().unwrap_or_default().to_owned());
        let last = n
            .last_name
            .unwrap_or_else(|| parts.next().unwrap_or_default().trim().to_owned());
        let external_id = if self.settings.drop_external_id {
            None
        } else {
            n.external_id
        };
        let index = self.participants.len();
        self.participants.push(Participant {
            key: key.clone(),
            interview: n.interview.clone(),
            name: n.name,
            first_name: first,
            last_name: last,
            email: n.email.clone(),
            phone: n.phone,
            external_id,
            state: self.settings.initial_state.clone(),
            state_form: None,
            created_at: now,
            updated_at: now,
        });
        self.by_key.insert(key.clone(), index);
        self.by_interview
            .entry(n.interview.clone())
            .or_default()
            .push(index);
        self.invites.push(InviteEmail {
            participant: key.clone(),
            interview: n.interview,
            email: n.email,
            at: now,
        });
        Ok(key)
    }

    pub(crate) fn add_participant(&mut self, seed: ParticipantSeed) -> Result<String, SimError> {
        let key = self.create_participant(NewParticipant {
            interview: seed.interview,
            name: seed.name,
            email: seed.email,
            external_id: seed.external_id,
            ..NewParticipant::default()
        })?;
        if let Some(state) = seed.state {
            self.participant_mut(&key)?.state = state;
        }
        Ok(key)
    }

    pub(crate) fn set_state(&mut self, key: &str, state: &str) -> Result<(), SimError> {
        let now = self.clock.stamp();
        let p = self.participant_mut(key)?;
        p.state = state.to_owned();
        p.updated_at = now;
        Ok(())
    }

    pub(crate) fn set_state_form(&mut self, key: &str, form: StateForm) -> Result<(), SimError> {
        self.participant_mut(key)?.state_form = Some(form);
        Ok(())
    }
}
