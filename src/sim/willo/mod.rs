//! The Willo Integration API v2 simulator (`/api/integrations/v2`), following
//! Willo's API as far as it is known (docs/simulators.md), with switches for each "either" it leaves open.
//!
//! ```no_run
//! # async fn demo() -> Result<(), willo_lever_sync::sim::SimError> {
//! use willo_lever_sync::sim::willo::{WilloSim, WilloSimConfig, WilloEvent};
//! let willo = WilloSim::start(WilloSimConfig::default()).await?;
//! willo.add_api_key("wkey");
//! let interview = willo.add_interview("Product Manager");
//! // ... the client POSTs /participants/ ...
//! for p in willo.participants(&interview) {
//!     willo.set_participant_state(&p.key, "accepted")?;
//!     willo.emit(WilloEvent::StageChange, &p.key)?;
//! }
//! # Ok(()) }
//! ```

mod controls;
mod json;
pub mod model;
mod page;
mod routes;
pub mod variants;
mod world;

use std::sync::Arc;
use std::time::Duration;

pub use json::stage_key;
pub use model::{
    Department, Interview, InterviewForm, InterviewSeed, InviteEmail, Owner, Participant,
    ParticipantSeed, StateForm, WebhookBodyForm, WilloEvent,
};
pub use variants::{
    DepartmentForm, ListEnvelope, NonAdminListing, PageLinks, ParticipantOrder, PhoneForm,
    ResponseLinkForm, TimestampForm,
};

use self::routes::WilloShared;
use self::variants::Settings;
use self::world::WilloWorld;
use super::clock::{ClockConfig, SimClock};
use super::error::SimError;
use super::gate::Flavor;
use super::ids::IdGen;
use super::ratelimit::RateLimit;
use super::server::{Harness, bind, harness_methods};
use super::webhook::{DropRule, WebhookDelivery, WebhookRetry, WebhookSender};

/// How to start a Willo simulator.
#[derive(Debug, Clone, PartialEq)]
pub struct WilloSimConfig {
    /// Seed for keys.
    pub seed: u64,
    /// The simulated clock (timestamps of participants).
    pub clock: ClockConfig,
    /// Token bucket per key. Willo publishes no figure; default 10/s, burst 20.
    pub rate_limit: Option<RateLimit>,
    /// `Retry-After` seconds on 429s (default `Some(1)`; Willo's behaviour is unknown).
    pub retry_after: Option<u64>,
    /// `page_size` when none is given (default 10).
    pub default_page_size: usize,
    /// Largest `page_size`; larger requests are clamped as DRF does (default 30).
    pub max_page_size: usize,
    /// Default state form of participants (default `stage` object).
    pub state_form: StateForm,
    /// Form of the participants' `interview` field (default key string).
    pub interview_form: InterviewForm,
    /// State of a newly created participant (default "Invited").
    pub initial_state: String,
    /// Where webhook bodies carry the participant key.
    pub webhook_body: WebhookBodyForm,
    /// Webhook retries (Willo re-delivers after non-2xx; the policy is unknown).
    pub webhook_retry: WebhookRetry,
}

impl Default for WilloSimConfig {
    fn default() -> Self {
        WilloSimConfig {
            seed: 0x0411_05ee,
            clock: ClockConfig::default(),
            rate_limit: Some(RateLimit::per_second(10, 20)),
            retry_after: Some(1),
            default_page_size: 10,
            max_page_size: 30,
            state_form: StateForm::default(),
            interview_form: InterviewForm::default(),
            initial_state: "Invited".to_owned(),
            webhook_body: WebhookBodyForm::default(),
            webhook_retry: WebhookRetry {
                max_retries: 3,
                base_gap: Duration::from_secs(1),
                timeout: Duration::from_secs(10),
            },
        }
    }
}

impl WilloSimConfig {
    /// Defaults tuned for tests: no rate limit, fast webhook retries.
    pub fn for_tests() -> Self {
        WilloSimConfig {
            rate_limit: None,
            webhook_retry: WebhookRetry {
                max_retries: 3,
                ..WebhookRetry::fast()
            },
            ..WilloSimConfig::default()
        }
    }
}

struct WilloInner {
    shared: Arc<WilloShared>,
    harness: Harness,
}

/// A running Willo simulator on `127.0.0.1:PORT`. Cheap to clone; the server stops when the
/// last clone is dropped or [`WilloSim::shutdown`] is called.
#[derive(Clone)]
pub struct WilloSim {
    inner: Arc<WilloInner>,
}

