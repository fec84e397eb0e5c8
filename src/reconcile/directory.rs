//! The participant directory of one pass: each interview's participants, listed from Willo at
//! most once per pass, and the one lookup "is there a participant with this email in this
//! interview?" that both resolving unknown invite outcomes and inviting rely on.

use std::collections::{BTreeMap, BTreeSet};

use futures::TryStreamExt;
use tokio::sync::OnceCell;

use super::convert;
use super::tenant::Tenant;
use crate::domain::InterviewKey;
use crate::domain::email::same_email;
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

    /// The participant of `interview` whose email is `email`, if any. An interview that was not
    /// reserved is listed anyway (uncached): slower, never wrong.
    pub(crate) async fn find(
        &self,
        tenant: &Tenant,
        interview: &str,
        email: &str,
    ) -> Result<Option<Participant>, ApiError> {
        let with_email = |rows: &[Participant]| {
            rows.iter()
                .find(|p| p.email.as_deref().is_some_and(|e| same_email(e, email)))
                .cloned()
        };
        match self.listing(tenant, interview).await? {
            Some(rows) => Ok(with_email(rows)),
            None => Ok(with_email(&list_participants(tenant, interview).await?)),
        }
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
