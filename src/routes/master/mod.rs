//! Master keys (procedure 4): the site's suites with their locks, master keys and authorised
//! holders (`/master`); a master key's page with sign-out, return, report lost and every use
//! (`/master/keys/:id`); the presence check (`/master/check`); the emergency uses to review
//! (`/master/reviews`); and a lost master key's escalation (`/master/escalations/:id`).
//! keyward-core decides every rule; these screens only gather what a person chose.

mod check;
mod escalation;
mod key;
mod reviews;

pub use check::CheckPage;
pub use escalation::{locker_list, open_escalation_lines, EscalationPage};
pub use key::MasterKeyPage;
pub use reviews::ReviewsPage;

use crate::components::{
    local_date_time, Allowed, Back, Choices, FormError, FormState, RoleNote, Submit,
};
use crate::state::{use_app, AppState};
use chrono::{DateTime, Local, NaiveDateTime, NaiveTime, TimeZone, Utc};
use keyward_core::format::{parse_date, uk_date};
use keyward_core::{
    Action, Command, EscalationId, KeyId, KeyKind, KeyState, PersonId, Resolved, Scanned,
    SignOutId, SiteId, SuiteId,
};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

/// 26/11/2026 in the device's time zone.
pub(super) fn local_date(at: DateTime<Utc>) -> String {
    uk_date(at.with_timezone(&Local).date_naive())
}

/// A due-back time as typed: "17:30" (today) or "27/11/2026 17:30"; empty is none.
pub(super) fn parse_due(text: &str) -> Result<Option<DateTime<Utc>>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| ());
    let naive = match text.rsplit_once(' ') {
        Some((date, t)) => NaiveDateTime::new(parse_date(date).ok_or(())?, time(t)?),
        None => NaiveDateTime::new(crate::components::today(), time(text)?),
    };
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|at| Some(at.with_timezone(&Utc)))
        .ok_or(())
}

pub(super) fn name_of(state: AppState, person: PersonId) -> String {
    state.register.with(|r| {
        r.person(person)
            .map(|p| p.details.name.clone())
            .unwrap_or_else(|| "someone not in the register".into())
    })
}

// ---------------------------------------------------------------------------------------------
// Choosing a person

/// Type-ahead over the site's people, with `first` (authorised holders) offered as one tap.
#[component]
pub(super) fn PersonPicker(
    #[prop(into)] id: String,
    label: &'static str,
    chosen: RwSignal<Option<PersonId>>,
    #[prop(into)] optional: Signal<bool>,
    #[prop(into)] first: Signal<Vec<(PersonId, String)>>,
    #[prop(optional)] first_label: &'static str,
) -> impl IntoView {
    let state = use_app();
    let search = RwSignal::new(String::new());
    let site = state.site();
    let matches = Memo::new(move |_| {
        let text = search.get();
        if text.trim().is_empty() {
            return Vec::new();
        }
        state.register.with(|r| {
            site.map(|s| r.find_people(s, &text))
                .unwrap_or_default()
                .into_iter()
                .take(6)
                .map(|p| {
                    let extra = [p.details.reference.clone(), p.details.department.clone()]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(" · ");
                    (p.id, p.details.name.clone(), extra)
                })
                .collect::<Vec<_>>()
        })
    });
    let text = move || {
        if optional.get() {
            format!("{label} (optional)")
        } else {
            label.to_string()
        }
    };
    let hint_id = format!("{id}-hint");
    move || {
        match chosen.get() {
        Some(person) => view! {
            <p class="chosen">
                <span>{text()}": "<strong>{name_of(state, person)}</strong></span>
                <button type="button" class="button small" aria-label=format!("Change {}", label.to_lowercase()) on:click=move |_| {
                    chosen.set(None);
                    search.set(String::new());
                }>"Change"</button>
            </p>
        }
        .into_any(),
        None => {
            let hint_id = hint_id.clone();
            let id = id.clone();
            view! {
                <Show when=move || first.with(|f| !f.is_empty())>
                    <p class="field-label">{first_label}</p>
                    <ul class="choices" aria-label=first_label>
                        <For each=move || first.get() key=|p| p.clone() let:((person, name))>
                            <li>
                                <button type="button" class="choice-button" on:click=move |_| chosen.set(Some(person))>
                                    <strong>{name}</strong>
                                </button>
                            </li>
                        </For>
                    </ul>
                </Show>
                <label for=id.clone()>{text()}</label>
                <p class="hint" id=hint_id.clone()>"Search by name, pupil or staff number."</p>
                <input id=id type="search" autocomplete="off" aria-describedby=hint_id bind:value=search/>
                <ul class="choices" aria-label=format!("People matching, {}", label.to_lowercase())>
                    <For each=move || matches.get() key=|m| m.clone() let:((person, name, extra))>
                        <li>
                            <button type="button" class="choice-button" on:click=move |_| chosen.set(Some(person))>
                                <strong>{name}</strong>
                                <span class="meta">{extra}</span>
                            </button>
                        </li>
                    </For>
                </ul>
                <Show when=move || !search.with(|s| s.trim().is_empty()) && matches.with(Vec::is_empty)>
                    <p class="hint">"Nobody matches. Add them under People first."</p>
                </Show>
            }
            .into_any()
        }
    }
    }
}

