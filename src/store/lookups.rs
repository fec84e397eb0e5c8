//! What the store knows about one interview's participants, for proving an address absent from
//! a large interview without listing it: a hint reads the two ends of Willo's listing, and the
//! store vouches for the middle (every participant of the last complete listing is stored).

use super::db::{Optional, params};

use super::participants::ParticipantRow;
use super::{Ctx, Reader, StoreError, Tx};

/// What the store knows of an interview's participants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterviewKnowledge {
    /// Since when the store has held every participant of the interview: its last complete
    /// listing, or a hint's later proof that nothing was missing (`None`: never).
    pub complete_at: Option<i64>,
    /// A stored participant of the interview with the address, if any.
    pub with_email: Option<ParticipantRow>,
    /// Stored participants of the interview without an address.
    pub without_email: u64,
}

/// The participant of an interview with an address (trimmed by the caller, case aside):
/// found through `participants_by_interview`. Named, because for `ORDER BY key` SQLite would
/// otherwise walk the primary key through every participant of the tenant to save a sort of
/// the one or two rows that match.
pub(super) const BY_INTERVIEW_AND_EMAIL: &str =
    "SELECT key, interview_key, email, state, changed_at, seen_at, response_link
     FROM participants INDEXED BY participants_by_interview
     WHERE tenant = ?1 AND interview_key = ?2 AND email = ?3 COLLATE NOCASE
     ORDER BY key LIMIT 1";

/// How many participants of an interview have no address. Addresses are stored trimmed and
/// blank ones as none (migration 7), so this is an index range, not a read of the interview.
pub(super) const WITHOUT_EMAIL: &str =
    "SELECT COUNT(*) FROM participants WHERE tenant = ?1 AND interview_key = ?2 AND email IS NULL";

impl Reader<'_> {
    pub fn interview_knowledge(
        &self,
        tenant: &str,
        interview: &str,
        email: &str,
    ) -> Result<InterviewKnowledge, StoreError> {
        let complete_at: Option<i64> = self
            .conn
            .query_row(
                "SELECT NULLIF(MAX(COALESCE(listed_at, 0), COALESCE(complete_at, 0)), 0)
                 FROM interviews WHERE tenant = ?1 AND key = ?2",
                params![tenant, interview],
                |r| r.get(0),
            )
            .optional()
            .ctx("read interview listing time")?
            .flatten();
        let with_email = self
            .conn
            .query_row(
                BY_INTERVIEW_AND_EMAIL,
                params![tenant, interview, email.trim()],
                |r| {
                    Ok(ParticipantRow {
                        key: r.get(0)?,
                        interview_key: r.get(1)?,
                        email: r.get(2)?,
                        state: r.get(3)?,
                        changed_at: r.get(4)?,
                        seen_at: r.get(5)?,
                        response_link: r.get(6)?,
                    })
                },
            )
            .optional()
            .ctx("read participant by email")?;
        let without_email: i64 = self
            .conn
            .query_row(WITHOUT_EMAIL, params![tenant, interview], |r| r.get(0))
            .ctx("count participants without email")?;
        Ok(InterviewKnowledge {
            complete_at,
            with_email,
            without_email: u64::try_from(without_email).unwrap_or(0),
        })
    }

    /// When the store first saw each of `keys` it holds (the others are not returned).
    pub fn first_seen(
        &self,
        tenant: &str,
        keys: &[String],
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT key, first_seen_at FROM participants WHERE tenant = ?1
                   AND key IN (SELECT value FROM json_each(?2))",
            )
            .ctx("prepare first seen")?;
        let rows = st
            .query_map(params![tenant, super::to_json_list(keys)], |r| {
                // None only before migration 7, which counts such rows as known from the start.
                Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0)))
            })
            .ctx("read first seen")?;
        rows.collect::<Result<_, _>>().ctx("read first seen")
    }
}

