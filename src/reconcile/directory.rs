//! The participant directory of one pass: which interviews the pass has listed completely (the
//! store then holds every participant they had: see `roster`), the single addresses a hint
//! looked up without listing (see `bounded`), and the one lookup "is there a participant with
//! this email in this interview?" that resolving unknown outcomes and inviting rely on.
//!
//! Participants are not kept in memory: a pass over the largest account holds a page of them
//! at a time, and the store answers lookups by index.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use futures::TryStreamExt;

use super::convert;
use super::tenant::Tenant;
use crate::domain::InterviewKey;
use crate::domain::email::email_key;
use crate::http::ApiError;
use crate::plan::Participant;
use crate::store::StoreError;

#[derive(Debug, Default)]
pub(crate) struct Directory {
    /// Interviews listed completely in this pass: the store holds all their participants.
    stored: BTreeSet<InterviewKey>,
    /// Willo ignores the `?interview=` filter: listings are one shared listing of the
    /// account, split by interview.
    shared: bool,
    /// Set when a listing in this pass returned rows of other interviews.
    found_ignored: OnceLock<()>,
    /// Single addresses a hint looked up without listing their interview: (interview, email
    /// key) → what the lookup proved.
    looked_up: BTreeMap<(InterviewKey, String), Lookup>,
}

/// Why a lookup failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LookupError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Directory {
    /// A directory; `filter_ignored` when an earlier pass found Willo ignores the filter.
    pub(crate) fn new(filter_ignored: bool) -> Directory {
        Directory {
            shared: filter_ignored,
            ..Directory::default()
        }
    }

    pub(crate) fn is_stored(&self, interview: &str) -> bool {
        self.stored.contains(interview)
    }

    /// Notes that `interview` was listed completely and its participants stored.
    pub(crate) fn mark_stored(&mut self, interview: InterviewKey) {
        self.stored.insert(interview);
    }

    /// True when listings go through one shared listing of the account.
    pub(crate) fn shared(&self) -> bool {
        self.shared
    }

    /// Switches to the shared listing for the rest of the pass.
    pub(crate) fn switch_to_shared(&mut self) {
        self.shared = true;
    }

    /// Notes that a listing returned rows of other interviews.
    pub(crate) fn note_filter_ignored(&self) {
        let _ = self.found_ignored.set(());
    }

    /// True when this pass found the `interview` filter ignored (and should remember it).
    pub(crate) fn found_filter_ignored(&self) -> bool {
        self.found_ignored.get().is_some()
    }

    /// Keeps what a single-address lookup proved, for the apply step.
    pub(crate) fn remember_lookup(&mut self, interview: &str, email: &str, lookup: Lookup) {
        let key = (interview.to_owned(), email_key(email).unwrap_or_default());
        self.looked_up.insert(key, lookup);
    }

    /// What the pass knows about `email` in `interview`: a single-address lookup already made,
    /// or the store for an interview listed in this pass; otherwise the interview is listed
    /// now (uncached: slower, never wrong).
    pub(crate) async fn find(
        &self,
        tenant: &Tenant,
        interview: &str,
        email: &str,
    ) -> Result<Lookup, LookupError> {
        let key = (interview.to_owned(), email_key(email).unwrap_or_default());
        if let Some(lookup) = self.looked_up.get(&key) {
            return Ok(lookup.clone());
        }
        if self.is_stored(interview) {
            return Ok(stored_lookup(tenant, interview, email)?);
        }
        self.find_fresh(tenant, interview, email).await
    }

    /// What a listing made now says about `email` (to look again after waiting for a request
    /// that could still land, or for an interview this pass has not listed).
    pub(crate) async fn find_fresh(
        &self,
        tenant: &Tenant,
        interview: &str,
        email: &str,
    ) -> Result<Lookup, LookupError> {
        let stream = tenant.willo.participants(interview);
        futures::pin_mut!(stream);
        let mut listing = Listing::default();
        while let Some(p) = stream.try_next().await? {
            if p.interview_key.as_deref().is_some_and(|k| k != interview) {
                self.note_filter_ignored();
                continue;
            }
            listing.push(convert::participant_seen(tenant, &p, interview));
        }
        Ok(listing.lookup(email))
    }
}

