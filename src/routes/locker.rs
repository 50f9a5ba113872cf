//! A locker's page: its state, its lock, its keys (issue and return one tap away), the forms to
//! fit a lock and add keys, and its full history.

use crate::components::{
    local_date_time, Allowed, Back, FormError, FormState, RoleNote, StatusBadge, Submit,
};
use crate::state::{store, use_app};
use chrono::{DateTime, Utc};
use keyward_core::sync::Sent;
use keyward_core::EventId;
use keyward_core::{Action, Command, Confirmation, KeyKind, KeyState, LockKind, LockerId, What};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use std::collections::HashMap;

#[component]
pub fn LockerPage() -> impl IntoView {
    let state = use_app();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| LockerId::parse(&id))));
    let exists = Memo::new(move |_| {
        id.get()
            .is_some_and(|id| state.register.with(|r| r.locker(id).is_some()))
    });
    move || match (id.get(), exists.get()) {
        (Some(id), true) => view! { <Locker id/> }.into_any(),
        _ => view! {
            <Back href="/" label="Register"/>
            <h1>"Locker not found"</h1>
            <p>"This locker is not in the register on this device."</p>
        }
        .into_any(),
    }
}

#[component]
fn Locker(id: LockerId) -> impl IntoView {
    let state = use_app();
    let summary = Memo::new(move |_| {
        state.register.with(|r| {
            let locker = r.locker(id)?;
            Some((
                locker.number.clone(),
                r.area(locker.area)
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
                r.status(locker),
                r.holders_of(id).join(", "),
                locker.out_of_service.clone(),
            ))
        })
    });
    let lock = Memo::new(move |_| {
        state.register.with(|r| {
            let lock = r.lock(r.locker(id)?.lock?)?;
            Some((
                lock.id,
                lock.kind,
                lock.code.clone(),
                lock.suite.clone(),
                local_date_time(lock.fitted_at),
            ))
        })
    });
    view! {
        <Back href="/" label="Register"/>
        {move || summary.get().map(|(number, area, status, holders, out)| view! {
            <header class="page-head">
                <h1>"Locker "{number}</h1>
                <StatusBadge status/>
            </header>
            <p class="meta">{area}</p>
            {(!holders.is_empty()).then(|| view! { <p>"Held by "<strong>{holders}</strong></p> })}
            {out.map(|reason| view! { <p class="warning">"Out of service: "{reason}</p> })}
        })}
        {move || {
            let titles: Vec<String> = state.register.with(|r| {
                r.open_conflicts_of_locker(id)
                    .into_iter()
                    .map(|c| r.describe_conflict(c).title)
                    .collect()
            });
            (!titles.is_empty()).then(|| view! {
                <p class="warning conflict-note">
                    {titles.join(". ")}". "
                    <A href="/conflicts">"Decide in Conflicts"</A>
                </p>
            })
        }}
        <section class="card">
            <h2>"Lock"</h2>
            {move || match lock.get() {
                Some((_, kind, code, suite, fitted)) => view! {
                    <dl class="facts">
                        <dt>"Type"</dt><dd>{kind.label()}</dd>
                        <dt>"Code"</dt><dd>{if state.allowed(Action::OrderKeys).is_ok() { code } else { "Hidden (key custodians and admins only)".into() }}</dd>
                        {suite.map(|s| view! { <dt>"Suite"</dt><dd>{s}</dd> })}
                        <dt>"Fitted"</dt><dd>{fitted}</dd>
                    </dl>
                }.into_any(),
                None => view! { <FitLock id/> }.into_any(),
            }}
        </section>
        <Show when=move || lock.with(|l| l.is_some())>
            <Keys id/>
        </Show>
        <Show when=move || lock.with(|l| matches!(l, Some((_, LockKind::Keyed, ..))))>
            <AddKeys lock=Signal::derive(move || lock.get().map(|l| l.0))/>
        </Show>
        <crate::routes::lock_change::LockerProblems id/>
        <Show when=move || lock.with(|l| l.is_some())>
            <crate::routes::lock_change::RecordFault lock=Signal::derive(move || lock.get().map(|l| l.0))/>
        </Show>
        <section class="card">
            <h2>"Labels"</h2>
            {move || summary.get().map(|(number, ..)| {
                let number = String::from(js_sys::encode_uri_component(&number));
                view! {
                <Allowed action=Action::ManageKeys>
                <p class="actions">
                    <A href=format!("/labels?locker={number}") attr:class="button small">"Print its label"</A>
                    <A href=format!("/labels?locker={number}&keys=1") attr:class="button small">"Print its key tags"</A>
                </p>
                </Allowed>
                <RoleNote action=Action::ManageKeys/>
            }})}
        </section>
        <Service id/>
        <History id/>
    }
}