// ---------------------------------------------------------------------------------------------
// The master keys page

/// A master key as the lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct KeyLine {
    id: KeyId,
    tag: String,
    suite: String,
    /// In place, out with whom since when, or lost.
    status: String,
    out: bool,
    lost: bool,
    last_seen: Option<String>,
    due: Option<String>,
    late: bool,
}

pub(super) fn key_lines(state: AppState, site: SiteId, suite: Option<SuiteId>) -> Vec<KeyLine> {
    let now = Utc::now();
    state.register.with(|r| {
        let checks = r.presence_checks(site, now);
        r.suites_of(site)
            .into_iter()
            .filter(|s| suite.is_none_or(|id| id == s.id))
            .flat_map(|s| {
                let mut keys = r.master_keys_of(s.id);
                keys.sort_by_key(|k| k.tag.to_string());
                keys.into_iter().map(move |k| (s, k))
            })
            .map(|(s, k)| {
                let out = r.master_sign_out_of(k.id);
                let lost = k.state == KeyState::Lost;
                let status = if lost {
                    "Lost".to_string()
                } else if let Some(o) = out {
                    format!(
                        "Out with {} since {}",
                        r.person(o.person)
                            .map(|p| p.details.name.clone())
                            .unwrap_or_default(),
                        local_date_time(o.out_at)
                    )
                } else {
                    "In place".to_string()
                };
                let check = checks.iter().find(|c| c.key == k.id);
                KeyLine {
                    id: k.id,
                    tag: k.tag.to_string(),
                    suite: s.name.clone(),
                    status,
                    out: out.is_some(),
                    lost,
                    last_seen: r.last_seen(k.id).map(|x| local_date_time(x.at)),
                    due: check.map(|c| local_date(c.due)),
                    late: check.is_some_and(|c| c.late),
                }
            })
            .collect()
    })
}

