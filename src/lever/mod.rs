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
pub use model::{DeletedOpportunity, Opportunity, Posting, Stage, Tag, User};
pub use oauth::{ConnectError, OAuthConfig, OAuthTokens, connect};
pub use query::{Confidentiality, OpportunityQuery, PostingQuery};
pub use token_store::{MemoryTokenStore, TokenStore, TokenStoreError};
