//! Switches between the behaviours the project's Willo model leaves open, or that the real,
//! unpublished API may show instead. Each has a default (the model's reading), named in
//! `docs/simulators.md`, and a `WilloSim` method to pick the alternative while it runs.

use super::model::{InterviewForm, StateForm, WebhookBodyForm};

/// Where the absolute `next`/`previous` URLs of a page point.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PageLinks {
    /// Built from the request's `Host`, as DRF does behind no proxy: the URL the client used.
    #[default]
    FromRequest,
    /// Same host name, another scheme and port: a TLS-terminating proxy in front of an app
    /// that builds links from its own listener (`http://127.0.0.1:<port>/...`). Path and
    /// query are right; rebuilt on the configured base they work.
    Proxied {
        /// `http` or `https`.
        scheme: String,
        /// The port written into the links.
        port: u16,
    },
    /// Another origin altogether, e.g. `https://api.willotalent.com`; path and query are kept.
    Host(String),
}

/// How a participant's `phone` appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PhoneForm {
    /// `"phone": "+441234567890"` or null.
    #[default]
    Text,
    /// `"phone": {"number": "+441234567890", "country_code": null}` or null.
    Object,
}

/// How `created_at`/`updated_at` of participants and interviews appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampForm {
    /// ISO 8601 with microseconds and `Z`, as DRF writes datetimes.
    #[default]
    Iso,
    /// Integer seconds since the epoch.
    EpochSeconds,
    /// Integer milliseconds since the epoch.
    EpochMillis,
}

/// The shape of list answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListEnvelope {
    /// DRF page-number pagination: `{count, next, previous, results}`.
    #[default]
    Paginated,
    /// A bare JSON array of every matching row (a view without pagination).
    BareArray,
}

/// The order of `GET /participants/` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParticipantOrder {
    /// Creation order, oldest first (stable: new rows only ever join the last page).
    #[default]
    Creation,
    /// Newest first (new rows shift every page by one).
    NewestFirst,
}

/// What a key whose user is not an Admin sees on the list endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NonAdminListing {
    /// Only its own user's interviews and their participants (others look absent: 404 by
    /// key, `Invalid pk` on create).
    #[default]
    OwnOnly,
    /// 403 `{"detail": "You do not have permission to perform this action."}` on listings.
    Forbidden,
}

/// How an interview's `department` appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DepartmentForm {
    /// `"department": "<key>"` or null.
    #[default]
    Key,
    /// `"department": {"key": "<key>", "name": "..."}` or null.
    Object,
}

/// Where a participant who has moved past the initial state shows a link to their response.
/// Willo publishes no such field (the model has `responses[].media_url` at most); these are
/// the plausible places, so a test can show that the daemon finds the link where its
/// configuration says and writes a note without one where it finds none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseLinkForm {
    /// No link anywhere (what the project's Willo model documents).
    #[default]
    None,
    /// `"share_link": "https://…"`.
    ShareLink,
    /// `"response_url": "https://…"`.
    ResponseUrl,
    /// `"review": {"url": "https://…"}`: a place the daemon's defaults do not look.
    ReviewObject,
    /// `"share_link": "<key>"`: the field exists but holds no web address.
    NotAUrl,
}

/// Every switch, as the world holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    pub(crate) state_form: StateForm,
    pub(crate) interview_form: InterviewForm,
    pub(crate) initial_state: String,
    pub(crate) ignore_interview_filter: bool,
    pub(crate) drop_external_id: bool,
    pub(crate) webhook_body: WebhookBodyForm,
    pub(crate) default_page_size: usize,
    pub(crate) max_page_size: usize,
    pub(crate) links: PageLinks,
    pub(crate) phone: PhoneForm,
    pub(crate) timestamps: TimestampForm,
    /// Fields the sync does not need come as nested objects (`language`).
    pub(crate) nested_objects: bool,
    /// Extra fields no client knows (`responses`, `idv_status`, `tags`, `meta`, ...).
    pub(crate) extra_fields: bool,
    pub(crate) envelope: ListEnvelope,
    pub(crate) order: ParticipantOrder,
    pub(crate) non_admin: NonAdminListing,
    pub(crate) department_form: DepartmentForm,
    /// `GET /interviews/` ignores `department`, `owner` and `search`.
    pub(crate) ignore_interview_list_filters: bool,
    pub(crate) list_closed_interviews: bool,
    pub(crate) response_link: ResponseLinkForm,
}

impl Settings {
    pub(crate) fn new(
        state_form: StateForm,
        interview_form: InterviewForm,
        initial_state: String,
        webhook_body: WebhookBodyForm,
        default_page_size: usize,
        max_page_size: usize,
    ) -> Self {
        Settings {
            state_form,
            interview_form,
            initial_state,
            ignore_interview_filter: false,
            drop_external_id: false,
            webhook_body,
            default_page_size: default_page_size.max(1),
            max_page_size: max_page_size.max(1),
            links: PageLinks::default(),
            phone: PhoneForm::default(),
            timestamps: TimestampForm::default(),
            nested_objects: false,
            extra_fields: false,
            envelope: ListEnvelope::default(),
            order: ParticipantOrder::default(),
            non_admin: NonAdminListing::default(),
            department_form: DepartmentForm::default(),
            ignore_interview_list_filters: false,
            list_closed_interviews: false,
            response_link: ResponseLinkForm::default(),
        }
    }
}
