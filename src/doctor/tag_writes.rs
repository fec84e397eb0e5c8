//! Whether the credentials may write tags, judged without writing.
//!
//! The probe is an `addTags` call with no `tags` field, which can add nothing. On an opportunity
//! that exists (read just before), Lever must check the permission before it reads the body:
//! 403 means "not permitted", a refusal of the body (400) or a success "permitted", whatever
//! order Lever checks permission and existence in. On an id that cannot exist, a 403 still
//! proves the permission is missing, but a 404 proves nothing: a server that looks the
//! opportunity up first answers 404 with or without the permission. So that case is "unknown".

use super::finding::Finding;
use crate::http::ApiError;
use crate::lever::LeverClient;

const CHECK: &str = "lever.permission.tag_writes";

/// An opportunity id that cannot exist (Lever ids are random UUIDs).
const NO_SUCH_OPPORTUNITY: &str = "00000000-0000-0000-0000-000000000000";

/// `existing`: an opportunity that was just read (the catalog placeholder or a listed one).
pub(super) async fn check(client: &LeverClient, existing: Option<&str>) -> Finding {
    match existing {
        Some(id) => on_existing(client, id).await,
        None => on_unknown_id(client).await,
    }
}

async fn on_existing(client: &LeverClient, id: &str) -> Finding {
    match client.tag_write_probe(id).await {
        Ok(()) | Err(ApiError::Rejected { status: 400, .. }) => Finding::ok(
            CHECK,
            "tag writes are permitted (an addTags call with no tags on an existing opportunity \
             was not refused for permission; nothing was written)",
        ),
        Err(ApiError::NotFound { .. }) => Finding::unknown(
            CHECK,
            "the opportunity probed was deleted meanwhile",
            "run doctor again",
        ),
        Err(e) => Finding::from_error(CHECK, "POST /opportunities/:id/addTags", &e),
    }
}

async fn on_unknown_id(client: &LeverClient) -> Finding {
    match client.tag_write_probe(NO_SUCH_OPPORTUNITY).await {
        Err(ApiError::NotFound { .. }) => Finding::unknown(
            CHECK,
            "the account lists no opportunity to probe, and a 404 for an id that does not exist \
             proves the permission only if Lever checks it before looking the opportunity up",
            "run doctor again once the account has an opportunity, or set \
             catalog_opportunity_id",
        ),
        Ok(()) | Err(ApiError::Rejected { status: 400, .. }) => Finding::ok(
            CHECK,
            "tag writes are permitted (the probe was refused for its body, not for permission; \
             nothing was written)",
        ),
        Err(e) => Finding::from_error(CHECK, "POST /opportunities/:id/addTags", &e),
    }
}
