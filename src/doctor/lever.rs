//! The Lever checks: credentials, each endpoint the daemon calls, the trigger stages, the
//! `perform_as` user, confidential access and the catalog placeholder.

use futures::{Stream, StreamExt};

use super::finding::Finding;
use super::tag_writes;
use crate::clock::now_ms;
use crate::config::TenantSettings;
use crate::exit::ExitStatus;
use crate::http::ApiError;
use crate::lever::{Confidentiality, LeverClient, OpportunityQuery, PostingQuery, Stage};

/// How far back the deleted-opportunities check reads.
const DAY_MS: i64 = 24 * 3600 * 1000;

pub(super) async fn checks(tenant: &TenantSettings, client: &LeverClient) -> Vec<Finding> {
    let mut out = Vec::new();
    let stages = match client.stages().await {
        Ok(stages) => {
            out.push(Finding::ok(
                "lever.credentials",
                "the credentials were accepted",
            ));
            out.push(Finding::ok(
                "lever.permission.stages",
                format!("GET /stages is permitted ({} stages)", stages.len()),
            ));
            Some(stages)
        }
        Err(e) if Finding::stops_checks(&e) => {
            out.push(Finding::from_error("lever.credentials", "GET /stages", &e));
            return out;
        }
        Err(e) => {
            if matches!(e, ApiError::Forbidden { .. }) {
                out.push(Finding::ok(
                    "lever.credentials",
                    "the credentials were accepted (GET /stages answered 403, not 401)",
                ));
            }
            out.push(Finding::from_error(
                "lever.permission.stages",
                "GET /stages",
                &e,
            ));
            None
        }
    };
    out.push(trigger_stages(tenant, stages.as_deref()));

    let postings = PostingQuery {
        confidentiality: Some(Confidentiality::NonConfidential),
        limit: Some(1),
        ..PostingQuery::default()
    };
    let listed = first(client.postings_stream(&postings)).await;
    out.push(permission(
        "lever.permission.postings",
        "GET /postings",
        &listed,
    ));

    let query = OpportunityQuery {
        confidentiality: Some(Confidentiality::NonConfidential),
        limit: Some(1),
        ..OpportunityQuery::default()
    };
    let listed = first(client.opportunities(&query)).await;
    out.push(permission(
        "lever.permission.opportunities",
        "GET /opportunities",
        &listed,
    ));
    let sample = listed.ok().flatten().map(|o| o.id);

    let catalog = catalog(tenant, client).await;
    // The placeholder is the better probe target: no candidate stands behind it.
    let existing = catalog.1.clone().or(sample);
    out.push(opportunity_read(client, existing.as_deref()).await);
    let since = now_ms() - DAY_MS;
    let deleted = client.deleted_opportunities(since).await.map(|d| d.len());
    out.push(permission(
        "lever.permission.deleted_opportunities",
        "GET /opportunities/deleted",
        &deleted,
    ));
    out.push(tag_writes::check(client, existing.as_deref()).await);
    out.push(perform_as(tenant, client).await);
    out.extend(confidential(tenant, client).await);
    out.push(catalog.0);
    out
}

/// The first item of a listing (one page of one item is requested).
async fn first<T>(stream: impl Stream<Item = Result<T, ApiError>>) -> Result<Option<T>, ApiError> {
    let mut stream = std::pin::pin!(stream);
    stream.next().await.transpose()
}

fn permission<T>(check: &'static str, what: &str, result: &Result<T, ApiError>) -> Finding {
    match result {
        Ok(_) => Finding::ok(check, format!("{what} is permitted")),
        Err(e) => Finding::from_error(check, what, e),
    }
}

/// The configured trigger stages, each by id or by name, as a full pass resolves them.
fn trigger_stages(tenant: &TenantSettings, stages: Option<&[Stage]>) -> Finding {
    const CHECK: &str = "lever.trigger_stages";
    let Some(stages) = stages else {
        return Finding::unknown(
            CHECK,
            "not checked: the stages could not be read",
            "fix the stages permission first",
        );
    };
    let unknown: Vec<String> = tenant
        .trigger_stages
        .iter()
        .map(|s| s.trim())
        .filter(|wanted| {
            !stages
                .iter()
                .any(|s| s.id == *wanted || s.text.trim() == *wanted)
        })
        .map(|s| format!("{s:?}"))
        .collect();
    if unknown.is_empty() {
        return Finding::ok(
            CHECK,
            format!(
                "every trigger stage resolves ({})",
                tenant.trigger_stages.join(", ")
            ),
        );
    }
    let names: Vec<String> = stages.iter().map(|s| format!("{:?}", s.text)).collect();
    Finding::problem(
        CHECK,
        format!(
            "trigger_stages names {} that the account does not have",
            unknown.join(", ")
        ),
        format!(
            "set trigger_stages to names or ids of the account's stages: {}",
            names.join(", ")
        ),
    )
    .exiting(ExitStatus::Config)
}

