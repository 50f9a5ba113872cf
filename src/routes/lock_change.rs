//! Lock changes and faults (DOMAIN.md procedure 7): the lock change form
//! (`/lockers/:id/change-lock?case=…`), which says first which keys will be retired and who
//! still holds one; the pieces of the locker page for faults, retired keys and losses; and the
//! lists under Set-up: locks to replace (`/locks-to-replace`) and repeated losses
//! (`/repeated-losses`).

use crate::components::Count;
use crate::components::{local_date_time, Back, FormError, FormState, RoleNote, Submit};
use crate::state::use_app;
use keyward_core::format::uk_date;
use keyward_core::{
    Action, CaseId, Command, FaultKind, KeyKind, KeyState, LockKind, LockerId, Register, SiteId,
};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

/// The keys of a locker's current lock that a change would retire, each with who holds it
/// now if it is out: (tag, state, holder).
fn keys_to_retire(r: &Register, locker: LockerId) -> Vec<(String, KeyState, Option<String>)> {
    r.keys_of_locker(locker)
        .into_iter()
        .filter(|k| k.kind != KeyKind::Master)
        .map(|k| {
            let holder = r.current_loan(k.id).map(|l| r.holder_name(&l.holder));
            (k.tag.to_string(), k.state, holder)
        })
        .collect()
}

#[component]
pub fn ChangeLockPage() -> impl IntoView {
    let state = use_app();
    let id = use_params_map().with_untracked(|p| p.get("id").and_then(|id| LockerId::parse(&id)));
    let found = id.and_then(|id| {
        state.register.with_untracked(|r| {
            let locker = r.locker(id)?;
            let lock = r.lock(locker.lock?)?;
            Some((
                id,
                locker.number.clone(),
                lock.kind,
                lock.code.clone(),
                lock.suite.clone(),
            ))
        })
    });
    match found {
        Some((id, number, kind, code, suite)) => {
            view! { <ChangeLock id number kind code suite/> }.into_any()
        }
        None => view! {
            <Back href="/" label="Register"/>
            <h1>"No lock to change"</h1>
            <p>"This locker is not in the register on this device, or has no lock fitted."</p>
        }
        .into_any(),
    }
}

