//! `status` as a check an operator or a monitor runs: its exit status says whether a tenant
//! needs a look (1) or is disconnected (77); it shows times relative to now, whether a daemon
//! holds the state and when it runs next, and each needs-attention item with the candidate's
//! name, Lever link and fix. Every `--json` document carries a schema version.

use crate::support;

use support::daemon::{Daemon, SIGTERM, world_for_daemon};
use support::{LEVER_KEY, World, run};
use willo_lever_sync::sim::faults::{Fault, FaultPlan, FaultRule};

const ADD_TAGS: &str = "/v1/opportunities/{id}/addTags";

fn json(out: &support::Run) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_exits_0_when_converged_1_with_failing_work_and_77_when_disconnected() {
    let w = World::new().await;
    let (_i, posting) = w.interview_with_posting("Pilot");
    w.candidate("Amy", "amy@example.com", &posting);
    assert_eq!(run(&w, &["--once"]).await.code, 0);
    let ok = run(&w, &["status"]).await;
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    assert!(ok.stdout.contains("all tenants are well"), "{}", ok.stdout);
    assert!(
        ok.stdout.contains("(just now)") || ok.stdout.contains(" ago)"),
        "no relative time: {}",
        ok.stdout
    );
    assert_eq!(
        json(&run(&w, &["status", "--json"]).await)["tenants"][0]["verdict"],
        "ok"
    );

    // A tag write fails: the opportunity waits out its backoff, deferred.
    w.candidate("Bea", "bea@example.com", &posting);
    w.lever
        .faults()
        .set(FaultPlan::seeded(1).with(FaultRule::new(Fault::Status(500)).on("POST", ADD_TAGS)));
    assert_eq!(run(&w, &["--once"]).await.code, 1);
    w.lever.faults().clear();
    let failing = run(&w, &["status"]).await;
    assert_eq!(failing.code, 1, "{}", failing.stdout);
    assert!(
        failing.stdout.contains("needs a look: "),
        "{}",
        failing.stdout
    );
    assert!(failing.stdout.contains("Bea ("), "{}", failing.stdout);
    assert!(failing.stdout.contains("retry in "), "{}", failing.stdout);
    let v = json(&run(&w, &["status", "--json"]).await);
    assert_eq!(v["exit_status"], 1);
    assert_eq!(v["tenants"][0]["verdict"], "needs_a_look");
    assert_eq!(v["tenants"][0]["failing"][0]["deferred"], true, "{v}");

    // The key is revoked: the next pass disconnects the tenant.
    w.lever.remove_api_key(LEVER_KEY);
    assert_eq!(run(&w, &["--once"]).await.code, 77);
    let gone = run(&w, &["status"]).await;
    assert_eq!(gone.code, 77, "{}", gone.stdout);
    assert!(gone.stdout.contains("DISCONNECTED"), "{}", gone.stdout);
    assert_eq!(
        json(&run(&w, &["status", "--json"]).await)["tenants"][0]["verdict"],
        "disconnected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_says_whether_a_daemon_holds_the_state_and_when_it_runs_next() {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    let d = Daemon::start(&w, &[]).await;
    d.wait_ready().await;
    let pid = d.child.id().unwrap();
    let out = run(&w, &["status"]).await;
    assert!(
        out.stdout
            .contains(&format!("running: the daemon (pid {pid}) holds the state")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("next passes: incremental in "),
        "{}",
        out.stdout
    );
    let v = json(&run(&w, &["status", "--json"]).await);
    assert_eq!(v["writer"]["pid"], pid);
    assert_eq!(v["writer"]["kind"], "daemon");
    assert!(v["next_passes"]["incremental"].is_string(), "{v}");
    d.signal(SIGTERM);
    assert_eq!(d.exit_code().await, 0);
    let out = run(&w, &["status"]).await;
    assert!(out.stdout.contains("running: no daemon"), "{}", out.stdout);
    assert!(!out.stdout.contains("next passes"), "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attention_items_show_the_candidate_the_lever_link_and_the_fix() {
    let w = World::new().await;
    let (_i, posting) = w.interview_with_posting("Pilot");
    let nora = w.candidate("Nora Noemail", "nora@example.com", &posting);
    w.lever.set_emails(&nora, &[]).unwrap();
    assert_eq!(run(&w, &["--once"]).await.code, 0);
    let out = run(&w, &["status"]).await;
    // Needs-attention items wait for a person; the check stays green.
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout
            .contains(&format!("Nora Noemail ({nora})  no_email")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("{}/candidates/{nora}", w.lever.origin())),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("fix: add an email address"),
        "{}",
        out.stdout
    );
    let v = json(&run(&w, &["status", "--json"]).await);
    let item = &v["tenants"][0]["attention"][0];
    assert_eq!(item["name"], "Nora Noemail");
    assert!(item["link"].as_str().unwrap().ends_with(&nora), "{item}");
    assert!(item["fix"].as_str().unwrap().contains("email"), "{item}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_json_document_carries_a_schema_version() {
    let w = World::new().await;
    let (_i, posting) = w.interview_with_posting("Pilot");
    w.candidate("Amy", "amy@example.com", &posting);
    for args in [
        &["--once", "--dry-run", "--json"][..],
        &["--once", "--json"],
        &["status", "--json"],
        &["tags", "--json"],
        &["doctor", "--json"],
    ] {
        let out = run(&w, args).await;
        let v = json(&out);
        assert_eq!(v["schema_version"], 1, "{args:?}: {v}");
    }
}