/// `GET /opportunities/:id`, which targeted reconciles use, on an opportunity that exists.
async fn opportunity_read(client: &LeverClient, existing: Option<&str>) -> Finding {
    const CHECK: &str = "lever.permission.opportunity";
    let Some(id) = existing else {
        return Finding::unknown(
            CHECK,
            "the account lists no opportunity to read",
            "run doctor again once the account has an opportunity",
        );
    };
    match client.opportunity(id).await {
        Ok(_) => Finding::ok(CHECK, "GET /opportunities/:id is permitted"),
        Err(e) => Finding::from_error(CHECK, "GET /opportunities/:id", &e),
    }
}

/// The `perform_as` user exists and is active (a deactivated one makes every tag write fail).
async fn perform_as(tenant: &TenantSettings, client: &LeverClient) -> Finding {
    const CHECK: &str = "lever.perform_as";
    let Some(id) = tenant.lever.client.perform_as.as_deref() else {
        return Finding::ok(
            CHECK,
            "perform_as is not set: tag changes are attributed to no user",
        );
    };
    match client.user(id).await {
        Ok(user) if user.deactivated_at.is_some() => Finding::problem(
            CHECK,
            "perform_as names a deactivated user; Lever refuses writes performed as them",
            "set perform_as to an active user's id",
        ),
        Ok(_) => Finding::ok(CHECK, "perform_as names an active user"),
        Err(ApiError::NotFound { .. }) => Finding::problem(
            CHECK,
            "perform_as names no user of the account",
            "set perform_as to an active user's id, or remove it",
        ),
        Err(e @ ApiError::Forbidden { .. }) => Finding::unknown(
            CHECK,
            format!("GET /users/:id was refused ({e}); the daemon itself does not read users"),
            "grant the users read permission to let doctor check, or check the user by hand",
        ),
        Err(e) => Finding::from_error(CHECK, "GET /users/:id", &e),
    }
}

/// With `include_confidential`, confidential rows are listed; without it, whether the account
/// has confidential rows the daemon leaves out.
async fn confidential(tenant: &TenantSettings, client: &LeverClient) -> Vec<Finding> {
    let opportunities = OpportunityQuery {
        confidentiality: Some(Confidentiality::Confidential),
        limit: Some(1),
        ..OpportunityQuery::default()
    };
    let postings = PostingQuery {
        confidentiality: Some(Confidentiality::Confidential),
        limit: Some(1),
        ..PostingQuery::default()
    };
    let found = [
        (
            "lever.confidential.opportunities",
            "opportunities",
            first(client.opportunities(&opportunities))
                .await
                .map(|o| o.is_some()),
        ),
        (
            "lever.confidential.postings",
            "postings",
            first(client.postings_stream(&postings))
                .await
                .map(|p| p.is_some()),
        ),
    ];
    let on = tenant.lever.client.include_confidential;
    found
        .into_iter()
        .map(|(check, what, seen)| match (on, seen) {
            (true, Ok(true)) => Finding::ok(check, format!("confidential {what} are listed")),
            (true, Ok(false)) => Finding::unknown(
                check,
                format!(
                    "no confidential {what} were listed: the account has none, or Lever leaves \
                     them out without saying so"
                ),
                "if the account has confidential requisitions, check that the API key may see \
                 confidential data (with OAuth, the scope confidential:access:admin)",
            ),
            (true, Err(e)) => Finding::from_error(check, &format!("confidential {what}"), &e),
            (false, Ok(true)) => Finding::ok(
                check,
                format!(
                    "the account has confidential {what}, left out because include_confidential \
                     is off; set it to true to sync them"
                ),
            ),
            (false, _) => Finding::ok(
                check,
                format!("include_confidential is off; no confidential {what} were seen"),
            ),
        })
        .collect()
}

/// The catalog placeholder, and its id when it exists.
async fn catalog(tenant: &TenantSettings, client: &LeverClient) -> (Finding, Option<String>) {
    const CHECK: &str = "lever.catalog_opportunity";
    let Some(id) = tenant.catalog_opportunity_id.as_deref() else {
        return (
            Finding::ok(
                CHECK,
                "catalog_opportunity_id is not set: interview tags appear in Lever's tag picker \
                 only once a candidate carries them",
            ),
            None,
        );
    };
    match client.opportunity(id).await {
        Ok(_) => (
            Finding::ok(CHECK, "the catalog placeholder exists"),
            Some(id.to_owned()),
        ),
        Err(ApiError::NotFound { .. }) => (
            Finding::problem(
                CHECK,
                "catalog_opportunity_id names no opportunity of the account",
                "create a placeholder opportunity and set its id, or remove \
                 catalog_opportunity_id",
            ),
            None,
        ),
        Err(e) => (
            Finding::from_error(CHECK, "the catalog placeholder", &e),
            None,
        ),
    }
}
