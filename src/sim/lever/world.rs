//! The simulated Lever account: records, the indexes list pages are served from, and every
//! change a test or the API can make.
//!
//! Invariants: every live opportunity is in `opps` and in exactly the index entries its
//! fields imply (`take`/`put` keep that true); deleted ones are only in `deleted`;
//! `updatedAt` values come from `SimClock::stamp`, so they are strictly increasing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

use super::access::KeyAccess;
use super::model::{
    Application, Archived, Confidentiality, DataProtection, DeletedOpportunity, Distribution,
    Lookup, Note, OppSeed, Opportunity, Permission, Phone, Posting, PostingSeed, Stage,
    StageChange, User, UserSeed,
};
use super::oauth::OAuthState;
use super::variants::{LeverVariants, NoteStamp};
use crate::sim::clock::SimClock;
use crate::sim::error::SimError;
use crate::sim::ids::IdGen;

/// A registered `candidateStageChange` receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LeverWebhook {
    pub(crate) url: String,
    pub(crate) signature_token: String,
}

/// Secondary indexes over live opportunities (sets of ids, in id order).
#[derive(Debug, Default)]
pub(crate) struct Indexes {
    pub(crate) by_stage: HashMap<String, BTreeSet<String>>,
    pub(crate) by_tag: HashMap<String, BTreeSet<String>>,
    pub(crate) by_posting: HashMap<String, BTreeSet<String>>,
    pub(crate) by_email: HashMap<String, BTreeSet<String>>,
    pub(crate) by_contact: HashMap<String, BTreeSet<String>>,
    pub(crate) by_updated: BTreeSet<(i64, String)>,
    /// Archived opportunities (so `archived=true` is not a scan).
    pub(crate) archived: BTreeSet<String>,
    /// Confidential opportunities (so `confidentiality=confidential` is not a scan).
    pub(crate) confidential: BTreeSet<String>,
}

fn add_to(map: &mut HashMap<String, BTreeSet<String>>, key: &str, id: &str) {
    // `get_mut` first: `entry` would allocate the key on every insert.
    match map.get_mut(key) {
        Some(set) => {
            set.insert(id.to_owned());
        }
        None => {
            map.insert(key.to_owned(), BTreeSet::from([id.to_owned()]));
        }
    }
}

fn remove_from(map: &mut HashMap<String, BTreeSet<String>>, key: &str, id: &str) {
    if let Some(set) = map.get_mut(key) {
        set.remove(id);
        if set.is_empty() {
            map.remove(key);
        }
    }
}

impl Indexes {
    fn insert(&mut self, o: &Opportunity) {
        add_to(&mut self.by_stage, &o.stage, &o.id);
        for t in &o.tags {
            add_to(&mut self.by_tag, t, &o.id);
        }
        if let Some(a) = &o.application {
            add_to(&mut self.by_posting, &a.posting, &o.id);
        }
        for e in &o.emails {
            add_to(&mut self.by_email, &e.to_lowercase(), &o.id);
        }
        add_to(&mut self.by_contact, &o.contact, &o.id);
        if let Some(u) = o.updated_at {
            self.by_updated.insert((u, o.id.clone()));
        }
        if o.archived.is_some() {
            self.archived.insert(o.id.clone());
        }
        if o.confidentiality == Confidentiality::Confidential {
            self.confidential.insert(o.id.clone());
        }
    }

    fn remove(&mut self, o: &Opportunity) {
        remove_from(&mut self.by_stage, &o.stage, &o.id);
        for t in &o.tags {
            remove_from(&mut self.by_tag, t, &o.id);
        }
        if let Some(a) = &o.application {
            remove_from(&mut self.by_posting, &a.posting, &o.id);
        }
        for e in &o.emails {
            remove_from(&mut self.by_email, &e.to_lowercase(), &o.id);
        }
        remove_from(&mut self.by_contact, &o.contact, &o.id);
        if let Some(u) = o.updated_at {
            self.by_updated.remove(&(u, o.id.clone()));
        }
        self.archived.remove(&o.id);
        self.confidential.remove(&o.id);
    }
}

/// Facts about a stage move, for the webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StageMove {
    pub(crate) opportunity: String,
    pub(crate) contact: String,
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) at: i64,
}

