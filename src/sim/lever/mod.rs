//! The Lever Data API v1 simulator (`/v1`), with its OAuth server and webhook sender.
//!
//! ```no_run
//! # async fn demo() -> Result<(), willo_lever_sync::sim::SimError> {
//! use willo_lever_sync::sim::lever::{LeverSim, LeverSimConfig, OppSeed, PostingSeed};
//! let lever = LeverSim::start(LeverSimConfig::default()).await?;
//! lever.add_api_key("key");
//! let stage = lever.add_stage("Video Interview");
//! let posting = lever.add_posting(PostingSeed::new("Engineer").tag("Willo:Engineer-Acme"))?;
//! let opp = lever.add_opportunity(OppSeed::new("Ada", "ada@example.com").posting(&posting))?;
//! lever.move_stage(&opp, &stage)?; // fires candidateStageChange to registered receivers
//! assert_eq!(lever.count("POST", "/v1/opportunities/{id}/addTags"), 0);
//! # Ok(()) }
//! ```

pub mod access;
mod listing;
pub mod model;
mod oauth;
mod pager;
mod routes;
pub mod variants;
mod world;

use std::sync::Arc;

pub use access::{CONFIDENTIAL_SCOPE, Endpoint};
pub use model::{
    Application, Archived, Confidentiality, DataProtection, DeletedOpportunity, Distribution, Note,
    OppSeed, Opportunity, Permission, Phone, Posting, PostingSeed, Stage, StageChange, User,
    UserSeed,
};
pub use oauth::OAuthTokens;
pub use variants::{ArchivedForm, CheckOrder, ConfidentialDenial, NoteStamp};
pub use world::sign as sign_webhook;

use self::oauth::{OAuthClient, OAuthState};
use self::pager::TokenCodec;
use self::routes::LeverShared;
use self::world::{LeverWebhook, LeverWorld};
use super::clock::{ClockConfig, SimClock};
use super::error::SimError;
use super::gate::Flavor;
use super::ids::IdGen;
use super::query::QueryParams;
use super::ratelimit::RateLimit;
use super::server::{Harness, bind, harness_methods};
use super::webhook::{DropRule, WebhookDelivery, WebhookRetry, WebhookSender};

/// How to start a Lever simulator. `Default` follows Lever's documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct LeverSimConfig {
    /// Seed for ids, tokens and the offset-token key.
    pub seed: u64,
    /// The simulated clock.
    pub clock: ClockConfig,
    /// Token bucket per credential (per API key; per OAuth grant). Default 10/s, burst 20.
    pub rate_limit: Option<RateLimit>,
    /// `Retry-After` on rate-limit 429s. Default `None`: Lever documents no such header.
    pub retry_after: Option<u64>,
    /// OAuth access-token lifetime in seconds (`expires_in`). Default 3600.
    pub oauth_expires_in: u64,
    /// Webhook retry policy. Default: 5 retries, 1 s base gap, doubling.
    pub webhook_retry: WebhookRetry,
}

impl Default for LeverSimConfig {
    fn default() -> Self {
        LeverSimConfig {
            seed: 0x1e7e_5eed,
            clock: ClockConfig::default(),
            rate_limit: Some(RateLimit::per_second(10, 20)),
            retry_after: None,
            oauth_expires_in: 3600,
            webhook_retry: WebhookRetry::lever_default(),
        }
    }
}

impl LeverSimConfig {
    /// Defaults tuned for tests: no rate limit, fast webhook retries.
    pub fn for_tests() -> Self {
        LeverSimConfig {
            rate_limit: None,
            webhook_retry: WebhookRetry::fast(),
            ..LeverSimConfig::default()
        }
    }
}

struct LeverInner {
    shared: Arc<LeverShared>,
    harness: Harness,
}

/// A running Lever simulator on `127.0.0.1:PORT`. Cheap to clone; the server stops when the
/// last clone is dropped or [`LeverSim::shutdown`] is called.
#[derive(Clone)]
pub struct LeverSim {
    inner: Arc<LeverInner>,
}

