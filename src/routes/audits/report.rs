//! An audit's report (`/audits/:id/report`): made by keyward-core when the audit was completed
//! and kept with it, so it reads the same later. On screen, and printed as a clean A4
//! document an office files (header, scope, who, when, totals, the lists); downloaded as CSV
//! by the roles that may export.

use crate::components::{local_date_time, Back};
use crate::state::use_app;
use keyward_core::format::uk_date;
use keyward_core::{Action, AuditId, AuditReport};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn AuditReportPage() -> impl IntoView {
    let params = use_params_map();
    let state = use_app();
    let id = params.with_untracked(|p| p.get("id").and_then(|id| AuditId::parse(&id)));
    let report = Memo::new(move |_| {
        let id = id?;
        state.register.with(|r| {
            r.audit(id)
                .and_then(|a| a.completed.as_ref().map(|c| c.report.clone()))
        })
    });
    let message = RwSignal::new(None::<String>);
    let download = move |_| {
        let Some(report) = report.get_untracked() else {
            return;
        };
        let date = report
            .completed_at
            .map(|d| d.date_naive().format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let name = format!("keyward-audit-{date}.csv");
        message.set(Some(
            match crate::download::save(&report.csv(), &name, "text/csv") {
                Ok(()) => format!("Saved {name}."),
                Err(()) => "The CSV file could not be saved. Try again.".into(),
            },
        ));
    };
    let print = move |_| {
        let _ = window().print();
    };
    let may_export = move || state.allowed(Action::ExportData).is_ok();
    view! {
        <div class="no-print">
            <Back href="/audits" label="Audits"/>
        </div>
        {move || match report.get() {
            None => view! {
                <h1>"No report yet"</h1>
                <p>
                    "This audit is not complete on this device, so it has no report. "
                    {id.map(|id| view! { <A href=format!("/audits/{id}")>"Open the audit"</A> })}
                </p>
            }
            .into_any(),
            Some(report) => view! {
                <div class="no-print">
                    <p class="actions">
                        <button type="button" class="button primary" on:click=print>"Print the report"</button>
                        <Show when=may_export>
                            <button type="button" class="button" on:click=download>"Download CSV"</button>
                        </Show>
                    </p>
                    <p role="status" class="hint">{move || message.get()}</p>
                </div>
                <Report report/>
            }
            .into_any(),
        }}
    }
}

/// A list's heading with its count, and its rows or "None."
fn part<T: 'static>(
    title: &'static str,
    rows: Vec<T>,
    head: &'static [&'static str],
    cells: impl Fn(T) -> Vec<String> + 'static,
) -> impl IntoView {
    let count = rows.len();
    view! {
        <section class="report-part">
            <h2>{format!("{title} ({count})")}</h2>
            {if rows.is_empty() {
                view! { <p class="none">"None."</p> }.into_any()
            } else {
                view! {
                    <table class="report-table">
                        <thead><tr>{head.iter().map(|h| view! { <th scope="col">{*h}</th> }).collect_view()}</tr></thead>
                        <tbody>
                            {rows.into_iter().map(|row| view! {
                                <tr>{cells(row).into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            }}
        </section>
    }
}

#[component]
fn Report(report: AuditReport) -> impl IntoView {
    let when =
        |at: Option<chrono::DateTime<chrono::Utc>>| at.map(local_date_time).unwrap_or_default();
    let r = report;
    let totals = [
        ("Lockers checked", format!("{} of {}", r.checked, r.lockers)),
        ("Issues found", r.findings.len().to_string()),
        ("Keys issued", r.keys_issued.len().to_string()),
        ("Keys missing", r.keys_missing.len().to_string()),
        ("Overdue loans", r.overdue.len().to_string()),
    ];
    let changes = r.changes.clone();
    view! {
        <article class="card audit-report" aria-labelledby="report-title">
            <h1 id="report-title">"Audit report"</h1>
            <dl class="facts">
                <dt>"Site"</dt><dd>{r.site_name.clone()}</dd>
                <dt>"Scope"</dt><dd>{r.scope.clone()}</dd>
                <dt>"Started"</dt><dd>{format!("{} by {}", when(r.started_at), r.started_by)}</dd>
                <dt>"Completed"</dt><dd>{format!("{} by {}", when(r.completed_at), r.completed_by)}</dd>
                <dt>"Auditors"</dt><dd>{r.auditors.join(", ")}</dd>
            </dl>
            <ul class="totals">
                {totals.into_iter().map(|(what, n)| view! { <li><strong>{n}</strong>" "{what}</li> }).collect_view()}
            </ul>
            {part("Findings", r.findings.clone(), &["Locker", "Finding", "Note", "By"], |f| {
                vec![f.number, f.words, f.notes, format!("{} {}", f.by, local_date_time(f.at))]
            })}
            {part("Lockers not checked", r.not_checked.clone(), &["Locker"], |n| vec![n])}
            {part("Keys missing", r.keys_missing.clone(), &["Locker", "Keys the register had in store", "Note"], |m| {
                vec![m.number, m.tags.join(", "), m.notes]
            })}
            {part("Keys issued", r.keys_issued.clone(), &["Key", "Locker", "Holder", "Since", "Due back"], |k| {
                vec![k.tag, k.number, k.holder, uk_date(k.since), k.due]
            })}
            {part("Lockers with no one assigned", r.unassigned.clone(), &["Locker"], |n| vec![n])}
            {part("Master keys", r.master_keys.clone(), &["Key", "Suite", "In this audit", "Last seen"], |m| {
                vec![
                    format!("{}{}", m.tag, if m.state.is_empty() { String::new() } else { format!(" ({})", m.state) }),
                    m.suite,
                    match m.seen_in_audit { Some(true) => "Seen".into(), Some(false) => "Not seen".into(), None => "Not checked".into() },
                    m.last_seen.map(local_date_time).unwrap_or_else(|| "Never".into()),
                ]
            })}
            {part("Locks with repeated problems", r.repeated_problems.clone(), &["Locker", "Recent faults", "Lost keys"], |p| {
                vec![p.number, p.recent_faults.to_string(), p.losses.to_string()]
            })}
            {part("Replacement keys that do not match the register", r.mismatches.clone(), &["Locker", "What does not match"], |m| {
                vec![m.number, m.words]
            })}
            {part("People who have left but still hold keys", r.leavers.clone(), &["Person", "Left", "Keys"], |l| {
                vec![l.name, uk_date(l.left), l.keys.join(", ")]
            })}
            {part("Overdue loans", r.overdue.clone(), &["Key", "Locker", "Holder", "Due back", "Late"], |o| {
                vec![o.tag, o.number, o.holder, o.due, o.late]
            })}
            <section class="report-part">
                <h2>"Since the previous audit"</h2>
                {match changes {
                    None => view! { <p class="none">"No earlier audit of the same scope to compare with."</p> }.into_any(),
                    Some(c) => {
                        let line = |list: Vec<keyward_core::ReportChange>| {
                            if list.is_empty() {
                                "none".to_string()
                            } else {
                                list.into_iter().map(|c| format!("{} ({})", c.number, c.words)).collect::<Vec<_>>().join(", ")
                            }
                        };
                        view! {
                            <p>{format!("Compared with the audit completed {}.", local_date_time(c.previous_completed))}</p>
                            <dl class="facts">
                                <dt>"New issues"</dt><dd>{line(c.new)}</dd>
                                <dt>"Put right"</dt><dd>{line(c.gone)}</dd>
                                <dt>"Still found"</dt><dd>{line(c.still)}</dd>
                            </dl>
                        }.into_any()
                    }
                }}
            </section>
        </article>
    }
}
