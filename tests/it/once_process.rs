//! `--once` and `--dry-run` as processes, against the simulators: exit statuses (rule: exit statuses),
//! zero writes on a converged world, and a crash in the middle of an invite.

use crate::support;

use std::process::Stdio;
use std::time::Duration;

use support::{World, bin, run};
use willo_lever_sync::domain::PassKind;
use willo_lever_sync::sim::hold::HoldRule;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_once_right_after_the_first_makes_zero_writes() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Writer");
    for i in 0..5 {
        w.candidate(&format!("C{i}"), &format!("c{i}@example.com"), &posting);
    }
    let first = run(&w, &["--once"]).await;
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert!(first.stdout.contains("5 sent"), "{}", first.stdout);
    assert!(first.stdout.contains("API calls"), "{}", first.stdout);
    assert_eq!(w.willo.participants(&interview).len(), 5);

    let marks = w.marks();
    let second = run(&w, &["--once", "--json"]).await;
    assert_eq!(second.code, 0, "{}{}", second.stdout, second.stderr);
    assert_eq!(w.writes_since(marks), Vec::<String>::new());
    let v: serde_json::Value = serde_json::from_str(&second.stdout).unwrap();
    assert_eq!(v["tenants"][0]["applied"]["invites_sent"], 0);
    assert_eq!(v["tenants"][0]["result"], "converged");
    assert_eq!(v["exit_status"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_prints_the_plan_and_writes_nothing_anywhere() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Writer");
    let opp = w.candidate("Ann", "ann@example.com", &posting);
    let marks = w.marks();
    let out = run(&w, &["--once", "--dry-run"]).await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("invite"), "{}", out.stdout);
    assert!(out.stdout.contains("ann@example.com"), "{}", out.stdout);
    assert!(out.stdout.contains(&opp), "{}", out.stdout);
    assert_eq!(w.writes_since(marks), Vec::<String>::new());
    assert!(w.willo.participants(&interview).is_empty());
    assert!(!w.state_dir().exists(), "the state directory was created");

    // After a real pass, a dry run on the existing state file leaves it untouched.
    assert_eq!(run(&w, &["--once"]).await.code, 0);
    let db = w.state_dir().join(willo_lever_sync::store::DB_FILE);
    let before = std::fs::read(&db).unwrap();
    let json = run(&w, &["--once", "--dry-run", "--json"]).await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["tenants"][0]["plan"]["actions"], serde_json::json!([]));
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_process_mid_invite_then_running_again_leaves_one_participant() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Pilot");
    let opp = w.candidate("Amelia", "amelia@example.com", &posting);
    // Willo creates the participant, then the response is withheld.
    let hold = w
        .willo
        .hold(HoldRule::new("POST", "/api/integrations/v2/participants/"));
    let mut child = bin()
        .arg("--config")
        .arg(w.config_file())
        .arg("--once")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(30), hold.held())
        .await
        .expect("the invite POST never arrived");
    child.kill().await.unwrap();
    hold.release();
    assert_eq!(
        w.willo.participants(&interview).len(),
        1,
        "the POST took effect"
    );
    let row = w
        .store()
        .read(|r| r.invite("acme", &opp, &interview))
        .unwrap()
        .unwrap();
    assert_eq!(
        row.state,
        willo_lever_sync::domain::invite::InviteState::InFlight
    );
    drop(row);

    let again = run(&w, &["--once"]).await;
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains("1 found in Willo"),
        "{}",
        again.stdout
    );
    assert_eq!(w.willo.participants(&interview).len(), 1);
    assert_eq!(w.willo.invites_sent().len(), 1);
    let row = w
        .store()
        .read(|r| r.invite("acme", &opp, &interview))
        .unwrap()
        .unwrap();
    assert_eq!(
        row.state,
        willo_lever_sync::domain::invite::InviteState::Done
    );
    assert!(w.lever.tags_of(&opp).contains(&"Willo:Invited".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_own_tag_writes_do_not_cause_writes_on_the_next_incremental_pass() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Baker");
    let opp = w.candidate("Paul", "paul@example.com", &posting);
    w.full().await;
    assert!(w.lever.opportunity(&opp).unwrap().updated_at.is_some());
    let marks = w.marks();
    let inc = w.pass(PassKind::Incremental).await;
    assert!(
        inc.summary.opportunities_examined >= 1,
        "our write bumped updatedAt, so it is re-read"
    );
    assert_eq!(
        w.writes_since(marks),
        Vec::<String>::new(),
        "{}",
        inc.summary
    );
    // A change in Willo is picked up by an incremental pass once the last check is older than
    // half a schedule interval (rule: status-check budget): ten minutes on.
    w.store_writer()
        .write(|tx| tx.backdate_checks("acme", 10 * 60_000))
        .unwrap();
    let key = w.willo.participants(&interview)[0].key.clone();
    w.willo.set_participant_state(&key, "completed").unwrap();
    let inc = w.pass(PassKind::Incremental).await;
    assert_eq!(inc.summary.applied.tags_added, 1, "{}", inc.summary);
    assert!(
        w.lever
            .tags_of(&opp)
            .contains(&"Willo:To Review".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_pass_sees_candidates_moved_into_the_trigger_stage_since_the_cursor() {
    let w = World::new().await;
    let (interview, posting) = w.interview_with_posting("Driver");
    let opp = w
        .lever
        .add_opportunity(
            willo_lever_sync::sim::lever::OppSeed::new("Ayrton", "ayrton@example.com")
                .posting(&posting)
                .stage(&w.other),
        )
        .unwrap();
    w.full().await;
    assert!(w.willo.participants(&interview).is_empty());
    w.lever.move_stage(&opp, &w.trigger).unwrap();
    let inc = w.pass(PassKind::Incremental).await;
    assert_eq!(inc.summary.applied.invites_sent, 1, "{}", inc.summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_that_fails_part_way_does_not_move_the_cursor() {
    use willo_lever_sync::sim::faults::{Fault, FaultPlan, FaultRule};
    let mut w = World::new().await;
    w.retry_budget = 0.2;
    let (_interview, posting) = w.interview_with_posting("Pilot");
    w.candidate("Amy", "amy@example.com", &posting);
    w.full().await;
    let cursor = || {
        w.store()
            .read(|r| r.cursor("acme", "opportunities.updated_at"))
            .unwrap()
    };
    let before = cursor();
    assert!(before.is_some());
    let late = w.candidate("Bea", "bea@example.com", &posting);
    let late_at = w.lever.opportunity(&late).unwrap().updated_at.unwrap();
    assert!(late_at > before.unwrap());
    // Willo fails every request: the pass reads Lever, then stops.
    w.willo
        .faults()
        .set(FaultPlan::seeded(1).with(FaultRule::new(Fault::Status(503))));
    let out = w.try_pass(PassKind::Incremental).await;
    assert!(out.error.is_some(), "{}", out.summary);
    assert_eq!(out.exit_status().code(), 69);
    assert_eq!(cursor(), before);
    w.willo.faults().clear();
    w.pass(PassKind::Incremental).await;
    assert_eq!(cursor(), Some(late_at));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_credentials_exit_77_write_nothing_and_mark_the_tenant_disconnected() {
    let w = World::new().await;
    let (_interview, posting) = w.interview_with_posting("Welder");
    w.candidate("Rosie", "rosie@example.com", &posting);
    w.lever.revoke();
    let marks = w.marks();
    let out = run(&w, &["--once"]).await;
    assert_eq!(out.code, 77, "{}{}", out.stdout, out.stderr);
    assert_eq!(w.writes_since(marks), Vec::<String>::new());
    let status = run(&w, &["status", "--json"]).await;
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(v["tenants"][0]["connected"], false, "{}", status.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_trigger_stage_exits_78_listing_the_accounts_stages() {
    let w = World::new().await;
    let path = w.config_file();
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "trigger_stages = [\"Video Interview\"]",
        "trigger_stages = [\"Video Intervew\"]",
    );
    std::fs::write(&path, text).unwrap();
    let out = bin()
        .arg("--config")
        .arg(&path)
        .arg("--once")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(78), "{stdout}");
    assert!(stdout.contains("Video Intervew"), "{stdout}");
    assert!(
        stdout.contains("\"Phone Screen\", \"Video Interview\""),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_api_exits_69() {
    let w = World::new().await;
    let path = w.config_file();
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap().replace(
        &w.willo.base_url(),
        &format!("http://{closed}/api/integrations/v2"),
    );
    std::fs::write(&path, text).unwrap();
    let out = bin()
        .arg("--config")
        .arg(&path)
        .arg("--once")
        .output()
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(69),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_tags_show_passes_invites_attention_and_the_catalog() {
    let w = World::new().await;
    let (_interview, posting) = w.interview_with_posting("Pilot");
    w.candidate("Amy", "amy@example.com", &posting);
    let nomail = w.candidate("Nora", "nora@example.com", &posting);
    w.lever.set_emails(&nomail, &[]).unwrap();
    assert_eq!(run(&w, &["--once"]).await.code, 0);

    let status = run(&w, &["status"]).await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(
        status.stdout.contains("tenant acme: connected"),
        "{}",
        status.stdout
    );
    assert!(status.stdout.contains("full"), "{}", status.stdout);
    assert!(status.stdout.contains("converged"), "{}", status.stdout);
    assert!(status.stdout.contains("done 1"), "{}", status.stdout);
    assert!(
        status
            .stdout
            .contains(&format!("Nora ({nomail})  no_email")),
        "{}",
        status.stdout
    );
    let json = run(&w, &["status", "--json"]).await;
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["tenants"][0]["invites"]["done"], 1);
    assert_eq!(v["tenants"][0]["attention"][0]["reason"], "no_email");
    assert_eq!(
        v["tenants"][0]["passes"][0]["counts"]["applied"]["invites_sent"],
        1
    );

    let tags = run(&w, &["tags"]).await;
    assert_eq!(tags.code, 0, "{}", tags.stderr);
    for t in [
        "Willo:Pilot-Acme",
        "Willo:Invited",
        "Willo:To Review",
        "Willo:Accepted",
        "Willo:Rejected",
    ] {
        assert!(tags.stdout.contains(t), "{t} missing:\n{}", tags.stdout);
    }
}
