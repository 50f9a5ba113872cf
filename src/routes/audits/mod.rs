//! Audits (procedure 8): the list of audits with what is due and late (`/audits`), starting
//! one of the site, an area or a range of lockers, the site's term dates for termly audits; the
//! walk itself (`walk`, `/audits/:id`); the report (`report`, `/audits/:id/report`); and the
//! manager's view with its charts (`dashboard`, `/dashboard`). keyward-core decides every
//! rule (`register/audits/`); these screens gather what the auditor found.

mod dashboard;
mod report;
mod walk;

pub use dashboard::DashboardPage;
pub use report::AuditReportPage;
pub use walk::AuditPage;

use crate::components::{local_date_time, today, Back, FormError, FormState, RoleNote, Submit};
use crate::state::use_app;
use keyward_core::format::{parse_date, uk_date};
use keyward_core::{Action, AreaId, AuditId, AuditScope, Change, Command, Term};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

/// One audit in a list.
#[derive(Clone, PartialEq, Eq, Hash)]
struct AuditRow {
    id: AuditId,
    scope: String,
    when: String,
    progress: String,
}

#[component]
pub fn AuditsPage() -> impl IntoView {
    let state = use_app();
    let site = Memo::new(move |_| state.site());
    let open = Memo::new(move |_| {
        let Some(site) = site.get() else {
            return Vec::new();
        };
        state.register.with(|r| {
            r.open_audits(site)
                .into_iter()
                .map(|a| {
                    let p = r.audit_progress(a);
                    AuditRow {
                        id: a.id,
                        scope: r.scope_words(&a.scope),
                        when: format!(
                            "Started by {} {}",
                            a.started_by,
                            local_date_time(a.started_at)
                        ),
                        progress: progress_words(p.done, p.to_do, p.issues),
                    }
                })
                .collect::<Vec<_>>()
        })
    });
    let completed = Memo::new(move |_| {
        let Some(site) = site.get() else {
            return Vec::new();
        };
        state.register.with(|r| {
            r.completed_audits(site)
                .into_iter()
                .filter_map(|a| {
                    let c = a.completed.as_ref()?;
                    Some(AuditRow {
                        id: a.id,
                        scope: r.scope_words(&a.scope),
                        when: format!("Completed by {} {}", c.by, local_date_time(c.at)),
                        progress: match c.report.findings.len() {
                            0 => "No issues found".into(),
                            1 => "1 issue found".into(),
                            n => format!("{n} issues found"),
                        },
                    })
                })
                .collect::<Vec<_>>()
        })
    });
    let due = Memo::new(move |_| {
        let Some(site) = site.get() else {
            return Vec::new();
        };
        state.register.with(|r| {
            r.audits_due(site, today())
                .into_iter()
                .map(|d| {
                    let late = matches!(
                        d.state,
                        keyward_core::DueState::Late { .. } | keyward_core::DueState::Never
                    );
                    let leavers = d.suggested.then(|| {
                        format!(
                            "Suggested now: {} people who held keys here left in the last {} days.",
                            d.leavers.len(),
                            keyward_core::LEAVERS_WINDOW_DAYS
                        )
                    });
                    (
                        d.name,
                        format!("{} · {}", d.interval.label(), d.state.words()),
                        late,
                        leavers,
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    let list = |rows: Vec<AuditRow>, report: bool| {
        rows.into_iter()
            .map(|row| {
                let href = if report {
                    format!("/audits/{}/report", row.id)
                } else {
                    format!("/audits/{}", row.id)
                };
                view! {
                    <li>
                        <A href=href>
                            <span class="row-main">
                                <strong>{row.scope}</strong>
                                <span class="meta wrap">{row.when}</span>
                                <span class="meta">{row.progress}</span>
                            </span>
                        </A>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <Back href="/setup" label="Set-up"/>
        <h1>"Audits"</h1>
        <p class="lead">"Walk the lockers, scanning or tapping each, and record what you find. The office gets the report."</p>
        <Show when=move || open.with(|o| !o.is_empty())>
            <section class="card">
                <h2>"In progress"</h2>
                <ul class="rows">{move || list(open.get(), false)}</ul>
            </section>
        </Show>
        <StartAudit/>
        <section class="card">
            <h2>"Due and late"</h2>
            <Show when=move || due.with(Vec::is_empty)>
                <p class="empty">"No areas yet."</p>
            </Show>
            <ul class="rows">
                {move || due.get().into_iter().map(|(name, words, late, leavers)| view! {
                    <li class="due-row">
                        <span class="row-main">
                            <strong>{name}</strong>
                            <span class="meta wrap" class:late=late>{words}</span>
                            {leavers.map(|l| view! { <span class="meta wrap late">{l}</span> })}
                        </span>
                    </li>
                }).collect_view()}
            </ul>
            <p><A href="/dashboard" attr:class="button">"Manager's view: charts"</A></p>
        </section>
        <section class="card">
            <h2>"Completed"</h2>
            <Show when=move || completed.with(Vec::is_empty)>
                <p class="empty">"No audit completed yet."</p>
            </Show>
            <ul class="rows">{move || list(completed.get(), true)}</ul>
        </section>
        <TermDates/>
        <WalkingOrder/>
    }
}

/// "12 of 20 done · 2 issues found".
fn progress_words(done: usize, to_do: usize, issues: usize) -> String {
    let issues = match issues {
        0 => "no issues".to_string(),
        1 => "1 issue found".to_string(),
        n => format!("{n} issues found"),
    };
    format!("{done} of {} done · {issues}", done + to_do)
}

/// What to audit: the whole site, one area, or a range of one area's lockers.
#[component]
fn StartAudit() -> impl IntoView {
    let state = use_app();
    let navigate = use_navigate();
    let form = FormState::new();
    let choice = RwSignal::new(String::from("site"));
    let area = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let areas = Memo::new(move |_| {
        state.site().map_or_else(Vec::new, |s| {
            state.register.with(|r| {
                r.areas_of(s)
                    .into_iter()
                    .map(|a| (a.id, a.name.clone()))
                    .collect::<Vec<_>>()
            })
        })
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(site) = state.site() else {
            return;
        };
        let chosen_area = || {
            AreaId::parse(&area.get_untracked())
                .or_else(|| areas.with_untracked(|a| (a.len() == 1).then(|| a[0].0)))
        };
        let scope = match choice.get_untracked().as_str() {
            "area" | "range" => {
                let Some(area) = chosen_area() else {
                    form.fail("Choose the area to audit.");
                    return;
                };
                if choice.get_untracked() == "area" {
                    AuditScope::Area { area }
                } else {
                    AuditScope::Range {
                        area,
                        from: from.get_untracked(),
                        to: to.get_untracked(),
                    }
                }
            }
            _ => AuditScope::Site,
        };
        let navigate = navigate.clone();
        form.run(Command::StartAudit { site, scope }, move |event| {
            if let Change::AuditStarted { audit, .. } = event.change {
                navigate(&format!("/audits/{audit}"), Default::default());
            }
        });
    };
    view! {
        <form class="card" on:submit=submit novalidate aria-labelledby="start-audit">
            <h2 id="start-audit">"Start an audit"</h2>
            <fieldset>
                <legend>"What to audit"</legend>
                {[("site", "The whole site"), ("area", "One area"), ("range", "A range of lockers in an area")]
                    .into_iter()
                    .map(|(value, label)| view! {
                        <label class="choice">
                            <input type="radio" name="audit-scope" value=value
                                prop:checked=move || choice.get() == value
                                on:change=move |_| choice.set(value.to_string())/>
                            {label}
                        </label>
                    })
                    .collect_view()}
            </fieldset>
            <Show when=move || choice.get() != "site">
                <label for="audit-area">"Area"</label>
                <select id="audit-area" on:change=move |ev| area.set(event_target_value(&ev))>
                    <option value="">"Choose an area"</option>
                    {move || areas.get().into_iter().map(|(id, name)| view! {
                        <option value=id.to_string() selected=move || area.get() == id.to_string()>{name}</option>
                    }).collect_view()}
                </select>
            </Show>
            <Show when=move || choice.get() == "range">
                <label for="audit-from">"From locker"</label>
                <input id="audit-from" autocomplete="off" autocapitalize="characters" placeholder="A-001" bind:value=from/>
                <label for="audit-to">"To locker"</label>
                <input id="audit-to" autocomplete="off" autocapitalize="characters" placeholder="A-020" bind:value=to/>
            </Show>
            <FormError form/>
            <RoleNote action=Action::Audit/>
            <Submit form label="Start audit" action=Action::Audit/>
        </form>
    }
}

/// The site's term dates, for termly audits: added one term at a time, removed with a tap.
#[component]
fn TermDates() -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let name = RwSignal::new(String::new());
    let start = RwSignal::new(String::new());
    let end = RwSignal::new(String::new());
    let terms = Memo::new(move |_| {
        state.site().map_or_else(Vec::new, |s| {
            state.register.with(|r| r.term_dates(s).to_vec())
        })
    });
    let set = move |terms: Vec<Term>, done: &'static str| {
        let Some(site) = state.site() else {
            return;
        };
        form.run(Command::SetTermDates { site, terms }, move |_| {
            state.flash.set(Some(done.into()));
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Some(s), Some(e)) = (
            parse_date(&start.get_untracked()),
            parse_date(&end.get_untracked()),
        ) else {
            form.fail("Enter the term's first and last days as day/month/year, for example 02/09/2026 and 18/12/2026.");
            return;
        };
        let mut all = terms.get_untracked();
        all.push(Term {
            name: name.get_untracked().trim().to_string(),
            start: s,
            end: e,
        });
        all.sort_by_key(|t| t.start);
        set(all, "Term added.");
        name.set(String::new());
        start.set(String::new());
        end.set(String::new());
    };
    view! {
        <section class="card">
            <h2>"Term dates"</h2>
            <p class="hint">"Termly audits are due once each term. Set the terms of the school year."</p>
            <Show when=move || terms.with(Vec::is_empty)>
                <p class="empty">"No term dates set."</p>
            </Show>
            <ul class="rows">
                {move || terms.get().into_iter().enumerate().map(|(i, t)| {
                    let label = format!("Remove {}", t.name);
                    view! {
                        <li class="check-row">
                            <span class="row-main">
                                <strong>{t.name.clone()}</strong>
                                <span class="meta wrap">{format!("{} to {}", uk_date(t.start), uk_date(t.end))}</span>
                            </span>
                            <button type="button" class="button small" aria-label=label on:click=move |_| {
                                let mut all = terms.get_untracked();
                                all.remove(i);
                                set(all, "Term removed.");
                            }>"Remove"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <form on:submit=submit novalidate aria-label="Add a term">
                <label for="term-name">"Term"</label>
                <input id="term-name" autocomplete="off" placeholder="Autumn 2026" bind:value=name/>
                <label for="term-start">"First day"</label>
                <input id="term-start" inputmode="numeric" autocomplete="off" placeholder="02/09/2026" bind:value=start/>
                <label for="term-end">"Last day"</label>
                <input id="term-end" inputmode="numeric" autocomplete="off" placeholder="18/12/2026" bind:value=end/>
                <FormError form/>
                <Submit form label="Add term" action=Action::SetUpSite/>
            </form>
        </section>
    }
}

/// An area's walking order: the locker numbers in the order the auditor walks them; those left
/// out follow in number order.
#[component]
fn WalkingOrder() -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let area = RwSignal::new(None::<AreaId>);
    let typed = RwSignal::new(String::new());
    let areas = Memo::new(move |_| {
        state.site().map_or_else(Vec::new, |s| {
            state.register.with(|r| {
                r.areas_of(s)
                    .into_iter()
                    .map(|a| (a.id, a.name.clone()))
                    .collect::<Vec<_>>()
            })
        })
    });
    let chosen = move || {
        area.get()
            .or_else(|| areas.with(|a| a.first().map(|a| a.0)))
    };
    // The saved order, as numbers.
    let saved = Memo::new(move |_| {
        let Some(area) = chosen() else {
            return Vec::new();
        };
        state.register.with(|r| {
            r.audit_route(area)
                .iter()
                .filter_map(|id| r.locker(*id).map(|l| l.number.clone()))
                .collect::<Vec<_>>()
        })
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Some(site), Some(area)) = (state.site(), chosen()) else {
            return;
        };
        let text = typed.get_untracked();
        let numbers: Vec<&str> = text
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .collect();
        if numbers.is_empty() {
            form.fail("Type the locker numbers in the order you walk them, for example A-003, A-001, A-002.");
            return;
        }
        let found: Result<Vec<_>, String> = state.register.with_untracked(|r| {
            numbers
                .iter()
                .map(|n| {
                    r.locker_by_number(site, n)
                        .filter(|l| l.area == area)
                        .map(|l| l.id)
                        .ok_or_else(|| (*n).to_string())
                })
                .collect()
        });
        match found {
            Err(n) => form.fail(format!(
                "No locker “{n}” in this area. Check the numbers: each must be a locker of the area chosen."
            )),
            Ok(lockers) => form.run(Command::SetAuditRoute { area, lockers }, move |_| {
                typed.set(String::new());
                state.flash.set(Some("Walking order saved.".into()));
            }),
        }
    };
    view! {
        <form class="card" on:submit=submit novalidate aria-labelledby="walking-order">
            <h2 id="walking-order">"Walking order"</h2>
            <p class="hint">"Audits list an area's lockers in number order, unless you save the order you walk them in."</p>
            <Show when=move || areas.with(|a| a.len() > 1)>
                <label for="route-area">"Area"</label>
                <select id="route-area" on:change=move |ev| area.set(AreaId::parse(&event_target_value(&ev)))>
                    {move || areas.get().into_iter().map(|(id, name)| view! {
                        <option value=id.to_string() selected=move || chosen() == Some(id)>{name}</option>
                    }).collect_view()}
                </select>
            </Show>
            <p class="meta wrap">{move || saved.with(|s| if s.is_empty() {
                "Now: number order.".to_string()
            } else {
                format!("Now: {}, then the rest in number order.", s.join(", "))
            })}</p>
            <label for="route-numbers">"Locker numbers in walking order"</label>
            <p class="hint" id="route-numbers-hint">"Separate them with commas, spaces or new lines. Lockers you leave out follow in number order."</p>
            <textarea id="route-numbers" rows="3" autocapitalize="characters" aria-describedby="route-numbers-hint" bind:value=typed></textarea>
            <FormError form/>
            <Submit form label="Save walking order" action=Action::Audit/>
        </form>
    }
}