#[component]
fn ChangeLock(
    id: LockerId,
    number: String,
    kind: LockKind,
    code: String,
    suite: Option<String>,
) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let navigate = use_navigate();
    let case = use_query_map().with_untracked(|q| q.get("case").and_then(|c| CaseId::parse(&c)));
    let reason_text = state.register.with_untracked(|r| {
        case.and_then(|c| r.case(c)).map(|c| {
            let tag = r.key(c.key).map(|k| k.tag.to_string()).unwrap_or_default();
            let why = r.lock_change_reasons(c);
            if why.is_empty() {
                format!("Key {tag} lost")
            } else {
                format!("Key {tag} lost: {}", why.join(", "))
            }
        })
    });
    let retire = Memo::new(move |_| state.register.with(|r| keys_to_retire(r, id)));
    let new_kind = RwSignal::new(kind);
    let new_code = RwSignal::new(String::new());
    let new_suite = RwSignal::new(suite.unwrap_or_default());
    let reason = RwSignal::new(reason_text.unwrap_or_default());
    let may_see = state.allowed(Action::OrderKeys).is_ok();
    let number_for_flash = number.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let navigate = navigate.clone();
        let number = number_for_flash.clone();
        let holders: Vec<String> = retire
            .get_untracked()
            .into_iter()
            .filter_map(|(_, _, h)| h)
            .collect();
        let retired = retire
            .get_untracked()
            .iter()
            .filter(|(_, s, _)| !matches!(s, KeyState::Lost | KeyState::Stolen))
            .count();
        form.run(
            Command::ChangeLock {
                locker: id,
                kind: new_kind.get_untracked(),
                code: new_code.get_untracked(),
                suite: new_suite.get_untracked(),
                reason: reason.get_untracked(),
            },
            move |_| {
                let mut text = format!(
                    "Lock changed on locker {number}. {retired} old key{} retired.",
                    if retired == 1 { "" } else { "s" }
                );
                for h in holders {
                    text.push_str(&format!(
                        " Tell {h}: their key no longer opens this locker."
                    ));
                }
                state.flash.set(Some(text));
                navigate(&format!("/lockers/{id}"), Default::default());
            },
        );
    };
    view! {
        <Back href=format!("/lockers/{id}") label=format!("Locker {number}")/>
        <h1>"Change the lock: locker "{number.clone()}</h1>
        <section class="card">
            <h2>"The lock now"</h2>
            <dl class="facts">
                <dt>"Type"</dt><dd>{kind.label()}</dd>
                <dt>"Code"</dt><dd>{if may_see { code } else { "Only a key custodian or admin can see the key code".into() }}</dd>
            </dl>
        </section>
        <section class="card warning-card" aria-labelledby="retire-heading">
            <h2 id="retire-heading">"What a lock change does"</h2>
            {move || {
                let keys = retire.get();
                let retiring: Vec<String> = keys.iter()
                    .filter(|(_, s, _)| !matches!(s, KeyState::Lost | KeyState::Stolen))
                    .map(|(t, _, _)| t.clone()).collect();
                let holders: Vec<(String, String)> = keys.iter()
                    .filter_map(|(t, _, h)| h.clone().map(|h| (t.clone(), h))).collect();
                view! {
                    <p>{match retiring.len() {
                        0 => "No keys of the old lock to retire.".to_string(),
                        n => format!("Every key of the old lock will be retired ({n}): {}.", retiring.join(", ")),
                    }}</p>
                    {(!holders.is_empty()).then(|| view! {
                        <p>"These holders still have a key of the old lock:"</p>
                        <ul class="tell">
                            {holders.into_iter().map(|(tag, h)| view! {
                                <li>{format!("Tell {h}: their key no longer opens this locker (key {tag}).")}</li>
                            }).collect_view()}
                        </ul>
                    })}
                    <p class="hint">"Open lost-key cases of this locker close. A lost key found later comes back retired."</p>
                }
            }}
        </section>
        <form class="card" on:submit=submit novalidate>
            <h2>"The new lock"</h2>
            <label for="change-kind">"Lock type"</label>
            <select id="change-kind" on:change=move |ev| {
                let value = event_target_value(&ev);
                if let Some(k) = LockKind::ALL.into_iter().find(|k| k.label() == value) { new_kind.set(k) }
            }>
                {LockKind::ALL.into_iter().map(|k| view! { <option value=k.label() selected=move || new_kind.get() == k>{k.label()}</option> }).collect_view()}
            </select>
            <label for="change-code">"New lock code"</label>
            <p class="hint" id="change-code-hint">"The code its new keys are cut to. It never appears on a label."</p>
            <input id="change-code" aria-describedby="change-code-hint" autocapitalize="characters" bind:value=new_code/>
            <label for="change-suite">"Master-key suite (optional)"</label>
            <input id="change-suite" bind:value=new_suite/>
            <label for="change-reason">"Reason"</label>
            <textarea maxlength={keyward_core::checks::MAX_NAME} id="change-reason" rows="2" bind:value=reason placeholder="Key lost, labelled with the locker number"></textarea>
            <Count value=reason max={keyward_core::checks::MAX_NAME}/>
            <FormError form/>
            <Submit form label="Change the lock and retire the old keys" action=Action::ChangeLocks/>
        </form>
    }
}

