//! The alert rules and the dashboard, checked by promtool.

use std::time::Duration;

use super::tools::{printed, promtool, repo, run};

const LIMIT: Duration = Duration::from_secs(120);

#[tokio::test]
async fn the_alert_rules_pass_promtool_check() {
    let out = run(
        &promtool(),
        &["check", "rules", "monitoring/alerts.yml"],
        None,
        LIMIT,
    )
    .await;
    assert!(out.status.success(), "{}", printed(&out));
}

#[tokio::test]
async fn the_alert_rules_pass_their_unit_tests() {
    let mut tests: Vec<String> = std::fs::read_dir(repo().join("monitoring/tests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .map(|p| p.strip_prefix(repo()).unwrap().display().to_string())
        .collect();
    tests.sort();
    assert!(!tests.is_empty(), "no rule tests under monitoring/tests");
    let mut args = vec!["test", "rules"];
    args.extend(tests.iter().map(String::as_str));
    let out = run(&promtool(), &args, None, LIMIT).await;
    assert!(out.status.success(), "{}", printed(&out));
}

#[test]
fn every_alert_rule_has_a_unit_test_that_fires_it() {
    let rules = std::fs::read_to_string(repo().join("monitoring/alerts.yml")).unwrap();
    let tests = std::fs::read_to_string(repo().join("monitoring/tests/alerts_test.yml")).unwrap();
    let alerts: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
        .collect();
    assert!(alerts.len() >= 9, "{alerts:?}");
    for alert in alerts {
        // A test that expects it to fire names it and lists an alert with labels.
        let fired = tests.split("- eval_time:").any(|case| {
            case.contains(&format!("alertname: {alert}\n")) && case.contains("exp_labels:")
        });
        assert!(fired, "no unit test makes {alert} fire");
    }
}

/// Every PromQL expression of the dashboard (panels and variables).
pub fn dashboard_queries() -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("monitoring/grafana-dashboard.json")).unwrap();
    let dash: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let mut exprs = Vec::new();
    for panel in dash["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            exprs.push(target["expr"].as_str().unwrap().to_owned());
        }
    }
    for var in dash["templating"]["list"].as_array().unwrap() {
        if let Some(q) = var["query"]["query"].as_str() {
            // label_values(EXPR, label) is Grafana's; the selector inside is PromQL.
            let inner = q
                .strip_prefix("label_values(")
                .and_then(|r| r.rsplit_once(','))
                .map(|(sel, _)| sel.to_owned())
                .unwrap_or_else(|| q.to_owned());
            exprs.push(inner);
        }
    }
    exprs
}

/// Grafana's variables replaced with what they stand for at query time.
fn as_promql(expr: &str) -> String {
    expr.replace("$__rate_interval", "5m")
        .replace("$job", ".*")
        .replace("$tenant", ".*")
}

#[test]
fn the_dashboard_is_well_formed() {
    let text = std::fs::read_to_string(repo().join("monitoring/grafana-dashboard.json")).unwrap();
    let dash: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(dash["uid"], "willo-lever-sync");
    let vars: Vec<&str> = dash["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    let mut ids = std::collections::HashSet::new();
    for panel in dash["panels"].as_array().unwrap() {
        let title = panel["title"].as_str().unwrap();
        assert!(
            ids.insert(panel["id"].as_u64().unwrap()),
            "duplicate id at {title}"
        );
        if panel["type"] == "row" {
            continue;
        }
        assert_eq!(panel["datasource"]["uid"], "${datasource}", "{title}");
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title} has no query");
        for t in targets {
            let expr = t["expr"].as_str().unwrap();
            for word in expr.split('$').skip(1) {
                let name: String = word
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    name == "__rate_interval" || vars.contains(&name.as_str()),
                    "{title}: unknown variable ${name}"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_dashboard_queries_are_valid_promql() {
    // promtool checks the PromQL of recording rules: one rule per query.
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, expr) in dashboard_queries().iter().enumerate() {
        let quoted = serde_json::to_string(&as_promql(expr)).unwrap();
        rules.push_str(&format!(
            "      - record: dashboard:query_{i}\n        expr: {quoted}\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dashboard_rules.yml");
    std::fs::write(&file, &rules).unwrap();
    let out = run(
        &promtool(),
        &["check", "rules", file.to_str().unwrap()],
        None,
        LIMIT,
    )
    .await;
    assert!(out.status.success(), "{}\n{rules}", printed(&out));
}
