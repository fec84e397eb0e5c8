//! Issue 14: what a pass costs in the store on each backend. The same world and the same
//! passes, in-process against the simulators with the client pacing lifted, once over SQLite
//! and once over PostgreSQL: wall time, this process's CPU (the reconciler, the simulators
//! and the store's client side) and the PostgreSQL server's CPU. What differs between the two
//! runs is the store.
//!
//! Run: `WLS_BENCH_POSTGRES="host=/tmp/pg user=postgres dbname=postgres" cargo bench --bench
//! store` (`WLS_TEST_POSTGRES` is read too; `WLS_BENCH_N`, default 20,000 invites;
//! `WLS_BENCH_BACKENDS=postgres` skips SQLite). The bench
//! creates and drops a database of its own on that server.

mod support;

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use willo_lever_sync::domain::PassKind;

use support::child::cpu_of;
use support::world::{NEVER, Pacing, Spec, World};
use support::{env_usize, runtime};

fn main() {
    let n = env_usize("WLS_BENCH_N", 20_000);
    let rt = runtime();
    let only = std::env::var("WLS_BENCH_BACKENDS").unwrap_or_default();
    if !only.contains("postgres") || only.contains("sqlite") {
        rt.block_on(run(n, None));
    }
    match std::env::var("WLS_BENCH_POSTGRES").or_else(|_| std::env::var("WLS_TEST_POSTGRES")) {
        Ok(server) => rt.block_on(run(n, Some(server))),
        Err(_) => println!("no PostgreSQL: set WLS_BENCH_POSTGRES to a server to compare"),
    }
}

/// CPU of every `postgres` process on this machine (the server under test).
fn server_cpu() -> Duration {
    let mut total = Duration::ZERO;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "postgres" {
            total += cpu_of(&pid);
        }
    }
    total
}

/// A database of the bench's own on `server`; its connection string.
fn create_database(server: &str) -> (String, String) {
    let name = format!("wls_bench_{}", std::process::id());
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut c = postgres::Client::connect(server, postgres::NoTls).expect("connect");
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
                .expect("drop");
            c.batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create");
        })
        .join()
        .expect("create the bench database");
    });
    let url = if server.starts_with("postgres") {
        let mut u = url::Url::parse(server).expect("server URL");
        u.set_path(&format!("/{name}"));
        u.to_string()
    } else {
        let kept: Vec<&str> = server
            .split_whitespace()
            .filter(|kv| !kv.starts_with("dbname="))
            .collect();
        format!("{} dbname={name}", kept.join(" "))
    };
    (url, name)
}

fn drop_database(server: &str, name: &str) {
    std::thread::scope(|s| {
        s.spawn(|| {
            if let Ok(mut c) = postgres::Client::connect(server, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        });
    });
}

async fn run(n: usize, postgres: Option<String>) {
    let w = World::start(&Spec::new(20, n)).await;
    let mut text = w.config(NEVER, NEVER, Pacing::Lifted);
    let backend = if postgres.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let db = postgres.as_deref().map(create_database);
    if let Some((url, _)) = &db {
        text.push_str(&format!("\n[store]\nurl = {url:?}\n"));
    }
    let tenant = w.tenant(&text);
    for (label, kind) in [
        ("first full pass (invites everyone)", PassKind::Full),
        ("converged full pass", PassKind::Full),
        (
            "incremental pass, its window holding the first pass's writes",
            PassKind::Incremental,
        ),
        ("incremental pass, nothing changed", PassKind::Incremental),
    ] {
        let (cpu, server) = (cpu_of("self"), server_cpu());
        let t = Instant::now();
        let outcome = tenant.pass(kind, &CancellationToken::new()).await;
        let wall = t.elapsed();
        assert!(outcome.error.is_none(), "{:?}", outcome.error);
        println!(
            "n={n} {backend:<8} {label}: wall {:.2} s, bench process CPU {:.2} s, PostgreSQL server CPU {:.2} s",
            wall.as_secs_f64(),
            (cpu_of("self") - cpu).as_secs_f64(),
            server_cpu().saturating_sub(server).as_secs_f64(),
        );
        if kind == PassKind::Incremental {
            // An hour later: the first pass's writes leave the next pass's window.
            w.lever.advance_clock(3_600_000);
            w.willo.advance_clock(3_600_000);
        }
    }
    drop(tenant);
    if let (Some(server), Some((_, name))) = (postgres.as_deref(), db) {
        drop_database(server, &name);
    }
}
