//! What a credential may do: the endpoints an API key was created for, whether it may see
//! confidential data, and the same two questions for OAuth access tokens (by their scopes).
//!
//! Lever lets a Super Admin choose a key's endpoints and its confidential access when the key
//! is created; neither can be edited afterwards. A call to an endpoint outside the set is
//! refused with 403 (401 stays "no valid credentials"). OAuth tokens carry scopes;
//! `confidential:access:admin` grants confidential access.

use std::collections::BTreeSet;

/// The endpoint groups a Lever API key can be restricted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// `GET /stages`, `GET /stages/:id`.
    Stages,
    /// `GET /users`, `GET /users/:id`.
    Users,
    /// `GET /postings`, `GET /postings/:id`.
    Postings,
    /// `GET /tags`.
    Tags,
    /// `GET /opportunities`.
    OpportunitiesList,
    /// `GET /opportunities/:id`.
    OpportunityRead,
    /// `GET /opportunities/deleted`.
    DeletedOpportunities,
    /// `POST /opportunities/:id/addTags` and `.../removeTags`.
    TagWrites,
    /// `GET /opportunities/:id/notes`.
    NotesRead,
    /// `POST /opportunities/:id/notes`.
    NotesWrite,
}

impl Endpoint {
    /// Every endpoint group the simulator serves.
    pub const ALL: [Endpoint; 10] = [
        Endpoint::Stages,
        Endpoint::Users,
        Endpoint::Postings,
        Endpoint::Tags,
        Endpoint::OpportunitiesList,
        Endpoint::OpportunityRead,
        Endpoint::DeletedOpportunities,
        Endpoint::TagWrites,
        Endpoint::NotesRead,
        Endpoint::NotesWrite,
    ];

    /// OAuth scopes that grant this endpoint (`:write:admin` implies `:read:admin`).
    pub fn scopes(self) -> &'static [&'static str] {
        match self {
            Endpoint::Stages => &["stages:read:admin", "stages:write:admin"],
            Endpoint::Users => &["users:read:admin", "users:write:admin"],
            Endpoint::Postings => &["postings:read:admin", "postings:write:admin"],
            Endpoint::Tags => &["tags:read:admin", "tags:write:admin"],
            Endpoint::OpportunitiesList
            | Endpoint::OpportunityRead
            | Endpoint::DeletedOpportunities => {
                &["opportunities:read:admin", "opportunities:write:admin"]
            }
            Endpoint::TagWrites => &["opportunities:write:admin"],
            Endpoint::NotesRead => &["notes:read:admin", "notes:write:admin"],
            Endpoint::NotesWrite => &["notes:write:admin"],
        }
    }
}

/// The scope that grants confidential access to an OAuth token.
pub const CONFIDENTIAL_SCOPE: &str = "confidential:access:admin";

/// How an API key was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyAccess {
    /// `None` = every endpoint.
    pub(crate) endpoints: Option<BTreeSet<Endpoint>>,
    /// "Allow access to confidential data".
    pub(crate) confidential: bool,
}

impl Default for KeyAccess {
    /// `add_api_key` makes a key with every endpoint and confidential access, so a test that
    /// does not care about permissions never meets a 403.
    fn default() -> Self {
        KeyAccess {
            endpoints: None,
            confidential: true,
        }
    }
}

/// What one request's credential may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Access {
    pub(crate) endpoints: Option<BTreeSet<Endpoint>>,
    pub(crate) confidential: bool,
    /// Names the credential in 403 messages: "API key" or "access token".
    pub(crate) kind: &'static str,
}

impl Access {
    /// Everything (the benchmarks' shortcut past HTTP).
    pub(crate) fn full() -> Self {
        Access {
            endpoints: None,
            confidential: true,
            kind: "API key",
        }
    }

    pub(crate) fn for_key(k: &KeyAccess) -> Self {
        Access {
            endpoints: k.endpoints.clone(),
            confidential: k.confidential,
            kind: "API key",
        }
    }

    /// A token's access from its space-separated scope. Endpoint scopes only restrict the
    /// token when `enforce_scopes` is on; confidential access always follows the scope.
    pub(crate) fn for_scope(scope: &str, enforce_scopes: bool) -> Self {
        let granted: BTreeSet<&str> = scope.split_whitespace().collect();
        let endpoints = enforce_scopes.then(|| {
            Endpoint::ALL
                .into_iter()
                .filter(|e| e.scopes().iter().any(|s| granted.contains(s)))
                .collect()
        });
        Access {
            endpoints,
            confidential: granted.contains(CONFIDENTIAL_SCOPE),
            kind: "access token",
        }
    }

    pub(crate) fn allows(&self, e: Endpoint) -> bool {
        self.endpoints.as_ref().is_none_or(|s| s.contains(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_scopes_imply_read_and_confidential_access_needs_its_scope() {
        let a = Access::for_scope("offline_access opportunities:write:admin", true);
        assert!(a.allows(Endpoint::OpportunitiesList) && a.allows(Endpoint::TagWrites));
        assert!(!a.allows(Endpoint::Stages) && !a.allows(Endpoint::NotesWrite));
        assert!(!a.confidential);
        let b = Access::for_scope("notes:read:admin confidential:access:admin", true);
        assert!(b.allows(Endpoint::NotesRead) && !b.allows(Endpoint::NotesWrite));
        assert!(b.confidential);
        assert!(Access::for_scope("offline_access", false).allows(Endpoint::Stages));
    }
}
