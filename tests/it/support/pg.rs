//! A fresh PostgreSQL database per test, on the server `WLS_TEST_POSTGRES` names (`.ci/run`
//! starts a throwaway one with `.ci/postgres`). Without it the tests that need PostgreSQL
//! fail, saying so: they never pass without having run.

use std::sync::atomic::{AtomicUsize, Ordering};

use willo_lever_sync::store::{OpenMode, PgSettings, Store};

/// The server's connection string; panics with what to do when it is not set.
pub fn server() -> String {
    match std::env::var("WLS_TEST_POSTGRES") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "this test needs PostgreSQL: set WLS_TEST_POSTGRES to a server's connection string \
             (e.g. \"host=/tmp/pg user=postgres dbname=postgres\"), or run .ci/run, which \
             starts a throwaway one with .ci/postgres"
        ),
    }
}

/// A database created for one test and dropped when this is.
pub struct PgDb {
    pub url: String,
    admin: String,
    name: String,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Runs `f` on a thread of its own: the blocking driver may not run on a runtime's thread.
fn apart<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().expect("postgres admin thread"))
}

impl PgDb {
    pub fn new() -> PgDb {
        let admin = server();
        let name = format!(
            "wls_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        apart(|| {
            let mut c = postgres::Client::connect(&admin, postgres::NoTls)
                .unwrap_or_else(|e| panic!("connect to WLS_TEST_POSTGRES ({admin}): {e}"));
            // One statement per call: CREATE DATABASE may not run inside a transaction, and
            // several statements in one call are one.
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
                .expect("drop a leftover test database");
            c.batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create the test database");
        });
        let url = with_dbname(&admin, &name);
        PgDb { url, admin, name }
    }

    pub fn settings(&self) -> PgSettings {
        PgSettings {
            url: self.url.clone(),
        }
    }

    pub fn store(&self, mode: OpenMode) -> Store {
        Store::open_postgres(&self.settings(), mode).expect("open the PostgreSQL store")
    }

    /// A connection of the test's own, to look at or change the database behind the store.
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("connect to the test database")
    }

    /// Runs `sql` on the test database (off any runtime).
    pub fn execute(&self, sql: &str) {
        apart(|| self.client().batch_execute(sql).expect("test SQL"));
    }

    /// The first column of the first row of `sql`, as text.
    pub fn scalar(&self, sql: &str) -> String {
        apart(|| {
            let row = self.client().query_one(sql, &[]).expect("test query");
            row.get::<_, Option<String>>(0).unwrap_or_default()
        })
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        apart(move || {
            if let Ok(mut c) = postgres::Client::connect(&admin, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        });
    }
}

/// `url` with its database replaced by `name`, in either form of connection string.
pub fn with_dbname(url: &str, name: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let mut u = url::Url::parse(url).expect("WLS_TEST_POSTGRES is a URL");
        u.set_path(&format!("/{name}"));
        return u.to_string();
    }
    let kept: Vec<&str> = url
        .split_whitespace()
        .filter(|kv| !kv.starts_with("dbname="))
        .collect();
    format!("{} dbname={name}", kept.join(" "))
}