impl std::fmt::Debug for WilloSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WilloSim")
            .field("addr", &self.inner.harness.addr)
            .finish_non_exhaustive()
    }
}

impl WilloSim {
    /// Binds `127.0.0.1:0` and starts serving an empty account. Must be called inside a
    /// tokio runtime.
    pub async fn start(config: WilloSimConfig) -> Result<WilloSim, SimError> {
        let (listener, addr) = bind().await?;
        let origin = format!("http://{addr}");
        let settings = Settings::new(
            config.state_form,
            config.interview_form,
            config.initial_state,
            config.webhook_body,
            config.default_page_size,
            config.max_page_size,
        );
        let world = WilloWorld::new(
            IdGen::new(config.seed),
            SimClock::new(config.clock),
            settings,
        );
        let shared = Arc::new(WilloShared {
            world: std::sync::Mutex::new(world),
            origin,
            webhooks: Arc::new(WebhookSender::new(
                tokio::runtime::Handle::current(),
                "Willo-Webhooks",
                config.webhook_retry,
            )),
        });
        let harness = Harness::serve(
            listener,
            Flavor::Willo,
            shared.clone(),
            config.rate_limit,
            config.retry_after,
            routes::router(shared.clone()),
        )?;
        Ok(WilloSim {
            inner: Arc::new(WilloInner { shared, harness }),
        })
    }

    harness_methods!();