/// What the store says about `email` in an interview it holds completely.
fn stored_lookup(tenant: &Tenant, interview: &str, email: &str) -> Result<Lookup, StoreError> {
    let known = tenant
        .store
        .read(|r| r.interview_knowledge(&tenant.id, interview, email))?;
    Ok(match known.with_email {
        Some(row) => Lookup::Found(Participant {
            key: row.key,
            interview_key: row.interview_key,
            email: row.email,
            state: row.state,
            updated_at: None,
            response_link: row.response_link,
        }),
        None if known.without_email > 0 => Lookup::Inconclusive {
            without_email: usize::try_from(known.without_email).unwrap_or(usize::MAX),
        },
        None => Lookup::Absent,
    })
}

/// What a listing says about one email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// A participant with this email is in the interview.
    Found(Participant),
    /// Every participant listed has an email, and none is this one: provably absent.
    Absent,
    /// Not found, but some participants were listed without an email: one of them could be
    /// this person, so absence is not proven (rule: proof an invite was not sent).
    Inconclusive { without_email: usize },
}

/// Some of an interview's participants, indexed by email so a lookup costs a logarithm of their
/// number rather than a scan.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    rows: Vec<Participant>,
    /// Email key → the row with the smallest participant key among those with that email.
    by_email: BTreeMap<String, usize>,
    /// Rows without an email address: while there are any, absence proves nothing.
    without_email: usize,
}

impl Listing {
    fn push(&mut self, p: Participant) {
        match p.email.as_deref().and_then(email_key) {
            Some(key) => {
                let rows = &self.rows;
                let i = self.rows.len();
                self.by_email
                    .entry(key)
                    .and_modify(|j| {
                        if p.key < rows[*j].key {
                            *j = i;
                        }
                    })
                    .or_insert(i);
            }
            None => self.without_email += 1,
        }
        self.rows.push(p);
    }

    /// What these rows say about `email`.
    pub(crate) fn lookup(&self, email: &str) -> Lookup {
        if let Some(p) = email_key(email)
            .and_then(|k| self.by_email.get(&k))
            .and_then(|i| self.rows.get(*i))
        {
            return Lookup::Found(p.clone());
        }
        if self.without_email > 0 {
            Lookup::Inconclusive {
                without_email: self.without_email,
            }
        } else {
            Lookup::Absent
        }
    }
}

impl FromIterator<Participant> for Listing {
    fn from_iter<I: IntoIterator<Item = Participant>>(rows: I) -> Listing {
        let mut listing = Listing::default();
        for p in rows {
            listing.push(p);
        }
        listing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(key: &str, email: Option<&str>) -> Participant {
        Participant {
            key: key.into(),
            interview_key: "iv".into(),
            email: email.map(str::to_owned),
            state: None,
            updated_at: None,
            response_link: None,
        }
    }

    #[test]
    fn an_email_is_found_whatever_its_case_and_spaces() {
        let rows = [p("a", Some("Ada@Example.com ")), p("b", None)];
        assert_eq!(
            rows.iter()
                .cloned()
                .collect::<Listing>()
                .lookup("ada@example.com"),
            Lookup::Found(rows[0].clone())
        );
    }

    #[test]
    fn absence_is_proven_only_when_every_row_has_an_email() {
        let all = [p("a", Some("a@x.io")), p("b", Some("b@x.io"))];
        assert_eq!(
            all.iter().cloned().collect::<Listing>().lookup("c@x.io"),
            Lookup::Absent
        );
        let some_blank = [p("a", Some("a@x.io")), p("b", Some("  ")), p("c", None)];
        assert_eq!(
            some_blank
                .iter()
                .cloned()
                .collect::<Listing>()
                .lookup("c@x.io"),
            Lookup::Inconclusive { without_email: 2 }
        );
    }
}
