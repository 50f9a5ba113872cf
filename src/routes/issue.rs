//! Issuing a key: which key, to whom (a person or a department), when, until when for a
//! temporary loan, and the taker's confirmation (typed name or a signature drawn on screen).

use crate::components::{today, Back, Choices, FormError, FormState, SignaturePad, Submit};
use crate::state::use_app;
use keyward_core::format::{parse_date, uk_date};
use keyward_core::{
    Action, Command, Confirmation, Holder, KeyId, KeyKind, KeyState, LockerId, PersonId,
};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

#[component]
pub fn IssuePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let locker = params.with_untracked(|p| p.get("id").and_then(|id| LockerId::parse(&id)));
    let key = query.with_untracked(|q| q.get("key").and_then(|k| KeyId::parse(&k)));
    let state = use_app();
    match locker.filter(|l| state.register.with_untracked(|r| r.locker(*l).is_some())) {
        Some(locker) => view! { <IssueForm locker preselected=key/> }.into_any(),
        None => view! {
            <Back href="/" label="Register"/>
            <h1>"Locker not found"</h1>
            <p>"This locker is not in the register on this device."</p>
        }
        .into_any(),
    }
}

#[component]
fn IssueForm(locker: LockerId, preselected: Option<KeyId>) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let navigate = use_navigate();
    let number = state.register.with_untracked(|r| {
        r.locker(locker)
            .map(|l| l.number.clone())
            .unwrap_or_default()
    });

    let keys = Memo::new(move |_| {
        state.register.with(|r| {
            r.keys_of_locker(locker)
                .into_iter()
                .filter(|k| k.state == KeyState::InStore && k.kind != KeyKind::Master)
                .map(|k| {
                    (
                        k.id,
                        format!("{} · {} · copy {}", k.tag, k.kind.label(), k.copy),
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    let key = RwSignal::new(preselected);
    // The key picked (or tapped on the locker page) while it is still in store; otherwise the
    // first key in store. A key issued meanwhile elsewhere is not swapped silently: the person
    // is told and chooses again.
    let chosen_key = move || match key.get() {
        Some(k) if keys.with(|ks| ks.iter().any(|(id, _)| *id == k)) => Some(k),
        Some(_) => None,
        None => keys.with(|k| k.first().map(|(id, _)| *id)),
    };
    let gone = move || {
        let k = key.get()?;
        if chosen_key().is_some() {
            return None;
        }
        state.register.with(|r| {
            r.key(k).map(|k| {
                format!(
                    "Key {} is {} now, so it cannot be issued. Choose another key.",
                    k.tag,
                    k.state.label().to_lowercase()
                )
            })
        })
    };

    let to_person = RwSignal::new(true);
    let person = RwSignal::new(None::<PersonId>);
    let person_search = RwSignal::new(String::new());
    let department = RwSignal::new(String::new());
    let date = RwSignal::new(uk_date(today()));
    let temporary = RwSignal::new(false);
    let back_by = RwSignal::new(String::new());
    let signed = RwSignal::new(false);
    let typed_name = RwSignal::new(String::new());
    let signature = RwSignal::new(String::new());
    let notes = RwSignal::new(String::new());

    let site = state.site();
    let matches = Memo::new(move |_| {
        let text = person_search.get();
        if text.trim().is_empty() {
            return Vec::new();
        }
        state.register.with(|r| {
            site.map(|s| r.find_people(s, &text))
                .unwrap_or_default()
                .into_iter()
                .take(6)
                .map(|p| {
                    (
                        p.id,
                        p.details.name.clone(),
                        p.details.reference.clone(),
                        p.details.department.clone(),
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    let person_name = move || {
        person.get().and_then(|p| {
            state
                .register
                .with(|r| r.person(p).map(|p| p.details.name.clone()))
        })
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(key) = chosen_key() else {
            form.fail(gone().unwrap_or_else(|| {
                "There is no key in store for this locker. Add a key, or return one first.".into()
            }));
            return;
        };
        let holder = if to_person.get_untracked() {
            match person.get_untracked() {
                Some(p) => Holder::Person(p),
                None => {
                    form.fail("Choose the person taking the key: search by name or reference and tap their name.");
                    return;
                }
            }
        } else {
            Holder::Department(department.get_untracked())
        };
        let Some(date) = parse_date(&date.get_untracked()) else {
            form.fail("Enter the issue date as day/month/year, for example 26/11/2026.");
            return;
        };
        let expected_return = if temporary.get_untracked() {
            match parse_date(&back_by.get_untracked()) {
                Some(d) => Some(d),
                None => {
                    form.fail("Enter when the key is due back as day/month/year, for example 27/11/2026, or untick “Temporary loan”.");
                    return;
                }
            }
        } else {
            None
        };
        let confirmation = if signed.get_untracked() {
            Confirmation::Signature(signature.get_untracked())
        } else {
            Confirmation::TypedName(typed_name.get_untracked())
        };
        let navigate = navigate.clone();
        form.run(
            Command::IssueKey {
                key,
                locker,
                holder,
                date,
                expected_return,
                confirmation,
                notes: notes.get_untracked(),
                due_time: None,
            },
            move |event| {
                if let keyward_core::Change::KeyIssued { key, holder, .. } = &event.change {
                    let text = state.register.with_untracked(|r| {
                        format!(
                            "Key {} issued to {}.",
                            r.key(*key).map(|k| k.tag.to_string()).unwrap_or_default(),
                            r.holder_name(holder)
                        )
                    });
                    state.flash.set(Some(text));
                }
                navigate(&format!("/lockers/{locker}"), Default::default());
            },
        );
    };

    view! {
        <Back href=format!("/lockers/{locker}") label=format!("Locker {number}")/>
        <h1>"Issue a key: locker "{number.clone()}</h1>
        <form class="card" on:submit=submit novalidate>
            <label for="issue-key">"Key"</label>
            <Show
                when=move || keys.with(|k| !k.is_empty())
                fallback=|| view! { <p class="warning" id="issue-key">"No key of this locker is in store."</p> }
            >
                <select id="issue-key" on:change=move |ev| key.set(KeyId::parse(&event_target_value(&ev)))>
                    <option value="" disabled=true selected=move || chosen_key().is_none()>"Choose a key"</option>
                    <For each=move || keys.get() key=|k| k.clone() let:((id, label))>
                        <option value=id.to_string() selected=move || chosen_key() == Some(id)>{label}</option>
                    </For>
                </select>
            </Show>
            {move || gone().map(|message| view! { <p class="warning" role="alert">{message}</p> })}

            <Choices legend="Issued to" name="holder" value=to_person options=vec![(true, "A person"), (false, "A department")]/>
            <Show
                when=move || to_person.get()
                fallback=move || view! {
                    <label for="issue-department">"Department"</label>
                    <input id="issue-department" placeholder="PE department" bind:value=department/>
                }
            >
                {move || match person_name() {
                    Some(name) => view! {
                        <p class="chosen">
                            <span>"Person: "<strong>{name}</strong></span>
                            <button type="button" class="button small" on:click=move |_| person.set(None)>"Change"</button>
                        </p>
                    }.into_any(),
                    None => view! {
                        <label for="issue-person">"Person"</label>
                        <p class="hint" id="issue-person-hint">"Search by name, pupil or staff number."</p>
                        <input id="issue-person" type="search" autocomplete="off" aria-describedby="issue-person-hint" bind:value=person_search/>
                        <ul class="choices" aria-label="Matching people">
                            <For each=move || matches.get() key=|m| m.clone() let:((id, name, reference, dept))>
                                <li>
                                    <button type="button" class="choice-button" on:click=move |_| {
                                        person.set(Some(id));
                                        if typed_name.get_untracked().is_empty() {
                                            typed_name.set(name.clone());
                                        }
                                    }>
                                        <strong>{name.clone()}</strong>
                                        <span class="meta">{[reference.clone(), dept.clone()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · ")}</span>
                                    </button>
                                </li>
                            </For>
                        </ul>
                        <Show when=move || !person_search.with(|s| s.trim().is_empty()) && matches.with(Vec::is_empty)>
                            <p class="hint">"Nobody matches. Add them under People first."</p>
                        </Show>
                    }.into_any(),
                }}
            </Show>

            <label for="issue-date">"Date issued"</label>
            <p class="hint" id="issue-date-hint">"Day/month/year"</p>
            <input id="issue-date" inputmode="numeric" autocomplete="off" aria-describedby="issue-date-hint" bind:value=date/>
            <label class="choice">
                <input type="checkbox" bind:checked=temporary/>
                "Temporary loan (due back on a date)"
            </label>
            <Show when=move || temporary.get()>
                <label for="issue-back-by">"Due back"</label>
                <p class="hint" id="issue-back-by-hint">"Day/month/year, for example "{uk_date(today() + chrono::Days::new(7))}</p>
                <input id="issue-back-by" inputmode="numeric" autocomplete="off" aria-describedby="issue-back-by-hint" bind:value=back_by/>
            </Show>

            <Choices legend="Confirmation by the person taking the key" name="confirm" value=signed options=vec![(false, "Typed name"), (true, "Signature")]/>
            <Show
                when=move || signed.get()
                fallback=move || view! {
                    <label for="issue-typed-name">"Name typed by the person taking the key"</label>
                    <input id="issue-typed-name" autocomplete="off" bind:value=typed_name/>
                }
            >
                <SignaturePad path=signature/>
            </Show>

            <label for="issue-notes">"Notes (optional)"</label>
            <textarea id="issue-notes" rows="2" bind:value=notes></textarea>
            <FormError form/>
            <Submit form label="Issue key" action=Action::IssueReturn/>
        </form>
    }
}
