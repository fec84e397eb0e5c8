//! The daemon binary as a child process: started with a configuration, its stderr in a file,
//! its memory read from `/proc`, its CPU from `wait4` when it exits. Only the child is
//! measured, never the bench process (the simulators live there).
//!
//! Peak memory is the largest `VmHWM` read from `/proc/<pid>/status` every 2 ms while the
//! child lives, not `wait4`'s `ru_maxrss`: Linux folds the high-water mark of the address space
//! a process replaces at `exec` into `ru_maxrss`, and a child spawned by this process (vfork +
//! exec) replaces a view of the bench's own address space, simulators and all, so `ru_maxrss`
//! reports the bench's size whenever that is the larger.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The binary under test: `WLS_BENCH_BIN` (e.g. a build of an older commit), else this
/// package's release build.
pub fn binary() -> PathBuf {
    std::env::var_os("WLS_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_willo-lever-sync")))
}

/// The binary that seeds the store before a measurement (its first pass invites everyone):
/// `WLS_BENCH_SEED_BIN` when set (a faster build, when the binary under test's first pass is
/// itself too slow to seed 100,000), else the binary under test. The binary under test then
/// migrates the state file as it would after an upgrade.
pub fn seed_binary() -> PathBuf {
    std::env::var_os("WLS_BENCH_SEED_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(binary)
}

/// What `wait4` reports about a child that ended.
#[derive(Debug, Clone, Copy)]
pub struct Exit {
    pub code: i32,
    /// Peak resident set, kB (the largest `VmHWM` seen).
    pub max_rss_kb: u64,
    /// User + system CPU time.
    pub cpu: Duration,
    pub wall: Duration,
}

pub struct Child {
    pub pid: i32,
    started: Instant,
    /// The largest `VmHWM` seen so far, kB, kept by a watcher thread.
    peak: Arc<AtomicU64>,
    log: PathBuf,
    // Kept so the handle's pipes stay open; reaped by `wait4`, never by `std`.
    _child: std::process::Child,
}

impl Child {
    /// Starts the binary with `args`, stderr to `log`.
    pub fn spawn(args: &[&str], config: &Path, log: &Path) -> Child {
        Child::spawn_binary(&binary(), args, config, log)
    }

    pub fn spawn_binary(bin: &Path, args: &[&str], config: &Path, log: &Path) -> Child {
        let err = std::fs::File::create(log).expect("log file");
        let child = Command::new(bin)
            .arg("--config")
            .arg(config)
            .args(args)
            .env_remove("WLS_CONFIG")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("JOURNAL_STREAM")
            .env_remove("CREDENTIALS_DIRECTORY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("spawn the daemon binary");
        Child::adopt(child, log)
    }

    /// Takes over a child started some other way (e.g. under valgrind).
    pub fn adopt(child: std::process::Child, log: &Path) -> Child {
        let pid = child.id() as i32;
        let peak = Arc::new(AtomicU64::new(0));
        let seen = Arc::clone(&peak);
        std::thread::spawn(move || {
            // Until the process is gone (a zombie has no VmHWM, a reaped one no status file).
            loop {
                let (_, hwm) = memory_of(pid);
                if hwm == 0 {
                    break;
                }
                seen.fetch_max(hwm, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        Child {
            pid,
            started: Instant::now(),
            peak,
            log: log.to_path_buf(),
            _child: child,
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The address the daemon listens on, from its start-up line.
    pub async fn address(&self) -> String {
        super::poll(Duration::from_secs(120), || {
            self.log()
                .lines()
                .find(|l| l.contains("listening for webhooks"))
                .and_then(|l| l.split("listen=").nth(1))
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_owned)
        })
        .await
        .unwrap_or_else(|| panic!("the daemon never said where it listens:\n{}", self.log()))
    }

    /// `VmRSS` and `VmHWM` (kB) from `/proc/<pid>/status`.
    pub fn memory(&self) -> (u64, u64) {
        memory_of(self.pid)
    }

    /// Where the resident memory is: `RssAnon` and `RssFile` (kB) from `/proc/<pid>/status`,
    /// and the `n` largest mappings of `/proc/<pid>/smaps` by resident size (kB), anonymous
    /// ones named `[anon]`, those of one file summed.
    pub fn breakdown(&self, n: usize) -> (u64, u64, Vec<(String, u64)>) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        let field = |name: &str| status_field(&status, name);
        let smaps =
            std::fs::read_to_string(format!("/proc/{}/smaps", self.pid)).unwrap_or_default();
        let mut by_name: std::collections::BTreeMap<String, u64> = Default::default();
        let mut current = String::new();
        for line in smaps.lines() {
            let mut words = line.split_whitespace();
            let first = words.next().unwrap_or("");
            if first.contains('-') && !first.ends_with(':') {
                // A mapping's header: address range, perms, offset, dev, inode, [path].
                let path = line.split_whitespace().nth(5).unwrap_or("[anon]");
                current = path.rsplit('/').next().unwrap_or(path).to_owned();
            } else if first == "Rss:" {
                let kb: u64 = words.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                *by_name.entry(current.clone()).or_default() += kb;
            }
        }
        let mut top: Vec<(String, u64)> = by_name.into_iter().collect();
        top.sort_by_key(|e| std::cmp::Reverse(e.1));
        top.truncate(n);
        (field("RssAnon:"), field("RssFile:"), top)
    }

    /// User + system CPU so far.
    pub fn cpu(&self) -> Duration {
        cpu_of(&self.pid.to_string())
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.pid, sig);
        }
    }

    /// Waits for the child to end (without blocking the runtime) and returns its resource use.
    pub async fn wait(self) -> Exit {
        let (pid, started, peak) = (self.pid, self.started, self.peak);
        tokio::task::spawn_blocking(move || wait4(pid, started, &peak))
            .await
            .expect("wait4 task")
    }

    /// SIGTERM, then the exit.
    pub async fn stop(self) -> Exit {
        self.signal(libc::SIGTERM);
        self.wait().await
    }
}

/// User + system CPU so far of a process (`pid` as `/proc` names it: a number, or `self`),
/// from `/proc/<pid>/stat`.
pub fn cpu_of(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after state.
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_millis(ticks * 1000 / hz)
}

/// `VmRSS` and `VmHWM` (kB) of a process; zeros when it has none (gone, or a zombie).
fn memory_of(pid: i32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    (
        status_field(&status, "VmRSS:"),
        status_field(&status, "VmHWM:"),
    )
}

/// One `kB` field of `/proc/<pid>/status`; 0 when absent.
fn status_field(status: &str, name: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn wait4(pid: i32, started: Instant, peak: &AtomicU64) -> Exit {
    let mut status = 0;
    // SAFETY: rusage is plain data; zeroed is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; both pointers are valid for the call.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4 failed");
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    };
    Exit {
        code,
        max_rss_kb: peak.load(Ordering::Relaxed),
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        wall: started.elapsed(),
    }
}

/// Runs `--once` (one full pass of every tenant) to its end.
pub async fn once(config: &Path, log: &Path) -> Exit {
    Child::spawn(&["--once"], config, log).wait().await
}

/// Seeds the store: `--once` of the [`seed_binary`]; panics if it fails.
pub async fn seed(config: &Path, log: &Path) -> Exit {
    let bin = seed_binary();
    let e = Child::spawn_binary(&bin, &["--once"], config, log)
        .wait()
        .await;
    assert_eq!(
        e.code,
        0,
        "the seeding pass ({}) failed:\n{}",
        bin.display(),
        std::fs::read_to_string(log).unwrap_or_default()
    );
    e
}
