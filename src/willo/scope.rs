//! Which of the listed interviews a tenant syncs (`[tenants.willo.interview_scope]`).
//! `GET /interviews/` may list every interview of the account, old ones included; the scope
//! narrows it by department, owner and title. An empty scope holds everything listed.

use wildmatch::WildMatch;

use super::model::Interview;

/// The interviews a tenant works with. Each criterion that is set must hold (an interview in
/// one of the departments, AND owned by one of the owners, AND with a title matching one of the
/// patterns); a criterion left empty holds for every interview.
#[derive(Debug, Clone, Default)]
pub struct InterviewScope {
    /// Department keys.
    departments: Vec<String>,
    /// Owners' emails, lower-cased.
    owner_emails: Vec<String>,
    /// Case-insensitive globs on the title: `*` any run of characters, `?` one character.
    title_patterns: Vec<WildMatch>,
    /// The patterns as written, for display.
    patterns_as_written: Vec<String>,
}

impl InterviewScope {
    pub fn new(
        departments: Vec<String>,
        owner_emails: Vec<String>,
        title_patterns: Vec<String>,
    ) -> InterviewScope {
        InterviewScope {
            departments: departments
                .into_iter()
                .map(|d| d.trim().to_owned())
                .collect(),
            owner_emails: owner_emails
                .into_iter()
                .map(|e| e.trim().to_lowercase())
                .collect(),
            title_patterns: title_patterns
                .iter()
                .map(|p| WildMatch::new_case_insensitive(p.trim()))
                .collect(),
            patterns_as_written: title_patterns,
        }
    }

    /// True when no criterion is set: every listed interview is in scope.
    pub fn is_everything(&self) -> bool {
        self.departments.is_empty()
            && self.owner_emails.is_empty()
            && self.title_patterns.is_empty()
    }

    /// Whether the tenant syncs this interview. An interview that does not say its department
    /// (or owner) is outside a scope that names departments (or owners).
    pub fn contains(&self, interview: &Interview) -> bool {
        let department = self.departments.is_empty()
            || interview
                .department_key
                .as_ref()
                .is_some_and(|k| self.departments.contains(k));
        let owner = self.owner_emails.is_empty()
            || interview
                .owner_email
                .as_ref()
                .is_some_and(|e| self.owner_emails.contains(&e.trim().to_lowercase()));
        let title = self.title_patterns.is_empty()
            || self
                .title_patterns
                .iter()
                .any(|p| p.matches(interview.title.trim()));
        department && owner && title
    }

    pub fn departments(&self) -> &[String] {
        &self.departments
    }

    pub fn owner_emails(&self) -> &[String] {
        &self.owner_emails
    }

    pub fn title_patterns(&self) -> &[String] {
        &self.patterns_as_written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interview(title: &str, department: Option<&str>, owner: Option<&str>) -> Interview {
        Interview {
            key: "k".into(),
            title: title.into(),
            department_key: department.map(str::to_owned),
            department_name: None,
            owner_key: None,
            owner_email: owner.map(str::to_owned),
        }
    }

    fn scope(d: &[&str], o: &[&str], t: &[&str]) -> InterviewScope {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        InterviewScope::new(own(d), own(o), own(t))
    }

    #[test]
    fn an_empty_scope_holds_everything() {
        let s = InterviewScope::default();
        assert!(s.is_everything());
        assert!(s.contains(&interview("Anything", None, None)));
    }

    #[test]
    fn departments_owners_and_titles_each_narrow_the_scope() {
        let by_department = scope(&["d1", "d2"], &[], &[]);
        assert!(by_department.contains(&interview("A", Some("d2"), None)));
        assert!(!by_department.contains(&interview("A", Some("d3"), None)));
        assert!(!by_department.contains(&interview("A", None, None)));

        let by_owner = scope(&[], &["Hiring@Example.com"], &[]);
        assert!(by_owner.contains(&interview("A", None, Some("hiring@example.COM"))));
        assert!(!by_owner.contains(&interview("A", None, Some("other@example.com"))));
        assert!(!by_owner.contains(&interview("A", None, None)));

        let by_title = scope(&[], &[], &["*engineer*", "Sales 2026"]);
        assert!(by_title.contains(&interview("Senior ENGINEER, Platform", None, None)));
        assert!(by_title.contains(&interview("sales 2026", None, None)));
        assert!(!by_title.contains(&interview("Sales 2025", None, None)));
    }

    #[test]
    fn every_criterion_that_is_set_must_hold() {
        let s = scope(&["d1"], &[], &["Sales*"]);
        assert!(s.contains(&interview("Sales EMEA", Some("d1"), None)));
        assert!(!s.contains(&interview("Sales EMEA", Some("d2"), None)));
        assert!(!s.contains(&interview("Support", Some("d1"), None)));
    }
}
