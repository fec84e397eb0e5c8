//! `status` as text: what an operator reads in a shell.

use std::io::{self, Write};

use super::super::when::relative;
use super::{FailingReport, Report, TenantReport};

pub(super) fn write(
    out: &mut impl Write,
    r: &Report,
    have_state: bool,
    now: i64,
) -> io::Result<()> {
    writeln!(out, "state: {}", r.state_file)?;
    match &r.writer {
        Some(w) => {
            let what = match w.kind {
                "once" => "a --once run",
                "sandbox" => "the sandbox",
                "unknown" => "the daemon or a --once run",
                _ => "the daemon",
            };
            writeln!(out, "running: {what} (pid {}) holds the state", w.pid)?;
        }
        None if r.shared => writeln!(
            out,
            "running: instances sharing this PostgreSQL store; each tenant's owner is below"
        )?,
        None => writeln!(
            out,
            "running: no daemon or --once run holds the state; no pass is scheduled"
        )?,
    }
    if let Some(n) = &r.next_passes {
        let when = |t: &Option<String>| {
            t.as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| format!("{} ({t})", relative(now, t.timestamp_millis())))
                .unwrap_or_else(|| "never".into())
        };
        writeln!(
            out,
            "next passes: incremental {} on \"{}\"; full {} on \"{}\"",
            when(&n.incremental),
            n.schedule,
            when(&n.full),
            n.full_schedule
        )?;
    }
    if !have_state {
        writeln!(out, "no pass has run yet with this state_dir")?;
    }
    for t in &r.tenants {
        tenant(out, t, now)?;
    }
    let verdict = match r.exit_status {
        0 => "all tenants are well".to_owned(),
        code => {
            let ids: Vec<&str> = r
                .tenants
                .iter()
                .filter(|t| t.verdict != "ok")
                .map(|t| t.id.as_str())
                .collect();
            format!(
                "{} need{} a look",
                ids.join(", "),
                if ids.len() == 1 { "s" } else { "" }
            ) + &format!(" (exit status {code})")
        }
    };
    writeln!(out, "\n{verdict}")
}

fn tenant(out: &mut impl Write, t: &TenantReport, now: i64) -> io::Result<()> {
    let conn = match (t.connected, &t.disconnected_reason) {
        (None, _) => "unknown (no pass yet)".to_owned(),
        (Some(true), _) => "connected".to_owned(),
        (Some(false), Some(r)) => format!("DISCONNECTED: {r}"),
        (Some(false), None) => "DISCONNECTED".to_owned(),
    };
    writeln!(out, "\ntenant {}: {conn}", t.id)?;
    if let Some(l) = &t.lease {
        if l.lapsed {
            writeln!(
                out,
                "  owner: none: {}'s lease lapsed {} ({}); the next instance to take it starts with a full pass",
                l.owner,
                relative(now, l.expires_ms),
                l.expires_at
            )?;
        } else {
            writeln!(
                out,
                "  owner: instance {}, lease until {} ({})",
                l.owner,
                l.expires_at,
                relative(now, l.expires_ms)
            )?;
        }
    }
    for p in &t.problems {
        writeln!(out, "  needs a look: {p}")?;
    }
    writeln!(out, "  last passes:")?;
    if t.passes.is_empty() {
        writeln!(out, "    (none)")?;
    }
    for p in t.passes.iter().chain(t.last_targeted.iter()) {
        let took = p
            .duration_ms
            .map(|d| format!("{:.1}s", d as f64 / 1000.0))
            .unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "    {:<11} {} ({})  {:>7}  {}{}",
            p.kind,
            p.started_at,
            relative(now, p.started_ms),
            took,
            p.result.as_deref().unwrap_or(p.state),
            p.error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        )?;
    }
    let invites: Vec<String> = t.invites.iter().map(|(k, v)| format!("{k} {v}")).collect();
    writeln!(
        out,
        "  invites: {}",
        if invites.is_empty() {
            "none".to_owned()
        } else {
            invites.join(", ")
        }
    )?;
    writeln!(out, "  needs attention ({}):", t.attention.len())?;
    for a in &t.attention {
        writeln!(
            out,
            "    {} ({})  {}{}  since {}",
            a.name.as_deref().unwrap_or("name not read yet"),
            a.opportunity_id,
            a.reason,
            a.detail
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default(),
            relative(now, a.since_ms)
        )?;
        if let Some(link) = &a.link {
            writeln!(out, "      {link}")?;
        }
        writeln!(out, "      fix: {}", a.fix)?;
    }
    failing(out, &t.failing, now)
}

fn failing(out: &mut impl Write, failing: &[FailingReport], now: i64) -> io::Result<()> {
    let deferred = failing.iter().filter(|f| f.deferred).count();
    writeln!(
        out,
        "  failing ({}, {deferred} deferred until their retry):",
        failing.len()
    )?;
    for f in failing {
        let retry = if f.deferred {
            format!("retry {}", relative(now, f.next_retry_ms))
        } else {
            "retry due at the next pass".to_owned()
        };
        writeln!(
            out,
            "    {} ({})  {} failure(s), {retry}: {}",
            f.candidate.as_deref().unwrap_or("name not read yet"),
            f.opportunity_id,
            f.failures,
            f.last_error.as_deref().unwrap_or("-"),
        )?;
        if let Some(link) = &f.link {
            writeln!(out, "      {link}")?;
        }
    }
    Ok(())
}
