//! What the issue-12 benchmarks share: a world of both simulators seeded in bulk, the
//! configuration that points a tenant at it, the daemon binary as a child process (its peak
//! and current memory, its CPU), SQLite write counting, signed Lever webhooks and polling.
//!
//! Every bench binary includes this module and uses a different part of it.
#![allow(dead_code)]

pub mod child;
pub mod wal;
pub mod world;

use std::time::{Duration, Instant};

/// Polls `check` every millisecond until it returns `Some` or `deadline` passes.
pub async fn poll<T>(deadline: Duration, check: impl FnMut() -> Option<T>) -> Option<T> {
    poll_every(deadline, Duration::from_millis(1), check).await
}

/// [`poll`] with another interval.
pub async fn poll_every<T>(
    deadline: Duration,
    every: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Option<T> {
    let until = Instant::now() + deadline;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() > until {
            return None;
        }
        tokio::time::sleep(every).await;
    }
}

/// Percentile (0–100) of a sample, nearest rank.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `name=value` from the environment, or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// A multi-thread runtime for the simulators (and the bench's own client).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Megabytes from kilobytes, for printing.
pub fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// The daemon's `/metrics` text.
pub async fn metrics(http: &reqwest::Client, addr: &str) -> String {
    match http.get(format!("http://{addr}/metrics")).send().await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Passes of `kind` (`full`, `incremental`) the daemon finished, whatever their result.
pub fn passes_finished(metrics: &str, tenant: &str, kind: &str) -> u64 {
    let prefix = format!("willo_lever_sync_passes_total{{tenant=\"{tenant}\",kind=\"{kind}\",");
    metrics
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Waits until the daemon has finished `n` passes of `kind` for `tenant`.
pub async fn wait_passes(
    http: &reqwest::Client,
    addr: &str,
    tenant: &str,
    kind: &str,
    n: u64,
    deadline: Duration,
) -> bool {
    let until = Instant::now() + deadline;
    loop {
        if passes_finished(&metrics(http, addr).await, tenant, kind) >= n {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Wall-clock milliseconds since the epoch (Lever's `triggeredAt`).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A Lever `candidateStageChange` delivery for `opportunity`, signed as Lever signs it.
pub fn lever_webhook(opportunity: &str, from: &str, to: &str, token: &str) -> Vec<u8> {
    let at = now_ms();
    serde_json::to_vec(&serde_json::json!({
        "triggeredAt": at,
        "event": "candidateStageChange",
        "data": {"opportunityId": opportunity, "candidateId": opportunity, "contactId": "contact",
                 "fromStageId": from, "toStageId": to},
        "token": token,
        "signature": willo_lever_sync::sim::lever::sign_webhook(world::SIGNATURE_TOKEN, token, at),
    }))
    .expect("json")
}

/// p50 / p99 / max of a sample in milliseconds, as text.
pub fn spread(ms: &mut [f64]) -> String {
    ms.sort_by(f64::total_cmp);
    format!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (n={})",
        percentile(ms, 50.0),
        percentile(ms, 99.0),
        ms.last().copied().unwrap_or(f64::NAN),
        ms.len()
    )
}

/// Waits until the daemon has finished `n` passes of `kind` summed over every tenant.
pub async fn wait_passes_all(
    http: &reqwest::Client,
    addr: &str,
    kind: &str,
    n: u64,
    deadline: Duration,
) -> bool {
    let until = Instant::now() + deadline;
    let needle = format!("kind=\"{kind}\"");
    loop {
        let text = metrics(http, addr).await;
        let done: f64 = text
            .lines()
            .filter(|l| l.starts_with("willo_lever_sync_passes_total{") && l.contains(&needle))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        if done as u64 >= n {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