/// On the locker page: record a fault on its lock (staff may).
#[component]
pub fn RecordFault(lock: Signal<Option<keyward_core::LockId>>) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let kind = RwSignal::new(FaultKind::Jammed);
    let notes = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(lock) = lock.get_untracked() else {
            return;
        };
        let k = kind.get_untracked();
        form.run(
            Command::RecordFault {
                lock,
                kind: k,
                notes: notes.get_untracked(),
            },
            move |_| {
                state.flash.set(Some(format!(
                    "Fault recorded: {}.",
                    k.label().to_lowercase()
                )));
                notes.set(String::new());
            },
        );
    };
    view! {
        <form class="card" on:submit=submit novalidate>
            <h2>"Record a fault"</h2>
            <fieldset>
                <legend>"What is wrong"</legend>
                {FaultKind::ALL.into_iter().map(|k| view! {
                    <label class="choice">
                        <input type="radio" name="fault-kind" prop:checked=move || kind.get() == k on:change=move |_| kind.set(k)/>
                        {k.label()}
                    </label>
                }).collect_view()}
            </fieldset>
            <label for="fault-notes">"Note (optional)"</label>
            <textarea maxlength={keyward_core::checks::MAX_NOTES} id="fault-notes" rows="2" bind:value=notes placeholder="Key turns but the bolt sticks"></textarea>
            <Count value=notes max={keyward_core::checks::MAX_NOTES}/>
            <FormError form/>
            <Submit form label="Record fault" action=Action::ChangeService/>
        </form>
    }
}

/// On the locker page: faults and losses in numbers, the lock change button, and the keys
/// of old locks (with holders who still have one).
#[component]
pub fn LockerProblems(id: LockerId) -> impl IntoView {
    let state = use_app();
    let facts = Memo::new(move |_| {
        state.register.with(|r| {
            let locker = r.locker(id)?;
            let now = chrono::Utc::now();
            let lock = locker.lock.and_then(|l| r.lock(l));
            let faults = lock.map(|l| l.faults.len()).unwrap_or(0);
            let flagged = lock.is_some_and(|l| r.lock_flagged(l.id, now));
            let losses = r.losses_at(id);
            let open: Vec<(keyward_core::CaseId, String)> = losses
                .iter()
                .filter(|c| c.closed.is_none())
                .map(|c| {
                    let tag = r.key(c.key).map(|k| k.tag.to_string()).unwrap_or_default();
                    (c.id, tag)
                })
                .collect();
            Some((faults, flagged, losses.len(), open, lock.is_some()))
        })
    });
    let retired = Memo::new(move |_| {
        state.register.with(|r| {
            r.keys()
                .filter(|k| k.state == KeyState::Retired)
                .filter(|k| r.lock(k.lock).is_some_and(|l| l.locker == id))
                .map(|k| {
                    let holder = k
                        .loan
                        .and_then(|l| r.loan(l))
                        .filter(|l| l.is_open())
                        .map(|l| (r.holder_name(&l.holder), uk_date(l.date)));
                    (k.id, k.tag.to_string(), holder)
                })
                .collect::<Vec<_>>()
        })
    });
    view! {
        {move || facts.get().map(|(faults, flagged, losses, open, has_lock)| view! {
            <section class="card">
                <h2>"Faults and losses"</h2>
                <p>{format!("{faults} fault{} recorded on this lock. {losses} lost key{} at this locker.",
                    if faults == 1 { "" } else { "s" }, if losses == 1 { "" } else { "s" })}</p>
                {flagged.then(|| view! { <p class="warning">"Repeated faults: this lock should be replaced."</p> })}
                {open.into_iter().map(|(c, tag)| view! {
                    <p class="alert-lost"><A href=format!("/cases/{c}")>{format!("Key {tag} is lost: open its case")}</A></p>
                }).collect_view()}
                {has_lock.then(|| view! {
                    <p class="actions">
                        {state.allowed(Action::ChangeLocks).is_ok().then(|| view! {
                            <A href=format!("/lockers/{id}/change-lock") attr:class="button">"Change the lock"</A>
                        })}
                    </p>
                    <RoleNote action=Action::ChangeLocks/>
                })}
            </section>
        })}
        <Show when=move || !retired.with(Vec::is_empty)>
            <section class="card">
                <h2>"Retired keys"</h2>
                <ul class="keys">
                    <For each=move || retired.get() key=|k| k.clone() let:((key, tag, holder))>
                        <li class="key">
                            <div>
                                <A href=format!("/keys/{key}")><span class="tag">{tag.clone()}</span></A>
                                <div class="meta">{match holder {
                                    Some((name, since)) => format!("Retired while out: {name} still has it (since {since}). Tell {name}: their key no longer opens this locker."),
                                    None => "Retired".to_string(),
                                }}</div>
                            </div>
                        </li>
                    </For>
                </ul>
            </section>
        </Show>
    }
}

