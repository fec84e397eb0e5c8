//! `--once --dry-run`: observe like a full pass, plan, print the plan; write nothing anywhere.
//!
//! The `--json` output is a contract with scripts, so it is defined here, field by field,
//! rather than derived from the planner's types: renaming something inside the planner must
//! not silently change what operators parse.

use std::io::Write;
use std::sync::Arc;

use serde::Serialize;

use super::{CommandError, build_tenants};
use crate::config::{Settings, TenantSettings};
use crate::error_chain::chain;
use crate::exit::ExitStatus;
use crate::lever::LeverAuth;
use crate::metrics::Metrics;
use crate::plan::{Action, Warning};
use crate::reconcile::DryRun;
use crate::secret::Secret;
use crate::store::Store;

pub(super) async fn run(
    settings: &Settings,
    tenants: Vec<&TenantSettings>,
    json: bool,
) -> Result<ExitStatus, CommandError> {
    // Read the state without locking or migrating it, into a scratch copy the planning may
    // write to (it lists participants there); with no state yet, plan against nothing.
    let store = match super::read_store(&settings.daemon.state_dir, &settings.store)? {
        Some(s) => s.scratch_copy()?,
        None => Store::open_memory()?,
    };
    let mut status = ExitStatus::Converged;
    let mut errors = Vec::new();
    let mut usable = Vec::new();
    for t in tenants {
        match without_refresh(&store, t) {
            Ok(t) => usable.push(t),
            Err(e) => {
                status = status.worst(ExitStatus::Unavailable);
                errors.push(e);
            }
        }
    }
    let usable: Vec<&TenantSettings> = usable.iter().collect();
    let tenants = build_tenants(settings, &usable, Arc::new(store), Metrics::new())?;
    let results = futures::future::join_all(tenants.iter().map(|t| t.dry_run())).await;
    let mut plans = Vec::new();
    for r in &results {
        match r {
            Ok(p) => plans.push(p),
            Err(e) => {
                status = status.worst(e.exit_status());
                errors.push(chain(e).to_string());
            }
        }
    }
    let mut out = super::output::stdout();
    if json {
        let report = DryRunReport {
            schema_version: super::SCHEMA_VERSION,
            dry_run: true,
            tenants: plans.iter().map(|p| TenantPlan::from(*p)).collect(),
            errors,
        };
        serde_json::to_writer_pretty(&mut out, &report).map_err(std::io::Error::other)?;
        writeln!(out)?;
    } else {
        for p in plans {
            write_plan(&mut out, p)?;
        }
        for e in &errors {
            writeln!(out, "error: {e}")?;
        }
        writeln!(
            out,
            "(dry run: nothing was written to Lever, Willo or the state file)"
        )?;
    }
    out.flush()?;
    Ok(status)
}

fn write_plan(out: &mut impl Write, d: &DryRun) -> std::io::Result<()> {
    let n = d.plan.actions.len();
    writeln!(
        out,
        "tenant {}: {} opportunities examined, {n} action{} planned",
        d.tenant,
        d.opportunities_examined,
        if n == 1 { "" } else { "s" }
    )?;
    if d.unresolved_invites > 0 {
        writeln!(
            out,
            "  {} invite(s) with an unknown outcome would be looked up in Willo first",
            d.unresolved_invites
        )?;
    }
    if n > 0 {
        writeln!(out, "  {:<17} WHAT", "ACTION")?;
    }
    for a in &d.plan.actions {
        writeln!(out, "  {:<17} {a}", a.kind())?;
    }
    for w in &d.plan.warnings {
        writeln!(out, "  warning: {w}")?;
    }
    Ok(())
}

/// An OAuth tenant's settings with the stored access token used as it is. A refresh rotates
/// the refresh token at Lever, and a dry run cannot store the new one (it plans over a scratch
/// copy of the state): refreshing would leave the real state with a dead refresh token. So a
/// dry run whose stored access token has expired (or is about to) does not run for that tenant.
fn without_refresh(store: &Store, t: &TenantSettings) -> Result<TenantSettings, String> {
    let mut t = t.clone();
    if !matches!(t.lever.client.auth, LeverAuth::OAuth(_)) {
        return Ok(t);
    }
    let id = t.id.clone();
    let row = store.read(|r| r.tokens(&id)).map_err(|e| {
        format!(
            "tenant {id}: the stored OAuth tokens cannot be read: {}",
            chain(&e)
        )
    })?;
    let Some(row) = row else {
        return Err(format!(
            "tenant {id}: no OAuth tokens are stored; run `willo-lever-sync connect {id}`"
        ));
    };
    if row.expires_at <= crate::clock::now_ms() + TOKEN_MARGIN_MS {
        return Err(format!(
            "tenant {id}: the stored OAuth access token has expired; a dry run does not refresh \
             it (a refresh rotates the refresh token, which a dry run cannot store). Start the \
             daemon or run `--once` (either refreshes and stores it), then run the dry run again"
        ));
    }
    t.lever.client.auth = LeverAuth::AccessToken(Secret::inline(row.access_token));
    Ok(t)
}

/// How long a stored access token must still be valid for a dry run to use it.
const TOKEN_MARGIN_MS: i64 = 60_000;

/// The `--dry-run --json` document.
#[derive(Debug, Serialize)]
struct DryRunReport {
    schema_version: u32,
    dry_run: bool,
    tenants: Vec<TenantPlan>,
    errors: Vec<String>,
}

