//! Simulator costs: start time, seeding 100,000 opportunities, the server-side time of
//! list pages over 100,000 opportunities (filtered by stage, tag, updated_at window), and of
//! a Willo participant page in an interview of 100,000. Figures are recorded in
//! docs/simulators.md. Run: `cargo bench --bench sim`.

use std::sync::LazyLock;

use divan::Bencher;
use willo_lever_sync::sim::lever::{LeverSim, LeverSimConfig, OppSeed, PostingSeed};
use willo_lever_sync::sim::willo::{WilloSim, WilloSimConfig};

fn main() {
    // Build the 100k worlds before timing anything, so no page sample includes the seeding.
    LazyLock::force(&WORLD);
    LazyLock::force(&willo_page_100k::BIG);
    divan::main();
}

const N: usize = 100_000;
const STAGES: usize = 10;
const TAGS: usize = 50;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

/// 100k seeds: stages 0-2 hold ~30% each, the trigger stage 3 and stage 9 ~5% each; tag
/// `tag-t` is on 1/TAGS of them, `Willo:Invited` on 5%; a quarter are on postings; 2% archived.
fn seeds<'a>(stages: &'a [String], postings: &'a [String]) -> impl Iterator<Item = OppSeed> + 'a {
    (0..N).map(move |i| {
        // Stage 0 is a funnel entry with most candidates; the trigger stage (3) has ~5%.
        let stage = match i % 20 {
            0 => 3,
            1 => 9,
            n => n % 3,
        };
        let mut s = OppSeed::new(&format!("Candidate {i}"), &format!("c{i}@example.com"))
            .stage(&stages[stage])
            .tag(&format!("tag-{}", i % TAGS));
        if i % 20 == 7 {
            s = s.tag("Willo:Invited");
        }
        if i % 4 == 0 {
            s = s.posting(&postings[i % postings.len()]);
        }
        if i % 50 == 0 {
            s = s.archived("rejected");
        }
        s
    })
}

struct World {
    _rt: tokio::runtime::Runtime,
    lever: LeverSim,
    stages: Vec<String>,
    window_start: i64,
    created_1pct: i64,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let rt = runtime();
    let lever = rt
        .block_on(LeverSim::start(LeverSimConfig::for_tests()))
        .expect("start");
    let stages: Vec<String> = (0..STAGES)
        .map(|i| lever.add_stage(&format!("Stage {i}")))
        .collect();
    let postings: Vec<String> = (0..20)
        .map(|i| {
            lever
                .add_posting(PostingSeed::new(&format!("Job {i}")))
                .expect("posting")
        })
        .collect();
    let ids = lever
        .add_opportunities(seeds(&stages, &postings))
        .expect("seed");
    let created_1pct = lever.opportunity(&ids[N / 100]).expect("seeded").created_at;
    // Recent activity: 1% of opportunities touched after seeding (the incremental window).
    let window_start = lever.now() + 1_000;
    lever.advance_clock(1_000);
    for id in ids.iter().step_by(100) {
        lever.touch(id).expect("touch");
    }
    World {
        _rt: rt,
        lever,
        stages,
        window_start,
        created_1pct,
    }
});

fn page(query: &str) -> usize {
    WORLD
        .lever
        .render_opportunities_page(query)
        .expect("page")
        .len()
}

#[divan::bench(sample_count = 50)]
fn start_lever(bencher: Bencher) {
    let rt = runtime();
    bencher.bench_local(|| {
        rt.block_on(LeverSim::start(LeverSimConfig::default()))
            .expect("start")
    });
}