impl std::fmt::Debug for LeverSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeverSim")
            .field("addr", &self.inner.harness.addr)
            .finish_non_exhaustive()
    }
}

impl LeverSim {
    /// Binds `127.0.0.1:0` and starts serving an empty account (no stages, users or keys).
    /// Must be called inside a tokio runtime.
    pub async fn start(config: LeverSimConfig) -> Result<LeverSim, SimError> {
        let (listener, addr) = bind().await?;
        let origin = format!("http://{addr}");
        let mut ids = IdGen::new(config.seed);
        let codec = TokenCodec::new(ids.key32());
        let account = ids.uuid();
        let world = LeverWorld::new(
            ids,
            SimClock::new(config.clock),
            origin,
            OAuthState::new(config.oauth_expires_in, account),
        );
        let shared = Arc::new(LeverShared {
            world: std::sync::Mutex::new(world),
            codec,
            webhooks: Arc::new(WebhookSender::new(
                tokio::runtime::Handle::current(),
                "Lever-Webhooks",
                config.webhook_retry,
            )),
        });
        let harness = Harness::serve(
            listener,
            Flavor::Lever,
            shared.clone(),
            config.rate_limit,
            config.retry_after,
            routes::router(shared.clone()),
        )?;
        Ok(LeverSim {
            inner: Arc::new(LeverInner { shared, harness }),
        })
    }

    harness_methods!();

