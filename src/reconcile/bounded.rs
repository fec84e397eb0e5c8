//! Proving an address absent from an interview without listing it, for a hint: at most two
//! Willo requests whatever the interview's size.
//!
//! Willo lists an interview's participants in a stable order, new ones at one end (at the end
//! in creation order, at the start newest first: which one is not known, so both ends are
//! read). The store holds every participant of the interview's last complete listing. A
//! participant the store does not know was created since that listing, so it sits at the end
//! where new ones go, after every participant the store knew then: when each end read holds a
//! participant known at the last listing, every unknown one is among those read. The store
//! answers for the rest.

use super::convert;
use super::directory::{Listing, Lookup};
use super::tenant::Tenant;
use crate::http::ApiError;
use crate::plan::Participant;
use crate::store::StoreError;
use crate::willo::ParticipantPage;

/// Why a bounded lookup could not decide (the caller lists the interview instead).
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unbounded {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The interview was never listed completely, or an end read holds no participant known
    /// then, or Willo gave no count, or ignores the filter: nothing bounds the rest.
    #[error("the listing's ends do not bound what is unknown: {0}")]
    Open(&'static str),
}

/// What the interview says about `email`, from the store and the two ends of the listing.
pub(crate) async fn look_up(
    tenant: &Tenant,
    interview: &str,
    email: &str,
) -> Result<Lookup, Unbounded> {
    let first = page(tenant, interview, 1)
        .await?
        .unwrap_or(ParticipantPage {
            count: Some(0),
            page_size: 1,
            last: true,
            rows: Vec::new(),
        });
    let first_rows = participants(tenant, interview, &first);
    if first.last {
        // The whole interview fits one page: it says everything by itself.
        return Ok(first_rows.into_iter().collect::<Listing>().lookup(email));
    }
    let known = tenant
        .store
        .read(|r| r.interview_knowledge(&tenant.id, interview, email))?;
    if let Some(row) = known.with_email {
        return Ok(Lookup::Found(Participant {
            key: row.key,
            interview_key: row.interview_key,
            email: row.email,
            state: row.state,
            updated_at: None,
            response_link: row.response_link,
        }));
    }
    let listed_at = known
        .listed_at
        .ok_or(Unbounded::Open("the interview was never listed completely"))?;
    let count = first.count.ok_or(Unbounded::Open("Willo gave no count"))?;
    let last = page(tenant, interview, count.div_ceil(first.page_size.max(1)))
        .await?
        .ok_or(Unbounded::Open("the last page is gone"))?;
    let last_rows = participants(tenant, interview, &last);
    for (end, unbounded) in [
        (
            &first_rows,
            "the first page holds no participant known at the last listing",
        ),
        (
            &last_rows,
            "the last page holds no participant known at the last listing",
        ),
    ] {
        let keys: Vec<String> = end.iter().map(|p| p.key.clone()).collect();
        let old = tenant
            .store
            .read(|r| r.known_at(&tenant.id, &keys, listed_at))?;
        if old.is_empty() {
            return Err(Unbounded::Open(unbounded));
        }
    }
    let ends: Listing = first_rows.into_iter().chain(last_rows).collect();
    match ends.lookup(email) {
        Lookup::Absent if known.without_email > 0 => Ok(Lookup::Inconclusive {
            without_email: usize::try_from(known.without_email).unwrap_or(usize::MAX),
        }),
        other => Ok(other),
    }
}

fn participants(tenant: &Tenant, interview: &str, page: &ParticipantPage) -> Vec<Participant> {
    page.rows
        .iter()
        .map(|p| convert::participant_seen(tenant, p, interview))
        .collect()
}

/// One page of the interview's listing; a row of another interview means Willo ignores the
/// filter, which the two ends cannot bound.
async fn page(
    tenant: &Tenant,
    interview: &str,
    number: u64,
) -> Result<Option<ParticipantPage>, Unbounded> {
    let page = tenant.willo.participants_page(interview, number).await?;
    if let Some(p) = &page
        && p.rows
            .iter()
            .any(|r| r.interview_key.as_deref().is_some_and(|k| k != interview))
    {
        return Err(Unbounded::Open("Willo ignores the interview filter"));
    }
    Ok(page)
}
