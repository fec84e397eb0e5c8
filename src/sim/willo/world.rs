//! The simulated Willo account.
//!
//! Invariants: `by_key` and `by_interview` index exactly the entries of `participants`, and
//! each `by_interview` list is in creation order (so a page is a slice, never a scan);
//! removed and closed interviews keep their participants (readable by key) but are not
//! listed and accept no new participants.

use std::collections::HashMap;

use super::model::{
    Department, Interview, InterviewSeed, InviteEmail, Owner, Participant, ParticipantSeed,
    StateForm, WilloEvent,
};
use super::variants::{ParticipantOrder, Settings};
use crate::sim::clock::SimClock;
use crate::sim::error::SimError;
use crate::sim::ids::IdGen;

/// A Willo user (interview owner; the user behind an API key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WilloUser {
    pub(crate) key: String,
    pub(crate) email: String,
    pub(crate) full_name: String,
}

/// The user an API key belongs to ("a key has exactly the permissions of its user").
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyUser {
    pub(crate) user: String,
    pub(crate) admin: bool,
}

/// Which interviews a request's key may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    /// An Admin's key (or the benchmarks' shortcut): everything.
    All,
    /// A standard user's key: interviews owned by this user.
    Owner(String),
}

impl Scope {
    pub(crate) fn sees(&self, i: &Interview) -> bool {
        match self {
            Scope::All => true,
            Scope::Owner(user) => i.owner.key == *user,
        }
    }
}

/// The rows of one participant listing, in the account's order: a slice of the index when
/// possible, so a page costs its size.
pub(crate) enum Rows<'a> {
    Slice(&'a [usize]),
    All(usize),
    Owned(Vec<usize>),
}

impl Rows<'_> {
    pub(crate) fn len(&self) -> usize {
        match self {
            Rows::Slice(s) => s.len(),
            Rows::All(n) => *n,
            Rows::Owned(v) => v.len(),
        }
    }

    /// The participant index of the `i`-th row in creation order.
    fn at(&self, i: usize) -> Option<usize> {
        match self {
            Rows::Slice(s) => s.get(i).copied(),
            Rows::All(n) => (i < *n).then_some(i),
            Rows::Owned(v) => v.get(i).copied(),
        }
    }

    /// The participant index of the `i`-th row in `order`.
    pub(crate) fn nth(&self, order: ParticipantOrder, i: usize) -> Option<usize> {
        match order {
            ParticipantOrder::Creation => self.at(i),
            ParticipantOrder::NewestFirst => {
                let n = self.len();
                if i < n { self.at(n - 1 - i) } else { None }
            }
        }
    }
}

#[derive(Debug)]
pub(crate) struct WilloWorld {
    pub(crate) ids: IdGen,
    pub(crate) clock: SimClock,
    pub(crate) interviews: Vec<Interview>,
    by_interview_key: HashMap<String, usize>,
    pub(crate) departments: Vec<Department>,
    pub(crate) users: Vec<WilloUser>,
    /// The account's owner/admin: the user of `add_api_key` keys and default interview owner.
    pub(crate) admin_user: String,
    pub(crate) participants: Vec<Participant>,
    by_key: HashMap<String, usize>,
    by_interview: HashMap<String, Vec<usize>>,
    pub(crate) api_keys: HashMap<String, KeyUser>,
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
    pub(crate) fn new(mut ids: IdGen, clock: SimClock, settings: Settings) -> Self {
        let admin = WilloUser {
            key: ids.hex32(),
            email: "admin@example.com".to_owned(),
            full_name: "Account Admin".to_owned(),
        };
        WilloWorld {
            ids,
            clock,
            interviews: Vec::new(),
            by_interview_key: HashMap::new(),
            departments: Vec::new(),
            admin_user: admin.key.clone(),
            users: vec![admin],
            participants: Vec::new(),
            by_key: HashMap::new(),
            by_interview: HashMap::new(),
            api_keys: HashMap::new(),
            revoked: false,
            invites: Vec::new(),
            settings,
            webhooks: Vec::new(),
        }
    }

    pub(crate) fn interview(&self, key: &str) -> Option<&Interview> {
        self.by_interview_key
            .get(key)
            .and_then(|i| self.interviews.get(*i))
    }

    /// Listed by `GET /interviews/`: not removed, and not closed unless closed ones are listed.
    pub(crate) fn listed(&self, i: &Interview) -> bool {
        !i.removed && (!i.closed || self.settings.list_closed_interviews)
    }

