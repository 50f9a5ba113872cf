//! People: the list with its search, and the form to add someone.

use crate::components::{Allowed, Back, FormError, FormState, Submit};
use crate::state::use_app;
use keyward_core::format::thousands;
use keyward_core::{Action, Change, Command, PersonDetails, PersonKind};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

const SHOWN: usize = 100;

#[component]
pub fn PeoplePage() -> impl IntoView {
    let state = use_app();
    let search = RwSignal::new(String::new());
    let people = Memo::new(move |_| {
        let text = search.get();
        let site = state.site();
        state.register.with(|r| {
            let matching = site.map(|s| r.find_people(s, &text)).unwrap_or_default();
            let total = matching.len();
            let rows = matching
                .into_iter()
                .take(SHOWN)
                .map(|p| {
                    (
                        p.id,
                        p.details.name.clone(),
                        p.details.kind,
                        p.details.reference.clone(),
                        r.keys_held_by(p.id).len(),
                    )
                })
                .collect::<Vec<_>>();
            (rows, total)
        })
    });
    view! {
        <header class="page-head">
            <h1>"People"</h1>
            <Allowed action=Action::ManagePeople><A href="/people/new" attr:class="button primary small">"Add person"</A></Allowed>
        </header>
        <form role="search" class="search" on:submit=|ev| ev.prevent_default()>
            <label for="people-search" class="visually-hidden">"Search people"</label>
            <input id="people-search" type="search" placeholder="Name, number or department" autocomplete="off" bind:value=search/>
        </form>
        <p class="count" aria-live="polite">{move || people.with(|(rows, total)| match total {
            0 if search.with(|s| s.trim().is_empty()) => "Nobody yet. Add the people who hold keys.".to_string(),
            0 => "Nobody matches.".to_string(),
            1 => "1 person".to_string(),
            t if rows.len() < *t => format!("Showing {} of {} people", rows.len(), thousands(*t)),
            t => format!("{} people", thousands(*t)),
        })}</p>
        <ul class="rows">
            <For each=move || people.get().0 key=|p| p.clone() let:((id, name, kind, reference, held))>
                <li>
                    <A href=format!("/people/{id}")>
                        <span class="row-main">
                            <span class="name">{name}</span>
                            <span class="meta">{kind.label()}{(!reference.is_empty()).then(|| format!(" · {reference}"))}</span>
                        </span>
                        {(held > 0).then(|| view! { <span class="badge in-use">{format!("{held} key{}", if held == 1 { "" } else { "s" })}</span> })}
                    </A>
                </li>
            </For>
        </ul>
    }
}

/// A person's fields as typed, shared by the add and edit forms.
#[derive(Clone, Copy)]
pub struct PersonInput {
    name: RwSignal<String>,
    kind: RwSignal<PersonKind>,
    reference: RwSignal<String>,
    department: RwSignal<String>,
}

impl PersonInput {
    pub fn new(details: PersonDetails) -> Self {
        Self {
            name: RwSignal::new(details.name),
            kind: RwSignal::new(details.kind),
            reference: RwSignal::new(details.reference),
            department: RwSignal::new(details.department),
        }
    }

    pub fn details(&self) -> PersonDetails {
        PersonDetails {
            name: self.name.get_untracked(),
            kind: self.kind.get_untracked(),
            reference: self.reference.get_untracked(),
            department: self.department.get_untracked(),
        }
    }
}

#[component]
pub fn PersonFields(input: PersonInput) -> impl IntoView {
    let PersonInput {
        name,
        kind,
        reference,
        department,
    } = input;
    view! {
        <label for="person-name">"Name"</label>
        <input id="person-name" autocomplete="off" bind:value=name/>
        <label for="person-kind">"Kind"</label>
        <select id="person-kind" on:change=move |ev| {
            let value = event_target_value(&ev);
            if let Some(k) = PersonKind::ALL.into_iter().find(|k| k.label() == value) { kind.set(k) }
        }>
            {PersonKind::ALL.into_iter().map(|k| view! { <option value=k.label() selected=move || kind.get() == k>{k.label()}</option> }).collect_view()}
        </select>
        <label for="person-reference">"Pupil or staff number (optional)"</label>
        <input id="person-reference" autocomplete="off" autocapitalize="characters" bind:value=reference/>
        <label for="person-department">"Department, form or year (optional)"</label>
        <input id="person-department" bind:value=department/>
    }
}

#[component]
pub fn NewPersonPage() -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let navigate = use_navigate();
    let input = PersonInput::new(PersonDetails {
        name: String::new(),
        kind: PersonKind::Pupil,
        reference: String::new(),
        department: String::new(),
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(site) = state.site() else {
            form.fail("Set up a site first (Set-up).");
            return;
        };
        let details = input.details();
        let navigate = navigate.clone();
        form.run(Command::AddPerson { site, details }, move |event| {
            if let Change::PersonAdded {
                person, details, ..
            } = event.change
            {
                state.flash.set(Some(format!("{} added.", details.name)));
                navigate(&format!("/people/{person}"), Default::default());
            }
        });
    };
    view! {
        <Back href="/people" label="People"/>
        <h1>"Add a person"</h1>
        <form class="card" on:submit=submit novalidate>
            <PersonFields input/>
            <FormError form/>
            <Submit form label="Add person" action=Action::ManagePeople/>
        </form>
    }
}
