//! The participant directory of one pass: each interview's participants, listed from Willo at
//! most once per pass, and the one lookup "is there a participant with this email in this
//! interview?" that both resolving unknown invite outcomes and inviting rely on.

use std::collections::{BTreeMap, BTreeSet};

use futures::TryStreamExt;
use tokio::sync::OnceCell;

use super::convert;
use super::tenant::Tenant;
use crate::domain::InterviewKey;
use crate::domain::email::{email_key, same_email};
use crate::http::ApiError;
use crate::plan::Participant;

/// Interviews are reserved (by the pass, with `&mut`) before they are listed, so concurrent
/// invites can share one directory by `&` and still list each interview once: the first
/// lookup of an interview lists it, the others wait for that listing.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    listings: BTreeMap<InterviewKey, OnceCell<Vec<Participant>>>,
}

impl Directory {
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
        }
        Ok(())
    }

    /// The complete participant listing of a reserved interview, listed on first use; `None`
    /// if the interview was not reserved.
    async fn listing(
        &self,
        tenant: &Tenant,
        interview: &str,
    ) -> Result<Option<&[Participant]>, ApiError> {
        let Some(cell) = self.listings.get(interview) else {
            return Ok(None);
        };
        let rows = cell
            .get_or_try_init(|| list_participants(tenant, interview))
            .await?;
        Ok(Some(rows.as_slice()))
    }

    /// What the interview's listing says about `email`. An interview that was not reserved is
    /// listed anyway (uncached): slower, never wrong.
    pub(crate) async fn find(
        &self,
        tenant: &Tenant,
        interview: &str,
        email: &str,
    ) -> Result<Lookup, ApiError> {
        match self.listing(tenant, interview).await? {
            Some(rows) => Ok(Lookup::in_rows(rows, email)),
            None => Ok(Lookup::in_rows(
                &list_participants(tenant, interview).await?,
                email,
            )),
        }
    }

    /// Like [`Directory::find`], from a listing made now rather than the pass's cached one (to
    /// look again after waiting for a request that could still land).
    pub(crate) async fn find_fresh(
        tenant: &Tenant,
        interview: &str,
        email: &str,
    ) -> Result<Lookup, ApiError> {
        Ok(Lookup::in_rows(
            &list_participants(tenant, interview).await?,
            email,
        ))
    }

    /// Every participant listed so far, of the given interviews.
    pub(crate) fn listed_of<'a>(
        &'a self,
        interviews: &'a BTreeSet<InterviewKey>,
    ) -> impl Iterator<Item = &'a Participant> + 'a {
        interviews
            .iter()
            .filter_map(|k| self.listings.get(k).and_then(OnceCell::get))
            .flatten()
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

impl Lookup {
    fn in_rows(rows: &[Participant], email: &str) -> Lookup {
        if let Some(p) = rows
            .iter()
            .find(|p| p.email.as_deref().is_some_and(|e| same_email(e, email)))
        {
            return Lookup::Found(p.clone());
        }
        let without_email = rows
            .iter()
            .filter(|p| p.email.as_deref().and_then(email_key).is_none())
            .count();
        if without_email > 0 {
            Lookup::Inconclusive { without_email }
        } else {
            Lookup::Absent
        }
    }
}

/// One interview's complete participant listing (every page).
async fn list_participants(tenant: &Tenant, interview: &str) -> Result<Vec<Participant>, ApiError> {
    let stream = tenant.willo.participants(interview);
    futures::pin_mut!(stream);
    let mut rows = Vec::new();
    while let Some(p) = stream.try_next().await? {
        rows.push(convert::participant(&p, interview));
    }
    Ok(rows)
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
            Lookup::in_rows(&rows, "ada@example.com"),
            Lookup::Found(rows[0].clone())
        );
    }

    #[test]
    fn absence_is_proven_only_when_every_row_has_an_email() {
        let all = [p("a", Some("a@x.io")), p("b", Some("b@x.io"))];
        assert_eq!(Lookup::in_rows(&all, "c@x.io"), Lookup::Absent);
        let some_blank = [p("a", Some("a@x.io")), p("b", Some("  ")), p("c", None)];
        assert_eq!(
            Lookup::in_rows(&some_blank, "c@x.io"),
            Lookup::Inconclusive { without_email: 2 }
        );
    }
}
