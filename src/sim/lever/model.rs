//! The Lever world's records, the seeds tests create them from, and their JSON shapes.
//!
//! Records are plain data with public fields: `LeverSim::opportunity(id)` hands out clones
//! for assertions. The JSON views follow the shapes in Lever's documentation examples.

use serde::Serialize;

use super::variants::ArchivedForm;

/// A pipeline stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    /// Stage UID.
    pub id: String,
    /// Display name ("Video Interview").
    pub text: String,
}

/// A Lever user (for `perform_as`, owners, note authors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// User UID.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Username (from the email).
    pub username: String,
    /// Email address.
    pub email: String,
    /// `super admin`, `admin`, `team member`, `limited team member` or `interviewer`.
    pub access_role: String,
    /// ms since the epoch.
    pub created_at: i64,
    /// Set when deactivated; deactivated users are hidden from `GET /users` by default.
    pub deactivated_at: Option<i64>,
}

/// What a test gives to create a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserSeed {
    /// Full name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// Access role; `None` = `super admin`.
    pub access_role: Option<String>,
}

/// Whether an opportunity or posting is confidential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Confidentiality {
    /// Visible by default.
    #[default]
    NonConfidential,
    /// Only listed with `confidentiality=confidential|all`.
    Confidential,
}

impl Confidentiality {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidentiality::NonConfidential => "non-confidential",
            Confidentiality::Confidential => "confidential",
        }
    }
}

/// Which job sites a published posting appears on (`distributionChannels`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Distribution {
    /// The public job site only.
    Public,
    /// The internal job site only ("internal only" postings).
    Internal,
    /// Both sites.
    #[default]
    Both,
}

impl Distribution {
    /// The wire values, in `distributionChannels` order.
    pub fn channels(self) -> &'static [&'static str] {
        match self {
            Distribution::Public => &["public"],
            Distribution::Internal => &["internal"],
            Distribution::Both => &["public", "internal"],
        }
    }
}

/// A job posting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    /// Posting UID.
    pub id: String,
    /// Title.
    pub text: String,
    /// `published`, `internal`, `closed`, `draft`, `pending` or `rejected`.
    pub state: String,
    /// Additional posting tags (inherited by opportunities created on the posting).
    pub tags: Vec<String>,
    /// `categories.team`.
    pub team: Option<String>,
    /// `categories.location`.
    pub location: Option<String>,
    /// `categories.commitment`.
    pub commitment: Option<String>,
    /// Confidentiality.
    pub confidentiality: Confidentiality,
    /// The job sites it appears on while published.
    pub distribution: Distribution,
    /// Owner user id.
    pub owner: Option<String>,
    /// Hiring manager user id.
    pub hiring_manager: Option<String>,
    /// ms since the epoch.
    pub created_at: i64,
    /// ms since the epoch.
    pub updated_at: i64,
}

/// What a test gives to create a posting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostingSeed {
    /// Title.
    pub text: String,
    /// Posting tags.
    pub tags: Vec<String>,
    /// State; `None` = `published`.
    pub state: Option<String>,
    /// `categories.team`.
    pub team: Option<String>,
    /// `categories.location`.
    pub location: Option<String>,
    /// `categories.commitment`.
    pub commitment: Option<String>,
    /// Confidential posting (opportunities created on it are confidential too).
    pub confidential: bool,
    /// Job sites while published (default both).
    pub distribution: Distribution,
    /// Owner user id.
    pub owner: Option<String>,
}

impl PostingSeed {
    /// A published posting with this title and no tags.
    pub fn new(text: &str) -> Self {
        PostingSeed {
            text: text.to_owned(),
            ..PostingSeed::default()
        }
    }

    /// Adds a posting tag.
    pub fn tag(mut self, tag: &str) -> Self {
        self.tags.push(tag.to_owned());
        self
    }

    /// Sets the state (`published`, `closed`, ...).
    pub fn state(mut self, state: &str) -> Self {
        self.state = Some(state.to_owned());
        self
    }

    /// Confidential.
    pub fn confidential(mut self) -> Self {
        self.confidential = true;
        self
    }