impl Tx<'_> {
    /// Notes that the interview was listed completely at `at` and every participant then
    /// listed is stored.
    pub fn set_interview_listed(
        &self,
        tenant: &str,
        interview: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached("UPDATE interviews SET listed_at = ?3 WHERE tenant = ?1 AND key = ?2")
            .ctx("prepare interview listed")?
            .execute(params![tenant, interview, at])
            .ctx("write interview listed")?;
        // A complete listing supersedes a sweep under way.
        self.drop_sweep(tenant, interview)
    }

    /// Notes that at `at` every participant of the interview was stored (a hint read both ends
    /// of the listing and stored every row there); never moves the time back.
    pub fn set_interview_complete(
        &self,
        tenant: &str,
        interview: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE interviews SET complete_at = MAX(COALESCE(complete_at, 0), ?3)
                   WHERE tenant = ?1 AND key = ?2";
        self.conn()
            .execute(sql, params![tenant, interview, at])
            .map(drop)
            .ctx("write interview complete")
    }
}

impl Reader<'_> {
    /// The interviews with a `done` invite (a full pass lists their participants).
    pub fn done_interviews(&self, tenant: &str) -> Result<Vec<String>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT interview_key FROM invites WHERE tenant = ?1 AND state = 'done'",
            )
            .ctx("prepare done interviews")?;
        let rows = st
            .query_map(params![tenant], |r| r.get(0))
            .ctx("read done interviews")?;
        rows.collect::<Result<_, _>>().ctx("read done interviews")
    }

    /// Each interview with a `done` invite, with the distinct states its participants last
    /// showed (`None`: not seen, or no state).
    pub fn done_invite_states(
        &self,
        tenant: &str,
    ) -> Result<Vec<(String, Option<String>)>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT i.interview_key, p.state FROM invites i
                 LEFT JOIN participants p ON p.tenant = i.tenant AND p.key = i.participant_key
                 WHERE i.tenant = ?1 AND i.state = 'done'",
            )
            .ctx("prepare invite states")?;
        let rows = st
            .query_map(params![tenant], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx("read invite states")?;
        rows.collect::<Result<_, _>>().ctx("read invite states")
    }

    /// Opportunities with a `done` invite that were not seen since `since` and are not known
    /// deleted (a full pass reads them one by one).
    pub fn unseen_invited(&self, tenant: &str, since: i64) -> Result<Vec<String>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT i.opportunity_id FROM invites i
                 LEFT JOIN opportunities o ON o.tenant = i.tenant AND o.id = i.opportunity_id
                 WHERE i.tenant = ?1 AND i.state = 'done'
                   AND (o.id IS NULL OR (o.seen_at < ?2 AND o.deleted = 0))
                 ORDER BY i.opportunity_id",
            )
            .ctx("prepare unseen invited")?;
        let rows = st
            .query_map(params![tenant, since], |r| r.get(0))
            .ctx("read unseen invited")?;
        rows.collect::<Result<_, _>>().ctx("read unseen invited")
    }

    /// Stored participants with any of these addresses (trimmed; ASCII case aside).
    pub fn participants_by_emails(
        &self,
        tenant: &str,
        emails: &[String],
    ) -> Result<Vec<ParticipantRow>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT key, interview_key, email, state, changed_at, seen_at, response_link
                 FROM participants
                 WHERE tenant = ?1
                   AND email COLLATE NOCASE IN (SELECT trim(value) FROM json_each(?2))",
            )
            .ctx("prepare participants by email")?;
        let rows = st
            .query_map(params![tenant, super::to_json_list(emails)], |r| {
                Ok(ParticipantRow {
                    key: r.get(0)?,
                    interview_key: r.get(1)?,
                    email: r.get(2)?,
                    state: r.get(3)?,
                    changed_at: r.get(4)?,
                    seen_at: r.get(5)?,
                    response_link: r.get(6)?,
                })
            })
            .ctx("read participants by email")?;
        rows.collect::<Result<_, _>>()
            .ctx("read participants by email")
    }

    /// The opportunities whose invites name any of these participants.
    pub fn opportunities_of_participants(
        &self,
        tenant: &str,
        keys: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT opportunity_id FROM invites WHERE tenant = ?1
                   AND participant_key IN (SELECT value FROM json_each(?2))",
            )
            .ctx("prepare opportunities of participants")?;
        let rows = st
            .query_map(params![tenant, super::to_json_list(keys)], |r| r.get(0))
            .ctx("read opportunities of participants")?;
        rows.collect::<Result<_, _>>()
            .ctx("read opportunities of participants")
    }
}