    fn world(&self) -> std::sync::MutexGuard<'_, LeverWorld> {
        self.inner.shared.lock()
    }

    /// `http://127.0.0.1:PORT/v1`
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.origin())
    }

    /// `http://127.0.0.1:PORT/oauth/token`
    pub fn oauth_token_url(&self) -> String {
        format!("{}/oauth/token", self.origin())
    }

    /// `http://127.0.0.1:PORT/authorize` (auto-consents; see [`LeverSim::deny_consent`]).
    pub fn oauth_authorize_url(&self) -> String {
        format!("{}/authorize", self.origin())
    }

    /// The `audience` the simulated access tokens carry: `http://127.0.0.1:PORT/v1/`.
    pub fn audience(&self) -> String {
        format!("{}/v1/", self.origin())
    }

    // --- credentials -----------------------------------------------------------------

    /// Makes `key` a valid API key (HTTP Basic user name, empty password) with every
    /// endpoint and access to confidential data.
    pub fn add_api_key(&self, key: &str) {
        self.world()
            .api_keys
            .insert(key.to_owned(), access::KeyAccess::default());
    }

    /// Limits `key` (added if unknown) to these endpoints, as a key created with only them
    /// ticked: any other endpoint answers 403 `{"code": "ForbiddenError", ...}`. An empty
    /// slice leaves the key valid (401 never) but useless.
    pub fn restrict_api_key(&self, key: &str, allowed: &[Endpoint]) {
        let mut w = self.world();
        let k = w.api_keys.entry(key.to_owned()).or_default();
        k.endpoints = Some(allowed.iter().copied().collect());
    }

    /// Whether `key` (added if unknown) was created with "Allow access to confidential data"
    /// (`add_api_key` grants it). Without it, confidential rows are refused or omitted
    /// ([`LeverSim::set_confidential_denial`]) and confidential records by id are 403.
    pub fn set_confidential_access(&self, key: &str, allowed: bool) {
        let mut w = self.world();
        w.api_keys.entry(key.to_owned()).or_default().confidential = allowed;
    }

    /// `true`: OAuth access tokens may only call the endpoints their scopes grant (403
    /// otherwise). Default `false`: scopes only decide confidential access
    /// ([`CONFIDENTIAL_SCOPE`]).
    pub fn enforce_oauth_scopes(&self, enforce: bool) {
        self.world().variants.enforce_oauth_scopes = enforce;
    }

    /// Removes an API key (a rotated key): its calls get 401 from now on.
    pub fn remove_api_key(&self, key: &str) {
        self.world().api_keys.remove(key);
    }

    /// Registers an OAuth app with its exact callback URL.
    pub fn add_oauth_client(&self, client_id: &str, secret: &str, redirect_uri: &str) {
        self.world().oauth.clients.insert(
            client_id.to_owned(),
            OAuthClient {
                secret: secret.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
            },
        );
    }

    /// Sets `expires_in` (seconds) for tokens issued from now on.
    pub fn set_oauth_expires_in(&self, secs: u64) {
        self.world().oauth.expires_in = secs;
    }

    /// `true`: `/authorize` answers `error=access_denied` (the user refused consent).
    pub fn deny_consent(&self, deny: bool) {
        self.world().oauth.deny_consent = deny;
    }

    /// Issues tokens for a registered app without the browser round trip (test shortcut).
    /// Include `offline_access` in `scope` to get a refresh token.
    pub fn issue_oauth_tokens(&self, client_id: &str, scope: &str) -> OAuthTokens {
        self.world().issue_for(client_id, scope)
    }

    /// Every access token issued so far expires now (refresh tokens stay valid).
    pub fn expire_access_tokens(&self) {
        self.world().oauth.expire_access_tokens();
    }

    /// Revokes every OAuth grant (access and refresh tokens die); a new consent still works.
    pub fn revoke_oauth_grants(&self) {
        self.world().oauth.revoke_grants();
    }

    /// "Revoke Access": from now on every API call answers 401 and the token endpoint
    /// answers `invalid_grant`, until [`LeverSim::restore`].
    pub fn revoke(&self) {
        self.world().revoked = true;
    }

    /// Undoes [`LeverSim::revoke`].
    pub fn restore(&self) {
        self.world().revoked = false;
    }

    // --- clock --------------------------------------------------------------------------

    /// The simulated time, ms since the epoch.
    pub fn now(&self) -> i64 {
        self.world().clock.now_ms()
    }

    /// Moves the simulated clock forward (OAuth expiry, timestamps of later changes).
    pub fn advance_clock(&self, ms: i64) {
        self.world().clock.advance(ms);
    }

    /// Sets the simulated clock. Change stamps still never go backwards.
    pub fn set_now(&self, ms: i64) {
        self.world().clock.set_now(ms);
    }

    // --- seeding ------------------------------------------------------------------------

    /// Appends a stage to the pipeline; returns its id.
    pub fn add_stage(&self, text: &str) -> String {
        self.world().add_stage(text)
    }

    /// Renames a stage (ids stay).
    pub fn rename_stage(&self, id: &str, text: &str) -> Result<(), SimError> {
        self.world().rename_stage(id, text)
    }

    /// All stages in pipeline order.
    pub fn stages(&self) -> Vec<Stage> {
        self.world().stages.clone()
    }

    /// Adds a user; returns its id.
    pub fn add_user(&self, seed: UserSeed) -> String {
        self.world().add_user(seed)
    }

    /// Deactivates a user (hidden from `GET /users`, refused as `perform_as`).
    pub fn deactivate_user(&self, id: &str) -> Result<(), SimError> {
        self.world().deactivate_user(id)
    }

    /// Adds a posting; returns its id.
    pub fn add_posting(&self, seed: PostingSeed) -> Result<String, SimError> {
        self.world().add_posting(seed)
    }

    /// Adds tags to a posting. Opportunities already on it are NOT back-filled.
    pub fn tag_posting(&self, posting: &str, tags: &[&str]) -> Result<(), SimError> {
        let add: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
        self.world().edit_posting_tags(posting, &add, &[])
    }

    /// Removes tags from a posting.
    pub fn untag_posting(&self, posting: &str, tags: &[&str]) -> Result<(), SimError> {
        let remove: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
        self.world().edit_posting_tags(posting, &[], &remove)
    }

    /// Sets the job sites a posting appears on while published.
    pub fn set_posting_distribution(
        &self,
        posting: &str,
        distribution: Distribution,
    ) -> Result<(), SimError> {
        self.world().set_posting_distribution(posting, distribution)
    }

    /// Sets a posting's state (`published`, `closed`, ...).
    pub fn set_posting_state(&self, posting: &str, state: &str) -> Result<(), SimError> {
        self.world().set_posting_state(posting, state)
    }

    /// A posting as it is now.
    pub fn posting(&self, id: &str) -> Option<Posting> {
        self.world().postings.iter().find(|p| p.id == id).cloned()
    }

    /// Adds an opportunity; returns its id. On a posting it inherits the posting's tags as
    /// they are at this moment.
    pub fn add_opportunity(&self, seed: OppSeed) -> Result<String, SimError> {
        self.world().add_opportunity(seed)
    }

    /// Adds many opportunities under one lock (bulk seeding).
    pub fn add_opportunities(
        &self,
        seeds: impl IntoIterator<Item = OppSeed>,
    ) -> Result<Vec<String>, SimError> {
        let mut w = self.world();
        seeds.into_iter().map(|s| w.add_opportunity(s)).collect()
    }

    // --- world changes ------------------------------------------------------------------

    /// Moves an opportunity to a stage (a no-op when already there) and sends
    /// `candidateStageChange` to every registered receiver.
    pub fn move_stage(&self, opportunity: &str, stage: &str) -> Result<(), SimError> {
        let deliveries = {
            let mut w = self.world();
            match w.move_stage(opportunity, stage, None)? {
                Some(mv) => w.stage_change_deliveries(&mv),
                None => Vec::new(),
            }
        };
        for (url, body) in deliveries {
            self.inner
                .shared
                .webhooks
                .send(&url, "candidateStageChange", opportunity, body);
        }
        Ok(())
    }

    /// Adds tags as a user would in the UI (set semantics; `updatedAt` moves if changed).
    pub fn add_tags_by_hand(&self, opportunity: &str, tags: &[&str]) -> Result<(), SimError> {
        let add: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
        self.world().edit_tags(opportunity, &add, &[]).map(|_| ())
    }

    /// Removes tags as a user would in the UI.
    pub fn remove_tags_by_hand(&self, opportunity: &str, tags: &[&str]) -> Result<(), SimError> {
        let remove: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
        self.world()
            .edit_tags(opportunity, &[], &remove)
            .map(|_| ())
    }

    /// Replaces the whole tag set.
    pub fn set_tags(&self, opportunity: &str, tags: &[&str]) -> Result<(), SimError> {
        let tags: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
        self.world().set_tags(opportunity, &tags).map(|_| ())
    }

    /// Archives with a reason id.
    pub fn archive(&self, opportunity: &str, reason: &str) -> Result<(), SimError> {
        self.world().archive(opportunity, Some(reason)).map(|_| ())
    }

    /// Unarchives.
    pub fn unarchive(&self, opportunity: &str) -> Result<(), SimError> {
        self.world().archive(opportunity, None).map(|_| ())
    }

    /// Anonymizes (`isAnonymized`, personal data such as emails removed).
    pub fn anonymize(&self, opportunity: &str) -> Result<(), SimError> {
        self.world().anonymize(opportunity).map(|_| ())
    }

    /// Sets `dataProtection.contact.allowed`.
    pub fn set_contact_consent(&self, opportunity: &str, allowed: bool) -> Result<(), SimError> {
        self.world()
            .set_contact_consent(opportunity, allowed)
            .map(|_| ())
    }

    /// Replaces the email addresses.
    pub fn set_emails(&self, opportunity: &str, emails: &[&str]) -> Result<(), SimError> {
        let emails: Vec<String> = emails.iter().map(|e| (*e).to_owned()).collect();
        self.world().set_emails(opportunity, &emails).map(|_| ())
    }

    /// Bumps `lastInteractionAt` and so `updatedAt` (noise such as an email being logged).
    pub fn touch(&self, opportunity: &str) -> Result<(), SimError> {
        self.world().touch(opportunity)
    }

    /// Deletes: gone from lists and `GET` by id (404), listed by `/opportunities/deleted`.
    pub fn delete_opportunity(&self, opportunity: &str) -> Result<(), SimError> {
        self.world().delete(opportunity, None)
    }

    // --- assertions ---------------------------------------------------------------------

    /// An opportunity as it is now (`None` if unknown or deleted).
    pub fn opportunity(&self, id: &str) -> Option<Opportunity> {
        self.world().opps.get(id).cloned()
    }

    /// Its tags now (empty if unknown).
    pub fn tags_of(&self, id: &str) -> Vec<String> {
        self.world()
            .opps
            .get(id)
            .map(|o| o.tags.clone())
            .unwrap_or_default()
    }

    /// Its notes, oldest first.
    pub fn notes(&self, id: &str) -> Vec<Note> {
        self.world().notes.get(id).cloned().unwrap_or_default()
    }

    /// How many live opportunities the account holds.
    pub fn opportunity_count(&self) -> usize {
        self.world().opps.len()
    }

    // --- webhooks -----------------------------------------------------------------------

    /// Registers a `candidateStageChange` receiver signed with `signature_token`.
    pub fn register_webhook(&self, url: &str, signature_token: &str) {
        self.world().webhooks.push(LeverWebhook {
            url: url.to_owned(),
            signature_token: signature_token.to_owned(),
        });
    }

    /// Removes every receiver.
    pub fn unregister_webhooks(&self) {
        self.world().webhooks.clear();
    }

    /// Chooses which deliveries are lost.
    pub fn drop_webhooks(&self, rule: DropRule) {
        self.inner.shared.webhooks.set_drop_rule(rule);
    }

    /// Replaces the retry policy for deliveries started from now on.
    pub fn set_webhook_retry(&self, retry: WebhookRetry) {
        self.inner.shared.webhooks.set_retry(retry);
    }

    /// Every delivery so far, with attempts and outcome.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.inner.shared.webhooks.deliveries()
    }

    /// Waits until no delivery is in flight or waiting for a retry. Wrap in a timeout.
    pub async fn webhooks_settled(&self) {
        self.inner.shared.webhooks.settled().await;
    }

    // --- variants -----------------------------------------------------------------------

    /// How opportunities render their archive state (default: as documented).
    pub fn set_archived_form(&self, form: ArchivedForm) {
        self.world().variants.archived_form = form;
    }

    /// What a credential without confidential access gets for `confidentiality=all` or
    /// `confidential` (default 403).
    pub fn set_confidential_denial(&self, denial: ConfidentialDenial) {
        self.world().variants.confidential_denial = denial;
    }

    /// Whether writes (addTags, removeTags, notes) check the endpoint permission before
    /// looking the opportunity up (default) or after.
    pub fn set_write_check_order(&self, order: CheckOrder) {
        self.world().variants.write_check = order;
    }

    /// The status of "Invalid offset token" errors (default 400; e.g. 422 or 404).
    pub fn set_offset_error_status(&self, status: u16) {
        self.world().variants.offset_error_status = status;
    }

    /// Whether a new note moves the opportunity's `updatedAt` (default: it does).
    pub fn set_note_stamp(&self, stamp: NoteStamp) {
        self.world().variants.note_stamp = stamp;
    }

    // --- benchmarks ---------------------------------------------------------------------

    /// Renders `GET /v1/opportunities?{query}` as the handler would, without HTTP: the
    /// server-side cost of a list page (used by the benchmarks). `Err` carries the error text.
    pub fn render_opportunities_page(&self, query: &str) -> Result<Vec<u8>, String> {
        let q = QueryParams::parse(Some(query));
        let w = self.world();
        listing::opportunities(
            &w,
            &q,
            &self.inner.shared.codec,
            "/v1/opportunities",
            &access::Access::full(),
        )
        .map_err(|e| e.message().to_owned())
    }
}
