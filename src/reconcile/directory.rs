//! The participant directory of one pass: each interview's participants, listed from Willo at
//! most once per pass, and the one lookup "is there a participant with this email in this
//! interview?" that both resolving unknown invite outcomes and inviting rely on.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use futures::TryStreamExt;
use tokio::sync::OnceCell;

use super::bounded::{self, Unbounded};
use super::convert;
use super::tenant::Tenant;
use crate::domain::InterviewKey;
use crate::domain::email::email_key;
use crate::http::ApiError;
use crate::plan::Participant;

/// Interviews are reserved (by the pass, with `&mut`) before they are listed, so concurrent
/// invites can share one directory by `&` and still list each interview once: the first
/// lookup of an interview lists it, the others wait for that listing.
///
/// When Willo ignores the `?interview=` filter (a listing returns rows of other interviews),
/// listing "one interview" lists the whole account: the directory then switches to one shared
/// listing of every participant, split by interview, for the rest of the pass, and the pass
/// remembers the finding so the next ones start that way.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    listings: BTreeMap<InterviewKey, OnceCell<Listing>>,
    /// The shared listing, once the filter is known to be ignored.
    shared: Option<OnceCell<BTreeMap<InterviewKey, Listing>>>,
    /// Set when a listing in this pass returned rows of other interviews.
    found_ignored: OnceLock<()>,
    /// Single addresses a hint looked up without listing their interview: (interview, email
    /// key) → what the lookup proved.
    looked_up: BTreeMap<(InterviewKey, String), Lookup>,
}

impl Directory {
    /// A directory; `filter_ignored` when an earlier pass found Willo ignores the filter.
    pub(crate) fn new(filter_ignored: bool) -> Directory {
        Directory {
            shared: filter_ignored.then(OnceCell::new),
            ..Directory::default()
        }
    }

    /// True when this pass found the `interview` filter ignored (and should remember it).
    pub(crate) fn found_filter_ignored(&self) -> bool {
        self.found_ignored.get().is_some()
    }

    /// Makes room for these interviews' listings (listed on first use).
    pub(crate) fn reserve(&mut self, interviews: impl IntoIterator<Item = InterviewKey>) {
        for key in interviews {
            self.listings.entry(key).or_default();
        }
    }

    /// Lists every interview of `interviews` not listed yet.
    pub(crate) async fn list_all(
        &mut self,
        tenant: &Tenant,
        interviews: &BTreeSet<InterviewKey>,
    ) -> Result<(), ApiError> {
        self.reserve(interviews.iter().cloned());
        for key in interviews {
            self.listing(tenant, key).await?;
            if self.found_filter_ignored() && self.shared.is_none() {
                tracing::warn!(tenant = %tenant.id, "Willo ignores the participant listing's interview filter; listing every participant once and splitting by interview instead");
                self.shared = Some(OnceCell::new());
            }
        }
        Ok(())
    }

    /// The complete participant listing of a reserved interview, listed on first use; `None`
    /// if the interview was not reserved.
    async fn listing(
        &self,
        tenant: &Tenant,
        interview: &str,
    ) -> Result<Option<&Listing>, ApiError> {
        static EMPTY: Listing = Listing::EMPTY;
        if let Some(shared) = &self.shared {
            let all = shared.get_or_try_init(|| list_everyone(tenant)).await?;
            return Ok(Some(all.get(interview).unwrap_or(&EMPTY)));
        }
        let Some(cell) = self.listings.get(interview) else {
            return Ok(None);
        };
        let listing = cell
            .get_or_try_init(|| list_participants(tenant, interview, &self.found_ignored))
            .await?;
        Ok(Some(listing))
    }

    /// Looks `email` up in `interview` for a hint: from a listing this pass already has, or
    /// by the bounded lookup (at most two Willo requests), or, when nothing bounds it, by
    /// listing the interview. What it proves is kept for the apply step.
    pub(crate) async fn look_up(
        &mut self,
        tenant: &Tenant,
        interview: &str,
        email: &str,
    ) -> Result<Lookup, ApiError> {
        let listed = self
            .listings
            .get(interview)
            .is_some_and(|c| c.initialized());
        if !listed && self.shared.is_none() {
            match bounded::look_up(tenant, interview, email).await {
                Ok(lookup) => {
                    let key = (interview.to_owned(), email_key(email).unwrap_or_default());
                    self.looked_up.insert(key, lookup.clone());
                    return Ok(lookup);
                }
                Err(Unbounded::Api(e)) => return Err(e),
                Err(e) => {
                    tracing::debug!(tenant = %tenant.id, interview, reason = %e,
                        "listing the interview to look an address up");
                }
            }
        }
        self.reserve([interview.to_owned()]);
        self.find(tenant, interview, email).await
    }

