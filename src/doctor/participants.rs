//! What participant records look like (JSON paths and types, never values) and which states
//! they carry, with the status tag each maps to. States are board stage names or keys, not
//! personal data; nothing else of a participant is shown.

use std::collections::BTreeMap;

use super::finding::Finding;
use crate::config::TenantSettings;
use crate::domain::status_map::Mapped;
use crate::willo::{ParticipantSample, Shape};

pub(super) fn checks(tenant: &TenantSettings, samples: &[ParticipantSample]) -> Vec<Finding> {
    if samples.is_empty() {
        let why = "the account has no participants yet";
        let later = "run doctor again once someone has been invited";
        return vec![
            Finding::unknown("willo.participant_shape", why, later),
            Finding::unknown("willo.participant_states", why, later),
        ];
    }
    vec![shape(samples), states(tenant, samples)]
}

fn shape(samples: &[ParticipantSample]) -> Finding {
    let mut shape = Shape::default();
    for s in samples {
        shape.merge(s.shape.clone());
    }
    let paths: Vec<String> = shape.entries().map(|(p, t)| format!("{p}: {t}")).collect();
    Finding::ok(
        "willo.participant_shape",
        format!(
            "{} participants read; their fields: {}",
            samples.len(),
            paths.join(", ")
        ),
    )
}

/// One state value as seen: how many rows, which path it came from, what it maps to.
struct Seen {
    rows: usize,
    path: String,
    is_key: bool,
    mapped: Mapped,
}

fn states(tenant: &TenantSettings, samples: &[ParticipantSample]) -> Finding {
    const CHECK: &str = "willo.participant_states";
    let map = &tenant.willo.status_map;
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    let mut without = 0;
    for s in samples {
        let Some(state) = &s.participant.state else {
            without += 1;
            continue;
        };
        seen.entry(state.clone())
            .or_insert_with(|| Seen {
                rows: 0,
                path: s.state_path.clone().unwrap_or_default(),
                is_key: s.participant.state_is_key,
                mapped: map.lookup(Some(state)),
            })
            .rows += 1;
    }
    let mut lines: Vec<String> = seen
        .iter()
        .map(|(state, s)| {
            let to = match &s.mapped {
                Mapped::Tag(tag) => tag.as_str().to_owned(),
                Mapped::Unknown(_) if s.is_key => "UNMAPPED, and a key rather than a name".into(),
                Mapped::Unknown(_) => "UNMAPPED".into(),
            };
            format!("{state:?} (at {}, {} rows) -> {to}", s.path, s.rows)
        })
        .collect();
    if without > 0 {
        lines.push(format!(
            "no state at any of state_fields ({without} rows) -> Willo:Invited"
        ));
    }
    let found = format!("states seen: {}", lines.join("; "));
    let unmapped: Vec<&String> = seen
        .iter()
        .filter(|(_, s)| matches!(s.mapped, Mapped::Unknown(_)))
        .map(|(state, _)| state)
        .collect();
    let keys = seen
        .values()
        .any(|s| s.is_key && matches!(s.mapped, Mapped::Unknown(_)));
    if seen.is_empty() {
        return Finding::unknown(
            CHECK,
            found,
            "if the shape above shows a field holding the state, list its path in state_fields",
        );
    }
    if unmapped.is_empty() {
        return Finding::ok(CHECK, found);
    }
    let mut fix = format!(
        "map each unmapped state in [tenants.willo.status_map] (e.g. {:?} = \"Willo:To Review\"); \
         until then it changes no tag",
        unmapped[0]
    );
    if keys {
        fix.push_str(
            "; the state is read from a stage key: set state_fields to a path that holds the \
             stage's name (see the shape, e.g. \"stage.name\"), or map each key",
        );
    }
    Finding::problem(CHECK, found, fix)
}
