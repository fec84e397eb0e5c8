//! The tags the daemon owns (rule: owned tags, docs/behaviour.md): the four status tags and rendered interview tags.

use std::fmt;

/// Every tag this daemon writes starts with this prefix; anything else is a customer's tag.
pub const WILLO_PREFIX: &str = "Willo:";

/// The four status tags, byte for byte as the native integration writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StatusTag {
    Invited,
    ToReview,
    Accepted,
    Rejected,
}

impl StatusTag {
    pub const ALL: [StatusTag; 4] = [
        StatusTag::Invited,
        StatusTag::ToReview,
        StatusTag::Accepted,
        StatusTag::Rejected,
    ];

    /// The exact Lever tag text.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusTag::Invited => "Willo:Invited",
            StatusTag::ToReview => "Willo:To Review",
            StatusTag::Accepted => "Willo:Accepted",
            StatusTag::Rejected => "Willo:Rejected",
        }
    }

    /// Parses exact tag text (case-sensitive, as Lever tags are).
    pub fn from_tag(text: &str) -> Option<StatusTag> {
        StatusTag::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// Accepted and Rejected are decisions; the others still expect Willo to move.
    pub fn is_decision(self) -> bool {
        matches!(self, StatusTag::Accepted | StatusTag::Rejected)
    }
}

impl fmt::Display for StatusTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A per-tenant interview tag template such as `Willo:{title}-{account}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagTemplate(String);

/// Why a template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("must contain the placeholder {{title}}")]
    MissingTitle,
    #[error("must start with \"Willo:\" so the daemon's tags never collide with customer tags")]
    MissingPrefix,
    #[error("unknown placeholder {{{0}}}; only {{title}} and {{account}} are supported")]
    UnknownPlaceholder(String),
    #[error("unbalanced brace")]
    UnbalancedBrace,
}

impl Default for TagTemplate {
    fn default() -> Self {
        TagTemplate(Self::DEFAULT.to_owned())
    }
}

impl TagTemplate {
    pub const DEFAULT: &'static str = "Willo:{title}-{account}";

    pub fn parse(text: &str) -> Result<TagTemplate, TemplateError> {
        if !text.starts_with(WILLO_PREFIX) {
            return Err(TemplateError::MissingPrefix);
        }
        let mut rest = text;
        let mut has_title = false;
        while let Some(open) = rest.find(['{', '}']) {
            if rest.as_bytes()[open] == b'}' {
                return Err(TemplateError::UnbalancedBrace);
            }
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or(TemplateError::UnbalancedBrace)?;
            let name = &after[..close];
            match name {
                "title" => has_title = true,
                "account" => {}
                other if other.contains('{') => return Err(TemplateError::UnbalancedBrace),
                other => return Err(TemplateError::UnknownPlaceholder(other.to_owned())),
            }
            rest = &after[close + 1..];
        }
        if !has_title {
            return Err(TemplateError::MissingTitle);
        }
        Ok(TagTemplate(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Renders the tag for one interview. Titles are trimmed: Lever shows tags trimmed, and a
    /// stray space in a Willo title must not produce a second, invisible-looking tag.
    pub fn render(&self, title: &str, account: &str) -> String {
        self.0
            .replace("{title}", title.trim())
            .replace("{account}", account.trim())
    }
}

/// True when `tag` is one of the four status tags.
pub fn is_status_tag(tag: &str) -> bool {
    StatusTag::from_tag(tag).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_tags_are_byte_exact() {
        let texts: Vec<&str> = StatusTag::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Willo:Invited",
                "Willo:To Review",
                "Willo:Accepted",
                "Willo:Rejected"
            ]
        );
        assert_eq!(
            StatusTag::from_tag("Willo:To Review"),
            Some(StatusTag::ToReview)
        );
        assert_eq!(StatusTag::from_tag("willo:to review"), None);
    }

    #[test]
    fn default_template_renders_title_and_account() {
        let t = TagTemplate::default();
        assert_eq!(
            t.render(" Product Manager ", "Acme"),
            "Willo:Product Manager-Acme"
        );
    }

    #[test]
    fn template_errors_name_the_problem() {
        assert_eq!(
            TagTemplate::parse("Willo:{account}"),
            Err(TemplateError::MissingTitle)
        );
        assert_eq!(
            TagTemplate::parse("{title}"),
            Err(TemplateError::MissingPrefix)
        );
        assert_eq!(
            TagTemplate::parse("Willo:{title}-{company}"),
            Err(TemplateError::UnknownPlaceholder("company".into()))
        );
        assert_eq!(
            TagTemplate::parse("Willo:{title"),
            Err(TemplateError::UnbalancedBrace)
        );
        assert_eq!(
            TagTemplate::parse("Willo:}{title}"),
            Err(TemplateError::UnbalancedBrace)
        );
        assert!(TagTemplate::parse("Willo:{title} ({account})").is_ok());
    }
}
