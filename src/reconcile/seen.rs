//! The opportunities a scheduled pass has met, kept as compact keys (issue 12, flat memory).
//!
//! A pass remembers every opportunity it planned so that it does not read one again at its
//! end. Lever's ids are lowercase UUIDs: as 128-bit numbers a set of 100,000 takes about 2 MB
//! instead of about 8 MB of strings. The mapping is exact (only the canonical form is packed;
//! anything else is kept as text), so no two ids are ever taken for one.

use std::collections::HashSet;

#[derive(Debug, Default)]
pub(crate) struct Seen {
    uuids: HashSet<u128>,
    other: HashSet<String>,
}

impl Seen {
    pub fn insert(&mut self, id: &str) {
        match packed(id) {
            Some(n) => {
                self.uuids.insert(n);
            }
            None => {
                self.other.insert(id.to_owned());
            }
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        match packed(id) {
            Some(n) => self.uuids.contains(&n),
            None => self.other.contains(id),
        }
    }
}

/// A canonical lowercase UUID (8-4-4-4-12 hex digits) as its 128 bits; `None` for any other
/// text. `uuid` also reads other spellings of one UUID (uppercase, braces, no hyphens): those
/// stay text, so that two different ids never share a key.
fn packed(id: &str) -> Option<u128> {
    let uuid = uuid::Uuid::try_parse(id).ok()?;
    let canonical = uuid
        .hyphenated()
        .encode_lower(&mut uuid::Uuid::encode_buffer())
        == id;
    canonical.then(|| uuid.as_u128())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "250d8f03-738a-4bba-a671-8a3d73477145";

    #[test]
    fn an_id_met_is_seen_and_no_other() {
        let mut seen = Seen::default();
        seen.insert(ID);
        assert!(seen.contains(ID));
        assert!(!seen.contains("250d8f03-738a-4bba-a671-8a3d73477146"));
    }

    #[test]
    fn ids_that_are_not_canonical_uuids_are_kept_as_text_and_never_confused_with_one() {
        let upper = ID.to_uppercase();
        let mut seen = Seen::default();
        seen.insert(&upper);
        seen.insert("opp-7");
        assert!(seen.contains(&upper));
        assert!(seen.contains("opp-7"));
        // The uppercase form names another id as far as the daemon knows.
        assert!(!seen.contains(ID));
        assert_eq!(packed(&upper), None);
        assert_eq!(packed("250d8f03x738a-4bba-a671-8a3d73477145"), None);
        assert_eq!(packed("250d8f03738a4bbaa6718a3d73477145"), None);
        assert_eq!(packed(&format!("{{{ID}}}")), None);
        assert_eq!(packed(ID), Some(0x250d8f03_738a_4bba_a671_8a3d73477145));
    }
}
