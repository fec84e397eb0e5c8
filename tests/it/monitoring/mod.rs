//! The monitoring kit and the status page: alert rules and their unit tests (promtool), the
//! Grafana dashboard's queries, every metric name they use against a real scrape of the
//! daemon, content negotiation on `/metrics`, `--once --metrics-file`, and the status page in
//! headless Chromium. `cargo test --test it monitoring::` runs them.
//!
//! promtool (Debian's `prometheus` package) and Chromium (Debian's `chromium`) are required:
//! `.ci/run` installs them; a test fails, never skips, when one is missing.

mod metrics_file;
mod rules;
mod scene;
mod scrape;
mod status_page;
mod tools;