// ---------------------------------------------------------------------------------------------
// Set-up lists

#[component]
pub fn LocksToReplacePage() -> impl IntoView {
    let state = use_app();
    let rows = Memo::new(move |_| {
        let site: Option<SiteId> = state.site();
        let now = chrono::Utc::now();
        state.register.with(|r| {
            site.map(|s| {
                r.locks_to_replace(s, now)
                    .into_iter()
                    .map(|l| {
                        let (locker, number, area) = r
                            .locker(l.locker)
                            .map(|x| {
                                (
                                    x.id,
                                    x.number.clone(),
                                    r.area(x.area).map(|a| a.name.clone()).unwrap_or_default(),
                                )
                            })
                            .unwrap_or((l.locker, String::new(), String::new()));
                        let last = l
                            .faults
                            .last()
                            .map(|f| {
                                format!(
                                    ", last {} on {}",
                                    f.kind.label().to_lowercase(),
                                    local_date_time(f.at)
                                )
                            })
                            .unwrap_or_default();
                        (
                            locker,
                            number,
                            format!("{area} · {} faults{last}", l.faults.len()),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
        })
    });
    view! {
        <Back href="/setup" label="Set-up"/>
        <h1>"Locks to replace"</h1>
        <p class="lead">"Locks with repeated faults, by each area's policy (3 faults in 90 days unless set)."</p>
        <Show when=move || rows.with(Vec::is_empty)>
            <p class="empty">"No lock has repeated faults."</p>
        </Show>
        <ul class="rows">
            <For each=move || rows.get() key=|r| r.clone() let:((locker, number, meta))>
                <li><A href=format!("/lockers/{locker}")>
                    <span class="row-main"><span class="number">{number}</span><span class="meta">{meta}</span></span>
                </A></li>
            </For>
        </ul>
    }
}

/// A link's address, its name and a line under it.
type Row = (String, String, String);
type Pick = fn(&(Vec<Row>, Vec<Row>)) -> Vec<Row>;

#[component]
pub fn RepeatedLossesPage() -> impl IntoView {
    let state = use_app();
    let lists = Memo::new(move |_| {
        let site = state.site();
        state.register.with(|r| {
            let Some(s) = site else {
                return (Vec::new(), Vec::new());
            };
            let losses = r.repeated_losses(s);
            let people = losses
                .people
                .iter()
                .map(|(p, n)| {
                    let name = r
                        .person(*p)
                        .map(|x| x.details.name.clone())
                        .unwrap_or_default();
                    (format!("/people/{p}"), name, format!("{n} lost keys"))
                })
                .collect::<Vec<_>>();
            let lockers = losses
                .lockers
                .iter()
                .map(|(l, n)| {
                    let number = r.locker(*l).map(|x| x.number.clone()).unwrap_or_default();
                    (
                        format!("/lockers/{l}"),
                        format!("Locker {number}"),
                        format!("{n} lost keys"),
                    )
                })
                .collect::<Vec<_>>();
            (people, lockers)
        })
    });
    let list = move |pick: Pick| {
        move || {
            let rows = lists.with(pick);
            if rows.is_empty() {
                return view! { <p>"None."</p> }.into_any();
            }
            view! {
                <ul class="rows">
                    {rows.into_iter().map(|(href, name, meta)| view! {
                        <li><A href=href><span class="row-main"><span class="name">{name}</span><span class="meta">{meta}</span></span></A></li>
                    }).collect_view()}
                </ul>
            }
            .into_any()
        }
    };
    view! {
        <Back href="/setup" label="Set-up"/>
        <h1>"Repeated losses"</h1>
        <p class="lead">{format!("People and lockers with {} or more lost or stolen keys.", keyward_core::REPEATED_LOSSES)}</p>
        <section class="card">
            <h2>"People"</h2>
            {list(|l| l.0.clone())}
        </section>
        <section class="card">
            <h2>"Lockers"</h2>
            {list(|l| l.1.clone())}
        </section>
    }
}