#[component]
pub fn MasterPage() -> impl IntoView {
    let state = use_app();
    let site = Memo::new(move |_| state.site());
    let suites = Memo::new(move |_| {
        let Some(site) = site.get() else {
            return Vec::new();
        };
        state
            .register
            .with(|r| r.suites_of(site).iter().map(|s| s.id).collect::<Vec<_>>())
    });
    let summary = Memo::new(move |_| {
        let site = site.get()?;
        let now = Utc::now();
        Some(state.register.with(|r| {
            let checks = r.presence_checks(site, now);
            let next = checks.iter().find(|c| !c.late).map(|c| local_date(c.due));
            let late = checks.iter().filter(|c| c.late).count();
            let out = r.master_keys_out(site).len();
            let reviews = r.uses_to_review(site).len();
            (next, late, out, reviews)
        }))
    });
    view! {
        <Back href="/setup" label="Set-up"/>
        <h1>"Master keys"</h1>
        {move || summary.get().map(|(next, late, out, reviews)| view! {
            <section class="card">
                <h2>"Today"</h2>
                <ul class="plain">
                    <li>{match out { 0 => "No master key is out.".to_string(), 1 => "1 master key is out.".to_string(), n => format!("{n} master keys are out.") }}</li>
                    {(late > 0).then(|| view! { <li class="late">{if late == 1 { "1 presence check is late.".to_string() } else { format!("{late} presence checks are late.") }}</li> })}
                    {next.map(|d| view! { <li>"Next presence check due "{d}"."</li> })}
                </ul>
                <p class="actions">
                    <A href="/master/check" attr:class="button primary">"Check master keys"</A>
                    <A href="/master/reviews" attr:class="button">{format!("Emergency uses to review ({reviews})")}</A>
                </p>
            </section>
        })}
        <Show when=move || suites.with(Vec::is_empty)>
            <p class="empty">"No suite yet. Define one below with the name written on its locks; a lock fitted with that suite name is then part of it."</p>
        </Show>
        <For each=move || suites.get() key=|s| *s let:suite>
            <SuiteCard suite/>
        </For>
        {move || site.get().map(|site| view! { <DefineSuite site/> })}
    }
}

