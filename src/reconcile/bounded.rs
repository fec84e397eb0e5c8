//! Proving an address absent from an interview without listing it, for a hint: two Willo
//! requests whatever the interview's size, a few more when new participants fill a page.
//!
//! Willo lists an interview's participants in a stable order, new ones at one end (at the end
//! in creation order, at the start newest first: which one is not known, so both ends are
//! read). The store holds every participant that existed when it was last known complete (a
//! complete listing, or an earlier hint's proof). A participant the store does not know was
//! created since, so it sits at the end where new ones go, after every participant known
//! then: once the pages read from each end reach a participant known then, every unknown one
//! is among those read. The store answers for the rest.
//!
//! When every row read is stored too, the store held the whole interview when the first page
//! was read, and that time becomes its new "complete" time: the participants this daemon
//! creates then count as known for the next hint, so they never fill the ends unvouched.

use std::collections::{BTreeMap, HashMap};

use super::convert;
use super::directory::{Listing, Lookup};
use super::tenant::Tenant;
use crate::http::ApiError;
use crate::plan::Participant;
use crate::store::StoreError;
use crate::willo::ParticipantPage;

/// Pages read inwards from each end, beyond the end itself, looking for a participant the
/// store vouches for; past them the interview is listed instead.
const WALK: usize = 2;

/// Why a bounded lookup could not decide (the caller lists the interview instead).
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unbounded {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The interview was never listed completely, or the pages near an end hold no
    /// participant known then, or Willo gave no count, or ignores the filter: nothing bounds
    /// the rest.
    #[error("the listing's ends do not bound what is unknown: {0}")]
    Open(&'static str),
}

/// What the interview says about `email`, from the store and the ends of the listing; when
/// nothing bounds it, says why (debug) for the caller, which lists the interview instead.
pub(crate) async fn look_up(
    tenant: &Tenant,
    interview: &str,
    email: &str,
) -> Result<Lookup, Unbounded> {
    let found = look_up_ends(tenant, interview, email).await;
    if let Err(Unbounded::Open(why)) = &found {
        tracing::debug!(tenant = %tenant.id, interview = %interview,
            "a hint lists the whole interview: {why}");
    }
    found
}

async fn look_up_ends(tenant: &Tenant, interview: &str, email: &str) -> Result<Lookup, Unbounded> {
    // Before the first read: a participant that exists now is stored or on a page read below.
    let started = crate::clock::now_ms();
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
    let complete_at = known
        .complete_at
        .ok_or(Unbounded::Open("the interview was never listed completely"))?;
    let count = first.count.ok_or(Unbounded::Open("Willo gave no count"))?;
    // Page numbers locate the end only if pages are as long as asked for: a shorter page size
    // on Willo's side would make "the last page" one from the middle.
    if u64::try_from(first.rows.len()).ok() != Some(first.page_size) {
        return Err(Unbounded::Open(
            "the first page is not as long as the page size asked for",
        ));
    }
    let pages = count.div_ceil(first.page_size.max(1)).max(1);
    let mut ends = Ends {
        tenant,
        interview,
        read: BTreeMap::new(),
        first_seen: HashMap::new(),
    };
    ends.note(1, first_rows)?;
    if !ends
        .anchored((1..=pages).take(1 + WALK), complete_at)
        .await?
    {
        return Err(Unbounded::Open(
            "the pages at the start hold no participant known when the store last held them all",
        ));
    }
    if !ends
        .anchored((1..=pages).rev().take(1 + WALK), complete_at)
        .await?
    {
        return Err(Unbounded::Open(
            "the pages at the end hold no participant known when the store last held them all",
        ));
    }
    let read: Vec<Participant> = ends.read.into_values().flatten().collect();
    if read.iter().all(|p| ends.first_seen.contains_key(&p.key)) {
        tenant
            .store
            .write(|tx| tx.set_interview_complete(&tenant.id, interview, started))?;
    }
    match read.into_iter().collect::<Listing>().lookup(email) {
        Lookup::Absent if known.without_email > 0 => Ok(Lookup::Inconclusive {
            without_email: usize::try_from(known.without_email).unwrap_or(usize::MAX),
        }),
        other => Ok(other),
    }
}

/// The pages read so far from both ends of one interview's listing, and when the store first
/// saw each participant on them that it holds.
struct Ends<'a> {
    tenant: &'a Tenant,
    interview: &'a str,
    read: BTreeMap<u64, Vec<Participant>>,
    first_seen: HashMap<String, i64>,
}

impl Ends<'_> {
    /// Keeps page `number`'s rows and reads, once, what the store knows of them.
    fn note(&mut self, number: u64, rows: Vec<Participant>) -> Result<(), Unbounded> {
        let t = self.tenant;
        let keys: Vec<String> = rows.iter().map(|p| p.key.clone()).collect();
        self.first_seen
            .extend(t.store.read(|r| r.first_seen(&t.id, &keys))?);
        self.read.insert(number, rows);
        Ok(())
    }

    /// Reads `numbers` in turn (those not read yet) until one page holds a participant the
    /// store knew at `complete_at`: whether one did.
    async fn anchored(
        &mut self,
        numbers: impl Iterator<Item = u64>,
        complete_at: i64,
    ) -> Result<bool, Unbounded> {
        for number in numbers {
            if !self.read.contains_key(&number) {
                let (t, interview) = (self.tenant, self.interview);
                let read = page(t, interview, number)
                    .await?
                    .ok_or(Unbounded::Open("a page of the listing is gone"))?;
                self.note(number, participants(t, interview, &read))?;
            }
            let known_then = |p: &Participant| {
                self.first_seen
                    .get(&p.key)
                    .is_some_and(|seen| *seen <= complete_at)
            };
            if self
                .read
                .get(&number)
                .is_some_and(|rows| rows.iter().any(known_then))
            {
                return Ok(true);
            }
        }
        Ok(false)
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
