//! `doctor` as a process against the simulators: its exit statuses, that it writes nothing to
//! either API or to the state file, that it prints no personal data, and OAuth without a
//! refresh. The verdict of each check under each variant is in `doctor_checks`.

use crate::support;

use std::process::Stdio;

use serde_json::Value;
use support::{LEVER_KEY, World};
use willo_lever_sync::sim::lever::OppSeed;
use willo_lever_sync::sim::willo::{InterviewSeed, ParticipantSeed};
use willo_lever_sync::store::{OpenMode, Store, TokenRow};

pub(super) struct Doctor {
    pub code: i32,
    pub json: Value,
    pub stdout: String,
}

fn bin() -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_willo-lever-sync"));
    c.env_remove("WLS_CONFIG")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env_remove("NOTIFY_SOCKET")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

async fn run_with(config: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = bin()
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `doctor --json` against the world's configuration.
pub(super) async fn doctor(w: &World) -> Doctor {
    doctor_at(&w.config_file()).await
}

pub(super) async fn doctor_at(config: &std::path::Path) -> Doctor {
    let (code, stdout, stderr) = run_with(config, &["doctor", "--json"]).await;
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
    Doctor { code, json, stdout }
}

impl Doctor {
    /// The finding named `check` (of the only tenant).
    pub fn finding(&self, check: &str) -> &Value {
        self.json["tenants"][0]["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["check"] == check))
            .unwrap_or_else(|| panic!("no finding {check} in {}", self.stdout))
    }

    pub fn verdict(&self, check: &str) -> &str {
        self.finding(check)["verdict"].as_str().unwrap_or_default()
    }

    pub fn found(&self, check: &str) -> &str {
        self.finding(check)["found"].as_str().unwrap_or_default()
    }

    pub fn fix(&self, check: &str) -> &str {
        self.finding(check)["fix"].as_str().unwrap_or_default()
    }

    /// Every finding that is not ok, as `check: verdict`.
    pub fn not_ok(&self) -> Vec<String> {
        self.json["tenants"][0]["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["verdict"] != "ok")
            .map(|f| format!("{}: {} ({})", f["check"], f["verdict"], f["found"]))
            .collect()
    }
}

/// A world where everything is as the daemon needs it: webhook tokens, a catalog placeholder,
/// two interviews with participants, candidates on tagged postings.
pub(super) async fn healthy() -> World {
    let mut w = World::new().await;
    w.lever_extra = "webhook_signature_token = \"lever-signature\"".into();
    w.willo_extra = "webhook_token = \"willo-url-token\"".into();
    let catalog = w
        .lever
        .add_opportunity(OppSeed::new("Tag catalog", ""))
        .unwrap();
    w.tenant_extra = format!("catalog_opportunity_id = \"{catalog}\"");
    for (title, state) in [("Writer", "Invited"), ("Editor", "Accepted")] {
        let (interview, posting) = w.interview_with_posting(title);
        for i in 0..2 {
            let email = format!("{title}{i}@example.com").to_lowercase();
            w.candidate(&format!("{title} Candidate {i}"), &email, &posting);
            w.willo
                .add_participant(
                    ParticipantSeed::new(&interview, &format!("{title} Candidate {i}"), &email)
                        .state(state),
                )
                .unwrap();
        }
    }
    w
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_account_is_all_ok_and_exits_0() {
    let w = healthy().await;
    let d = doctor(&w).await;
    assert_eq!(d.not_ok(), Vec::<String>::new());
    assert_eq!((d.code, &d.json["exit_status"]), (0, &Value::from(0)));
    assert_eq!(d.json["schema_version"], 1);
    assert!(d.found("willo.participant_states").contains("\"Accepted\""));
    assert!(d.found("willo.participant_filter").starts_with("honoured"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_writes_nothing_to_either_api_or_to_the_state_file() {
    let w = healthy().await;
    let invites = w.willo.invites_sent().len();
    let marks = w.marks();

    let d = doctor(&w).await;

    assert_eq!(d.code, 0, "{}", d.stdout);
    let writes: Vec<_> = w
        .lever
        .accounting()
        .writes_since(marks.0)
        .into_iter()
        .chain(w.willo.accounting().writes_since(marks.1))
        .collect();
    assert!(
        writes.iter().all(|r| r.status >= 400),
        "a write succeeded: {:?}",
        writes
            .iter()
            .map(|r| (&r.method, &r.route, r.status))
            .collect::<Vec<_>>()
    );
    assert!(
        writes.iter().all(|r| r.route.ends_with("/addTags")),
        "only the tag-write probe may POST"
    );
    assert_eq!(w.willo.invites_sent().len(), invites, "no invite sent");
    assert!(!w.state_dir().exists(), "no state file was created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_prints_no_name_email_or_phone_in_text_or_json() {
    let w = healthy().await;
    let owner = w.willo.add_user("owner.person@example.com", "Olive Owner");
    let interview = w
        .willo
        .add_interview_with(InterviewSeed::new("Analyst").owner(&owner))
        .unwrap();
    // Every name, email and phone the two accounts hold.
    let mut people: Vec<[String; 3]> = vec![[
        "Olive Owner".into(),
        "owner.person@example.com".into(),
        String::new(),
    ]];
    let seeded = [
        (
            "Grace Hopper",
            "grace.hopper@example.com",
            "+44 20 7946 0018",
        ),
        ("Alan Turing", "alan.turing@example.org", "+1 202 555 0143"),
    ];
    let posting = w
        .lever
        .add_posting(willo_lever_sync::sim::lever::PostingSeed::new(
            "Analyst job",
        ))
        .unwrap();
    for (name, email, phone) in seeded {
        w.candidate(name, email, &posting);
        w.willo
            .add_participant(
                ParticipantSeed::new(&interview, name, email)
                    .phone(phone)
                    .state("New"),
            )
            .unwrap();
        people.push([name.into(), email.into(), phone.into()]);
    }
    for title in ["Writer", "Editor"] {
        for i in 0..2 {
            people.push([
                format!("{title} Candidate {i}"),
                format!("{title}{i}@example.com").to_lowercase(),
                String::new(),
            ]);
        }
    }

    let (_, text, _) = run_with(&w.config_file(), &["doctor"]).await;
    let json = doctor(&w).await.stdout;

    for out in [&text, &json] {
        assert!(out.contains("willo.participant_shape"), "{out}");
        for person in &people {
            for value in person.iter().filter(|v| !v.is_empty()) {
                assert!(!out.contains(value.as_str()), "{value:?} printed:\n{out}");
            }
            // First names alone, too (the seeded names are distinctive).
            let first = person[0].split(' ').next().unwrap_or_default();
            if !["Writer", "Editor"].contains(&first) {
                assert!(!out.contains(first), "{first:?} printed:\n{out}");
            }
        }
        assert!(!out.contains('@'), "an email address was printed:\n{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_credentials_exit_77() {
    let w = healthy().await;
    w.lever.revoke();
    let d = doctor(&w).await;
    assert_eq!(d.code, 77, "{}", d.stdout);
    assert_eq!(d.verdict("lever.credentials"), "problem");
    assert_eq!(
        d.verdict("willo.credentials"),
        "ok",
        "Willo is checked all the same"
    );
    w.lever.restore();

    w.willo.revoke();
    let d = doctor(&w).await;
    assert_eq!(d.code, 77, "{}", d.stdout);
    assert_eq!(d.verdict("willo.credentials"), "problem");
    assert_eq!(d.verdict("lever.credentials"), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_api_exits_69() {
    let mut w = healthy().await;
    w.retry_budget = 0.2;
    let config = w.config_file();
    w.willo.clone().shutdown().await;
    let d = doctor_at(&config).await;
    assert_eq!(d.code, 69, "{}", d.stdout);
    assert_eq!(d.verdict("willo.credentials"), "problem");
    assert!(d.found("willo.credentials").contains("GET /interviews/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trigger_stage_the_account_lacks_exits_78_and_lists_the_stages() {
    let w = healthy().await;
    w.lever.rename_stage(&w.trigger, "Video Call").unwrap();
    let d = doctor(&w).await;
    assert_eq!(d.code, 78, "{}", d.stdout);
    assert_eq!(d.verdict("lever.trigger_stages"), "problem");
    assert!(d.fix("lever.trigger_stages").contains("\"Video Call\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_configuration_exits_78_and_something_to_fix_exits_1() {
    let w = healthy().await;
    let bad = w.dir.path().join("bad.toml");
    std::fs::write(&bad, "[daemon]\nlisten = 1\n").unwrap();
    let (code, _, stderr) = run_with(&bad, &["doctor"]).await;
    assert_eq!(code, 78, "{stderr}");

    w.willo
        .add_participant(
            ParticipantSeed::new(
                &w.willo.interviews()[0].key,
                "Someone",
                "someone@example.com",
            )
            .state("On Hold"),
        )
        .unwrap();
    let d = doctor(&w).await;
    assert_eq!(d.code, 1, "{}", d.stdout);
    assert_eq!(d.json["exit_status"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_online_prints_the_configuration_then_the_checks() {
    let w = healthy().await;
    w.lever.revoke();
    let (code, stdout, stderr) = run_with(&w.config_file(), &["check-config", "--online"]).await;
    assert_eq!(code, 77, "{stdout}{stderr}");
    assert!(
        stdout.contains("[daemon]") || stdout.contains("[[tenants]]"),
        "{stdout}"
    );
    assert!(stdout.contains("problem  lever.credentials"), "{stdout}");
    let (code, stdout, _) = run_with(&w.config_file(), &["check-config"]).await;
    assert_eq!(code, 0);
    assert!(!stdout.contains("lever.credentials"), "offline by default");
}

/// The configuration with Lever OAuth instead of the API key.
fn oauth_config(w: &World) -> std::path::PathBuf {
    w.lever.add_oauth_client(
        "client-1",
        "client-secret-1",
        "http://127.0.0.1:8788/callback",
    );
    let text = w
        .config_text()
        .replace(&format!("api_key = \"{LEVER_KEY}\""), "")
        + &format!(
            "\n[tenants.lever.oauth]\nclient_id = \"client-1\"\nclient_secret = \"client-secret-1\"\n\
         redirect_uri = \"http://127.0.0.1:8788/callback\"\nauthorize_url = \"{}\"\n\
         token_url = \"{}\"\naudience = \"{}\"\n",
            w.lever.oauth_authorize_url(),
            w.lever.oauth_token_url(),
            w.lever.audience()
        );
    // The webhook token line belongs to [tenants.lever], which the oauth table now follows.
    let path = w.dir.path().join("oauth.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn store_tokens(w: &World, access: &str, refresh: &str, expires_at: i64) -> TokenRow {
    let row = TokenRow {
        access_token: access.to_owned(),
        refresh_token: refresh.to_owned(),
        expires_at,
        scope: None,
        updated_at: 1,
    };
    let store = Store::open(&w.state_dir(), OpenMode::Writer).unwrap();
    store.write(|tx| tx.save_tokens("acme", &row)).unwrap();
    row
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_oauth_doctor_uses_the_stored_token_and_never_refreshes_it() {
    let w = healthy().await;
    let config = oauth_config(&w);

    let d = doctor_at(&config).await;
    assert_eq!(d.code, 77, "no tokens stored yet: {}", d.stdout);
    assert!(d.fix("lever.credentials").contains("connect acme"));

    let tokens = w.lever.issue_oauth_tokens("client-1", "offline_access");
    let far = willo_lever_sync::clock::now_ms() + 3_600_000;
    let refresh = tokens.refresh_token.clone().unwrap();
    let row = store_tokens(&w, &tokens.access_token, &refresh, far);
    let d = doctor_at(&config).await;
    assert_eq!(d.verdict("lever.credentials"), "ok", "{}", d.stdout);
    assert_eq!(d.code, 0, "{:?}", d.not_ok());

    store_tokens(&w, &tokens.access_token, &refresh, 1);
    let d = doctor_at(&config).await;
    assert_eq!(d.verdict("lever.credentials"), "unknown", "{}", d.stdout);
    assert!(d.found("lever.credentials").contains("expired"));
    assert_eq!(w.lever.count("POST", "/oauth/token"), 0, "never refreshed");
    let stored = Store::open(&w.state_dir(), OpenMode::Reader)
        .unwrap()
        .read(|r| r.tokens("acme"))
        .unwrap()
        .unwrap();
    assert_eq!(stored.refresh_token, row.refresh_token);
    assert_eq!(
        stored.expires_at, 1,
        "the state file is as the test left it"
    );
}