    /// On these job sites while published.
    pub fn distribution(mut self, d: Distribution) -> Self {
        self.distribution = d;
        self
    }
}

/// A phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phone {
    /// `mobile`, `home`, ... or null.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The number as entered.
    pub value: String,
}

/// One entry of `stageChanges`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StageChange {
    /// The stage entered.
    pub to_stage_id: String,
    /// Its index in the pipeline.
    pub to_stage_index: usize,
    /// Who moved it (null for the simulator's hand).
    pub user_id: Option<String>,
    /// When, ms.
    pub updated_at: i64,
}

/// The `archived` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Archived {
    /// When, ms.
    pub archived_at: i64,
    /// Archive reason id.
    pub reason: String,
}

/// `{allowed, expiresAt}` inside `dataProtection`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    /// Whether the purpose is allowed.
    pub allowed: bool,
    /// When the permission lapses, ms (or null).
    pub expires_at: Option<i64>,
}

/// `dataProtection`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DataProtection {
    /// Permission to store the candidate's data.
    pub store: Option<Permission>,
    /// Permission to contact the candidate.
    pub contact: Option<Permission>,
}

/// The opportunity's application (Lever allows at most one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// Application UID.
    pub id: String,
    /// The posting applied to.
    pub posting: String,
    /// `posting`, `user` or `referral`.
    pub kind: String,
    /// ms.
    pub created_at: i64,
}

/// A candidacy, as the simulator holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opportunity {
    /// Opportunity UID.
    pub id: String,
    /// Candidate name.
    pub name: String,
    /// Headline.
    pub headline: String,
    /// Contact UID (the person; shared by their opportunities).
    pub contact: String,
    /// Email addresses (the first is the one to use).
    pub emails: Vec<String>,
    /// Phone numbers.
    pub phones: Vec<Phone>,
    /// Location text.
    pub location: String,
    /// Links.
    pub links: Vec<String>,
    /// Current stage id.
    pub stage: String,
    /// Stage history.
    pub stage_changes: Vec<StageChange>,
    /// When the current stage was entered, ms.
    pub last_advanced_at: i64,
    /// Tags, in the order first added; never duplicates.
    pub tags: Vec<String>,
    /// Sources.
    pub sources: Vec<String>,
    /// `applied`, `sourced`, ...
    pub origin: String,
    /// Owner user id.
    pub owner: Option<String>,
    /// Follower user ids.
    pub followers: Vec<String>,
    /// Confidentiality.
    pub confidentiality: Confidentiality,
    /// `archived` object, or `None` when active.
    pub archived: Option<Archived>,
    /// Snoozed until, ms.
    pub snoozed_until: Option<i64>,
    /// `dataProtection`, or `None` (null) when the account has no policy.
    pub data_protection: Option<DataProtection>,
    /// Personal data removed.
    pub is_anonymized: bool,
    /// The application, if the opportunity is on a posting.
    pub application: Option<Application>,
    /// ms.
    pub created_at: i64,
    /// ms; `None` for records never updated (they never match an `updated_at_*` window).
    pub updated_at: Option<i64>,
    /// ms.
    pub last_interaction_at: i64,
}

impl Opportunity {
    /// True when `dataProtection.contact.allowed` is explicitly false.
    pub fn contact_refused(&self) -> bool {
        self.data_protection
            .and_then(|d| d.contact)
            .is_some_and(|c| !c.allowed)
    }
}

