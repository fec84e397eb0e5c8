//! Which open interviews an opportunity is connected to (rules: connected, posting tags; docs/behaviour.md).

use std::collections::{BTreeMap, BTreeSet};

use super::input::Opportunity;
use crate::domain::{InterviewKey, PostingId};

/// Answers "which open interviews is this opportunity connected to?".
pub(crate) struct Connector<'a> {
    /// Tag → open interview, unambiguous tags only (see `interviews::connect_index`).
    pub index: &'a BTreeMap<String, InterviewKey>,
    /// Posting tags, observed this pass or remembered from the last full pass.
    pub posting_tags: &'a BTreeMap<PostingId, BTreeSet<String>>,
    pub match_posting_tags: bool,
}

impl Connector<'_> {
    /// Connected through its own tags (inherited from the posting when it was created, or added
    /// by hand), or, with `match_posting_tags`, through the tags its posting carries now.
    pub fn connected(&self, opp: &Opportunity) -> BTreeSet<InterviewKey> {
        let posting = self
            .match_posting_tags
            .then_some(opp.posting_id.as_ref())
            .flatten()
            .and_then(|p| self.posting_tags.get(p));
        opp.tags
            .iter()
            .chain(posting.into_iter().flatten())
            .filter_map(|t| self.index.get(t).cloned())
            .collect()
    }
}