    /// What the interview's listing says about `email`. An interview that was not reserved is
    /// listed anyway (uncached): slower, never wrong.
    pub(crate) async fn find(
        &self,
        tenant: &Tenant,
        interview: &str,
        email: &str,
    ) -> Result<Lookup, ApiError> {
        let key = (interview.to_owned(), email_key(email).unwrap_or_default());
        if let Some(lookup) = self.looked_up.get(&key) {
            return Ok(lookup.clone());
        }
        match self.listing(tenant, interview).await? {
            Some(listing) => Ok(listing.lookup(email)),
            None => {
                let listing = list_participants(tenant, interview, &self.found_ignored).await?;
                Ok(listing.lookup(email))
            }
        }
    }

    /// Like [`Directory::find`], from a listing made now rather than the pass's cached one (to
    /// look again after waiting for a request that could still land).
    pub(crate) async fn find_fresh(
        &self,
        tenant: &Tenant,
        interview: &str,
        email: &str,
    ) -> Result<Lookup, ApiError> {
        let listing = list_participants(tenant, interview, &self.found_ignored).await?;
        Ok(listing.lookup(email))
    }

    /// Every participant listed so far, of the given interviews.
    pub(crate) fn listed_of<'a>(
        &'a self,
        interviews: &'a BTreeSet<InterviewKey>,
    ) -> impl Iterator<Item = &'a Participant> + 'a {
        let shared = self.shared.as_ref().and_then(OnceCell::get);
        interviews
            .iter()
            .filter_map(move |k| match shared {
                Some(all) => all.get(k),
                None => self.listings.get(k).and_then(OnceCell::get),
            })
            .flat_map(|l| l.rows.iter())
    }
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

/// One interview's participants, indexed by email so a lookup costs a logarithm of the
/// interview's size rather than a scan of it (a first pass that invites thousands into one interview stays linear).
#[derive(Debug, Default)]
pub(crate) struct Listing {
    rows: Vec<Participant>,
    /// Email key → the row with the smallest participant key among those with that email.
    by_email: BTreeMap<String, usize>,
    /// Rows without an email address: while there are any, absence proves nothing.
    without_email: usize,
}

impl Listing {
    const EMPTY: Listing = Listing {
        rows: Vec::new(),
        by_email: BTreeMap::new(),
        without_email: 0,
    };

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

    /// What this listing says about `email`.
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

/// One interview's complete participant listing (every page). Rows that name another
/// interview mean Willo ignored the filter: they are left out and the finding is noted.
async fn list_participants(
    tenant: &Tenant,
    interview: &str,
    found_ignored: &OnceLock<()>,
) -> Result<Listing, ApiError> {
    let stream = tenant.willo.participants(interview);
    futures::pin_mut!(stream);
    let mut rows = Listing::default();
    while let Some(p) = stream.try_next().await? {
        if p.interview_key.as_deref().is_some_and(|k| k != interview) {
            let _ = found_ignored.set(());
            continue;
        }
        rows.push(convert::participant_seen(tenant, &p, interview));
    }
    Ok(rows)
}

/// Every participant of the account, by the interview each names (rows that name none cannot
/// be placed and are left out).
async fn list_everyone(tenant: &Tenant) -> Result<BTreeMap<InterviewKey, Listing>, ApiError> {
    let stream = tenant.willo.all_participants();
    futures::pin_mut!(stream);
    let mut by_interview: BTreeMap<InterviewKey, Listing> = BTreeMap::new();
    while let Some(p) = stream.try_next().await? {
        if let Some(interview) = p.interview_key.clone() {
            let row = convert::participant_seen(tenant, &p, &interview);
            by_interview.entry(interview).or_default().push(row);
        }
    }
    Ok(by_interview)
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
