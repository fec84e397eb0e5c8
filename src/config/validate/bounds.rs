//! The ranges numeric settings must fall in, so that no value panics later or vanishes
//! (rule: exit statuses, docs/behaviour.md: a configuration error names its key).

use std::path::Path;

use super::super::ConfigError;
use super::super::load::invalid;

/// The slowest pace accepted: one request in a thousand seconds.
pub(super) const MIN_REQUESTS_PER_SECOND: f64 = 0.001;
/// The longest timeout or retry budget accepted: a day.
pub(super) const MAX_SECONDS: f64 = 86_400.0;

/// Numbers that are not finite (`nan`, `inf`, from the file or the environment) are refused
/// by key here: on their way to the typed settings they would turn into nothing, and the
/// default would be used without a word.
pub(in crate::config) fn finite_numbers(
    path: &Path,
    key: &str,
    v: &config::Value,
) -> Result<(), ConfigError> {
    match &v.kind {
        config::ValueKind::Float(f) if !f.is_finite() => Err(invalid(
            path,
            key,
            format!("must be a finite number, got {f}"),
        )),
        config::ValueKind::Table(t) => t.iter().try_for_each(|(k, child)| {
            let at = if key.is_empty() {
                k.clone()
            } else {
                format!("{key}.{k}")
            };
            finite_numbers(path, &at, child)
        }),
        config::ValueKind::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, child)| finite_numbers(path, &format!("{key}[{i}]"), child)),
        _ => Ok(()),
    }
}