#[component]
fn FitLock(id: LockerId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let kind = RwSignal::new(LockKind::Keyed);
    let code = RwSignal::new(String::new());
    let suite = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.run(
            Command::FitLock {
                locker: id,
                kind: kind.get_untracked(),
                code: code.get_untracked(),
                suite: suite.get_untracked(),
            },
            move |_| {
                state
                    .flash
                    .set(Some("Lock fitted. Now add its keys.".into()))
            },
        );
    };
    view! {
        <p>"No lock fitted yet."</p>
        <form on:submit=submit novalidate>
            <h3>"Fit a lock"</h3>
            <label for="lock-kind">"Lock type"</label>
            <select id="lock-kind" on:change=move |ev| {
                let value = event_target_value(&ev);
                if let Some(k) = LockKind::ALL.into_iter().find(|k| k.label() == value) { kind.set(k) }
            }>
                {LockKind::ALL.into_iter().map(|k| view! { <option value=k.label() selected=move || kind.get() == k>{k.label()}</option> }).collect_view()}
            </select>
            <label for="lock-code">"Lock code"</label>
            <p class="hint" id="lock-code-hint">"The code its keys are cut to. It never appears on a label."</p>
            <input id="lock-code" aria-describedby="lock-code-hint" autocapitalize="characters" bind:value=code/>
            <label for="lock-suite">"Master-key suite (optional)"</label>
            <input id="lock-suite" bind:value=suite/>
            <FormError form/>
            <Submit form label="Fit lock" action=Action::ManageKeys/>
        </form>
    }
}