#[derive(Debug, Serialize)]
struct TenantPlan {
    tenant: String,
    opportunities_examined: usize,
    unresolved_invites: usize,
    plan: PlanReport,
}

#[derive(Debug, Serialize)]
struct PlanReport {
    actions: Vec<ActionReport>,
    warnings: Vec<WarningReport>,
}

/// One planned action. `action` names the kind; the other fields depend on it.
#[derive(Debug, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
enum ActionReport {
    Invite {
        interview_key: String,
        email: String,
        name: String,
        first_name: Option<String>,
        last_name: Option<String>,
        opportunity_ids: Vec<String>,
    },
    Adopt {
        interview_key: String,
        participant_key: String,
        opportunity_id: String,
        email: String,
    },
    AddTags {
        opportunity_id: String,
        tags: Vec<String>,
    },
    RemoveTags {
        opportunity_id: String,
        tags: Vec<String>,
    },
    PostNote {
        opportunity_id: String,
        interview_key: String,
        text: String,
    },
    RecordAttention {
        opportunity_id: String,
        reason: &'static str,
    },
    ClearAttention {
        opportunity_id: String,
        reason: &'static str,
    },
}

/// A warning: its kind (a stable word) and the sentence an operator reads.
#[derive(Debug, Serialize)]
struct WarningReport {
    warning: &'static str,
    message: String,
}

impl From<&DryRun> for TenantPlan {
    fn from(d: &DryRun) -> TenantPlan {
        TenantPlan {
            tenant: d.tenant.clone(),
            opportunities_examined: d.opportunities_examined,
            unresolved_invites: d.unresolved_invites,
            plan: PlanReport {
                actions: d.plan.actions.iter().map(ActionReport::from).collect(),
                warnings: d.plan.warnings.iter().map(WarningReport::from).collect(),
            },
        }
    }
}

impl From<&Action> for ActionReport {
    fn from(a: &Action) -> ActionReport {
        match a.clone() {
            Action::Invite {
                interview_key,
                email,
                name,
                first_name,
                last_name,
                opportunity_ids,
            } => ActionReport::Invite {
                interview_key,
                email,
                name,
                first_name,
                last_name,
                opportunity_ids,
            },
            Action::Adopt {
                interview_key,
                participant_key,
                opportunity_id,
                email,
            } => ActionReport::Adopt {
                interview_key,
                participant_key,
                opportunity_id,
                email,
            },
            Action::AddTags {
                opportunity_id,
                tags,
            } => ActionReport::AddTags {
                opportunity_id,
                tags: tags.into_iter().collect(),
            },
            Action::RemoveTags {
                opportunity_id,
                tags,
            } => ActionReport::RemoveTags {
                opportunity_id,
                tags: tags.into_iter().collect(),
            },
            Action::PostNote {
                opportunity_id,
                interview_key,
                text,
            } => ActionReport::PostNote {
                opportunity_id,
                interview_key,
                text,
            },
            Action::RecordAttention {
                opportunity_id,
                reason,
            } => ActionReport::RecordAttention {
                opportunity_id,
                reason: reason.as_str(),
            },
            Action::ClearAttention {
                opportunity_id,
                reason,
            } => ActionReport::ClearAttention {
                opportunity_id,
                reason: reason.as_str(),
            },
        }
    }
}

impl From<&Warning> for WarningReport {
    fn from(w: &Warning) -> WarningReport {
        WarningReport {
            warning: w.kind(),
            message: w.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::attention::AttentionReason;
    use crate::plan::Plan;

    #[test]
    fn the_json_names_each_action_and_its_fields() {
        let plan = Plan {
            actions: vec![
                Action::Invite {
                    interview_key: "i1".into(),
                    email: "ada@example.com".into(),
                    name: "Ada Lovelace".into(),
                    first_name: Some("Ada".into()),
                    last_name: Some("Lovelace".into()),
                    opportunity_ids: vec!["o2".into()],
                },
                Action::AddTags {
                    opportunity_id: "o2".into(),
                    tags: BTreeSet::from(["Willo:Invited".to_owned()]),
                },
                Action::RecordAttention {
                    opportunity_id: "o1".into(),
                    reason: AttentionReason::NoConsent,
                },
            ],
            warnings: vec![Warning::UnknownState {
                value: "parked".into(),
                participant_key: "p1".into(),
            }],
            ..Plan::default()
        };
        let d = DryRun {
            tenant: "acme".into(),
            opportunities_examined: 2,
            unresolved_invites: 0,
            plan,
        };
        let json = serde_json::to_value(TenantPlan::from(&d)).unwrap();
        assert_eq!(
            json["plan"]["actions"],
            serde_json::json!([
                {"action": "invite", "interview_key": "i1", "email": "ada@example.com",
                 "name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace",
                 "opportunity_ids": ["o2"]},
                {"action": "add_tags", "opportunity_id": "o2", "tags": ["Willo:Invited"]},
                {"action": "record_attention", "opportunity_id": "o1", "reason": "no_consent"},
            ])
        );
        assert_eq!(json["plan"]["warnings"][0]["warning"], "unknown_state");
        assert!(
            json["plan"]["warnings"][0]["message"]
                .as_str()
                .unwrap()
                .contains("parked")
        );
        assert_eq!(json["tenant"], "acme");
        assert_eq!(json["opportunities_examined"], 2);
    }
}
