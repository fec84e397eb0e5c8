//! Whether the webhook secrets are configured. Webhooks are only hints, so without them the
//! daemon still converges, but every change then waits for the next scheduled pass.

use super::finding::Finding;
use crate::config::TenantSettings;

pub(super) fn checks(tenant: &TenantSettings) -> Vec<Finding> {
    let lever = match tenant.lever.webhook_signature_token {
        Some(_) => Finding::ok(
            "lever.webhook_token",
            "webhook_signature_token is set: signed stage-change webhooks are accepted",
        ),
        None => Finding::problem(
            "lever.webhook_token",
            "webhook_signature_token is not set: Lever's webhooks are refused, so a stage change \
             waits for the next scheduled pass",
            "create the Candidate Stage Change webhook in Lever and set its signature token as \
             webhook_signature_token (README: webhooks)",
        ),
    };
    let willo = match tenant.willo.webhook_token {
        Some(_) => Finding::ok(
            "willo.webhook_token",
            "webhook_token is set: Willo webhooks carrying it are accepted",
        ),
        None => Finding::problem(
            "willo.webhook_token",
            "webhook_token is not set: Willo's webhooks are refused, so a participant's progress \
             waits for the next scheduled pass",
            "choose a random token, set it as webhook_token and register Willo's webhooks with it \
             (README: webhooks)",
        ),
    };
    vec![lever, willo]
}
