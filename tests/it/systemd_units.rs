//! The unit files verify with `systemd-analyze` and stay hardened (exposure ≤ 2.0).
//! Where `systemd-analyze` is not installed, the tests say they were skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

const UNITS: [&str; 3] = [
    "willo-lever-sync.service",
    "willo-lever-sync-once.service",
    "willo-lever-sync-once.timer",
];

fn analyzer() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("systemd-analyze"))
            .find(|p| p.is_file())
    })
}

/// Copies the units into a temporary directory with ExecStart pointing at the built binary
/// (verify checks that the executable exists).
fn staged() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd");
    for unit in UNITS {
        let text = std::fs::read_to_string(src.join(unit)).unwrap().replace(
            "/usr/local/bin/willo-lever-sync",
            env!("CARGO_BIN_EXE_willo-lever-sync"),
        );
        std::fs::write(dir.path().join(unit), text).unwrap();
    }
    dir
}

#[test]
fn the_units_pass_systemd_analyze_verify() {
    let Some(analyze) = analyzer() else {
        eprintln!("SKIPPED: systemd-analyze is not installed; the unit files were not verified");
        return;
    };
    let dir = staged();
    let out = Command::new(analyze)
        .arg("verify")
        .args(UNITS.iter().map(|u| dir.path().join(u)))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "verify failed:\n{stderr}");
    assert!(stderr.trim().is_empty(), "verify warned:\n{stderr}");
}

#[test]
fn the_services_exposure_score_is_at_most_2() {
    let Some(analyze) = analyzer() else {
        eprintln!("SKIPPED: systemd-analyze is not installed; the exposure score was not measured");
        return;
    };
    let dir = staged();
    for unit in ["willo-lever-sync.service", "willo-lever-sync-once.service"] {
        let out = Command::new(&analyze)
            .args(["security", "--offline=true", "--no-pager"])
            .arg(dir.path().join(unit))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find(|l| l.contains("Overall exposure level"))
            .unwrap_or_else(|| panic!("no score for {unit}:\n{text}"));
        let score: f64 = line
            .split(':')
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("unreadable score line: {line}"));
        eprintln!("{unit}: exposure {score}");
        assert!(score <= 2.0, "{unit}: exposure {score} > 2.0\n{text}");
    }
}

#[test]
fn every_unit_names_the_hardening_the_issue_asks_for() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/willo-lever-sync.service"),
    )
    .unwrap();
    for line in [
        "Type=notify",
        "DynamicUser=yes",
        "StateDirectory=",
        "LogsDirectory=",
        "ConfigurationDirectory=",
        "LoadCredential=",
        "WatchdogSec=",
        "LimitNOFILE=",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "RestrictAddressFamilies=",
        "RestrictNamespaces=yes",
        "LockPersonality=yes",
        "MemoryDenyWriteExecute=yes",
        "SystemCallFilter=@system-service",
        "CapabilityBoundingSet=\n",
    ] {
        assert!(
            text.contains(line),
            "willo-lever-sync.service lacks {line:?}"
        );
    }
}

/// `systemctl reload` sends the daemon SIGHUP, which reloads it (see `reload_process`).
#[test]
fn the_daemon_unit_reloads_with_sighup() {
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/willo-lever-sync.service"),
    )
    .unwrap();
    assert!(
        unit.lines()
            .any(|l| l == "ExecReload=/bin/kill -HUP $MAINPID"),
        "{unit}"
    );
}
