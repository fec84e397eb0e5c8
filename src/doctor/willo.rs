//! The Willo checks: credentials, the interview listing (how many, how many in scope, where its
//! `next` links point), whether the participant filter is honoured, and what participant
//! records look like (in `participants`).

use futures::{StreamExt, TryStreamExt};

use super::finding::Finding;
use super::participants;
use crate::config::TenantSettings;
use crate::http::ApiError;
use crate::willo::{ParticipantSample, WilloClient};

/// Participants read for the shape, the states and the filter check: a few pages at most.
const SAMPLE: usize = 120;

pub(super) async fn checks(tenant: &TenantSettings, client: &WilloClient) -> Vec<Finding> {
    let mut out = Vec::new();
    let interviews = match client.interviews().await {
        Ok(listed) => listed,
        Err(e) if Finding::stops_checks(&e) => {
            out.push(Finding::from_error(
                "willo.credentials",
                "GET /interviews/",
                &e,
            ));
            return out;
        }
        Err(e) => {
            if matches!(e, ApiError::Forbidden { .. }) {
                out.push(Finding::ok(
                    "willo.credentials",
                    "the key was accepted (GET /interviews/ answered 403, not 401)",
                ));
            }
            out.push(Finding::from_error(
                "willo.interviews",
                "GET /interviews/",
                &e,
            ));
            return out;
        }
    };
    out.push(Finding::ok("willo.credentials", "the key was accepted"));
    let scope = &tenant.willo.interview_scope;
    let in_scope = interviews.iter().filter(|i| scope.contains(i)).count();
    let scope_text = if scope.is_everything() {
        "no interview_scope is set, so all are synced".to_owned()
    } else {
        format!("{in_scope} in interview_scope")
    };
    out.push(Finding::ok(
        "willo.interviews",
        format!("{} interviews listed, {scope_text}", interviews.len()),
    ));

    let samples = match client.participant_samples(SAMPLE).await {
        Ok(s) => s,
        Err(e) => {
            out.push(Finding::from_error(
                "willo.participants",
                "GET /participants/",
                &e,
            ));
            return out;
        }
    };
    out.push(links(client));
    out.push(filter(client, &samples).await);
    out.extend(participants::checks(tenant, &samples));
    out
}

/// Where Willo's `next` links point, as seen on the listings just read.
fn links(client: &WilloClient) -> Finding {
    const CHECK: &str = "willo.next_links";
    let base = client.base_url().origin().ascii_serialization();
    match client.rebuilt_links() {
        0 => Finding::ok(
            CHECK,
            format!("every next link read was on {base} (or the listings fit on one page)"),
        ),
        n => Finding::ok(
            CHECK,
            format!(
                "{n} next links named another scheme or port than {base} (a proxy in front of \
                 Willo); they are followed on {base}"
            ),
        ),
    }
}

/// Whether `GET /participants/?interview=` returns only that interview's rows.
async fn filter(client: &WilloClient, samples: &[ParticipantSample]) -> Finding {
    const CHECK: &str = "willo.participant_filter";
    let mut interviews: Vec<&str> = samples
        .iter()
        .filter_map(|s| s.participant.interview_key.as_deref())
        .collect();
    interviews.sort_unstable();
    interviews.dedup();
    if samples
        .iter()
        .any(|s| s.participant.interview_key.is_none())
    {
        return Finding::unknown(
            CHECK,
            "participant rows do not say which interview they belong to",
            "nothing to do: the daemon then trusts the filter",
        );
    }
    let [wanted, _, ..] = interviews[..] else {
        return Finding::unknown(
            CHECK,
            "the participants read belong to fewer than two interviews, so a filter could not be \
             told from no filter",
            "run doctor again once two interviews have participants",
        );
    };
    let rows: Result<Vec<_>, ApiError> =
        client.participants(wanted).take(SAMPLE).try_collect().await;
    match rows {
        Ok(rows) => {
            let foreign = rows
                .iter()
                .filter(|p| p.interview_key.as_deref() != Some(wanted))
                .count();
            if foreign == 0 {
                Finding::ok(
                    CHECK,
                    "honoured: a filtered listing held only its interview's rows",
                )
            } else {
                Finding::ok(
                    CHECK,
                    format!(
                        "ignored: a listing filtered on one interview held {foreign} rows of \
                         others; the daemon checks every row's interview"
                    ),
                )
            }
        }
        Err(e) => Finding::from_error(CHECK, "GET /participants/?interview=", &e),
    }
}