    /// A listed interview (readable by key).
    pub(crate) fn open_interview(&self, key: &str) -> Option<&Interview> {
        self.interview(key).filter(|i| self.listed(i))
    }

    /// An interview that takes new participants: neither removed nor closed.
    pub(crate) fn invitable(&self, key: &str) -> Option<&Interview> {
        self.interview(key).filter(|i| !i.removed && !i.closed)
    }

    pub(crate) fn department(&self, key: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.key == key)
    }

    fn user(&self, key: &str) -> Option<&WilloUser> {
        self.users.iter().find(|u| u.key == key)
    }

    /// What the key behind a request may see.
    pub(crate) fn scope_of(&self, key: &str) -> Scope {
        match self.api_keys.get(key) {
            Some(k) if !k.admin => Scope::Owner(k.user.clone()),
            _ => Scope::All,
        }
    }

    fn interview_mut(&mut self, key: &str) -> Result<&mut Interview, SimError> {
        match self.by_interview_key.get(key) {
            Some(i) if !self.interviews[*i].removed => Ok(&mut self.interviews[*i]),
            _ => Err(SimError::unknown("interview", key)),
        }
    }

    pub(crate) fn add_user(&mut self, email: &str, full_name: &str) -> String {
        let key = self.ids.hex32();
        self.users.push(WilloUser {
            key: key.clone(),
            email: email.to_owned(),
            full_name: full_name.to_owned(),
        });
        key
    }

    pub(crate) fn add_department(&mut self, name: &str) -> String {
        let key = self.ids.hex32();
        self.departments.push(Department {
            key: key.clone(),
            name: name.to_owned(),
        });
        key
    }

    pub(crate) fn add_interview(&mut self, seed: InterviewSeed) -> Result<String, SimError> {
        let owner_key = seed.owner.unwrap_or_else(|| self.admin_user.clone());
        let owner = self
            .user(&owner_key)
            .map(|u| Owner {
                key: u.key.clone(),
                email: u.email.clone(),
                full_name: u.full_name.clone(),
            })
            .ok_or_else(|| SimError::unknown("user", &owner_key))?;
        let key = self.ids.hex32();
        let created_at = match seed.created_at {
            Some(t) => t,
            None => self.clock.stamp(),
        };
        self.by_interview_key
            .insert(key.clone(), self.interviews.len());
        self.interviews.push(Interview {
            key: key.clone(),
            title: seed.title,
            department: seed.department,
            owner,
            created_at,
            removed: false,
            closed: seed.closed,
        });
        Ok(key)
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
        let rows = self.rows(interview, &Scope::All);
        (0..rows.len())
            .filter_map(|i| rows.at(i))
            .filter_map(|i| self.participants.get(i))
            .collect()
    }

    /// The rows a listing serves: one interview's index (or everyone's), narrowed to what the
    /// scope may see. Only a standard user's unfiltered listing needs a scan.
    pub(crate) fn rows(&self, interview: Option<&str>, scope: &Scope) -> Rows<'_> {
        match interview {
            Some(k) => {
                let visible = self.interview(k).is_some_and(|i| scope.sees(i));
                match self.by_interview.get(k) {
                    Some(ix) if visible => Rows::Slice(ix),
                    _ => Rows::Slice(&[]),
                }
            }
            None if *scope == Scope::All => Rows::All(self.participants.len()),
            None => Rows::Owned(
                self.participants
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| self.interview(&p.interview).is_some_and(|i| scope.sees(i)))
                    .map(|(n, _)| n)
                    .collect(),
            ),
        }
    }

    /// Creates a participant and "sends" the invite email. Never deduplicates: a second
    /// call for the same email and interview makes a second participant and a second email.
    pub(crate) fn create_participant(&mut self, n: NewParticipant) -> Result<String, SimError> {
        if self.invitable(&n.interview).is_none() {
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
        match self.by_interview.get_mut(&n.interview) {
            Some(ix) => ix.push(index),
            None => {
                self.by_interview.insert(n.interview.clone(), vec![index]);
            }
        }
        self.invites.push(InviteEmail {
            participant: key.clone(),
            interview: n.interview,
            email: n.email,
            at: now,
            stored: std::time::Instant::now(),
        });
        Ok(key)
    }

    pub(crate) fn add_participant(&mut self, seed: ParticipantSeed) -> Result<String, SimError> {
        let key = self.create_participant(NewParticipant {
            interview: seed.interview,
            name: seed.name,
            email: seed.email,
            phone: seed.phone,
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
