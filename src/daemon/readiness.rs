//! `/readyz`: ready when every tenant is connected and finished a pass recently enough.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

/// What readiness knows of one tenant.
#[derive(Debug, Clone, Default)]
struct TenantHealth {
    connected: bool,
    disconnected_reason: Option<String>,
    last_completed_pass: Option<i64>,
    /// What the last scheduled pass could not read for lack of permission.
    missing: Vec<String>,
    /// Another instance holds the tenant's lease (several instances on PostgreSQL): its
    /// health is that instance's to report.
    elsewhere: bool,
}

/// Shared between the pass runners (which report) and the HTTP handler (which asks).
pub struct Readiness {
    tenants: Mutex<BTreeMap<String, TenantHealth>>,
    /// A tenant must have finished a pass within this long (three intervals of the incremental
    /// schedule, [`Schedule::interval`](crate::config::Schedule::interval)); a reload may
    /// change it.
    max_age: Mutex<Duration>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Verdict {
    pub ready: bool,
    pub reasons: Vec<String>,
}

impl Readiness {
    pub fn new<'a>(tenants: impl IntoIterator<Item = &'a str>, max_age: Duration) -> Readiness {
        Readiness {
            tenants: Mutex::new(
                tenants
                    .into_iter()
                    .map(|t| {
                        (
                            t.to_owned(),
                            TenantHealth {
                                connected: true,
                                ..TenantHealth::default()
                            },
                        )
                    })
                    .collect(),
            ),
            max_age: Mutex::new(max_age),
        }
    }

    /// After a reload: `tenants` are the tenants now (a new one starts as a fresh one does, a
    /// removed one is forgotten) and `max_age` the new limit.
    pub fn reconfigure<'a>(&self, tenants: impl IntoIterator<Item = &'a str>, max_age: Duration) {
        let ids: std::collections::BTreeSet<&str> = tenants.into_iter().collect();
        self.with(|m| {
            m.retain(|id, _| ids.contains(id.as_str()));
            for id in &ids {
                m.entry((*id).to_owned()).or_insert_with(|| TenantHealth {
                    connected: true,
                    ..TenantHealth::default()
                });
            }
        });
        *self.max_age.lock().unwrap_or_else(|p| p.into_inner()) = max_age;
    }

    fn with<T>(&self, f: impl FnOnce(&mut BTreeMap<String, TenantHealth>) -> T) -> T {
        f(&mut self.tenants.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// A scheduled pass finished at `at`; `missing` names the parts Lever or Willo refused for
    /// lack of permission (empty when none was).
    pub fn pass_completed(&self, tenant: &str, at: i64, missing: Vec<String>) {
        self.with(|m| {
            let h = m.entry(tenant.to_owned()).or_default();
            h.last_completed_pass = Some(at);
            h.connected = true;
            h.disconnected_reason = None;
            h.missing = missing;
        });
    }

    /// Whether this instance holds the tenant's lease. A tenant it takes (back) is unready
    /// until its first pass here finishes.
    pub fn owned(&self, tenant: &str, owned: bool) {
        self.with(|m| {
            let h = m.entry(tenant.to_owned()).or_default();
            if h.elsewhere && owned {
                h.last_completed_pass = None;
                h.connected = true;
            }
            h.elsewhere = !owned;
        });
    }

    /// A pass could not run for lack of a permission it cannot do without.
    pub fn lacks(&self, tenant: &str, missing: Vec<String>) {
        self.with(|m| m.entry(tenant.to_owned()).or_default().missing = missing);
    }

    /// What the tenant's last scheduled pass could not read for lack of permission.
    pub fn missing(&self, tenant: &str) -> Vec<String> {
        self.with(|m| m.get(tenant).map(|h| h.missing.clone()).unwrap_or_default())
    }

    pub fn disconnected(&self, tenant: &str, reason: &str) {
        self.with(|m| {
            let h = m.entry(tenant.to_owned()).or_default();
            h.connected = false;
            h.disconnected_reason = Some(reason.to_owned());
        });
    }

    pub fn verdict(&self, now: i64) -> Verdict {
        let max_age = *self.max_age.lock().unwrap_or_else(|p| p.into_inner());
        let max_age_ms = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
        let reasons: Vec<String> = self.with(|m| {
            m.iter()
                .filter_map(|(id, h)| {
                    if h.elsewhere {
                        return None;
                    }
                    if !h.connected {
                        return Some(format!(
                            "tenant {id} is disconnected: {}",
                            h.disconnected_reason
                                .as_deref()
                                .unwrap_or("credentials rejected")
                        ));
                    }
                    if let Some(first) = h.missing.first() {
                        return Some(format!("tenant {id} lacks a permission: {first}"));
                    }
                    match h.last_completed_pass {
                        None => Some(format!("tenant {id} has not finished a pass yet")),
                        Some(at) if now - at > max_age_ms => Some(format!(
                            "tenant {id} last finished a pass {}s ago (limit {}s)",
                            (now - at) / 1000,
                            max_age_ms / 1000
                        )),
                        Some(_) => None,
                    }
                })
                .collect()
        });
        Verdict {
            ready: reasons.is_empty(),
            reasons,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_when_every_tenant_is_connected_and_fresh() {
        let r = Readiness::new(["a", "b"], Duration::from_secs(900));
        let v = r.verdict(0);
        assert!(!v.ready);
        assert_eq!(v.reasons.len(), 2);
        r.pass_completed("a", 1_000, Vec::new());
        r.pass_completed("b", 1_000, Vec::new());
        assert!(r.verdict(2_000).ready);
        assert!(!r.verdict(1_000 + 900_001).ready);
        r.disconnected("b", "401 from Lever");
        let v = r.verdict(2_000);
        assert!(!v.ready);
        assert!(v.reasons[0].contains("401 from Lever"), "{v:?}");
    }

    #[test]
    fn issue14_an_instance_that_owns_nothing_is_ready_and_a_taken_tenant_needs_a_pass() {
        let r = Readiness::new(["a", "b"], Duration::from_secs(900));
        r.owned("a", false);
        r.owned("b", false);
        assert!(r.verdict(0).ready, "{:?}", r.verdict(0));
        r.owned("a", true);
        let v = r.verdict(0);
        assert!(!v.ready && v.reasons[0].contains("tenant a"), "{v:?}");
        r.pass_completed("a", 1_000, Vec::new());
        assert!(r.verdict(2_000).ready);
    }

    #[test]
    fn a_missing_permission_makes_the_tenant_unready_and_says_which() {
        let r = Readiness::new(["a"], Duration::from_secs(900));
        r.pass_completed(
            "a",
            1_000,
            vec!["posting tags not read: Lever GET /postings: permission denied".into()],
        );
        let v = r.verdict(2_000);
        assert!(!v.ready);
        assert!(v.reasons[0].contains("GET /postings"), "{v:?}");
        r.pass_completed("a", 1_500, Vec::new());
        assert!(r.verdict(2_000).ready);
    }
}