/// What a test gives to create an opportunity. Start from [`OppSeed::new`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OppSeed {
    /// Candidate name.
    pub name: String,
    /// Email addresses.
    pub emails: Vec<String>,
    /// Phone numbers.
    pub phones: Vec<String>,
    /// Stage id; `None` = the first stage of the pipeline.
    pub stage: Option<String>,
    /// Posting id: creates the application and inherits the posting's tags at this moment.
    pub posting: Option<String>,
    /// Tags of its own (posting tags are added to these).
    pub tags: Vec<String>,
    /// Archived with this reason id.
    pub archived_reason: Option<String>,
    /// Confidential.
    pub confidential: bool,
    /// Contact UID to share with another opportunity (same person); `None` = a new contact.
    pub contact: Option<String>,
    /// Seed with `updatedAt: null` (an old, never-updated record).
    pub null_updated_at: bool,
    /// `createdAt`; `None` = now.
    pub created_at: Option<i64>,
    /// `Some(b)` sets `dataProtection` with `contact.allowed = b`; `None` leaves it null.
    pub contact_consent: Option<bool>,
    /// Anonymized (emails and phones are cleared).
    pub anonymized: bool,
    /// Origin; `None` = `applied`.
    pub origin: Option<String>,
    /// Sources.
    pub sources: Vec<String>,
    /// Owner user id.
    pub owner: Option<String>,
    /// Headline.
    pub headline: String,
    /// Location.
    pub location: String,
}

impl OppSeed {
    /// A candidate with a name and one email (pass "" for none), in the first stage.
    pub fn new(name: &str, email: &str) -> Self {
        OppSeed {
            name: name.to_owned(),
            emails: if email.is_empty() {
                Vec::new()
            } else {
                vec![email.to_owned()]
            },
            ..OppSeed::default()
        }
    }

    /// In this stage.
    pub fn stage(mut self, stage: &str) -> Self {
        self.stage = Some(stage.to_owned());
        self
    }

    /// On this posting (inherits its tags now).
    pub fn posting(mut self, posting: &str) -> Self {
        self.posting = Some(posting.to_owned());
        self
    }

    /// With this tag.
    pub fn tag(mut self, tag: &str) -> Self {
        self.tags.push(tag.to_owned());
        self
    }

    /// Archived with this reason id.
    pub fn archived(mut self, reason: &str) -> Self {
        self.archived_reason = Some(reason.to_owned());
        self
    }

    /// Confidential.
    pub fn confidential(mut self) -> Self {
        self.confidential = true;
        self
    }

    /// Sharing this contact UID.
    pub fn contact(mut self, contact: &str) -> Self {
        self.contact = Some(contact.to_owned());
        self
    }

    /// With `updatedAt: null`.
    pub fn null_updated_at(mut self) -> Self {
        self.null_updated_at = true;
        self
    }

    /// With `dataProtection.contact.allowed = allowed`.
    pub fn contact_consent(mut self, allowed: bool) -> Self {
        self.contact_consent = Some(allowed);
        self
    }
}

/// A note on an opportunity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Note UID.
    pub id: String,
    /// The text.
    pub value: String,
    /// Visible only to privileged users.
    pub secret: bool,
    /// 1..=4 or none.
    pub score: Option<u8>,
    /// Author (`perform_as`), if any.
    pub user: Option<String>,
    /// ms.
    pub created_at: i64,
    /// `notifyFollowers` as sent.
    pub notify_followers: bool,
    /// Threaded comments added with `note_id`.
    pub comments: Vec<String>,
}

/// A row of `GET /opportunities/deleted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedOpportunity {
    /// The deleted opportunity's id.
    pub id: String,
    /// When, ms.
    pub deleted_at: i64,
    /// Who deleted it (user id), if known.
    pub deleted_by: Option<String>,
}

// ---------------------------------------------------------------------------------------
// JSON views (borrowing, so a page of 100 serializes without building a serde_json::Value).

/// Which references to inline (`expand=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Expand {
    pub(crate) applications: bool,
    pub(crate) stage: bool,
    pub(crate) owner: bool,
    pub(crate) followers: bool,
}

#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Ref<'a, T: Serialize> {
    Id(&'a str),
    Object(T),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApplicationView<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    opportunity_id: &'a str,
    candidate_id: &'a str,
    posting: &'a str,
    posting_owner: Option<&'a str>,
    posting_hiring_manager: Option<&'a str>,
    user: Option<&'a str>,
    name: &'a str,
    email: Option<&'a str>,
    created_at: i64,
    archived: Option<&'a Archived>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Urls {
    list: String,
    show: String,
}

