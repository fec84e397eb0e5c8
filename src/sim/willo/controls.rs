//! The `WilloSim` controls for users, departments, bulk seeding and every variant switch.

use super::WilloSim;
use super::model::{InterviewSeed, ParticipantSeed};
use super::routes;
use super::variants::{
    DepartmentForm, ListEnvelope, NonAdminListing, PageLinks, ParticipantOrder, PhoneForm,
    ResponseLinkForm, TimestampForm,
};
use super::world::{KeyUser, Scope};
use crate::sim::error::SimError;
use crate::sim::query::QueryParams;

impl WilloSim {
    // --- users and keys ---------------------------------------------------------------

    /// The key of the account's Admin user (owner of interviews seeded without an owner).
    pub fn admin_user(&self) -> String {
        self.world().admin_user.clone()
    }

    /// Adds a standard (non-Admin) user; returns its 32-hex key (an interview owner).
    pub fn add_user(&self, email: &str, full_name: &str) -> String {
        self.world().add_user(email, full_name)
    }

    /// Makes `key` a valid API key of `user`, a standard user: it sees only the interviews
    /// that user owns (see [`WilloSim::set_non_admin_listing`]).
    pub fn add_api_key_for(&self, key: &str, user: &str) {
        self.world().api_keys.insert(
            key.to_owned(),
            KeyUser {
                user: user.to_owned(),
                admin: false,
            },
        );
    }

    /// Whether the user behind `key` is an Admin (sees everything) or not (sees only its own
    /// interviews). Unknown keys are left alone.
    pub fn set_key_admin(&self, key: &str, admin: bool) {
        if let Some(k) = self.world().api_keys.get_mut(key) {
            k.admin = admin;
        }
    }

    /// What a non-Admin key gets on listings: its own interviews (default) or 403.
    pub fn set_non_admin_listing(&self, listing: NonAdminListing) {
        self.world().settings.non_admin = listing;
    }

    // --- interviews -------------------------------------------------------------------

    /// Adds a department ("Company"); returns its 32-hex key.
    pub fn add_department(&self, name: &str) -> String {
        self.world().add_department(name)
    }

    /// Creates an interview from a seed (department, owner, age, closed).
    pub fn add_interview_with(&self, seed: InterviewSeed) -> Result<String, SimError> {
        self.world().add_interview(seed)
    }

    /// Creates many interviews under one lock (thousands of old ones are cheap).
    pub fn add_interviews(
        &self,
        seeds: impl IntoIterator<Item = InterviewSeed>,
    ) -> Result<Vec<String>, SimError> {
        let mut w = self.world();
        seeds.into_iter().map(|s| w.add_interview(s)).collect()
    }

    /// How an interview's `department` appears (default: the key string).
    pub fn set_department_form(&self, form: DepartmentForm) {
        self.world().settings.department_form = form;
    }

    /// `true`: `GET /interviews/` ignores `department`, `owner` and `search` (as DRF ignores
    /// unknown parameters) and lists everything the key sees.
    pub fn ignore_interview_list_filters(&self, ignore: bool) {
        self.world().settings.ignore_interview_list_filters = ignore;
    }

    /// `true`: closed interviews are listed (and readable by key) like open ones, with no
    /// field telling them apart; they still take no participants.
    pub fn list_closed_interviews(&self, list: bool) {
        self.world().settings.list_closed_interviews = list;
    }

    // --- participants -----------------------------------------------------------------

    /// Adds many participants under one lock (bulk seeding; each still gets an invite email).
    pub fn add_participants(
        &self,
        seeds: impl IntoIterator<Item = ParticipantSeed>,
    ) -> Result<Vec<String>, SimError> {
        let mut w = self.world();
        seeds.into_iter().map(|s| w.add_participant(s)).collect()
    }

    /// The order of `GET /participants/` rows (default: creation order).
    pub fn set_participant_order(&self, order: ParticipantOrder) {
        self.world().settings.order = order;
    }

    // --- wire forms -------------------------------------------------------------------

    /// Where page links point (default: the URL the client used).
    pub fn set_page_links(&self, links: PageLinks) {
        self.world().settings.links = links;
    }

    /// The largest `page_size` honoured; larger requests get pages this long (default 30,
    /// the MCP schema's cap; whether Willo enforces that, or less, is not known).
    pub fn set_max_page_size(&self, max: usize) {
        self.world().settings.max_page_size = max.max(1);
    }

    /// The shape of list answers (default: DRF pages).
    pub fn set_list_envelope(&self, envelope: ListEnvelope) {
        self.world().settings.envelope = envelope;
    }

    /// How `phone` appears (default: text).
    pub fn set_phone_form(&self, form: PhoneForm) {
        self.world().settings.phone = form;
    }

    /// How `created_at`/`updated_at` appear (default: ISO 8601).
    pub fn set_timestamp_form(&self, form: TimestampForm) {
        self.world().settings.timestamps = form;
    }

    /// `true`: fields the sync does not need come as nested objects
    /// (`"language": {"code": "en", "name": "English"}` on participants and interviews).
    pub fn set_nested_objects(&self, nested: bool) {
        self.world().settings.nested_objects = nested;
    }

    /// `true`: records carry extra fields no client knows (`responses`, `idv_status`,
    /// `tags`, `score`, `meta`; interviews `questions`, `invite_link`, `meta`).
    pub fn set_extra_fields(&self, extra: bool) {
        self.world().settings.extra_fields = extra;
    }

    /// Where participants past the initial state show a link to their response (default:
    /// nowhere).
    pub fn set_response_link_form(&self, form: ResponseLinkForm) {
        self.world().settings.response_link = form;
    }

    // --- benchmarks -------------------------------------------------------------------

    /// Renders `GET /participants/?{query}` for an Admin key as the handler would, without
    /// HTTP (used by the benchmarks). `Err` carries the status of a refused page.
    pub fn render_participants_page(&self, query: &str) -> Result<Vec<u8>, u16> {
        let q = QueryParams::parse(Some(query));
        let base = format!("{}{}/participants/", self.origin(), routes::BASE);
        let resp = {
            let w = self.world();
            routes::participants_page(&w, &q, &Scope::All, &base)
        };
        if !resp.status().is_success() {
            return Err(resp.status().as_u16());
        }
        // The handler's body is an in-memory buffer; collecting it needs no I/O.
        let body = futures::executor::block_on(axum::body::to_bytes(resp.into_body(), usize::MAX));
        body.map(|b| b.to_vec()).map_err(|_| 500)
    }
}
