//! Interview tags (docs/behaviour.md, "Interview tags and the catalog"): which tag each interview has now, every tag ever issued for it
//! (rename aliases), which tags the daemon owns, and which tag connects to which interview.
//!
//! Invariants:
//! - issued tags never shrink: a rename adds the new tag and keeps the old one as an alias;
//! - a status tag never connects to an interview, even when a title renders to one;
//! - only open (currently listed) interviews connect, and a tag claimed by several open
//!   interviews connects to the one whose *current* tag it is, or to none when that is not
//!   exactly one (inviting to the wrong interview cannot be undone; waiting for a rename can).

use std::collections::{BTreeMap, BTreeSet};

use super::action::Warning;
use super::input::{KnownInterview, Memory, Observed};
use super::rules::Rules;
use crate::domain::InterviewKey;
use crate::domain::tags::{StatusTag, is_status_tag};

/// The interviews as they stand for this plan.
#[derive(Debug, Default)]
pub(crate) struct InterviewView {
    /// Every interview the daemon knows, updated with this observation.
    pub all: BTreeMap<InterviewKey, KnownInterview>,
    /// Tag → the one open interview it connects to.
    pub index: BTreeMap<String, InterviewKey>,
    /// The status tags and every interview tag ever issued (remembered or issued now).
    pub owned: BTreeSet<String>,
    /// Interviews that are new or changed, to remember.
    pub changed: Vec<KnownInterview>,
    pub warnings: Vec<Warning>,
}

impl InterviewView {
    pub fn open(&self) -> impl Iterator<Item = &KnownInterview> {
        self.all.values().filter(|i| i.open)
    }
}

/// Folds the observed interview listing (if any) into the remembered interviews.
pub(crate) fn resolve(rules: &Rules, observed: &Observed, memory: &Memory) -> InterviewView {
    let remembered = remembered(memory);
    let mut view = InterviewView {
        all: remembered.clone(),
        ..InterviewView::default()
    };

    if let Some(listed) = &observed.interviews {
        // A key listed twice (a page boundary moving under us) keeps one title, chosen
        // independently of the listing order.
        let mut titles: BTreeMap<&InterviewKey, &String> = BTreeMap::new();
        for i in listed {
            let t = titles.entry(&i.key).or_insert(&i.title);
            if i.title > **t {
                *t = &i.title;
            }
        }
        for (key, title) in &titles {
            let tag = rules.interview_tag(title);
            let mut issued = remembered
                .get(*key)
                .map(|k| k.issued_tags.clone())
                .unwrap_or_default();
            issued.insert(tag.clone());
            view.all.insert(
                (*key).clone(),
                KnownInterview {
                    key: (*key).clone(),
                    title: (*title).clone(),
                    current_tag: tag,
                    issued_tags: issued,
                    open: true,
                },
            );
        }
        for (key, known) in view.all.iter_mut() {
            if !titles.contains_key(key) {
                known.open = false;
            }
        }
        view.changed = view
            .all
            .values()
            .filter(|k| remembered.get(&k.key) != Some(*k))
            .cloned()
            .collect();
    }

    view.owned = StatusTag::ALL
        .iter()
        .map(|t| t.as_str().to_owned())
        .collect();
    for k in view.all.values() {
        view.owned.extend(k.issued_tags.iter().cloned());
        view.owned.insert(k.current_tag.clone());
    }

    let (index, warnings) = connect_index(view.open());
    view.index = index;
    view.warnings = warnings;

    if let Some(postings) = &observed.postings {
        let mut renamed = Vec::new();
        for k in view.open() {
            for old in k
                .issued_tags
                .iter()
                .filter(|t| **t != k.current_tag && !is_status_tag(t))
            {
                let carrying: BTreeSet<_> = postings
                    .iter()
                    .filter(|(_, tags)| tags.contains(old))
                    .map(|(id, _)| id.clone())
                    .collect();
                if !carrying.is_empty() {
                    renamed.push(Warning::RenamedInterviewStillOnPostings {
                        interview_key: k.key.clone(),
                        old_tag: old.clone(),
                        postings: carrying,
                    });
                }
            }
        }
        view.warnings.extend(renamed);
    }
    view
}

/// The remembered interviews by key. Duplicate rows (which the store's primary key rules out)
/// are merged so that no issued tag is ever forgotten.
fn remembered(memory: &Memory) -> BTreeMap<InterviewKey, KnownInterview> {
    let mut rows: BTreeMap<&InterviewKey, Vec<&KnownInterview>> = BTreeMap::new();
    for k in &memory.interviews {
        rows.entry(&k.key).or_default().push(k);
    }
    rows.into_iter()
        .filter_map(|(key, rows)| {
            let mut best = (*rows.iter().max()?).clone();
            for r in rows {
                best.issued_tags.extend(r.issued_tags.iter().cloned());
                best.issued_tags.insert(r.current_tag.clone());
            }
            Some((key.clone(), best))
        })
        .collect()
}

/// Which tag connects to which open interview, with warnings for the tags that are unsafe.
fn connect_index<'a>(
    open: impl Iterator<Item = &'a KnownInterview>,
) -> (BTreeMap<String, InterviewKey>, Vec<Warning>) {
    #[derive(Default)]
    struct Claims {
        current: BTreeSet<InterviewKey>,
        alias: BTreeSet<InterviewKey>,
    }
    let mut warnings = Vec::new();
    let mut claims: BTreeMap<&String, Claims> = BTreeMap::new();
    for k in open {
        if is_status_tag(&k.current_tag) {
            warnings.push(Warning::TagCollidesWithStatusTag {
                interview_key: k.key.clone(),
                tag: k.current_tag.clone(),
            });
        }
        for tag in k.issued_tags.iter().chain([&k.current_tag]) {
            if is_status_tag(tag) {
                continue;
            }
            let c = claims.entry(tag).or_default();
            if *tag == k.current_tag {
                c.current.insert(k.key.clone());
            } else {
                c.alias.insert(k.key.clone());
            }
        }
    }
    let mut index = BTreeMap::new();
    for (tag, c) in claims {
        let holders: BTreeSet<InterviewKey> = c.current.union(&c.alias).cloned().collect();
        if holders.len() == 1 {
            index.extend(holders.into_iter().map(|k| (tag.clone(), k)));
            continue;
        }
        let connects_to = (c.current.len() == 1)
            .then(|| c.current.first().cloned())
            .flatten();
        if let Some(k) = &connects_to {
            index.insert(tag.clone(), k.clone());
        }
        warnings.push(Warning::AmbiguousInterviewTag {
            tag: tag.clone(),
            interview_keys: holders,
            connects_to,
        });
    }
    (index, warnings)
}