#[divan::bench(sample_count = 50)]
fn start_willo(bencher: Bencher) {
    let rt = runtime();
    bencher.bench_local(|| {
        rt.block_on(WilloSim::start(WilloSimConfig::default()))
            .expect("start")
    });
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn seed_100k_opportunities(bencher: Bencher) {
    let rt = runtime();
    bencher
        .with_inputs(|| {
            let lever = rt
                .block_on(LeverSim::start(LeverSimConfig::for_tests()))
                .expect("start");
            let stages: Vec<String> = (0..STAGES)
                .map(|i| lever.add_stage(&format!("Stage {i}")))
                .collect();
            let postings: Vec<String> = (0..20)
                .map(|i| {
                    lever
                        .add_posting(PostingSeed::new(&format!("Job {i}")))
                        .expect("posting")
                })
                .collect();
            (lever, stages, postings)
        })
        .bench_local_values(|(lever, stages, postings)| {
            lever
                .add_opportunities(seeds(&stages, &postings))
                .expect("seed");
            lever
        });
}

mod page_100k {
    use super::{WORLD, page};

    #[divan::bench]
    fn unfiltered() -> usize {
        page("limit=100")
    }

    #[divan::bench]
    fn by_stage_5pct() -> usize {
        page(&format!("stage_id={}&limit=100", WORLD.stages[3]))
    }

    #[divan::bench]
    fn by_stage_5pct_expand_applications() -> usize {
        page(&format!(
            "stage_id={}&limit=100&expand=applications",
            WORLD.stages[3]
        ))
    }

    #[divan::bench]
    fn by_two_stages_union() -> usize {
        page(&format!(
            "stage_id={}&stage_id={}&limit=100",
            WORLD.stages[3], WORLD.stages[9]
        ))
    }

    #[divan::bench]
    fn by_tag_2pct() -> usize {
        page("tag=tag-7&limit=100")
    }

    #[divan::bench]
    fn by_updated_at_window_1pct() -> usize {
        page(&format!(
            "updated_at_start={}&limit=100",
            WORLD.window_start
        ))
    }

    #[divan::bench]
    fn by_stage_and_window_incremental_pass() -> usize {
        page(&format!(
            "stage_id={}&updated_at_start={}&archived=false&limit=100",
            WORLD.stages[3], WORLD.window_start
        ))
    }

    #[divan::bench]
    fn by_tag_active_non_confidential() -> usize {
        page("tag=Willo%3AInvited&archived=false&confidentiality=non-confidential&limit=100")
    }

    #[divan::bench]
    fn archived_true_2pct() -> usize {
        page("archived=true&limit=100")
    }

    #[divan::bench]
    fn scan_created_at_first_1pct() -> usize {
        // No index serves created_at: ids are walked in order until 100 rows match. The worst
        // case the simulator has (the daemon never filters on created_at).
        page(&format!("created_at_end={}&limit=100", WORLD.created_1pct))
    }
}

/// One full HTTP round trip (reqwest over loopback) for a filtered page, for context.
#[divan::bench(sample_count = 100)]
fn http_round_trip_by_stage(bencher: Bencher) {
    let world = &*WORLD;
    let rt = runtime();
    let client = reqwest::Client::new();
    world.lever.add_api_key("bench");
    let url = format!(
        "{}/opportunities?stage_id={}&limit=100",
        world.lever.base_url(),
        world.stages[3]
    );
    bencher.bench_local(|| {
        rt.block_on(async {
            client
                .get(&url)
                .basic_auth("bench", Some(""))
                .send()
                .await
                .expect("send")
                .bytes()
                .await
                .expect("body")
                .len()
        })
    });
}

/// Willo: one interview with 100,000 participants; the server-side cost of one page of 30
/// (parse, index slice, JSON), measured through `WilloSim::render_participants_page`.
mod willo_page_100k {
    use std::sync::LazyLock;

    use willo_lever_sync::sim::willo::{ParticipantSeed, WilloSim, WilloSimConfig};

    pub(super) struct Big {
        _rt: tokio::runtime::Runtime,
        willo: WilloSim,
        interview: String,
    }

    pub(super) static BIG: LazyLock<Big> = LazyLock::new(|| {
        let rt = super::runtime();
        let willo = rt
            .block_on(WilloSim::start(WilloSimConfig::for_tests()))
            .expect("start");
        let interview = willo.add_interview("Big");
        willo
            .add_participants((0..super::N).map(|i| {
                ParticipantSeed::new(&interview, &format!("P {i}"), &format!("p{i}@example.com"))
            }))
            .expect("seed");
        Big {
            _rt: rt,
            willo,
            interview,
        }
    });

    fn page(extra: &str) -> usize {
        let b = &*BIG;
        b.willo
            .render_participants_page(&format!("interview={}&page_size=30{extra}", b.interview))
            .expect("page")
            .len()
    }

    #[divan::bench]
    fn first_page_30() -> usize {
        page("")
    }

    /// Page 1,667 of 3,334: the middle of the interview.
    #[divan::bench]
    fn middle_page_30() -> usize {
        page("&page=1667")
    }

    /// The last page (10 rows).
    #[divan::bench]
    fn last_page() -> usize {
        page("&page=last")
    }
}
