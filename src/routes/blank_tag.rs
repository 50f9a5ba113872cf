//! A blank tag, scanned before it is on any key: find the key it goes on and put it there. The
//! key's old tag stops working at once.

use crate::components::{Back, FormError, FormState};
use crate::state::use_app;
use keyward_core::{Change, Command, KeyId, TagId};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

#[component]
pub fn BlankTagPage() -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let navigate = use_navigate();
    let tag = use_params_map().with_untracked(|p| p.get("tag").and_then(|t| TagId::parse(&t)));
    let Some(tag) = tag.filter(|t| {
        let site = state.site();
        site.is_some_and(|s| state.register.with_untracked(|r| r.is_blank_tag(s, t)))
    }) else {
        return view! {
            <Back href="/scan" label="Scan"/>
            <h1>"Not a blank tag"</h1>
            <p>"This tag is not one of this site's blank tags, or it is already on a key."</p>
        }
        .into_any();
    };
    let number = RwSignal::new(String::new());
    let keys = Memo::new(move |_| {
        let site = state.site();
        let typed = number.get();
        state.register.with(|r| {
            let locker = site.and_then(|s| r.locker_by_number(s, &typed))?;
            let keys = r
                .keys_of_locker(locker.id)
                .into_iter()
                .map(|k| {
                    (
                        k.id,
                        format!("{} copy {}", k.kind.label(), k.copy),
                        k.tag.to_string(),
                    )
                })
                .collect::<Vec<_>>();
            Some((locker.number.clone(), keys))
        })
    });
    let attach = {
        let tag = tag.clone();
        move |key: KeyId| {
            let navigate = navigate.clone();
            let tag = tag.clone();
            move |_| {
                let navigate = navigate.clone();
                form.run(
                    Command::AttachTag {
                        key,
                        tag: tag.clone(),
                    },
                    move |event| {
                        if let Change::TagAttached { key, tag, previous } = event.change {
                            state.flash.set(Some(format!(
                            "Tag {tag} is on the key now; its old tag {previous} no longer works."
                        )));
                            navigate(&format!("/keys/{key}"), Default::default());
                        }
                    },
                );
            }
        }
    };
    view! {
        <Back href="/scan" label="Scan"/>
        <h1>"Blank tag "<span class="tag">{tag.to_string()}</span></h1>
        <p>"This tag is not on a key yet. Find the key it goes on."</p>
        <section class="card">
            <label for="blank-locker">"Locker number"</label>
            <input id="blank-locker" autocomplete="off" autocapitalize="characters" placeholder="A12" bind:value=number/>
            {move || match keys.get() {
                None if !number.with(|n| n.trim().is_empty()) => Some(view! {
                    <p class="hint">"No locker with that number at this site."</p>
                }.into_any()),
                None => None,
                Some((locker, keys)) if keys.is_empty() => Some(view! {
                    <p class="hint">{format!("Locker {locker} has no keys recorded.")}</p>
                }.into_any()),
                Some((locker, keys)) => Some(view! {
                    <ul class="keys" aria-label=format!("Keys of locker {locker}")>
                        {keys.into_iter().map(|(key, name, old)| view! {
                            <li class="key">
                                <div>
                                    <span>{name}</span>
                                    <div class="meta">"Tagged "<span class="tag">{old}</span></div>
                                </div>
                                <button type="button" class="button small" on:click=attach.clone()(key)>"Put tag here"</button>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()),
            }}
            <FormError form/>
        </section>
    }
    .into_any()
}