    fn world(&self) -> std::sync::MutexGuard<'_, WilloWorld> {
        self.inner.shared.lock()
    }

    /// `http://127.0.0.1:PORT/api/integrations/v2` (paths below it end in `/`).
    pub fn base_url(&self) -> String {
        format!("{}{}", self.origin(), routes::BASE)
    }

    // --- credentials ----------------------------------------------------------------

    /// Makes `key` valid as a bare `Authorization: <key>` header; it belongs to the account's
    /// Admin, who sees every interview.
    pub fn add_api_key(&self, key: &str) {
        let mut w = self.world();
        let user = w.admin_user.clone();
        w.api_keys
            .insert(key.to_owned(), world::KeyUser { user, admin: true });
    }

    /// Removes a key (rotated): its calls get 401.
    pub fn remove_api_key(&self, key: &str) {
        self.world().api_keys.remove(key);
    }

    /// Every call answers 401 until [`WilloSim::restore`].
    pub fn revoke(&self) {
        self.world().revoked = true;
    }

    /// Undoes [`WilloSim::revoke`].
    pub fn restore(&self) {
        self.world().revoked = false;
    }

    // --- clock ------------------------------------------------------------------------

    /// The simulated time, ms since the epoch.
    pub fn now(&self) -> i64 {
        self.world().clock.now_ms()
    }

    /// Moves the simulated clock forward.
    pub fn advance_clock(&self, ms: i64) {
        self.world().clock.advance(ms);
    }

    /// Sets the simulated clock (change stamps never go backwards).
    pub fn set_now(&self, ms: i64) {
        self.world().clock.set_now(ms);
    }

    // --- interviews -------------------------------------------------------------------

    /// Creates an interview owned by the account admin; returns its 32-hex key.
    pub fn add_interview(&self, title: &str) -> String {
        // The admin user always exists, so this seed cannot be refused.
        self.world()
            .add_interview(InterviewSeed::new(title))
            .unwrap_or_default()
    }

    /// Creates an interview in a department (by department key).
    pub fn add_interview_in(&self, title: &str, department: &str) -> String {
        self.world()
            .add_interview(InterviewSeed::new(title).department(department))
            .unwrap_or_default()
    }

    /// Renames an interview.
    pub fn rename_interview(&self, key: &str, title: &str) -> Result<(), SimError> {
        self.world().rename_interview(key, title)
    }

    /// Removes an interview: no longer listed, no new participants; existing participants
    /// stay readable by key.
    pub fn remove_interview(&self, key: &str) -> Result<(), SimError> {
        self.world().remove_interview(key)
    }

    /// An interview (removed ones too).
    pub fn interview(&self, key: &str) -> Option<Interview> {
        self.world().interview(key).cloned()
    }

    /// The listed interviews.
    pub fn interviews(&self) -> Vec<Interview> {
        let w = self.world();
        w.interviews
            .iter()
            .filter(|i| w.listed(i))
            .cloned()
            .collect()
    }

    // --- participants -----------------------------------------------------------------

    /// Adds a participant as a user would in Willo's UI (the invite email is sent too).
    pub fn add_participant(&self, seed: ParticipantSeed) -> Result<String, SimError> {
        self.world().add_participant(seed)
    }

    /// Sets a participant's state text ("completed", "accepted", "rejected", ...);
    /// `updated_at` moves. Sends no webhook: call [`WilloSim::emit`] for that.
    pub fn set_participant_state(&self, key: &str, state: &str) -> Result<(), SimError> {
        self.world().set_state(key, state)
    }

    /// How this participant's state appears in its JSON.
    pub fn set_state_form(&self, key: &str, form: StateForm) -> Result<(), SimError> {
        self.world().set_state_form(key, form)
    }

    /// The default state form for participants without their own.
    pub fn set_default_state_form(&self, form: StateForm) {
        self.world().settings.state_form = form;
    }

    /// How every participant's `interview` field appears.
    pub fn set_interview_form(&self, form: InterviewForm) {
        self.world().settings.interview_form = form;
    }

    /// `true`: `GET /participants/?interview=` ignores the filter and lists everyone (the
    /// real API may), so a client's per-row interview check can be tested.
    pub fn ignore_interview_filter(&self, ignore: bool) {
        self.world().settings.ignore_interview_filter = ignore;
    }

    /// `true`: `external_id` is dropped on create (the real API may not store it).
    pub fn drop_external_id(&self, drop: bool) {
        self.world().settings.drop_external_id = drop;
    }

    /// One participant.
    pub fn participant(&self, key: &str) -> Option<Participant> {
        self.world().participant(key).cloned()
    }

    /// An interview's participants, oldest first.
    pub fn participants(&self, interview: &str) -> Vec<Participant> {
        self.world()
            .participants_of(Some(interview))
            .into_iter()
            .cloned()
            .collect()
    }

    /// Every invite email sent (one per participant created, duplicates included).
    pub fn invites_sent(&self) -> Vec<InviteEmail> {
        self.world().invites.clone()
    }

    /// How many invite emails were sent so far (cheap: no copy).
    pub fn invites_sent_count(&self) -> usize {
        self.world().invites.len()
    }

    /// The invite emails sent after the first `skip` (cheap when polled with the last count:
    /// benchmarks watch for a new participant without copying a large world).
    pub fn invites_sent_since(&self, skip: usize) -> Vec<InviteEmail> {
        self.world()
            .invites
            .get(skip..)
            .unwrap_or_default()
            .to_vec()
    }

    // --- webhooks ---------------------------------------------------------------------

    /// Registers a receiver for `event`. The URL should carry its secret, e.g.
    /// `.../webhooks/willo/acme?token=...&event=new_response`; deliveries are unsigned.
    pub fn register_webhook(&self, url: &str, event: WilloEvent) {
        self.world().webhooks.push((url.to_owned(), event));
    }

    /// Removes every receiver.
    pub fn unregister_webhooks(&self) {
        self.world().webhooks.clear();
    }

    /// Where the participant key sits in webhook bodies.
    pub fn set_webhook_body(&self, form: WebhookBodyForm) {
        self.world().settings.webhook_body = form;
    }

    /// Sends `event` about a participant to every receiver registered for it.
    pub fn emit(&self, event: WilloEvent, participant: &str) -> Result<(), SimError> {
        let deliveries: Vec<(String, serde_json::Value)> = {
            let w = self.world();
            let p = w
                .participant(participant)
                .ok_or_else(|| SimError::unknown("participant", participant))?;
            let body = json::webhook_body(
                w.settings.webhook_body,
                p,
                w.interview(&p.interview),
                w.clock.now_ms(),
            );
            w.webhooks
                .iter()
                .filter(|(_, e)| *e == event)
                .map(|(url, _)| (url.clone(), body.clone()))
                .collect()
        };
        for (url, body) in deliveries {
            self.inner
                .shared
                .webhooks
                .send(&url, event.as_str(), participant, body);
        }
        Ok(())
    }

    /// Chooses which deliveries are lost.
    pub fn drop_webhooks(&self, rule: DropRule) {
        self.inner.shared.webhooks.set_drop_rule(rule);
    }

    /// Replaces the retry policy for deliveries started from now on.
    pub fn set_webhook_retry(&self, retry: WebhookRetry) {
        self.inner.shared.webhooks.set_retry(retry);
    }

    /// Every delivery so far.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.inner.shared.webhooks.deliveries()
    }

    /// Waits until no delivery is in flight or waiting for a retry. Wrap in a timeout.
    pub async fn webhooks_settled(&self) {
        self.inner.shared.webhooks.settled().await;
    }
}