/// The `archived` field in the chosen [`ArchivedForm`].
pub(crate) enum ArchivedField<'a> {
    Object(&'a Archived),
    Null,
    NullObject,
    Omitted,
}

impl ArchivedField<'_> {
    fn is_omitted(&self) -> bool {
        matches!(self, ArchivedField::Omitted)
    }
}

impl Serialize for ArchivedField<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Empty {
            archived_at: Option<i64>,
            reason: Option<&'static str>,
        }
        match self {
            ArchivedField::Object(a) => a.serialize(s),
            ArchivedField::Null | ArchivedField::Omitted => s.serialize_none(),
            ArchivedField::NullObject => Empty {
                archived_at: None,
                reason: None,
            }
            .serialize(s),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OpportunityView<'a> {
    id: &'a str,
    name: &'a str,
    headline: &'a str,
    contact: &'a str,
    emails: &'a [String],
    phones: &'a [Phone],
    confidentiality: &'static str,
    location: &'a str,
    links: &'a [String],
    created_at: i64,
    updated_at: Option<i64>,
    last_interaction_at: i64,
    last_advanced_at: i64,
    snoozed_until: Option<i64>,
    archived_at: Option<i64>,
    archive_reason: Option<&'a str>,
    stage: Ref<'a, &'a Stage>,
    stage_changes: &'a [StageChange],
    owner: Option<Ref<'a, &'a User>>,
    tags: &'a [String],
    sources: &'a [String],
    origin: &'a str,
    sourced_by: Option<&'a str>,
    applications: Vec<Ref<'a, ApplicationView<'a>>>,
    resume: Option<()>,
    followers: Vec<Ref<'a, &'a User>>,
    urls: Urls,
    data_protection: Option<&'a DataProtection>,
    is_anonymized: bool,
    #[serde(skip_serializing_if = "ArchivedField::is_omitted")]
    archived: ArchivedField<'a>,
}

/// Lookups the views need (stages and users by id, postings for application objects).
pub(crate) trait Lookup {
    fn stage(&self, id: &str) -> Option<&Stage>;
    fn user(&self, id: &str) -> Option<&User>;
    fn posting(&self, id: &str) -> Option<&Posting>;
}

