//! A daemon with something to show: an invited candidate, one whose tag write Lever refuses
//! (failing, then deferred), one without an email whose name is hostile HTML (needs attention),
//! a posting listing the key may not read (a missing permission), a throttled first listing
//! (a 429), and a catalog opportunity that does not exist (a warning).

use std::time::{Duration, Instant};

use crate::support::daemon::{Daemon, world_for_daemon};
use crate::support::{LEVER_KEY, World};
use willo_lever_sync::sim::faults::{Fault, FaultPlan, FaultRule};
use willo_lever_sync::sim::lever::{Endpoint, OppSeed};

/// A candidate name that is markup, as someone could type into Lever.
pub const HOSTILE_NAME: &str = "Amelia <script>alert(1)</script><b>Ortiz</b> & \"co\"";
/// Addresses of the scene's candidates: never shown by the status page.
pub const EMAILS: [&str; 3] = [
    "dee.invited@example.com",
    "bo.failing@example.com",
    "cy@example.com",
];

pub struct Scene {
    pub world: World,
    pub daemon: Daemon,
    pub invited: String,
    pub failing: String,
    pub no_email: String,
}

fn all_but(without: Endpoint) -> Vec<Endpoint> {
    Endpoint::ALL
        .into_iter()
        .filter(|e| *e != without)
        .collect()
}

/// Builds the scene with `daemon_extra` in the `[daemon]` table and waits for the daemon's
/// first full pass to be recorded.
pub async fn scene(daemon_extra: &str) -> Scene {
    let mut w = World::new().await;
    world_for_daemon(&mut w);
    w.daemon_extra = format!("{}\n{daemon_extra}", w.daemon_extra);
    w.tenant_extra = "catalog_opportunity_id = \"catalog-gone\"".into();
    let (_, posting) = w.interview_with_posting("Pilot");
    let invited = w.candidate("Dee Invited", EMAILS[0], &posting);
    let failing = w.candidate("Bo Failing", EMAILS[1], &posting);
    let no_email = w
        .lever
        .add_opportunity(
            OppSeed::new(HOSTILE_NAME, "cy@example.com")
                .posting(&posting)
                .stage(&w.trigger),
        )
        .unwrap();
    w.lever.set_emails(&no_email, &[]).unwrap();
    w.lever
        .restrict_api_key(LEVER_KEY, &all_but(Endpoint::Postings));
    w.lever.faults().set(
        FaultPlan::seeded(13)
            .with(
                FaultRule::new(Fault::Status(400))
                    .on("POST", "/v1/opportunities/{id}/addTags")
                    .path_contains(&failing),
            )
            .with(
                FaultRule::new(Fault::TooManyRequests { retry_after: None })
                    .on("GET", "/v1/opportunities")
                    .first(1),
            ),
    );
    let daemon = Daemon::start(&w, &[]).await;
    let scene = Scene {
        world: w,
        daemon,
        invited,
        failing,
        no_email,
    };
    scene.wait_for_a_full_pass().await;
    scene
}

impl Scene {
    /// `/status.json`, parsed.
    pub async fn status(&self) -> serde_json::Value {
        let (code, body) = self.daemon.get("/status.json").await;
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    async fn wait_for_a_full_pass(&self) {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.status().await;
            let finished = s["tenants"][0]["passes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["kind"] == "full" && p["state"] == "finished");
            if finished {
                return;
            }
            assert!(
                Instant::now() < until,
                "no full pass finished: {s}\n{}",
                self.daemon.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
