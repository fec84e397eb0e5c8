//! Email identity (rules: same email, once per (email, interview); docs/behaviour.md).
//!
//! Lever and Willo both treat addresses as case-insensitive in practice, and stray whitespace
//! comes from hand-typed candidate records. The planner and the invite resolution (which looks
//! an email up among an interview's participants) must compare addresses the same way, so the
//! rule lives here, once.

/// The comparison key of an address: trimmed and lower-cased. `None` for a blank address.
pub fn email_key(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_lowercase())
}

/// True when two addresses name the same mailbox for the daemon's purposes.
pub fn same_email(a: &str, b: &str) -> bool {
    matches!((email_key(a), email_key(b)), (Some(x), Some(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_and_surrounding_space() {
        assert_eq!(
            email_key("  Ada@Example.COM "),
            Some("ada@example.com".into())
        );
        assert!(same_email("ada@example.com", " ADA@example.com"));
        assert!(!same_email("ada@example.com", "ada@example.org"));
    }

    #[test]
    fn blank_addresses_have_no_key_and_match_nothing() {
        assert_eq!(email_key("   "), None);
        assert!(!same_email("", ""));
    }
}
