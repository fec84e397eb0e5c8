//! The standard `process_*` metrics, read from `/proc/self` on every scrape: prometheus-client
//! has no process collector. Names and meanings follow the Prometheus client libraries, so
//! dashboards made for other exporters work. Where `/proc` cannot be read (not Linux, or a
//! sandbox hiding it) the metrics are left out rather than reported as zero.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

/// Encodes the process metrics of the running process when scraped.
#[derive(Debug)]
pub(super) struct ProcessCollector;

/// One reading of the process's figures.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ProcessStats {
    pub cpu_seconds: f64,
    pub start_time_seconds: f64,
    pub virtual_memory_bytes: f64,
    pub resident_memory_bytes: f64,
}

impl ProcessStats {
    /// Reads `/proc/self/stat` and `/proc/stat` (for the boot time its start is counted from).
    fn read() -> Option<ProcessStats> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let system = std::fs::read_to_string("/proc/stat").ok()?;
        let ticks = rustix::param::clock_ticks_per_second();
        let page = rustix::param::page_size();
        ProcessStats::parse(&stat, &system, ticks as f64, page as f64)
    }

    /// The figures in `/proc/self/stat` (`stat`), given `/proc/stat` (`system`), the clock
    /// ticks per second and the page size.
    pub(super) fn parse(stat: &str, system: &str, ticks: f64, page: f64) -> Option<ProcessStats> {
        // The command name (field 2) is in parentheses and may hold spaces or parentheses;
        // the fields after the last `)` start at field 3 (state).
        let rest = &stat[stat.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| -> Option<f64> { fields.get(n - 3)?.parse().ok() };
        let boot_time: f64 = system
            .lines()
            .find_map(|l| l.strip_prefix("btime "))?
            .trim()
            .parse()
            .ok()?;
        if ticks <= 0.0 {
            return None;
        }
        Some(ProcessStats {
            cpu_seconds: (field(14)? + field(15)?) / ticks,
            start_time_seconds: boot_time + field(22)? / ticks,
            virtual_memory_bytes: field(23)?,
            resident_memory_bytes: field(24)? * page,
        })
    }
}

/// Open file descriptors: the entries of `/proc/self/fd`.
fn open_fds() -> Option<f64> {
    let n = std::fs::read_dir("/proc/self/fd").ok()?.count();
    Some(n as f64)
}

/// The soft limit on open files, from `/proc/self/limits`; None when unlimited or unknown.
fn max_fds() -> Option<f64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_max_fds(&limits)
}

pub(super) fn parse_max_fds(limits: &str) -> Option<f64> {
    limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn gauge(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: f64,
) -> Result<(), std::fmt::Error> {
    let g = ConstGauge::new(value);
    g.encode(encoder.encode_descriptor(name, help, unit, g.metric_type())?)
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        if let Some(s) = ProcessStats::read() {
            let cpu = ConstCounter::new(s.cpu_seconds);
            cpu.encode(encoder.encode_descriptor(
                "process_cpu",
                "Total user and system CPU time spent.",
                Some(&Unit::Seconds),
                cpu.metric_type(),
            )?)?;
            gauge(
                &mut encoder,
                "process_start_time",
                "Start time of the process since the Unix epoch.",
                Some(&Unit::Seconds),
                s.start_time_seconds,
            )?;
            gauge(
                &mut encoder,
                "process_virtual_memory",
                "Virtual memory size.",
                Some(&Unit::Bytes),
                s.virtual_memory_bytes,
            )?;
            gauge(
                &mut encoder,
                "process_resident_memory",
                "Resident memory size.",
                Some(&Unit::Bytes),
                s.resident_memory_bytes,
            )?;
        }
        if let Some(n) = open_fds() {
            gauge(
                &mut encoder,
                "process_open_fds",
                "Open file descriptors.",
                None,
                n,
            )?;
        }
        if let Some(n) = max_fds() {
            gauge(
                &mut encoder,
                "process_max_fds",
                "The soft limit on open file descriptors.",
                None,
                n,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name_whatever_it_holds() {
        // Field 2 holds a space and a parenthesis; utime 250 and stime 150 ticks, start 1000
        // ticks after boot, 4096000 bytes virtual, 300 pages resident.
        let stat = "4242 (willo (lever) sync) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 9 0 1000 4096000 300 18446744073709551615";
        let system = "cpu  1 2 3\nbtime 1700000000\nprocesses 10\n";
        let s = ProcessStats::parse(stat, system, 100.0, 4096.0).unwrap();
        assert_eq!(s.cpu_seconds, 4.0);
        assert_eq!(s.start_time_seconds, 1_700_000_010.0);
        assert_eq!(s.virtual_memory_bytes, 4_096_000.0);
        assert_eq!(s.resident_memory_bytes, 300.0 * 4096.0);
        assert_eq!(ProcessStats::parse("garbage", system, 100.0, 4096.0), None);
        assert_eq!(
            ProcessStats::parse(stat, "no boot time", 100.0, 4096.0),
            None
        );
    }

    #[test]
    fn the_soft_open_file_limit_is_read_and_unlimited_is_none() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n";
        assert_eq!(parse_max_fds(limits), Some(1024.0));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_max_fds(unlimited), None);
    }

    #[test]
    fn this_process_is_described() {
        let s = ProcessStats::read().expect("/proc/self/stat is readable on Linux");
        assert!(s.resident_memory_bytes > 0.0);
        assert!(s.start_time_seconds > 1_500_000_000.0);
        assert!(open_fds().unwrap() >= 3.0);
    }
}
