//! Request accounting: what reached a simulator, by method, route template and status.
//!
//! Tests read it to assert "this pass wrote nothing" or to compute the request rate a client
//! achieved from the server's side.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One request as the simulator saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// Order in which the simulator answered, from 0, never reused (`at` gives arrival).
    pub seq: u64,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The route template that matched, e.g. `/v1/opportunities/{id}/addTags`, or
    /// `<unmatched>` when no route did.
    pub route: String,
    /// The concrete path, e.g. `/v1/opportunities/0f.../addTags`.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The status the simulator answered (for a dropped connection: the status it had sent).
    pub status: u16,
    /// The credential presented (Lever API key or bearer token, Willo key), if any.
    pub credential: Option<String>,
    /// When the request arrived (monotonic).
    pub at: Instant,
    /// Server time: arrival until the response was ready (excludes time spent held).
    pub server_time: Duration,
    /// The injected fault that shaped the answer, if any (e.g. `status 503`, `drop`, `truncate`).
    pub fault: Option<String>,
    /// `true` for the service's API routes; `false` for auth endpoints (OAuth) and unknown paths.
    pub api: bool,
}

impl RequestRecord {
    /// A request to an API route with a method that can change the world.
    pub fn is_write(&self) -> bool {
        self.api && !matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }
}

/// The request log of one simulator.
#[derive(Debug, Default)]
pub struct Accounting {
    log: Mutex<Log>,
}

#[derive(Debug, Default)]
struct Log {
    next_seq: u64,
    records: Vec<RequestRecord>,
}

impl std::ops::Deref for Log {
    type Target = Vec<RequestRecord>;
    fn deref(&self) -> &Vec<RequestRecord> {
        &self.records
    }
}

impl Accounting {
    pub(crate) fn push(&self, mut record: RequestRecord) {
        let mut log = self.lock();
        record.seq = log.next_seq;
        log.next_seq += 1;
        log.records.push(record);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        // A poisoned log is still a log: a panicking test thread must not hide the evidence.
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every request so far (since the last [`Accounting::clear`]), in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.lock().records.clone()
    }

    /// Requests whose `seq` is at least `seq` (see [`Accounting::mark`]).
    pub fn requests_since(&self, seq: u64) -> Vec<RequestRecord> {
        self.lock()
            .iter()
            .filter(|r| r.seq >= seq)
            .cloned()
            .collect()
    }

    /// The `seq` the next request will get: pass it to `requests_since`/`writes_since` later.
    pub fn mark(&self) -> u64 {
        self.lock().next_seq
    }

    /// How many requests had this method and route template (any status).
    pub fn count(&self, method: &str, route: &str) -> usize {
        self.lock()
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.route == route)
            .count()
    }

    /// How many requests had this method, route template and status.
    pub fn count_status(&self, method: &str, route: &str, status: u16) -> usize {
        self.lock()
            .iter()
            .filter(|r| {
                r.method.eq_ignore_ascii_case(method) && r.route == route && r.status == status
            })
            .count()
    }

    /// Every write (see [`RequestRecord::is_write`]), whatever its status.
    pub fn writes(&self) -> Vec<RequestRecord> {
        self.lock()
            .iter()
            .filter(|r| r.is_write())
            .cloned()
            .collect()
    }

    /// Writes whose `seq` is at least `seq`.
    pub fn writes_since(&self, seq: u64) -> Vec<RequestRecord> {
        self.lock()
            .iter()
            .filter(|r| r.seq >= seq && r.is_write())
            .cloned()
            .collect()
    }

    /// Forgets every record. Sequence numbers keep counting, so older marks stay meaningful.
    pub fn clear(&self) {
        self.lock().records.clear();
    }
}