impl<'a> OpportunityView<'a> {
    pub(crate) fn new(
        o: &'a Opportunity,
        expand: Expand,
        archived_form: ArchivedForm,
        look: &'a impl Lookup,
        origin: &str,
    ) -> Self {
        let user_ref = |id: &'a str| match look.user(id).filter(|_| expand.owner) {
            Some(u) => Ref::Object(u),
            None => Ref::Id(id),
        };
        OpportunityView {
            id: &o.id,
            name: &o.name,
            headline: &o.headline,
            contact: &o.contact,
            emails: &o.emails,
            phones: &o.phones,
            confidentiality: o.confidentiality.as_str(),
            location: &o.location,
            links: &o.links,
            created_at: o.created_at,
            updated_at: o.updated_at,
            last_interaction_at: o.last_interaction_at,
            last_advanced_at: o.last_advanced_at,
            snoozed_until: o.snoozed_until,
            archived_at: o.archived.as_ref().map(|a| a.archived_at),
            archive_reason: o.archived.as_ref().map(|a| a.reason.as_str()),
            stage: match look.stage(&o.stage).filter(|_| expand.stage) {
                Some(s) => Ref::Object(s),
                None => Ref::Id(&o.stage),
            },
            stage_changes: &o.stage_changes,
            owner: o.owner.as_deref().map(user_ref),
            tags: &o.tags,
            sources: &o.sources,
            origin: &o.origin,
            sourced_by: None,
            applications: o
                .application
                .iter()
                .map(|a| {
                    if expand.applications {
                        let p = look.posting(&a.posting);
                        Ref::Object(ApplicationView {
                            id: &a.id,
                            kind: &a.kind,
                            opportunity_id: &o.id,
                            candidate_id: &o.id,
                            posting: &a.posting,
                            posting_owner: p.and_then(|p| p.owner.as_deref()),
                            posting_hiring_manager: p.and_then(|p| p.hiring_manager.as_deref()),
                            user: None,
                            name: &o.name,
                            email: o.emails.first().map(String::as_str),
                            created_at: a.created_at,
                            archived: o.archived.as_ref(),
                        })
                    } else {
                        Ref::Id(&a.id)
                    }
                })
                .collect(),
            resume: None,
            followers: o
                .followers
                .iter()
                .map(|f| match look.user(f).filter(|_| expand.followers) {
                    Some(u) => Ref::Object(u),
                    None => Ref::Id(f),
                })
                .collect(),
            urls: Urls {
                list: format!("{origin}/candidates"),
                show: format!("{origin}/candidates/{}", o.id),
            },
            data_protection: o.data_protection.as_ref(),
            is_anonymized: o.is_anonymized,
            archived: match (archived_form, o.archived.as_ref()) {
                (ArchivedForm::LegacyOnly, _) => ArchivedField::Omitted,
                (_, Some(a)) => ArchivedField::Object(a),
                (ArchivedForm::NullObjectWhenActive, None) => ArchivedField::NullObject,
                (ArchivedForm::Documented, None) => ArchivedField::Null,
            },
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Categories<'a> {
    team: Option<&'a str>,
    department: Option<&'a str>,
    location: Option<&'a str>,
    all_locations: Vec<&'a str>,
    commitment: Option<&'a str>,
    level: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PostingUrls {
    list: String,
    show: String,
    apply: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PostingView<'a> {
    id: &'a str,
    text: &'a str,
    state: &'a str,
    distribution_channels: Vec<&'a str>,
    confidentiality: &'static str,
    user: Option<&'a str>,
    owner: Option<&'a str>,
    hiring_manager: Option<&'a str>,
    followers: Vec<&'a str>,
    categories: Categories<'a>,
    tags: &'a [String],
    created_at: i64,
    updated_at: i64,
    urls: PostingUrls,
}

impl<'a> PostingView<'a> {
    pub(crate) fn new(p: &'a Posting, origin: &str) -> Self {
        PostingView {
            id: &p.id,
            text: &p.text,
            state: &p.state,
            distribution_channels: if p.state == "published" {
                p.distribution.channels().to_vec()
            } else {
                Vec::new()
            },
            confidentiality: p.confidentiality.as_str(),
            user: p.owner.as_deref(),
            owner: p.owner.as_deref(),
            hiring_manager: p.hiring_manager.as_deref(),
            followers: Vec::new(),
            categories: Categories {
                team: p.team.as_deref(),
                department: None,
                location: p.location.as_deref(),
                all_locations: p.location.as_deref().into_iter().collect(),
                commitment: p.commitment.as_deref(),
                level: None,
            },
            tags: &p.tags,
            created_at: p.created_at,
            updated_at: p.updated_at,
            urls: PostingUrls {
                list: format!("{origin}/jobs"),
                show: format!("{origin}/jobs/{}", p.id),
                apply: format!("{origin}/jobs/{}/apply", p.id),
            },
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NoteField<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'static str,
    value: &'a str,
    created_at: i64,
    user: Option<&'a str>,
    score: Option<u8>,
    stage: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NoteView<'a> {
    id: &'a str,
    text: &'static str,
    fields: Vec<NoteField<'a>>,
    user: Option<&'a str>,
    secret: bool,
    created_at: i64,
    completed_at: Option<i64>,
    deleted_at: Option<i64>,
}

impl<'a> NoteView<'a> {
    pub(crate) fn new(n: &'a Note) -> Self {
        let field = |value: &'a str| NoteField {
            kind: "note",
            text: "Note",
            value,
            created_at: n.created_at,
            user: n.user.as_deref(),
            score: n.score,
            stage: None,
        };
        NoteView {
            id: &n.id,
            text: "Note",
            fields: std::iter::once(n.value.as_str())
                .chain(n.comments.iter().map(String::as_str))
                .map(field)
                .collect(),
            user: n.user.as_deref(),
            secret: n.secret,
            created_at: n.created_at,
            completed_at: None,
            deleted_at: None,
        }
    }
}
