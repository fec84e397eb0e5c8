//! The Willo Integration API v2 client: bare-key auth, DRF paging that follows
//! `next` only on the configured host, participant state read from configured fields, and a create that
//! is never repeated once it may have been sent.

mod client;
#[cfg(test)]
mod fixture_tests;
pub mod model;
pub mod scope;
pub mod shape;
pub mod state;
mod wire;

pub use client::{ADMIN_KEY, ParticipantPage, ParticipantSample, WilloClient, WilloClientConfig};
pub use model::{Interview, NewParticipant, Participant};
pub use scope::InterviewScope;
pub use shape::Shape;
pub use state::{DEFAULT_STATE_FIELDS, StateFields, looks_like_key};

/// Entry point for the fuzz targets (`fuzz/`) and property tests: reads one body of
/// `GET /participants/` as the listing does (envelope or bare array, then each row with the
/// tenant's state fields), without HTTP. Returns `next` and the rows. Not an API.
#[doc(hidden)]
pub fn decode_participants_page(
    body: &[u8],
    state_fields: &StateFields,
) -> Result<(Option<String>, Vec<Participant>), crate::http::ApiError> {
    let page = wire::page(client::ROUTE_PARTICIPANTS, body)?;
    let rows = page
        .results
        .iter()
        .map(|row| {
            Participant::from_json(row, state_fields)
                .ok_or_else(|| client::keyless(client::ROUTE_PARTICIPANTS))
        })
        .collect::<Result<_, _>>()?;
    Ok((page.next, rows))
}

/// Entry point for the fuzz targets and property tests: reads one body of
/// `GET /interviews/` as the listing does. Not an API.
#[doc(hidden)]
pub fn decode_interviews_page(
    body: &[u8],
) -> Result<(Option<String>, Vec<Interview>), crate::http::ApiError> {
    let page = wire::page(client::ROUTE_INTERVIEWS, body)?;
    let rows = page
        .results
        .iter()
        .map(|row| {
            Interview::from_json(row).ok_or_else(|| client::keyless(client::ROUTE_INTERVIEWS))
        })
        .collect::<Result<_, _>>()?;
    Ok((page.next, rows))
}

/// Entry point for the fuzz targets and property tests: reads one body of
/// `GET /participants/{key}/` (or a create's answer) as the client does. Not an API.
#[doc(hidden)]
pub fn decode_participant(
    body: &[u8],
    state_fields: &StateFields,
) -> Result<Participant, crate::http::ApiError> {
    let row: serde_json::Value = crate::http::decode::decode(
        crate::http::observer::Api::Willo,
        client::ROUTE_PARTICIPANT,
        body,
    )?;
    Participant::from_json(&row, state_fields)
        .ok_or_else(|| client::keyless(client::ROUTE_PARTICIPANT))
}
