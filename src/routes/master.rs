//! Master keys (procedure 4): the site's suites with their locks, master keys and authorised
//! holders (`/master`); a master key's page with sign-out, return, report lost and every use
//! (`/master/keys/:id`); the presence check (`/master/check`); the emergency uses to review
//! (`/master/reviews`); and a lost master key's escalation (`/master/escalations/:id`).
//! keyward-core decides every rule; these screens only gather what a person chose.

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
fn local_date(at: DateTime<Utc>) -> String {
    uk_date(at.with_timezone(&Local).date_naive())
}

/// A due-back time as typed: "17:30" (today) or "27/11/2026 17:30"; empty is none.
fn parse_due(text: &str) -> Result<Option<DateTime<Utc>>, ()> {
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

fn name_of(state: AppState, person: PersonId) -> String {
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
fn PersonPicker(
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
struct KeyLine {
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

fn key_lines(state: AppState, site: SiteId, suite: Option<SuiteId>) -> Vec<KeyLine> {
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

#[component]
pub fn MasterKeyPage() -> impl IntoView {
    let state = use_app();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| KeyId::parse(&id))));
    let info = Memo::new(move |_| {
        let id = id.get()?;
        let now = Utc::now();
        state.register.with(|r| {
            let k = r.key(id).filter(|k| k.kind == KeyKind::Master)?;
            let suite = r.suite_of_key(id);
            let locker = r.locker_of_key(id);
            let due = locker.and_then(|l| {
                r.presence_checks(l.site, now)
                    .into_iter()
                    .find(|c| c.key == id)
                    .map(|c| (local_date(c.due), c.late))
            });
            let escalation = locker.and_then(|l| {
                r.open_escalations(l.site)
                    .into_iter()
                    .find(|e| e.key == id)
                    .map(|e| e.id)
            });
            Some(KeyInfo {
                tag: k.tag.to_string(),
                suite: suite.map(|s| (s.id, s.name.clone())),
                lock_suite: r
                    .lock(k.lock)
                    .and_then(|l| l.suite.clone())
                    .unwrap_or_default(),
                locker: locker.map(|l| (l.id, l.number.clone())),
                lost: k.state == KeyState::Lost,
                escalation,
                out: r.master_sign_out_of(id).map(|o| {
                    let mut text = format!(
                        "Out with {} since {}",
                        r.person(o.person)
                            .map(|p| p.details.name.clone())
                            .unwrap_or_default(),
                        local_date_time(o.out_at)
                    );
                    if let Some(due) = o.due_back {
                        text.push_str(&format!(", due back {}", local_date_time(due)));
                    }
                    text
                }),
                last_seen: r.last_seen(id).map(|s| local_date_time(s.at)),
                due,
            })
        })
    });
    // The forms change only when the key's state does, so a sync meanwhile keeps what is typed.
    let mode = Memo::new(move |_| {
        info.with(|i| {
            i.as_ref().map(|i| {
                (
                    i.suite.as_ref().map(|s| s.0),
                    !i.lost && i.out.is_none(),
                    i.out.is_some(),
                    i.lost,
                )
            })
        })
    });
    move || {
        match (id.get(), mode.get()) {
        (Some(id), Some((suite, in_place, out, lost))) => view! {
            <Back href="/master" label="Master keys"/>
            {move || info.get().map(|info| {
                let state_text = if info.lost {
                    "Lost".to_string()
                } else {
                    info.out.clone().unwrap_or_else(|| "In place".into())
                };
                view! {
                    <h1>"Master key "<span class="tag">{info.tag.clone()}</span></h1>
                    <section class="card">
                        <dl class="facts">
                            <dt>"Suite"</dt><dd>{info.suite.clone().map(|s| s.1).unwrap_or_else(|| "None defined".into())}</dd>
                            {info.locker.clone().map(|(l, n)| view! { <dt>"On lock of"</dt><dd><A href=format!("/lockers/{l}")>{format!("Locker {n}")}</A></dd> })}
                            <dt>"State"</dt><dd>{state_text}</dd>
                            <dt>"Last seen"</dt><dd>{info.last_seen.clone().unwrap_or_else(|| "Never checked".into())}</dd>
                            {info.due.clone().map(|(d, late)| view! {
                                <dt>"Next check"</dt>
                                <dd class:late=late>{if late { format!("{d} (late)") } else { d }}</dd>
                            })}
                        </dl>
                    </section>
                    {info.escalation.map(|e| view! {
                        <p class="error">"This master key is reported lost. "<A href=format!("/master/escalations/{e}")>"See the lockers at risk"</A></p>
                    })}
                    {info.suite.is_none().then(|| view! {
                        <p class="warning">{if info.lock_suite.is_empty() {
                            "This master key's lock names no suite, so it belongs to no suite.".to_string()
                        } else {
                            format!("This master key belongs to no suite yet: define the suite “{}” under Master keys.", info.lock_suite)
                        }}</p>
                    })}
                }
            })}
            {suite.map(|suite| view! {
                {in_place.then(|| view! { <SignOutForm key=id suite/> })}
                {out.then(|| view! { <ReturnForm key=id/> })}
                {(!lost).then(|| view! { <ReportLost key=id/> })}
            })}
            <Uses key=id/>
        }
        .into_any(),
        _ => view! {
            <Back href="/master" label="Master keys"/>
            <h1>"Master key not found"</h1>
            <p>"This master key is not in the register on this device."</p>
        }
        .into_any(),
    }
    }
}

#[component]
fn SignOutForm(key: KeyId, suite: SuiteId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let person = RwSignal::new(None::<PersonId>);
    let witness = RwSignal::new(None::<PersonId>);
    let reason = RwSignal::new(String::new());
    let due = RwSignal::new(String::new());
    let holders = Signal::derive(move || {
        state.register.with(|r| {
            let mut list = r
                .suite(suite)
                .map(|s| {
                    s.holders
                        .iter()
                        .filter_map(|p| r.person(*p).map(|p| (p.id, p.details.name.clone())))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            list.sort_by(|a, b| a.1.cmp(&b.1));
            list
        })
    });
    let witness_needed = Memo::new(move |_| state.register.with(|r| r.witness_required(suite)));
    let emergency = Memo::new(move |_| {
        person
            .get()
            .is_some_and(|p| !state.register.with(|r| r.is_authorised(suite, p)))
    });
    let suite_name = move || {
        state
            .register
            .with(|r| r.suite(suite).map(|s| s.name.clone()).unwrap_or_default())
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(who) = person.get_untracked() else {
            form.fail(
                "Choose the person taking the key: tap an authorised holder, or search by name.",
            );
            return;
        };
        let Ok(due_back) = parse_due(&due.get_untracked()) else {
            form.fail("Enter when it is due back as a 24-hour time, for example 17:30, or a date and time, for example 27/11/2026 09:00. Or leave it empty.");
            return;
        };
        let emergency = emergency.get_untracked();
        form.run(
            Command::SignOutMasterKey {
                key,
                person: who,
                reason: reason.get_untracked(),
                witness: witness.get_untracked(),
                due_back,
                emergency,
            },
            move |_| {
                let tag = state
                    .register
                    .with_untracked(|r| r.key(key).map(|k| k.tag.to_string()).unwrap_or_default());
                let name = name_of(state, who);
                state.flash.set(Some(if emergency {
                    format!("Emergency use of master key {tag} by {name} recorded and flagged for an admin's review.")
                } else {
                    format!("Master key {tag} signed out to {name}.")
                }));
            },
        );
    };
    view! {
        <form class="card" on:submit=submit novalidate>
            <h2>"Sign out"</h2>
            <PersonPicker id="signout-person" label="Person taking the key" chosen=person optional=false first=holders first_label="Authorised holders"/>
            {move || emergency.get().then(|| view! {
                <div class="emergency">
                    <p><strong>"Emergency use — flagged for an admin's review"</strong></p>
                    <p>{format!("{} is not an authorised holder of the {} suite. The key can only be taken as an emergency use: give its reason below.", person.get().map(|p| name_of(state, p)).unwrap_or_default(), suite_name())}</p>
                </div>
            })}
            <label for="signout-reason">{move || if emergency.get() { "Reason for the emergency use" } else { "Reason" }}</label>
            <input id="signout-reason" autocomplete="off" placeholder="Pupil locked out of locker C12" bind:value=reason/>
            <PersonPicker id="signout-witness" label="Witness" chosen=witness optional=Signal::derive(move || !witness_needed.get()) first=Vec::new()/>
            <label for="signout-due">"Due back (optional)"</label>
            <p class="hint" id="signout-due-hint">"24-hour time today, for example 17:30, or a date and time, 27/11/2026 09:00."</p>
            <input id="signout-due" inputmode="numeric" autocomplete="off" aria-describedby="signout-due-hint" bind:value=due/>
            <FormError form/>
            {move || if emergency.get() {
                view! { <Submit form label="Record emergency use" action=Action::UseMasterKey/> }.into_any()
            } else {
                view! { <Submit form label="Sign out" action=Action::UseMasterKey/> }.into_any()
            }}
        </form>
    }
}

#[component]
fn ReturnForm(key: KeyId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let received = RwSignal::new(state.user());
    let notes = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.run(
            Command::ReturnMasterKey {
                key,
                received_by: received.get_untracked(),
                notes: notes.get_untracked(),
            },
            move |_| {
                let tag = state
                    .register
                    .with_untracked(|r| r.key(key).map(|k| k.tag.to_string()).unwrap_or_default());
                state
                    .flash
                    .set(Some(format!("Master key {tag} returned and in its place.")));
            },
        );
    };
    view! {
        <form class="card" on:submit=submit novalidate>
            <h2>"Return"</h2>
            <label for="return-received">"Received by"</label>
            <input id="return-received" autocomplete="name" bind:value=received/>
            <label for="return-notes">"Notes (optional)"</label>
            <textarea id="return-notes" rows="2" bind:value=notes></textarea>
            <FormError form/>
            <Submit form label="Record return" action=Action::UseMasterKey/>
        </form>
    }
}

#[component]
fn ReportLost(key: KeyId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let notes = RwSignal::new(String::new());
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let navigate = navigate.clone();
        form.run(
            Command::ReportMasterKeyLost {
                key,
                notes: notes.get_untracked(),
            },
            move |event| {
                if let keyward_core::Change::MasterLostReported { escalation, .. } = event.change {
                    state.flash.set(Some(
                        "Master key reported lost. Every device of the site shows the alert until an admin resolves it.".into(),
                    ));
                    navigate(&format!("/master/escalations/{escalation}"), Default::default());
                }
            },
        );
    };
    view! {
        <form class="card warning" on:submit=submit novalidate>
            <h2>"Lost?"</h2>
            <p class="hint">"Every lock of its suite is then at risk: every device of the site shows an alert until an admin resolves it."</p>
            <label for="lost-notes">"What happened (optional)"</label>
            <textarea id="lost-notes" rows="2" bind:value=notes></textarea>
            <FormError form/>
            <Submit form label="Report lost" action=Action::UseMasterKey/>
        </form>
    }
}

#[component]
fn Uses(key: KeyId) -> impl IntoView {
    let state = use_app();
    let uses = Memo::new(move |_| {
        state.register.with(|r| {
            r.sign_outs_of_key(key)
                .into_iter()
                .map(|s| {
                    let name = |p: PersonId| {
                        r.person(p)
                            .map(|p| p.details.name.clone())
                            .unwrap_or_default()
                    };
                    let back = match (&s.returned, s.lost) {
                        (Some(ret), _) => format!(
                            "Back: {}, received by {}",
                            local_date_time(ret.at),
                            ret.received_by
                        ),
                        (None, Some(_)) => "Reported lost while out".into(),
                        (None, None) => "Still out".into(),
                    };
                    let flag = if s.needs_review() {
                        Some("Emergency use: waiting for an admin's review".to_string())
                    } else {
                        s.review
                            .as_ref()
                            .map(|rv| format!("Reviewed by {}: {}", rv.by, rv.notes))
                    };
                    (
                        s.id,
                        name(s.person),
                        s.reason.clone(),
                        format!("Out: {}", local_date_time(s.out_at)),
                        back,
                        s.witness.map(|w| format!("Witness: {}", name(w))),
                        s.due_back
                            .map(|d| format!("Due back {}", local_date_time(d))),
                        s.emergency,
                        flag,
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    view! {
        <section class="card">
            <h2>"Uses"</h2>
            <Show when=move || uses.with(Vec::is_empty)>
                <p class="hint">"Never signed out."</p>
            </Show>
            <ol class="timeline uses">
                <For each=move || uses.get() key=|u| u.clone() let:((_, who, reason, out, back, witness, due, emergency, flag))>
                    <li>
                        <p><strong>{who}</strong>{emergency.then_some(" (emergency use)")}": "{reason}</p>
                        <p class="meta">{out}{due.map(|d| format!(" · {d}"))}</p>
                        <p class="meta">{back}</p>
                        {witness.map(|w| view! { <p class="meta">{w}</p> })}
                        {flag.map(|f| view! { <p class="meta flag">{f}</p> })}
                    </li>
                </For>
            </ol>
        </section>
    }
}

// ---------------------------------------------------------------------------------------------
// The presence check

#[component]
pub fn CheckPage() -> impl IntoView {
    use crate::camera;
    use leptos::html::Video;

    let state = use_app();
    let form = FormState::new();
    let site = Memo::new(move |_| state.site());
    let keys = Memo::new(move |_| {
        site.get()
            .map(|s| key_lines(state, s, None))
            .unwrap_or_default()
    });
    let typed = RwSignal::new(String::new());
    let scanning = RwSignal::new(false);
    let camera_problem = RwSignal::new(None::<String>);
    let video = NodeRef::<Video>::new();
    let last = StoredValue::new(String::new());

    let seen = move |tag: String| {
        let Some(parsed) = keyward_core::TagId::parse(&tag) else {
            let tag = tag.trim().to_string();
            form.fail(format!(
                "“{tag}” is not a tag id. A tag id has 7 letters and digits, like K7M2P9Q."
            ));
            return;
        };
        let shown = parsed.to_string();
        form.run(
            Command::CheckMasterKey {
                tag: parsed,
                notes: String::new(),
            },
            move |_| {
                let due = state.register.with_untracked(|r| {
                    let key = r.key_by_tag(&keyward_core::TagId::parse(&shown)?)?;
                    let site = r.locker_of_key(key.id)?.site;
                    r.presence_checks(site, Utc::now())
                        .into_iter()
                        .find(|c| c.key == key.id)
                        .map(|c| local_date(c.due))
                });
                state.flash.set(Some(format!(
                    "Master key {} seen in its place.{}",
                    shown,
                    due.map(|d| format!(" Next check due {d}."))
                        .unwrap_or_default()
                )));
                typed.set(String::new());
            },
        );
    };
    // A scanned label is a key tag's URL: the tag is what is checked.
    let from_code = move |text: String| {
        if last.with_value(|l| *l == text) {
            return;
        }
        last.set_value(text.clone());
        let tag =
            state
                .register
                .with_untracked(|r| match Scanned::parse(&text).map(|s| r.resolve(&s)) {
                    Some(Resolved::Key(_, id)) => r.key(id).map(|k| k.tag.to_string()),
                    _ => None,
                });
        match tag {
            Some(tag) => seen(tag),
            None => form
                .fail("That code is not a master key of this register. Scan a master key's tag."),
        }
    };
    let start = move |_| {
        scanning.set(true);
        camera_problem.set(None);
    };
    let started = StoredValue::new(false);
    Effect::new(move |_| {
        if !scanning.get() || started.get_value() {
            return;
        }
        let Some(element) = video.get() else {
            return;
        };
        started.set_value(true);
        leptos::task::spawn_local(async move {
            if let Err(reason) =
                camera::start(&element, false, move |text, _| from_code(text)).await
            {
                camera_problem.set(Some(format!(
                    "The camera could not start ({reason}). Tap “Seen” beside each key instead, or type its tag."
                )));
            }
        });
    });
    on_cleanup(camera::stop);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        seen(typed.get_untracked());
    };
    let next = move || {
        keys.with(|k| {
            let late = k.iter().filter(|k| k.late).count();
            let next = site.get().and_then(|s| {
                state.register.with(|r| {
                    r.presence_checks(s, Utc::now())
                        .into_iter()
                        .find(|c| !c.late)
                        .map(|c| local_date(c.due))
                })
            });
            (late, next)
        })
    };
    view! {
        <Back href="/master" label="Master keys"/>
        <h1>"Check master keys"</h1>
        <p class="lead">"Record each master key you see in its place: tap “Seen”, scan its tag, or type it."</p>
        {move || {
            let (late, next) = next();
            view! {
                {(late > 0).then(|| view! { <p class="warning">{if late == 1 { "1 check is late.".to_string() } else { format!("{late} checks are late.") }}</p> })}
                {next.map(|d| view! { <p>"Next check due "<strong>{d}</strong>"."</p> })}
            }
        }}
        <FormError form/>
        <RoleNote action=Action::UseMasterKey/>
        <ul class="rows checks">
            <For each=move || keys.get() key=|k| k.clone() let:k>
                <li class="check-row">
                    <span class="row-main">
                        <a href=format!("/master/keys/{}", k.id)><span class="tag">{k.tag.clone()}</span></a>
                        <span class="meta">{k.suite.clone()}" · "{k.status.clone()}</span>
                        <span class="meta" class:late=k.late>
                            {k.last_seen.clone().map(|s| format!("Seen {s}")).unwrap_or_else(|| "Never checked".into())}
                            {k.due.clone().map(|d| format!(" · due {d}{}", if k.late { " (late)" } else { "" }))}
                        </span>
                    </span>
                    {(!k.out && !k.lost).then(|| {
                        let tag = k.tag.clone();
                        view! {
                            <Allowed action=Action::UseMasterKey>
                                <button type="button" class="button small" aria-label=format!("Seen {}", tag) disabled=move || form.busy.get() on:click={
                                    let tag = tag.clone();
                                    move |_| seen(tag.clone())
                                }>"Seen"</button>
                            </Allowed>
                        }
                    })}
                </li>
            </For>
        </ul>
        <Show when=move || keys.with(Vec::is_empty)>
            <p class="empty">"No master key to check. Define a suite and add master keys to its locks first."</p>
        </Show>
        <section class="card">
            <h2>"Scan or type a tag"</h2>
            <Show
                when=move || scanning.get()
                fallback=move || view! { <button type="button" class="button" on:click=start>"Scan tags with the camera"</button> }
            >
                <div class="camera">
                    <video node_ref=video aria-label="Camera view" muted=true playsinline=true></video>
                    <div class="target" aria-hidden="true"></div>
                </div>
                <p class="hint" role="status">{move || camera_problem.get().unwrap_or_else(|| "Point the camera at each master key's tag.".into())}</p>
            </Show>
            <form on:submit=submit novalidate>
                <label for="check-tag">"Tag id"</label>
                <input id="check-tag" autocomplete="off" autocapitalize="characters" placeholder="K7M2P9Q" bind:value=typed/>
                <Submit form label="Record seen" action=Action::UseMasterKey/>
            </form>
        </section>
    }
}

// ---------------------------------------------------------------------------------------------
// Emergency uses to review

#[component]
pub fn ReviewsPage() -> impl IntoView {
    let state = use_app();
    let uses = Memo::new(move |_| {
        let Some(site) = state.site() else {
            return Vec::new();
        };
        state.register.with(|r| {
            r.uses_to_review(site)
                .into_iter()
                .map(|s| {
                    let name = |p: PersonId| {
                        r.person(p)
                            .map(|p| p.details.name.clone())
                            .unwrap_or_default()
                    };
                    let tag = r.key(s.key).map(|k| k.tag.to_string()).unwrap_or_default();
                    let suite = r.suite(s.suite).map(|x| x.name.clone()).unwrap_or_default();
                    let back = match &s.returned {
                        Some(ret) => format!(
                            "Back {}, received by {}",
                            local_date_time(ret.at),
                            ret.received_by
                        ),
                        None if s.lost.is_some() => "Reported lost while out".into(),
                        None => "Still out".into(),
                    };
                    (
                        s.id,
                        s.key,
                        format!("Master key {tag} ({suite}) taken by {}", name(s.person)),
                        s.reason.clone(),
                        format!(
                            "Out {} · recorded by {}",
                            local_date_time(s.out_at),
                            s.recorded_by
                        ),
                        back,
                        s.witness.map(|w| format!("Witness: {}", name(w))),
                        if s.emergency {
                            "Emergency use by someone not authorised"
                        } else {
                            "Use by a holder whose authorisation had been withdrawn"
                        },
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    view! {
        <Back href="/master" label="Master keys"/>
        <h1>"Emergency uses to review"</h1>
        <RoleNote action=Action::MasterKeys/>
        <Show when=move || uses.with(Vec::is_empty)>
            <p class="empty">"No use of a master key waits for review."</p>
        </Show>
        <For each=move || uses.get() key=|u| u.clone() let:((id, key_id, title, reason, out, back, witness, why))>
            <section class="card review">
                <h2><A href=format!("/master/keys/{key_id}")>{title.clone()}</A></h2>
                <p class="flag">{why}</p>
                <p>"Reason: "{reason}</p>
                <p class="meta">{out}</p>
                <p class="meta">{back}</p>
                {witness.map(|w| view! { <p class="meta">{w}</p> })}
                <Allowed action=Action::MasterKeys>
                    <ReviewForm id/>
                </Allowed>
            </section>
        </For>
    }
}

#[component]
fn ReviewForm(id: SignOutId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let notes = RwSignal::new(String::new());
    let field = format!("review-{id}");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.run(
            Command::ReviewEmergencyUse {
                sign_out: id,
                notes: notes.get_untracked(),
            },
            move |_| state.flash.set(Some("Review recorded.".into())),
        );
    };
    view! {
        <form on:submit=submit novalidate>
            <label for=field.clone()>"Review notes"</label>
            <textarea id=field rows="2" bind:value=notes></textarea>
            <FormError form/>
            <Submit form label="Record review" action=Action::MasterKeys/>
        </form>
    }
}

// ---------------------------------------------------------------------------------------------
// A lost master key's escalation

/// The open escalations of the site, for the banner on every screen: (id, tag, lockers at risk).
pub fn open_escalation_lines(state: AppState) -> Vec<(EscalationId, String, Vec<String>)> {
    let Some(site) = state.site() else {
        return Vec::new();
    };
    state.register.with(|r| {
        r.open_escalations(site)
            .into_iter()
            .map(|e| {
                (
                    e.id,
                    r.key(e.key).map(|k| k.tag.to_string()).unwrap_or_default(),
                    r.at_risk(e.id).into_iter().map(|a| a.number).collect(),
                )
            })
            .collect()
    })
}

/// "A-001, A-002, A-003 and 4 more".
pub fn locker_list(numbers: &[String]) -> String {
    const SHOWN: usize = 6;
    match numbers.len() {
        0 => "no locker fitted with its suite's locks".into(),
        n if n <= SHOWN => numbers.join(", "),
        n => format!("{} and {} more", numbers[..SHOWN].join(", "), n - SHOWN),
    }
}

#[component]
pub fn EscalationPage() -> impl IntoView {
    let state = use_app();
    let params = use_params_map();
    let id =
        Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| EscalationId::parse(&id))));
    let info = Memo::new(move |_| {
        let id = id.get()?;
        state.register.with(|r| {
            let e = r.escalation(id)?;
            let tag = r.key(e.key).map(|k| k.tag.to_string()).unwrap_or_default();
            let suite = r.suite(e.suite).map(|s| s.name.clone()).unwrap_or_default();
            let was_out = e.sign_out.and_then(|s| r.sign_out(s)).map(|s| {
                r.person(s.person)
                    .map(|p| p.details.name.clone())
                    .unwrap_or_default()
            });
            let end = e.end.as_ref().map(|end| {
                format!(
                    "Resolved by {} on {}: {}. {}",
                    end.by,
                    local_date_time(end.at),
                    if end.found { "found" } else { "not found" },
                    end.notes
                )
            });
            let risk = r
                .at_risk(id)
                .into_iter()
                .map(|a| (a.locker, a.number))
                .collect::<Vec<_>>();
            Some((
                e.key,
                tag,
                suite,
                e.reported_by.clone(),
                local_date_time(e.at),
                e.notes.clone(),
                was_out,
                end,
                risk,
            ))
        })
    });
    move || {
        match (id.get(), info.get()) {
        (Some(id), Some((key, tag, suite, by, at, notes, was_out, end, risk))) => view! {
            <Back href="/master" label="Master keys"/>
            <h1>"Lost master key "<span class="tag">{tag}</span></h1>
            <section class="card">
                <dl class="facts">
                    <dt>"Suite"</dt><dd>{suite}</dd>
                    <dt>"Reported"</dt><dd>{format!("{at} by {by}")}</dd>
                    {was_out.map(|w| view! { <dt>"Was out with"</dt><dd>{w}</dd> })}
                    {(!notes.is_empty()).then(|| view! { <dt>"Notes"</dt><dd>{notes}</dd> })}
                    <dt>"Key"</dt><dd><A href=format!("/master/keys/{key}")>"Its page and uses"</A></dd>
                </dl>
                {match end.clone() {
                    Some(text) => view! { <p class="flash-static">{text}</p> }.into_any(),
                    None => view! { <p class="error">"Open: until it is resolved every device of the site shows this alert."</p> }.into_any(),
                }}
            </section>
            <section class="card">
                <h2>"Lockers at risk"</h2>
                <p class="hint">"Every lock of the suite opens with the lost key. Change each lock, or resolve the escalation once the key is found."</p>
                {if risk.is_empty() {
                    view! { <p>"No lock of this suite is fitted to a locker now."</p> }.into_any()
                } else {
                    view! {
                        <ul class="keys at-risk">
                            {risk.into_iter().map(|(locker, number)| view! {
                                <li class="key">
                                    <strong>{format!("Locker {number}")}</strong>
                                    <A href=format!("/lockers/{locker}") attr:class="button small" attr:aria-label=format!("Change the lock of locker {number}")>"Change the lock"</A>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
            {end.is_none().then(|| view! { <Resolve id/> })}
        }
        .into_any(),
        _ => view! {
            <Back href="/master" label="Master keys"/>
            <h1>"Escalation not found"</h1>
            <p>"This escalation is not in the register on this device."</p>
        }
        .into_any(),
    }
    }
}

#[component]
fn Resolve(id: EscalationId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let found = RwSignal::new(true);
    let notes = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.run(
            Command::ResolveEscalation {
                escalation: id,
                found: found.get_untracked(),
                notes: notes.get_untracked(),
            },
            move |_| {
                state.flash.set(Some(
                    "Escalation resolved. The alert goes from every device of the site as each one syncs."
                        .into(),
                ));
            },
        );
    };
    view! {
        <form class="card" on:submit=submit novalidate>
            <h2>"Resolve"</h2>
            <Choices legend="The master key" name="found" value=found options=vec![(true, "Found"), (false, "Not found")]/>
            <label for="resolve-notes">"What was done"</label>
            <textarea id="resolve-notes" rows="2" placeholder="Found in the ward office" bind:value=notes></textarea>
            <FormError form/>
            <Submit form label="Resolve" action=Action::MasterKeys/>
        </form>
    }
}
