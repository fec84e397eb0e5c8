//! Willo participant state text → Lever status tag (rule: status map, docs/behaviour.md).
//!
//! Willo publishes no list of states, so the map is data: the default table of rule: status map, merged with
//! the tenant's `[tenants.willo.status_map]`. Matching is on a normalised form so that
//! "To Review", "to_review" and " to-review " are the same state.

use std::collections::BTreeMap;

use super::tags::StatusTag;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMap {
    entries: BTreeMap<String, StatusTag>,
}

/// What a participant's state text means for the opportunity's status tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    Tag(StatusTag),
    /// A state the map does not know: leave the tags alone, count it and warn once.
    Unknown(String),
}

// "new" is not here: on a review board a "New" column may hold fresh responses as well as
// untouched invitations, so it is left to the tenant's map (unmapped, it changes no tag and is
// warned about once).
const DEFAULTS: &[(&str, StatusTag)] = &[
    ("invited", StatusTag::Invited),
    ("pending", StatusTag::Invited),
    ("sent", StatusTag::Invited),
    ("in progress", StatusTag::Invited),
    ("started", StatusTag::Invited),
    ("to review", StatusTag::ToReview),
    ("completed", StatusTag::ToReview),
    ("new response", StatusTag::ToReview),
    ("responded", StatusTag::ToReview),
    ("submitted", StatusTag::ToReview),
    ("accepted", StatusTag::Accepted),
    ("shortlisted", StatusTag::Accepted),
    ("hired", StatusTag::Accepted),
    ("rejected", StatusTag::Rejected),
    ("declined", StatusTag::Rejected),
];

/// Trims, lower-cases, treats `_` and `-` as spaces and collapses runs of whitespace.
pub fn normalise_state(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c == '_' || c == '-')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Default for StatusMap {
    fn default() -> Self {
        StatusMap {
            entries: DEFAULTS
                .iter()
                .map(|(k, v)| (normalise_state(k), *v))
                .collect(),
        }
    }
}

impl StatusMap {
    /// The defaults with the tenant's entries merged over them (a tenant entry wins).
    pub fn with_overrides<'a>(overrides: impl IntoIterator<Item = (&'a str, StatusTag)>) -> Self {
        let mut map = StatusMap::default();
        for (state, tag) in overrides {
            map.entries.insert(normalise_state(state), tag);
        }
        map
    }

    /// Maps a participant's state. A missing or blank state means "invited"
    /// (the participant exists, nothing has happened yet; rule: status map).
    pub fn lookup(&self, state: Option<&str>) -> Mapped {
        let Some(text) = state.map(normalise_state).filter(|s| !s.is_empty()) else {
            return Mapped::Tag(StatusTag::Invited);
        };
        match self.entries.get(&text) {
            Some(tag) => Mapped::Tag(*tag),
            None => Mapped::Unknown(text),
        }
    }

    /// The entries, normalised, for display.
    pub fn entries(&self) -> impl Iterator<Item = (&str, StatusTag)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_spec_table_case_insensitively() {
        let m = StatusMap::default();
        assert_eq!(
            m.lookup(Some("In Progress")),
            Mapped::Tag(StatusTag::Invited)
        );
        assert_eq!(
            m.lookup(Some(" To Review ")),
            Mapped::Tag(StatusTag::ToReview)
        );
        assert_eq!(
            m.lookup(Some("new_response")),
            Mapped::Tag(StatusTag::ToReview)
        );
        assert_eq!(
            m.lookup(Some("SHORTLISTED")),
            Mapped::Tag(StatusTag::Accepted)
        );
        assert_eq!(m.lookup(Some("declined")), Mapped::Tag(StatusTag::Rejected));
        assert_eq!(m.lookup(Some("On Hold")), Mapped::Unknown("on hold".into()));
    }

    #[test]
    fn new_is_not_mapped_by_default_but_can_be() {
        assert_eq!(
            StatusMap::default().lookup(Some("New")),
            Mapped::Unknown("new".into())
        );
        let m = StatusMap::with_overrides([("New", StatusTag::ToReview)]);
        assert_eq!(m.lookup(Some("new")), Mapped::Tag(StatusTag::ToReview));
    }

    #[test]
    fn a_stage_key_maps_through_a_tenant_entry() {
        let key = "0A1B2C3D4E5F60718293A4B5C6D7E8F9";
        assert_eq!(
            StatusMap::default().lookup(Some(key)),
            Mapped::Unknown(key.to_lowercase())
        );
        let m = StatusMap::with_overrides([(key, StatusTag::Accepted)]);
        assert_eq!(m.lookup(Some(key)), Mapped::Tag(StatusTag::Accepted));
        assert_eq!(
            m.lookup(Some(&key.to_lowercase())),
            Mapped::Tag(StatusTag::Accepted)
        );
    }

    #[test]
    fn missing_state_means_invited() {
        let m = StatusMap::default();
        assert_eq!(m.lookup(None), Mapped::Tag(StatusTag::Invited));
        assert_eq!(m.lookup(Some("  ")), Mapped::Tag(StatusTag::Invited));
    }

    #[test]
    fn overrides_win_over_defaults() {
        let m = StatusMap::with_overrides([
            ("Hired", StatusTag::ToReview),
            ("On Hold", StatusTag::ToReview),
        ]);
        assert_eq!(m.lookup(Some("hired")), Mapped::Tag(StatusTag::ToReview));
        assert_eq!(m.lookup(Some("on hold")), Mapped::Tag(StatusTag::ToReview));
        assert_eq!(m.lookup(Some("accepted")), Mapped::Tag(StatusTag::Accepted));
    }
}
