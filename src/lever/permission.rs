//! Which Lever permission each route the daemon calls needs, so that a 403 can tell the
//! operator what to grant (rule: 403 is a permission, docs/behaviour.md).
//!
//! A Super Admin chooses an API key's endpoints, and whether it may see confidential data, when
//! the key is created; an OAuth app gets the same through its scopes (`:write:admin` implies
//! `:read:admin`; `confidential:access:admin` opens confidential data).

use crate::http::Grant;

/// The OAuth scope that opens confidential opportunities and postings.
pub const CONFIDENTIAL_SCOPE: &str = "confidential:access:admin";

pub(crate) const STAGES_READ: Grant = Grant {
    needs: "the API key's \"Stages: read\" permission",
    oauth_scopes: &["stages:read:admin"],
};
pub(crate) const USERS_READ: Grant = Grant {
    needs: "the API key's \"Users: read\" permission",
    oauth_scopes: &["users:read:admin"],
};
pub(crate) const TAGS_READ: Grant = Grant {
    needs: "the API key's \"Tags: read\" permission",
    oauth_scopes: &["tags:read:admin"],
};
pub(crate) const POSTINGS_READ: Grant = Grant {
    needs: "the API key's \"Postings: read\" permission",
    oauth_scopes: &["postings:read:admin"],
};
pub(crate) const POSTINGS_READ_CONFIDENTIAL: Grant = Grant {
    needs: "the API key's \"Postings: read\" permission and access to confidential data \
            (or set include_confidential = false)",
    oauth_scopes: &["postings:read:admin", CONFIDENTIAL_SCOPE],
};
pub(crate) const OPPORTUNITIES_READ: Grant = Grant {
    needs: "the API key's \"Opportunities: read\" permission",
    oauth_scopes: &["opportunities:read:admin"],
};
pub(crate) const OPPORTUNITIES_READ_CONFIDENTIAL: Grant = Grant {
    needs: "the API key's \"Opportunities: read\" permission and access to confidential data \
            (or set include_confidential = false)",
    oauth_scopes: &["opportunities:read:admin", CONFIDENTIAL_SCOPE],
};
/// One opportunity: a key that may read opportunities is still refused a confidential one.
pub(crate) const OPPORTUNITY_READ: Grant = Grant {
    needs: "the API key's \"Opportunities: read\" permission, and access to confidential data \
            if the opportunity is confidential",
    oauth_scopes: &["opportunities:read:admin", CONFIDENTIAL_SCOPE],
};
pub(crate) const TAG_WRITES: Grant = Grant {
    needs: "the API key's \"Opportunities: write\" permission (tags are added and removed \
            through it), and access to confidential data if the opportunity is confidential",
    oauth_scopes: &["opportunities:write:admin", CONFIDENTIAL_SCOPE],
};
pub(crate) const NOTES_WRITE: Grant = Grant {
    needs: "the API key's \"Notes: write\" permission",
    oauth_scopes: &["notes:write:admin"],
};

/// What to grant for a 403 on `route` (a route template of [`super::client`]); `confidential`
/// says the call asked for confidential rows (`confidentiality=all`).
pub fn grant_for(route: &str, confidential: bool) -> Option<Grant> {
    Some(match route {
        "/stages" => STAGES_READ,
        "/users" | "/users/{id}" => USERS_READ,
        "/tags" => TAGS_READ,
        "/postings" if confidential => POSTINGS_READ_CONFIDENTIAL,
        "/postings" => POSTINGS_READ,
        "/opportunities" if confidential => OPPORTUNITIES_READ_CONFIDENTIAL,
        "/opportunities" | "/opportunities/deleted" => OPPORTUNITIES_READ,
        "/opportunities/{id}" => OPPORTUNITY_READ,
        "/opportunities/{id}/addTags" | "/opportunities/{id}/removeTags" => TAG_WRITES,
        "/opportunities/{id}/notes" => NOTES_WRITE,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_the_client_calls_names_a_permission_and_a_scope() {
        for route in super::super::client::ROUTES {
            let grant = grant_for(route, false).unwrap_or_else(|| panic!("{route}"));
            assert!(grant.needs.contains("permission"), "{route}");
            assert!(!grant.oauth_scopes.is_empty(), "{route}");
        }
        assert_eq!(grant_for("/postings", false), Some(POSTINGS_READ));
        assert_eq!(
            grant_for("/postings", false).map(|g| g.oauth_scopes),
            Some(&["postings:read:admin"][..])
        );
        assert!(
            grant_for("/opportunities", true)
                .is_some_and(|g| g.oauth_scopes.contains(&CONFIDENTIAL_SCOPE))
        );
        assert_eq!(grant_for("/oauth/token", false), None);
    }
}
