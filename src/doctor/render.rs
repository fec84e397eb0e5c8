//! The doctor's report as text for a person, or as one JSON document (`--json`, with
//! `schema_version`).

use std::fmt::Write;

use super::{Report, Verdict};

/// One line per finding (and one for its fix when it has one), then a summary line.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let mut counts = [0usize; 3];
    for tenant in &report.tenants {
        let _ = writeln!(out, "tenant {}", tenant.id);
        for f in &tenant.findings {
            counts[f.verdict as usize] += 1;
            let _ = writeln!(out, "  {:<8} {}: {}", f.verdict.as_str(), f.check, f.found);
            if let (Some(fix), false) = (&f.fix, f.verdict == Verdict::Ok) {
                let _ = writeln!(out, "  {:<8} fix: {fix}", "");
            }
        }
    }
    let _ = writeln!(
        out,
        "{} ok, {} problem{}, {} unknown; exit status {}",
        counts[Verdict::Ok as usize],
        counts[Verdict::Problem as usize],
        if counts[Verdict::Problem as usize] == 1 {
            ""
        } else {
            "s"
        },
        counts[Verdict::Unknown as usize],
        report.exit_status
    );
    out
}

/// The report as pretty JSON.
pub fn json(report: &Report) -> String {
    // Plain strings, numbers and enums: serialising cannot fail.
    serde_json::to_string_pretty(report).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::{Finding, SCHEMA_VERSION, TenantReport};
    use super::*;

    fn report() -> Report {
        let mut r = Report {
            schema_version: SCHEMA_VERSION,
            exit_status: 0,
            tenants: vec![TenantReport {
                id: "acme".into(),
                findings: vec![
                    Finding::ok("lever.credentials", "accepted"),
                    Finding::problem("lever.permission.postings", "403", "grant it"),
                    Finding::unknown("willo.participant_states", "none yet", "later"),
                ],
            }],
        };
        r.exit_status = r.exit().code();
        r
    }

    #[test]
    fn text_shows_each_verdict_its_fix_and_a_summary() {
        let t = text(&report());
        assert_eq!(
            t,
            "tenant acme\n\
             \x20 ok       lever.credentials: accepted\n\
             \x20 problem  lever.permission.postings: 403\n\
             \x20          fix: grant it\n\
             \x20 unknown  willo.participant_states: none yet\n\
             \x20          fix: later\n\
             1 ok, 1 problem, 1 unknown; exit status 1\n"
        );
    }

    #[test]
    fn json_carries_the_schema_version_and_each_finding() {
        let v: serde_json::Value = serde_json::from_str(&json(&report())).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["exit_status"], 1);
        let f = &v["tenants"][0]["findings"][1];
        assert_eq!(f["check"], "lever.permission.postings");
        assert_eq!(f["verdict"], "problem");
        assert_eq!(f["fix"], "grant it");
        assert_eq!(
            v["tenants"][0]["findings"][0]["fix"],
            serde_json::Value::Null
        );
    }
}