#[component]
fn Keys(id: LockerId) -> impl IntoView {
    let state = use_app();
    let may_issue = Memo::new(move |_| state.allowed(Action::IssueReturn).is_ok());
    let keys = Memo::new(move |_| {
        let now = state.clock.get();
        state.register.with(|r| {
            r.keys_of_locker(id)
                .into_iter()
                .map(|k| {
                    let holder = r.current_loan(k.id).map(|l| {
                        let due = keyward_core::due_words(l);
                        let back = if due.is_empty() {
                            String::new()
                        } else {
                            format!(", due back {due}")
                        };
                        let late = if l.is_overdue(now) { " (overdue)" } else { "" };
                        format!("{}{}{}", r.holder_name(&l.holder), back, late)
                    });
                    (
                        k.id,
                        k.tag.to_string(),
                        k.kind,
                        k.copy,
                        k.state,
                        k.storage.clone(),
                        holder,
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    view! {
        <section class="card">
            <h2>"Keys"</h2>
            <Show when=move || keys.with(Vec::is_empty)>
                <p>"No keys recorded for this lock yet."</p>
            </Show>
            <ul class="keys">
                <For each=move || keys.get() key=|k| k.clone() let:((key, tag, kind, copy, key_state, storage, holder))>
                    <li class="key">
                        <div>
                            {let tag = tag.clone(); let href = if kind == KeyKind::Master { format!("/master/keys/{key}") } else { format!("/keys/{key}") }; view! { <A href=href attr:class="tag">{tag}</A> }}
                            <span class="meta">{format!(" {} · copy {}", kind.label(), copy)}</span>
                            <div class="meta">
                                {key_state.label()}
                                {holder.map(|h| format!(": {h}"))}
                                {(key_state == KeyState::InStore).then(|| storage.map(|s| format!(" · {s}"))).flatten()}
                            </div>
                        </div>
                        <span class="key-actions">
                        {let tag = tag.clone(); move || may_issue.get().then(|| match key_state {
                            KeyState::InStore if kind != KeyKind::Master => Some(view! {
                                <A href=format!("/lockers/{id}/issue?key={key}") attr:class="button small" attr:aria-label=format!("Issue key {tag}")>"Issue"</A>
                            }.into_any()),
                            s if s.is_out() => Some(view! {
                                <A href=format!("/keys/{key}/return") attr:class="button small" attr:aria-label=format!("Return key {tag}")>"Return"</A>
                            }.into_any()),
                            _ => None,
                        })}
                        {let tag = tag.clone(); move || may_issue.get().then(|| match key_state {
                            KeyState::InStore | KeyState::Issued | KeyState::SignedOut if kind != KeyKind::Master => Some(view! {
                                <A href=format!("/keys/{key}/lost") attr:class="button small" attr:aria-label=format!("Report key {tag} lost or stolen")>"Lost?"</A>
                            }.into_any()),
                            KeyState::Lost | KeyState::Stolen => Some(view! {
                                <A href=format!("/keys/{key}") attr:class="button small danger" attr:aria-label=format!("Key {tag} is missing: open it")>"Missing"</A>
                            }.into_any()),
                            _ => None,
                        })}
                        </span>
                    </li>
                </For>
            </ul>
            <RoleNote action=Action::IssueReturn/>
        </section>
    }
}

#[component]
fn AddKeys(lock: Signal<Option<keyward_core::LockId>>) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let count = RwSignal::new("1".to_string());
    let kind = RwSignal::new(KeyKind::User);
    let storage = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(lock) = lock.get_untracked() else {
            return;
        };
        let Ok(n) = count.get_untracked().trim().parse::<u32>() else {
            form.fail("Enter how many keys to add, as a number, for example 2.");
            return;
        };
        form.run(
            Command::AddKeys {
                lock,
                kind: kind.get_untracked(),
                count: n,
                storage: storage.get_untracked(),
            },
            move |_| {
                state.flash.set(Some(format!(
                    "{n} key{} added, each with its own tag.",
                    if n == 1 { "" } else { "s" }
                )));
                count.set("1".into());
            },
        );
    };
    view! {
        <form class="card" on:submit=submit novalidate>
            <h2>"Add keys"</h2>
            <div class="pair">
                <div>
                    <label for="key-count">"How many"</label>
                    <input id="key-count" type="number" inputmode="numeric" min="1" max="50" bind:value=count/>
                </div>
                <div>
                    <label for="key-kind">"Kind"</label>
                    <select id="key-kind" on:change=move |ev| {
                        let value = event_target_value(&ev);
                        if let Some(k) = KeyKind::ALL.into_iter().find(|k| k.label() == value) { kind.set(k) }
                    }>
                        {KeyKind::ALL.into_iter().map(|k| view! { <option value=k.label() selected=move || kind.get() == k>{k.label()}</option> }).collect_view()}
                    </select>
                </div>
            </div>
            <label for="key-storage">"Kept at (optional)"</label>
            <input id="key-storage" placeholder="Cabinet 1, hook 12" bind:value=storage/>
            <FormError form/>
            <Submit form label="Add keys" action=Action::ManageKeys/>
        </form>
    }
}

#[component]
fn Service(id: LockerId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let reason = RwSignal::new(String::new());
    let out = Memo::new(move |_| {
        state
            .register
            .with(|r| r.locker(id).is_some_and(|l| l.out_of_service.is_some()))
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let out_of_service = (!out.get_untracked()).then(|| reason.get_untracked());
        form.run(
            Command::SetLockerService {
                locker: id,
                out_of_service,
            },
            move |_| reason.set(String::new()),
        );
    };
    view! {
        <form class="card" on:submit=submit novalidate>
            <h2>"Service"</h2>
            <Show
                when=move || out.get()
                fallback=move || view! {
                    <label for="service-reason">"Reason to take it out of service"</label>
                    <input id="service-reason" placeholder="Door hinge broken" bind:value=reason/>
                    <FormError form/>
                    <Submit form label="Take out of service" action=Action::ChangeService/>
                }
            >
                <FormError form/>
                <Submit form label="Put back in service" action=Action::ChangeService/>
            </Show>
        </form>
    }
}

#[component]
fn History(id: LockerId) -> impl IntoView {
    let state = use_app();
    let entries = Memo::new(move |_| {
        state.register.with(|r| {
            r.timeline(id)
                .iter()
                .rev()
                .map(|e| {
                    let signature = match &e.what {
                        What::Issued { loan } => {
                            r.loan(*loan).and_then(|l| match &l.confirmation {
                                Confirmation::Signature(path) => Some(path.clone()),
                                Confirmation::TypedName(_) | Confirmation::Tapped => None,
                            })
                        }
                        _ => None,
                    };
                    (
                        e.event,
                        e.at,
                        local_date_time(e.at),
                        e.actor.clone(),
                        r.describe(e),
                        signature,
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    // What the server vouched for (another sign-in sent it, or it arrived much later than
    // its device's clock says), read from storage for the events shown.
    let sent = RwSignal::new(HashMap::<EventId, Sent>::new());
    Effect::new(move |_| {
        let ids: Vec<EventId> = entries.with(|e| e.iter().map(|e| e.0).collect());
        leptos::task::spawn_local(async move {
            let Ok(store) = store() else { return };
            if let Ok(found) = store.sent_of(&ids).await {
                sent.set(found);
            }
        });
    });
    let vouched = move |event: EventId, actor: &str, at: DateTime<Utc>| {
        sent.with(|map| {
            let s = map.get(&event)?;
            let mut words = Vec::new();
            if let Some(name) = s.other_sender(actor) {
                words.push(format!("sent by {name}'s sign-in"));
            }
            if let Some(at) = s.late_arrival(at) {
                words.push(format!("reached the server {}", local_date_time(at)));
            }
            (!words.is_empty()).then(|| words.join(", "))
        })
    };
    view! {
        <section class="card">
            <h2>"History"</h2>
            <ol class="timeline">
                <For each=move || entries.get() key=|e| e.clone() let:((event, at, when, who, what, signature))>
                    <li>
                        <p>{what}</p>
                        {signature.map(|path| view! {
                            <svg class="signed" viewBox="0 0 300 120" role="img" aria-label="The signature given">
                                <path d=path/>
                            </svg>
                        })}
                        <p class="meta">{when}" · "{who.clone()}{move || vouched(event, &who, at).map(|v| format!(" · {v}"))}</p>
                    </li>
                </For>
            </ol>
        </section>
    }
}
