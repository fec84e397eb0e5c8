//! Filters for Lever list endpoints, rendered as repeated query keys (`tag=a&tag=b`), which is
//! the only multi-value form Lever accepts.

/// `confidentiality=` (Lever's default, when omitted, is non-confidential only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confidentiality {
    Confidential,
    NonConfidential,
    All,
}

impl Confidentiality {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidentiality::Confidential => "confidential",
            Confidentiality::NonConfidential => "non-confidential",
            Confidentiality::All => "all",
        }
    }
}

/// `GET /opportunities` filters. Multi-valued fields are unions (OR) on Lever's side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpportunityQuery {
    pub stage_ids: Vec<String>,
    pub tags: Vec<String>,
    pub posting_ids: Vec<String>,
    /// Inclusive, ms since the epoch.
    pub updated_at_start: Option<i64>,
    /// Inclusive, ms since the epoch.
    pub updated_at_end: Option<i64>,
    /// `Some(false)`: active only; `Some(true)`: archived only; `None`: both.
    pub archived: Option<bool>,
    pub email: Option<String>,
    pub contact_id: Option<String>,
    pub confidentiality: Option<Confidentiality>,
    /// `expand=applications`, needed to learn each opportunity's posting.
    pub expand_applications: bool,
    /// Page size, clamped to Lever's 1–100 (Lever's default 100 when `None`).
    pub limit: Option<u8>,
}

impl OpportunityQuery {
    pub(crate) fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        q.extend(self.stage_ids.iter().map(|v| ("stage_id", v.clone())));
        q.extend(self.tags.iter().map(|v| ("tag", v.clone())));
        q.extend(self.posting_ids.iter().map(|v| ("posting_id", v.clone())));
        q.extend(
            self.updated_at_start
                .map(|v| ("updated_at_start", v.to_string())),
        );
        q.extend(
            self.updated_at_end
                .map(|v| ("updated_at_end", v.to_string())),
        );
        q.extend(self.archived.map(|v| ("archived", v.to_string())));
        q.extend(self.email.iter().map(|v| ("email", v.clone())));
        q.extend(self.contact_id.iter().map(|v| ("contact_id", v.clone())));
        q.extend(
            self.confidentiality
                .map(|v| ("confidentiality", v.as_str().to_owned())),
        );
        if self.expand_applications {
            q.push(("expand", "applications".to_owned()));
        }
        q.extend(self.limit.map(|v| ("limit", v.clamp(1, 100).to_string())));
        q
    }
}

/// `GET /postings` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostingQuery {
    /// `published`, `internal`, `closed`, `draft`, `pending`, `rejected` (repeatable).
    pub states: Vec<String>,
    pub tags: Vec<String>,
    pub confidentiality: Option<Confidentiality>,
    /// `distributionChannel` (`public`, `internal`; repeatable). Empty: the client asks for
    /// both, since Lever's default is the public job site only.
    pub distribution_channels: Vec<String>,
    pub limit: Option<u8>,
}

impl PostingQuery {
    pub(crate) fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        q.extend(self.states.iter().map(|v| ("state", v.clone())));
        q.extend(self.tags.iter().map(|v| ("tag", v.clone())));
        q.extend(
            self.distribution_channels
                .iter()
                .map(|v| ("distributionChannel", v.clone())),
        );
        q.extend(
            self.confidentiality
                .map(|v| ("confidentiality", v.as_str().to_owned())),
        );
        q.extend(self.limit.map(|v| ("limit", v.clamp(1, 100).to_string())));
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_values_repeat_the_key() {
        let q = OpportunityQuery {
            stage_ids: vec!["s1".into(), "s2".into()],
            tags: vec!["Willo:A-B".into(), "x y".into()],
            archived: Some(false),
            updated_at_start: Some(1_700_000_000_000),
            confidentiality: Some(Confidentiality::All),
            expand_applications: true,
            ..Default::default()
        };
        let mut url = url::Url::parse("http://h/v1/opportunities").unwrap();
        url.query_pairs_mut().extend_pairs(q.pairs());
        assert_eq!(
            url.query(),
            Some(
                "stage_id=s1&stage_id=s2&tag=Willo%3AA-B&tag=x+y&updated_at_start=1700000000000\
                 &archived=false&confidentiality=all&expand=applications"
            )
        );
    }
}