/// A note as the API received it.
#[derive(Debug, Clone, Default)]
pub(crate) struct NoteInput {
    pub(crate) value: String,
    pub(crate) secret: bool,
    pub(crate) score: Option<u8>,
    pub(crate) user: Option<String>,
    pub(crate) created_at: Option<i64>,
    pub(crate) notify_followers: bool,
    pub(crate) thread: Option<String>,
}

/// The whole simulated account.
#[derive(Debug)]
pub(crate) struct LeverWorld {
    pub(crate) ids: IdGen,
    pub(crate) clock: SimClock,
    pub(crate) origin: String,
    pub(crate) stages: Vec<Stage>,
    pub(crate) users: Vec<User>,
    pub(crate) postings: Vec<Posting>,
    pub(crate) opps: BTreeMap<String, Opportunity>,
    pub(crate) idx: Indexes,
    pub(crate) deleted: Vec<DeletedOpportunity>,
    pub(crate) notes: HashMap<String, Vec<Note>>,
    /// Valid API keys and what each was created to do.
    pub(crate) api_keys: HashMap<String, KeyAccess>,
    pub(crate) revoked: bool,
    pub(crate) oauth: OAuthState,
    pub(crate) webhooks: Vec<LeverWebhook>,
    pub(crate) variants: LeverVariants,
}

impl Lookup for LeverWorld {
    fn stage(&self, id: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.id == id)
    }
    fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }
    fn posting(&self, id: &str) -> Option<&Posting> {
        self.postings.iter().find(|p| p.id == id)
    }
}

impl LeverWorld {
    pub(crate) fn new(ids: IdGen, clock: SimClock, origin: String, oauth: OAuthState) -> Self {
        LeverWorld {
            ids,
            clock,
            origin,
            stages: Vec::new(),
            users: Vec::new(),
            postings: Vec::new(),
            opps: BTreeMap::new(),
            idx: Indexes::default(),
            deleted: Vec::new(),
            notes: HashMap::new(),
            api_keys: HashMap::new(),
            revoked: false,
            oauth,
            webhooks: Vec::new(),
            variants: LeverVariants::default(),
        }
    }

    fn stage_index(&self, id: &str) -> Result<usize, SimError> {
        self.stages
            .iter()
            .position(|s| s.id == id)
            .ok_or_else(|| SimError::unknown("stage", id))
    }

    pub(crate) fn add_stage(&mut self, text: &str) -> String {
        let id = self.ids.uuid();
        self.stages.push(Stage {
            id: id.clone(),
            text: text.to_owned(),
        });
        id
    }

    pub(crate) fn rename_stage(&mut self, id: &str, text: &str) -> Result<(), SimError> {
        let i = self.stage_index(id)?;
        self.stages[i].text = text.to_owned();
        Ok(())
    }

    pub(crate) fn add_user(&mut self, seed: UserSeed) -> String {
        let id = self.ids.uuid();
        let username = seed.email.split('@').next().unwrap_or_default().to_owned();
        self.users.push(User {
            id: id.clone(),
            name: seed.name,
            username,
            email: seed.email,
            access_role: seed.access_role.unwrap_or_else(|| "super admin".to_owned()),
            created_at: self.clock.now_ms(),
            deactivated_at: None,
        });
        id
    }

    pub(crate) fn deactivate_user(&mut self, id: &str) -> Result<(), SimError> {
        let now = self.clock.now_ms();
        let u = self
            .users
            .iter_mut()
            .find(|u| u.id == id)
            .ok_or_else(|| SimError::unknown("user", id))?;
        u.deactivated_at = Some(now);
        Ok(())
    }

