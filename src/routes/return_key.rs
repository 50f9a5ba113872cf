//! Returning a key: who brought it back, who received it, its condition, notes.
//!
//! Two layouts of one form. The full form (`/keys/:id/return`) shows every field. The quick
//! screen (`?quick=1`, where a scanned tag of a key that is out lands) records the return in
//! one tap: "Returned, fine" or "Returned, damaged", in a bar above the bottom navigation;
//! who brought it, who received it and notes are optional and folded away.

use crate::components::Count;
use crate::components::{
    key_in_route, Back, Choices, FormError, FormState, KeyNotFound, RoleNote, Submit,
};
use crate::state::use_app;
use keyward_core::format::uk_date;
use keyward_core::{Action, Command, Condition, KeyId};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

#[component]
pub fn ReturnPage() -> impl IntoView {
    let quick = use_query_map().with_untracked(|q| q.get("quick").as_deref() == Some("1"));
    match key_in_route() {
        Some((key, tag, locker, number)) => {
            view! { <ReturnForm key tag locker number quick/> }.into_any()
        }
        None => view! { <KeyNotFound/> }.into_any(),
    }
}

/// The quick return screen of a key that is out.
pub fn quick_return_path(key: KeyId) -> String {
    format!("/keys/{key}/return?quick=1")
}

#[component]
fn ReturnForm(
    key: KeyId,
    tag: String,
    locker: keyward_core::LockerId,
    number: String,
    quick: bool,
) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let navigate = use_navigate();
    let loan = Memo::new(move |_| {
        state.register.with(|r| {
            r.current_loan(key).map(|l| {
                let back = l
                    .expected_return
                    .map(|_| format!(", due back {}", keyward_core::due_words(l)))
                    .unwrap_or_default();
                (
                    r.holder_name(&l.holder),
                    format!("since {}{}", uk_date(l.date), back),
                )
            })
        })
    });
    let brought_by = RwSignal::new(String::new());
    let received_by = RwSignal::new(state.user());
    let damaged = RwSignal::new(false);
    let notes = RwSignal::new(String::new());
    let retire = RwSignal::new(false);
    let may_retire = state.allowed(Action::ChangeLocks).is_ok();
    let record = move |condition: Condition| {
        let navigate = navigate.clone();
        form.run(
            Command::ReturnKey {
                key,
                brought_by: brought_by.get_untracked(),
                received_by: received_by.get_untracked(),
                condition,
                notes: notes.get_untracked(),
            },
            move |_| {
                let (tag, lock) = state.register.with_untracked(|r| {
                    r.key(key)
                        .map(|k| (k.tag.to_string(), Some(k.lock)))
                        .unwrap_or_default()
                });
                if condition == Condition::Damaged && retire.get_untracked() {
                    let navigate = navigate.clone();
                    form.run(
                        Command::RetireKey {
                            key,
                            reason: "Returned damaged".into(),
                        },
                        move |_| {
                            state.flash.set(Some(format!(
                                "Key {tag} returned damaged and retired. Order its replacement."
                            )));
                            let lock = lock.map(|l| format!("?lock={l}")).unwrap_or_default();
                            navigate(&format!("/orders/new{lock}"), Default::default());
                        },
                    );
                    return;
                }
                let text = match condition {
                    Condition::Fine => format!("Key {tag} returned and back in store."),
                    Condition::Damaged => {
                        format!("Key {tag} returned damaged; it will not be issued again.")
                    }
                };
                state.flash.set(Some(text));
                navigate(&format!("/lockers/{locker}"), Default::default());
            },
        );
    };
    let submit = {
        let record = record.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            // On the quick screen the form's own button is "Returned, fine".
            let condition = if damaged.get_untracked() && !quick {
                Condition::Damaged
            } else {
                Condition::Fine
            };
            record(condition);
        }
    };
    let held_at = number.clone();
    let held = move || {
        match loan.get() {
        Some((holder, since)) => view! { <p>"Locker "{held_at.clone()}" · held by "<strong>{holder.clone()}</strong>" "{since}</p> }.into_any(),
        None => view! { <p class="warning">"This key is not out at the moment."</p> }.into_any(),
    }
    };
    let retire_choice = move |words: &'static str| {
        if may_retire {
            view! {
                <label class="choice">
                    <input type="checkbox" bind:checked=retire/>
                    {words}
                </label>
            }
            .into_any()
        } else {
            view! { <RoleNote action=Action::ChangeLocks/> }.into_any()
        }
    };
    let details = move || {
        view! {
            <label for="return-brought-by">"Brought back by"</label>
            <p class="hint" id="return-brought-hint">"Leave empty if the holder brought it."</p>
            <input
                id="return-brought-by"
                aria-describedby="return-brought-hint"
                placeholder=move || loan.get().map(|l| l.0).unwrap_or_default()
                bind:value=brought_by
            />
            <label for="return-received-by">"Received by"</label>
            <input id="return-received-by" autocomplete="name" bind:value=received_by/>
        }
    };
    let notes_field = move || {
        view! {
            <label for="return-notes">"Notes (optional)"</label>
            <textarea maxlength={keyward_core::checks::MAX_NOTES} id="return-notes" rows="2" bind:value=notes></textarea>
            <Count value=notes max={keyward_core::checks::MAX_NOTES}/>
        }
    };

    if quick {
        let refusal = move || state.allowed(Action::IssueReturn).err();
        let busy = move || form.busy.get() || refusal().is_some();
        return view! {
            <Back href=format!("/lockers/{locker}") label=format!("Locker {number}")/>
            <div class="quick-head">
                <h1>"Return key "<span class="tag">{tag}</span></h1>
                {held}
            </div>
            <form class="card quick" on:submit=submit novalidate>
                <details class="more">
                    <summary>"Who brought it, who received it, notes"</summary>
                    {details()}
                    {notes_field()}
                    {retire_choice("If damaged: retire it and order a replacement")}
                </details>
                <div class="actionbar">
                    <FormError form/>
                    <RoleNote action=Action::IssueReturn/>
                    <div class="two-buttons">
                        <button type="submit" class="button primary" disabled=busy>"Returned, fine"</button>
                        <button type="button" class="button damaged" disabled=busy on:click=move |_| record(Condition::Damaged)>
                            "Returned, damaged"
                        </button>
                    </div>
                </div>
            </form>
        }
        .into_any();
    }

    view! {
        <Back href=format!("/lockers/{locker}") label=format!("Locker {number}")/>
        <h1>"Return key "{tag}</h1>
        {held}
        <form class="card" on:submit=submit novalidate>
            {details()}
            <Choices legend="Condition" name="condition" value=damaged options=vec![(false, "Fine"), (true, "Damaged")]/>
            <Show when=move || damaged.get()>
                {retire_choice("Retire it and order a replacement")}
            </Show>
            {notes_field()}
            <div class="actionbar">
                <FormError form/>
                <Submit form label="Record return" action=Action::IssueReturn/>
            </div>
        </form>
    }
    .into_any()
}
