//! The status page as server-rendered HTML: no JavaScript, a meta refresh, one section per
//! tenant. maud escapes every value spliced into the markup; the only unescaped text is the
//! style sheet below, a constant.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{AttentionItem, FailingItem, PassStatus, StatusDoc, TenantStatus};

/// Seconds between the page's own reloads.
const REFRESH_SECONDS: u32 = 30;

const STYLE: &str = r#"
:root { color-scheme: light; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --muted: #59636e;
        --line: #d1d9e0; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1f2328; background: #fff; }
header { padding: 16px 24px; border-bottom: 1px solid var(--line); background: var(--soft); }
header h1 { margin: 0 0 4px; font-size: 20px; }
header p { margin: 0; color: var(--muted); }
main { padding: 8px 24px 32px; max-width: 1200px; }
section.tenant { margin-top: 20px; border: 1px solid var(--line); border-radius: 8px; padding: 0 16px 12px; }
section.tenant > h2 { display: flex; gap: 10px; align-items: center; font-size: 18px; margin: 14px 0 8px; }
h3 { font-size: 14px; margin: 16px 0 6px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; background: var(--soft); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px;
         font-weight: 600; color: #fff; background: var(--muted); }
.badge.ok { background: var(--ok); } .badge.warn { background: var(--warn); } .badge.bad { background: var(--bad); }
.none { color: var(--muted); margin: 0; }
code, .id { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
ul.missing { margin: 0; padding-left: 18px; color: var(--bad); }
.error { color: var(--bad); }
"#;

/// The page for `doc`.
pub fn render(doc: &StatusDoc) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="refresh" content=(REFRESH_SECONDS);
                title { "willo-lever-sync status" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { "willo-lever-sync status" }
                    p {
                        "version " (doc.version) " · generated " (doc.generated_at)
                        " · reloads every " (REFRESH_SECONDS) " s · "
                        a href="status.json" { "as JSON" }
                    }
                }
                main {
                    @if doc.tenants.is_empty() { p.none { "No tenants are configured." } }
                    @for t in &doc.tenants { (tenant(t)) }
                }
            }
        }
    }
    .into_string()
}

/// The badge class of a connection state or pass result.
fn tone(word: &str) -> &'static str {
    match word {
        "connected" | "converged" | "finished" => "ok",
        "actions_failed" | "deferred" | "partial" | "running" => "warn",
        "disconnected" | "failed" => "bad",
        _ => "",
    }
}

fn badge(word: &str) -> Markup {
    html! { span class=(format!("badge {}", tone(word))) { (word) } }
}

fn tenant(t: &TenantStatus) -> Markup {
    let c = &t.connection;
    html! {
        section.tenant data-tenant=(t.id) {
            h2 { "Tenant " span.id { (t.id) } (badge(c.state)) }
            dl.facts {
                dt { "Connection" }
                dd.connection {
                    (c.state)
                    @if let Some(r) = &c.reason { ": " span.error { (r) } }
                    @if let Some(s) = &c.since { " (since " (s) ")" }
                }
                dt { "Next incremental pass" }
                dd.next-incremental { (t.next_passes.incremental.as_deref().unwrap_or("never")) " " code { (t.next_passes.incremental_schedule) } }
                dt { "Next full pass" }
                dd.next-full { (t.next_passes.full.as_deref().unwrap_or("never")) " " code { (t.next_passes.full_schedule) } }
                dt { "Hint queue" }
                dd.hint-queue { (t.hint_queue_depth) " waiting" }
                dt { "Deferred work" }
                dd.deferred-work {
                    @match t.deferred_work {
                        Some(n) => { (n) " item(s) left by the last pass for a later one" }
                        None => { "no pass has completed yet" }
                    }
                }
            }
            @if let Some(e) = &t.store_error {
                p.error { "The state store could not be read: " (e) }
            }
            h3 { "Missing permissions" }
            @if t.missing_permissions.is_empty() {
                p.none { "None: the last pass could read everything it needed." }
            } @else {
                ul.missing { @for m in &t.missing_permissions { li { (m) } } }
            }
            h3 { "Last passes" }
            (passes(&t.passes, t.last_targeted.as_ref()))
            h3 { "Failing and deferred (" (t.failing.len()) ")" }
            (failing(&t.failing))
            h3 { "Needs attention (" (t.needs_attention.len()) ")" }
            (attention(&t.needs_attention))
        }
    }
}

fn seconds(ms: Option<i64>) -> String {
    ms.map(|d| format!("{:.1} s", d as f64 / 1000.0))
        .unwrap_or_else(|| "-".into())
}

fn passes(passes: &[PassStatus], targeted: Option<&PassStatus>) -> Markup {
    html! {
        @if passes.is_empty() && targeted.is_none() {
            p.none { "No pass has run yet." }
        } @else {
            table.passes {
                thead { tr { th { "Kind" } th { "Started" } th { "Duration" } th { "Result" } th { "Error" } } }
                tbody {
                    @for p in passes.iter().chain(targeted) {
                        tr {
                            td { (p.kind) }
                            td { (p.started_at) }
                            td.num { (seconds(p.duration_ms)) }
                            td { (badge(p.result.unwrap_or(p.state))) }
                            td.error { (p.error.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

/// The candidate's name, linked to Lever when the link is known.
fn candidate(name: Option<&str>, link: Option<&str>, id: &str) -> Markup {
    let name = name.unwrap_or("(name not read yet)");
    html! {
        @if let Some(l) = link {
            a href=(l) rel="noreferrer noopener" target="_blank" { (name) }
        } @else { (name) }
        br; span.id { (id) }
    }
}

fn failing(items: &[FailingItem]) -> Markup {
    html! {
        @if items.is_empty() {
            p.none { "Nothing is failing." }
        } @else {
            table.failing {
                thead { tr { th { "Candidate" } th { "Failures" } th { "Last error" } th { "Retry" } } }
                tbody {
                    @for f in items {
                        tr {
                            td { (candidate(f.name.as_deref(), f.link.as_deref(), &f.opportunity_id)) }
                            td.num { (f.failures) }
                            td.error { (f.last_error.as_deref().unwrap_or("-")) }
                            td {
                                @if f.deferred { "deferred until " } @else { "due since " }
                                (f.next_retry)
                            }
                        }
                    }
                }
            }
        }
    }
}

fn attention(items: &[AttentionItem]) -> Markup {
    html! {
        @if items.is_empty() {
            p.none { "Nothing needs a person." }
        } @else {
            table.attention {
                thead { tr { th { "Candidate" } th { "Reason" } th { "Detail" } th { "Since" } } }
                tbody {
                    @for a in items {
                        tr {
                            td { (candidate(a.name.as_deref(), a.link.as_deref(), &a.opportunity_id)) }
                            td { code { (a.reason) } }
                            td { (a.detail.as_deref().unwrap_or("")) }
                            td { (a.since) }
                        }
                    }
                }
            }
        }
    }
}