    pub(crate) fn add_posting(&mut self, seed: PostingSeed) -> Result<String, SimError> {
        if let Some(owner) = &seed.owner {
            self.user(owner)
                .ok_or_else(|| SimError::unknown("user", owner))?;
        }
        let id = self.ids.uuid();
        let now = self.clock.stamp();
        let mut tags: Vec<String> = Vec::new();
        for t in seed.tags {
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        self.postings.push(Posting {
            id: id.clone(),
            text: seed.text,
            state: seed.state.unwrap_or_else(|| "published".to_owned()),
            tags,
            team: seed.team,
            location: seed.location,
            commitment: seed.commitment,
            confidentiality: if seed.confidential {
                Confidentiality::Confidential
            } else {
                Confidentiality::NonConfidential
            },
            distribution: seed.distribution,
            owner: seed.owner.clone(),
            hiring_manager: seed.owner,
            created_at: now,
            updated_at: now,
        });
        Ok(id)
    }

    fn posting_mut(&mut self, id: &str) -> Result<&mut Posting, SimError> {
        self.postings
            .iter_mut()
            .find(|p| p.id == id)
            .ok_or_else(|| SimError::unknown("posting", id))
    }

    /// Adds and removes posting tags. Opportunities already on the posting are NOT
    /// back-filled (Lever does not document a back-fill; the daemon must not rely on one).
    pub(crate) fn edit_posting_tags(
        &mut self,
        id: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<(), SimError> {
        let now = self.clock.stamp();
        let p = self.posting_mut(id)?;
        p.tags.retain(|t| !remove.contains(t));
        for t in add {
            if !p.tags.contains(t) {
                p.tags.push(t.clone());
            }
        }
        p.updated_at = now;
        Ok(())
    }

    pub(crate) fn set_posting_distribution(
        &mut self,
        id: &str,
        d: Distribution,
    ) -> Result<(), SimError> {
        let now = self.clock.stamp();
        let p = self.posting_mut(id)?;
        p.distribution = d;
        p.updated_at = now;
        Ok(())
    }

    pub(crate) fn set_posting_state(&mut self, id: &str, state: &str) -> Result<(), SimError> {
        let now = self.clock.stamp();
        let p = self.posting_mut(id)?;
        p.state = state.to_owned();
        p.updated_at = now;
        Ok(())
    }

    pub(crate) fn add_opportunity(&mut self, seed: OppSeed) -> Result<String, SimError> {
        let stage = match seed.stage {
            Some(s) => s,
            None => self
                .stages
                .first()
                .map(|s| s.id.clone())
                .ok_or_else(|| SimError::Invalid("add a stage before opportunities".into()))?,
        };
        let stage_index = self.stage_index(&stage)?;
        let now = self.clock.stamp();
        let created_at = seed.created_at.unwrap_or(now);
        let id = self.ids.uuid();
        let mut tags: Vec<String> = Vec::new();
        let mut application = None;
        let mut confidential = seed.confidential;
        if let Some(pid) = &seed.posting {
            let p = self
                .posting(pid)
                .ok_or_else(|| SimError::unknown("posting", pid))?;
            // Inherit the posting's tags as they are right now (no later back-fill).
            let inherited = p.tags.clone();
            // Candidates on a confidential posting are confidential data too.
            confidential |= p.confidentiality == Confidentiality::Confidential;
            application = Some(Application {
                id: self.ids.uuid(),
                posting: pid.clone(),
                kind: "posting".to_owned(),
                created_at,
            });
            tags.extend(inherited);
        }
        for t in seed.tags {
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        let contact = seed.contact.unwrap_or_else(|| self.ids.uuid());
        let data_protection = seed.contact_consent.map(|allowed| DataProtection {
            store: Some(Permission {
                allowed: true,
                expires_at: None,
            }),
            contact: Some(Permission {
                allowed,
                expires_at: None,
            }),
        });
        let (emails, phones) = if seed.anonymized {
            (Vec::new(), Vec::new())
        } else {
            (
                seed.emails,
                seed.phones
                    .into_iter()
                    .map(|value| Phone { kind: None, value })
                    .collect(),
            )
        };
        let opp = Opportunity {
            id: id.clone(),
            name: if seed.anonymized {
                "Anonymized candidate".to_owned()
            } else {
                seed.name
            },
            headline: seed.headline,
            contact,
            emails,
            phones,
            location: seed.location,
            links: Vec::new(),
            stage: stage.clone(),
            stage_changes: vec![StageChange {
                to_stage_id: stage,
                to_stage_index: stage_index,
                user_id: None,
                updated_at: created_at,
            }],
            last_advanced_at: created_at,
            tags,
            sources: seed.sources,
            origin: seed.origin.unwrap_or_else(|| "applied".to_owned()),
            owner: seed.owner,
            followers: Vec::new(),
            confidentiality: if confidential {
                Confidentiality::Confidential
            } else {
                Confidentiality::NonConfidential
            },
            archived: seed.archived_reason.map(|reason| Archived {
                archived_at: now,
                reason,
            }),
            snoozed_until: None,
            data_protection,
            is_anonymized: seed.anonymized,
            application,
            created_at,
            updated_at: if seed.null_updated_at {
                None
            } else {
                Some(now)
            },
            last_interaction_at: created_at,
        };
        self.put(opp);
        Ok(id)
    }

    /// Removes an opportunity from the map and the indexes, to change it.
    fn take(&mut self, id: &str) -> Result<Opportunity, SimError> {
        let o = self
            .opps
            .remove(id)
            .ok_or_else(|| SimError::unknown("opportunity", id))?;
        self.idx.remove(&o);
        Ok(o)
    }

    fn put(&mut self, o: Opportunity) {
        self.idx.insert(&o);
        self.opps.insert(o.id.clone(), o);
    }

    /// Applies `f`; when it reports a change, `updatedAt` gets a fresh stamp.
    fn change(
        &mut self,
        id: &str,
        f: impl FnOnce(&mut Opportunity, i64) -> bool,
    ) -> Result<bool, SimError> {
        let mut o = self.take(id)?;
        let at = self.clock.now_ms();
        let changed = f(&mut o, at);
        if changed {
            o.updated_at = Some(self.clock.stamp());
        }
        self.put(o);
        Ok(changed)
    }

    pub(crate) fn move_stage(
        &mut self,
        id: &str,
        stage: &str,
        user: Option<&str>,
    ) -> Result<Option<StageMove>, SimError> {
        let index = self.stage_index(stage)?;
        let mut o = self.take(id)?;
        if o.stage == stage {
            self.put(o);
            return Ok(None);
        }
        let at = self.clock.stamp();
        let from = std::mem::replace(&mut o.stage, stage.to_owned());
        o.stage_changes.push(StageChange {
            to_stage_id: stage.to_owned(),
            to_stage_index: index,
            user_id: user.map(str::to_owned),
            updated_at: at,
        });
        o.last_advanced_at = at;
        o.updated_at = Some(at);
        let mv = StageMove {
            opportunity: o.id.clone(),
            contact: o.contact.clone(),
            from,
            to: stage.to_owned(),
            at,
        };
        self.put(o);
        Ok(Some(mv))
    }

    /// Set semantics: adds the absent tags, removes the present ones; `updatedAt` moves only
    /// when the set changed. Returns whether it changed.
    pub(crate) fn edit_tags(
        &mut self,
        id: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<bool, SimError> {
        self.change(id, |o, _| {
            let before = o.tags.len();
            let mut changed = false;
            o.tags.retain(|t| !remove.contains(t));
            changed |= o.tags.len() != before;
            for t in add {
                if !t.is_empty() && !o.tags.contains(t) {
                    o.tags.push(t.clone());
                    changed = true;
                }
            }
            changed
        })
    }

    pub(crate) fn set_tags(&mut self, id: &str, tags: &[String]) -> Result<bool, SimError> {
        self.change(id, |o, _| {
            let mut new: Vec<String> = Vec::new();
            for t in tags {
                if !new.contains(t) {
                    new.push(t.clone());
                }
            }
            let same = new.len() == o.tags.len() && new.iter().all(|t| o.tags.contains(t));
            o.tags = new;
            !same
        })
    }

    pub(crate) fn archive(&mut self, id: &str, reason: Option<&str>) -> Result<bool, SimError> {
        self.change(id, |o, at| {
            let new = reason.map(|r| Archived {
                archived_at: at,
                reason: r.to_owned(),
            });
            let changed = o.archived.as_ref().map(|a| &a.reason) != new.as_ref().map(|a| &a.reason);
            if changed {
                o.archived = new;
            }
            changed
        })
    }

    pub(crate) fn anonymize(&mut self, id: &str) -> Result<bool, SimError> {
        self.change(id, |o, _| {
            if o.is_anonymized {
                return false;
            }
            o.is_anonymized = true;
            o.name = "Anonymized candidate".to_owned();
            o.emails.clear();
            o.phones.clear();
            o.links.clear();
            o.headline.clear();
            true
        })
    }

    pub(crate) fn set_contact_consent(
        &mut self,
        id: &str,
        allowed: bool,
    ) -> Result<bool, SimError> {
        self.change(id, |o, _| {
            let dp = o.data_protection.get_or_insert(DataProtection {
                store: Some(Permission {
                    allowed: true,
                    expires_at: None,
                }),
                contact: None,
            });
            let new = Some(Permission {
                allowed,
                expires_at: None,
            });
            let changed = dp.contact != new;
            dp.contact = new;
            changed
        })
    }

    pub(crate) fn set_emails(&mut self, id: &str, emails: &[String]) -> Result<bool, SimError> {
        self.change(id, |o, _| {
            let changed = o.emails != emails;
            o.emails = emails.to_vec();
            changed
        })
    }

    /// Bumps `lastInteractionAt` (and so `updatedAt`): the noise real accounts produce.
    pub(crate) fn touch(&mut self, id: &str) -> Result<(), SimError> {
        self.change(id, |o, at| {
            o.last_interaction_at = at;
            true
        })?;
        Ok(())
    }

    pub(crate) fn delete(&mut self, id: &str, by: Option<&str>) -> Result<(), SimError> {
        let o = self.take(id)?;
        self.notes.remove(&o.id);
        let at = self.clock.stamp();
        self.deleted.push(DeletedOpportunity {
            id: o.id,
            deleted_at: at,
            deleted_by: by.map(str::to_owned),
        });
        Ok(())
    }

    /// Adds a note (or a comment on `thread`). By default notes bump `lastInteractionAt`,
    /// hence `updatedAt`: a note write shows up in the next incremental window like a tag
    /// write. [`NoteStamp::Leaves`] leaves the opportunity untouched.
    pub(crate) fn add_note(&mut self, id: &str, input: NoteInput) -> Result<String, SimError> {
        if !self.opps.contains_key(id) {
            return Err(SimError::unknown("opportunity", id));
        }
        let created_at = input.created_at.unwrap_or_else(|| self.clock.now_ms());
        let notes = self.notes.entry(id.to_owned()).or_default();
        let note_id = match &input.thread {
            Some(thread) => {
                let n = notes
                    .iter_mut()
                    .find(|n| &n.id == thread)
                    .ok_or_else(|| SimError::unknown("note", thread))?;
                n.comments.push(input.value);
                thread.clone()
            }
            None => {
                let note_id = self.ids.uuid();
                notes.push(Note {
                    id: note_id.clone(),
                    value: input.value,
                    secret: input.secret,
                    score: input.score,
                    user: input.user,
                    created_at,
                    notify_followers: input.notify_followers,
                    comments: Vec::new(),
                });
                note_id
            }
        };
        if self.variants.note_stamp == NoteStamp::Bumps {
            self.touch(id)?;
        }
        Ok(note_id)
    }

    /// The `candidateStageChange` bodies for a move, one per registered receiver.
    pub(crate) fn stage_change_deliveries(
        &mut self,
        mv: &StageMove,
    ) -> Vec<(String, serde_json::Value)> {
        let hooks = self.webhooks.clone();
        hooks
            .into_iter()
            .map(|h| {
                let token = self.ids.alnum(48);
                let signature = sign(&h.signature_token, &token, mv.at);
                let body = json!({
                    "triggeredAt": mv.at,
                    "event": "candidateStageChange",
                    "data": {
                        "opportunityId": mv.opportunity,
                        "candidateId": mv.opportunity,
                        "contactId": mv.contact,
                        "fromStageId": mv.from,
                        "toStageId": mv.to,
                    },
                    "token": token,
                    "signature": signature,
                });
                (h.url, body)
            })
            .collect()
    }
}

/// Lever's webhook signature: hex(HMAC-SHA256(key = signature token, token + triggeredAt)).
pub fn sign(signature_token: &str, token: &str, triggered_at: i64) -> String {
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(signature_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(token.as_bytes());
    mac.update(triggered_at.to_string().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}