#[component]
fn SuiteCard(suite: SuiteId) -> impl IntoView {
    let state = use_app();
    let info = Memo::new(move |_| {
        state.register.with(|r| {
            let s = r.suite(suite)?;
            let locks = r
                .suite_locks(suite)
                .iter()
                .filter_map(|l| r.locker(l.locker).map(|x| (x.id, x.number.clone())))
                .collect::<Vec<_>>();
            let mut holders = s
                .holders
                .iter()
                .filter_map(|p| r.person(*p).map(|p| (p.id, p.details.name.clone())))
                .collect::<Vec<_>>();
            holders.sort_by(|a, b| a.1.cmp(&b.1));
            Some((
                s.name.clone(),
                s.site,
                s.check_every_days,
                r.witness_required(suite),
                locks,
                holders,
            ))
        })
    });
    let keys = Memo::new(move |_| {
        info.with(|i| i.as_ref().map(|i| i.1))
            .map(|site| key_lines(state, site, Some(suite)))
            .unwrap_or_default()
    });
    let withdraw = FormState::new();
    let add = FormState::new();
    let chosen = RwSignal::new(None::<PersonId>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(person) = chosen.get_untracked() else {
            add.fail("Choose the person to authorise: search by name and tap their name.");
            return;
        };
        add.run(
            Command::SetMasterHolder {
                suite,
                person,
                authorised: true,
            },
            move |_| {
                let name = name_of(state, person);
                state.flash.set(Some(format!(
                    "{name} may now sign out this suite's master keys."
                )));
                chosen.set(None);
            },
        );
    };
    move || {
        info.get().map(|(name, _, every, witness, locks, holders)| {
            view! {
                <section class="card suite" aria-labelledby=format!("suite-{suite}")>
                    <h2 id=format!("suite-{suite}")>"Suite "{name.clone()}</h2>
                    <p class="meta">
                        {format!("Checked every {every} day{}", if every == 1 { "" } else { "s" })}
                        {if witness { " · every use needs a witness" } else { " · no witness needed" }}
                    </p>
                    <h3>"Lockers"</h3>
                    {if locks.is_empty() {
                        view! { <p class="hint">{format!("No lock is in this suite yet. Fit a lock with the suite “{name}” on a locker's page.")}</p> }.into_any()
                    } else {
                        view! {
                            <ul class="inline-links">
                                {locks.into_iter().map(|(id, number)| view! { <li><A href=format!("/lockers/{id}")>{number}</A></li> }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                    <h3>"Master keys"</h3>
                    <Show when=move || keys.with(Vec::is_empty)>
                        <p class="hint">"No master key yet: on a locker of the suite, use Add keys with the kind Master key."</p>
                    </Show>
                    <ul class="rows">
                        <For each=move || keys.get() key=|k| k.clone() let:k>
                            <li>
                                <A href=format!("/master/keys/{}", k.id)>
                                    <span class="row-main">
                                        <span class="tag">{k.tag.clone()}</span>
                                        <span class="meta">{k.status.clone()}</span>
                                        <span class="meta">{k.due.clone().map(|d| format!("Check due {d}"))}</span>
                                    </span>
                                    {if k.lost {
                                        Some(view! { <span class="badge overdue">"Lost"</span> }.into_any())
                                    } else if k.late {
                                        Some(view! { <span class="badge overdue">"Check late"</span> }.into_any())
                                    } else if k.out {
                                        Some(view! { <span class="badge signed-out">"Out"</span> }.into_any())
                                    } else {
                                        Some(view! { <span class="badge free">"In place"</span> }.into_any())
                                    }}
                                </A>
                            </li>
                        </For>
                    </ul>
                    <h3>"Authorised holders"</h3>
                    {if holders.is_empty() {
                        view! { <p class="hint">"Nobody yet. Only authorised holders may sign its master keys out (others only as an emergency use)."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="keys">
                                {holders.into_iter().map(|(person, holder)| view! {
                                    <li class="key">
                                        <span>{holder.clone()}</span>
                                        <Allowed action=Action::MasterKeys>
                                            <button type="button" class="button small" aria-label=format!("Withdraw {holder}") disabled=move || withdraw.busy.get() on:click=move |_| {
                                                withdraw.run(Command::SetMasterHolder { suite, person, authorised: false }, move |_| {
                                                    let name = name_of(state, person);
                                                    state.flash.set(Some(format!("{name} is no longer an authorised holder.")));
                                                });
                                            }>"Withdraw"</button>
                                        </Allowed>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                    <FormError form=withdraw/>
                    <Allowed action=Action::MasterKeys>
                        <form on:submit=submit novalidate>
                            <PersonPicker id=format!("holder-{suite}") label="Person to authorise" chosen optional=false first=Vec::new()/>
                            <FormError form=add/>
                            <Submit form=add label="Authorise" action=Action::MasterKeys/>
                        </form>
                    </Allowed>
                    <RoleNote action=Action::MasterKeys/>
                </section>
            }
        })
    }
}

#[component]
fn DefineSuite(site: SiteId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let name = RwSignal::new(String::new());
    let every = RwSignal::new("30".to_string());
    let witness = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(days) = every.get_untracked().trim().parse::<u32>() else {
            form.fail("Enter how often its master keys are checked, in days, for example 30.");
            return;
        };
        form.run(
            Command::DefineSuite {
                site,
                name: name.get_untracked(),
                check_every_days: days,
                witness_required: witness.get_untracked(),
            },
            move |_| {
                state.flash.set(Some(format!(
                    "Suite {} defined. Every lock fitted with this suite name is part of it.",
                    name.get_untracked().trim()
                )));
                name.set(String::new());
            },
        );
    };
    view! {
        <form class="card" on:submit=submit novalidate>
            <h2>"Define a suite"</h2>
            <label for="suite-name">"Suite name"</label>
            <p class="hint" id="suite-name-hint">"As typed on its locks' suite, for example “Ward 7 changing rooms”."</p>
            <input id="suite-name" aria-describedby="suite-name-hint" bind:value=name/>
            <label for="suite-every">"Check its master keys every (days)"</label>
            <input id="suite-every" type="number" inputmode="numeric" min="1" bind:value=every/>
            <label class="choice">
                <input type="checkbox" bind:checked=witness/>
                "Every use needs a witness"
            </label>
            <FormError form/>
            <Submit form label="Define suite" action=Action::MasterKeys/>
        </form>
    }
}

// ---------------------------------------------------------------------------------------------
// A master key's page

#[derive(Clone, Debug, PartialEq)]
struct KeyInfo {
    tag: String,
    suite: Option<(SuiteId, String)>,
    /// The suite name its lock gives, when no suite of that name is defined.
    lock_suite: String,
    locker: Option<(keyward_core::LockerId, String)>,
    lost: bool,
    escalation: Option<EscalationId>,
    out: Option<String>,
    last_seen: Option<String>,
    due: Option<(String, bool)>,
}
