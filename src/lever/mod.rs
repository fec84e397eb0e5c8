//! The Lever Data API client: typed reads as lazy streams, tag and note writes,
//! API-key and OAuth authentication, and the `connect` flow.
//!
//! Wire structs stay private in `wire`; everything public is a clean `model` type.

mod auth;
mod client;
#[cfg(test)]
mod fixture_tests;
pub mod model;
pub mod oauth;
mod paging;
pub mod permission;
pub mod query;
pub mod token_store;
mod wire;

pub use auth::REFRESH_MARGIN;
pub use client::{LeverAuth, LeverClient, LeverClientConfig};
pub use model::{DeletedOpportunity, Note, Opportunity, Posting, Stage, Tag, User};
pub use oauth::{ConnectError, OAuthConfig, OAuthTokens, connect};
pub use query::{Confidentiality, OpportunityQuery, PostingQuery};
pub use token_store::{MemoryTokenStore, TokenStore, TokenStoreError};

/// A page of opportunities with `next` and `hasNext`, as [`decode_opportunities_page`] reads it.
#[doc(hidden)]
pub type OpportunitiesPage = (Vec<Opportunity>, Option<String>, Option<bool>);

/// Entry point for the fuzz targets (`fuzz/`) and property tests: reads one body of
/// `GET /opportunities` exactly as the listing does (page checks, tolerant rows, conversion),
/// without HTTP. Returns the page's opportunities, `next` and `hasNext`. Not an API.
#[doc(hidden)]
pub fn decode_opportunities_page(body: &[u8]) -> Result<OpportunitiesPage, crate::http::ApiError> {
    let page = paging::read_page::<wire::Opportunity>(client::ROUTE_OPPORTUNITIES, body)?;
    let items = page.items.into_iter().map(Opportunity::from).collect();
    Ok((items, page.next, page.has_next))
}

/// Entry point for the fuzz targets and property tests: reads one body of
/// `GET /opportunities/{id}` as the client does. Not an API.
#[doc(hidden)]
pub fn decode_opportunity(body: &[u8]) -> Result<Opportunity, crate::http::ApiError> {
    let env: wire::DataEnvelope<wire::Opportunity> = crate::http::decode::decode(
        crate::http::observer::Api::Lever,
        client::ROUTE_OPPORTUNITY,
        body,
    )?;
    Ok(env.data.into())
}
