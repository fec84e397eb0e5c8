//! Switches between the behaviours Lever's documentation leaves open (or that real accounts
//! show besides the documented one). Each has a default, named in `docs/simulators.md`, and a
//! `LeverSim` method to pick the alternative while the simulator runs.

/// How an opportunity's archive state is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArchivedForm {
    /// As the documentation's example: `"archived": {archivedAt, reason}` or `null`, plus the
    /// legacy top-level `archivedAt`/`archiveReason` (null when active).
    #[default]
    Documented,
    /// An active opportunity carries `"archived": {"archivedAt": null, "reason": null}`
    /// instead of `null` (archived ones as documented).
    NullObjectWhenActive,
    /// No `archived` field at all: only the legacy top-level `archivedAt`/`archiveReason`
    /// say whether (and why) it is archived.
    LegacyOnly,
}

/// What a credential without confidential access gets when it asks for confidential data
/// (`confidentiality=all|confidential`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConfidentialDenial {
    /// 403 with Lever's error body (the documentation: "requests for them return an access
    /// error").
    #[default]
    Forbidden,
    /// 200 with the confidential rows silently left out.
    Omit,
}

/// Which check a write (addTags, removeTags, notes) makes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CheckOrder {
    /// The endpoint permission, then the object: a key without the permission gets 403 even
    /// for an id that does not exist (so a 404 proves the permission without writing).
    #[default]
    PermissionFirst,
    /// The object, then the permission: an unknown id is 404 whatever the key may do.
    LookupFirst,
}

/// Where a note write leaves the opportunity's `updatedAt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NoteStamp {
    /// `POST .../notes` moves `lastInteractionAt` and so `updatedAt` (the documentation says
    /// `updatedAt` follows `lastInteractionAt`, and that a note `PUT` bumps it).
    #[default]
    Bumps,
    /// A new note leaves the opportunity untouched.
    Leaves,
}

/// Every switch, as the world holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LeverVariants {
    pub(crate) archived_form: ArchivedForm,
    pub(crate) confidential_denial: ConfidentialDenial,
    pub(crate) write_check: CheckOrder,
    pub(crate) note_stamp: NoteStamp,
    /// Status of "Invalid offset token" errors (400 by default).
    pub(crate) offset_error_status: u16,
    /// OAuth tokens may only call the endpoints their scopes grant.
    pub(crate) enforce_oauth_scopes: bool,
}

impl Default for LeverVariants {
    fn default() -> Self {
        LeverVariants {
            archived_form: ArchivedForm::default(),
            confidential_denial: ConfidentialDenial::default(),
            write_check: CheckOrder::default(),
            note_stamp: NoteStamp::default(),
            offset_error_status: 400,
            enforce_oauth_scopes: false,
        }
    }
}
