//! The register: every locker of the site, searchable by number, area, holder, reference or
//! key tag, filtered by state and area, a page at a time. A new device starts here with a
//! walk-through to set up its first site.

use crate::components::{Allowed, RegisterFilter, StatusBadge};
use crate::routes::setup::FirstSite;
use crate::state::use_app;
use keyward_core::format::thousands;
use keyward_core::search::{Query, Row};
use keyward_core::{Action, AreaId, KeyKind, LockerStatus, Resolved, Scanned};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn RegisterPage() -> impl IntoView {
    let state = use_app();
    let site = Memo::new(move |_| state.site());
    let lockers = Memo::new(move |_| {
        site.get()
            .map(|s| state.register.with(|r| r.locker_count(s)))
            .unwrap_or(0)
    });
    move || {
        match site.get() {
        None => view! { <FirstSite/> }.into_any(),
        Some(_) if lockers.get() == 0 => view! {
            <h1>"Register"</h1>
            <div class="empty">
                <p>"This site has no lockers yet."</p>
                <p>"Add them one by one or a whole range at once (A-001 to A-120), then fit locks and add keys from each locker's page."</p>
                <Allowed action=Action::AddLockers><A href="/setup/lockers" attr:class="button primary">"Add lockers"</A></Allowed>
            </div>
        }
        .into_any(),
        Some(_) => view! { <LockerList/> }.into_any(),
    }
    }
}

#[component]
fn LockerList() -> impl IntoView {
    let state = use_app();
    let filter = expect_context::<RegisterFilter>();
    let hits = Memo::new(move |_| {
        let index = state.index.get();
        let query = Query {
            text: filter.text.get(),
            status: filter.status.get(),
            area: filter.area.get(),
            overdue: filter.overdue.get(),
            // A lock's code finds its locker for those who may see key codes.
            codes: state.allowed(Action::OrderKeys).is_ok(),
        };
        let hits = index.search(&query, filter.shown.get());
        (
            hits.rows.into_iter().cloned().collect::<Vec<Row>>(),
            hits.total,
        )
    });
    let counts = Memo::new(move |_| state.index.with(|i| (i.counts(), i.len())));
    let overdue = Memo::new(move |_| state.index.with(|i| i.overdue()));
    state.tick();
    // Keys overdue now (a locker may have more than one), linked to the overdue list.
    let overdue_keys = Memo::new(move |_| {
        let now = state.clock.get();
        state
            .site()
            .map_or(0, |s| state.register.with(|r| r.overdue_count(s, now)))
    });
    let areas = Memo::new(move |_| state.areas());
    let named = Memo::new(move |_| filter.text.with(|text| named(state, text)));
    let reset_page = move || filter.shown.set(RegisterFilter::PAGE);

    view! {
        <h1 class="visually-hidden">"Register"</h1>
        <form class="search" role="search" on:submit=|ev| ev.prevent_default()>
            <label for="register-search" class="visually-hidden">"Search lockers"</label>
            <input
                id="register-search"
                type="search"
                placeholder="Locker, name, tag or area"
                autocomplete="off"
                autocapitalize="characters"
                prop:value=move || filter.text.get()
                on:input=move |ev| {
                    filter.text.set(event_target_value(&ev));
                    reset_page();
                }
            />
        </form>
        <div class="filters">
            <label>
                <span class="visually-hidden">"Show lockers that are"</span>
                <select on:change=move |ev| {
                    let value = event_target_value(&ev);
                    filter.overdue.set(value == "overdue");
                    filter.status.set(LockerStatus::from_slug(&value));
                    reset_page();
                }>
                    <option value="" selected=move || filter.status.get().is_none() && !filter.overdue.get()>
                        {move || format!("All ({})", thousands(counts.get().1))}
                    </option>
                    {LockerStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.slug() selected=move || filter.status.get() == Some(s)>
                            {move || format!("{} ({})", s.label(), thousands(counts.with(|c| c.0.get(&s).copied().unwrap_or(0))))}
                        </option>
                    }).collect_view()}
                    <option value="overdue" selected=move || filter.overdue.get()>
                        {move || format!("Overdue ({})", thousands(overdue.get()))}
                    </option>
                </select>
            </label>
            <label>
                <span class="visually-hidden">"In area"</span>
                <select on:change=move |ev| {
                    filter.area.set(AreaId::parse(&event_target_value(&ev)));
                    reset_page();
                }>
                    <option value="" selected=move || filter.area.get().is_none()>"All areas"</option>
                    <For each=move || areas.get() key=|a| a.clone() let:((id, name))>
                        <option value=id.to_string() selected=move || filter.area.get() == Some(id)>{name}</option>
                    </For>
                </select>
            </label>
        </div>
        <Show when=move || { overdue_keys.get() > 0 }>
            <p class="overdue-count">
                <A href="/overdue" attr:class="badge overdue">
                    {move || match overdue_keys.get() {
                        1 => "1 key overdue".to_string(),
                        n => format!("{} keys overdue", thousands(n)),
                    }}
                </A>
            </p>
        </Show>
        {move || named.get().map(|(text, href)| match href {
            Some(href) => view! { <p class="named"><A href=href attr:class="button wide">{text}</A></p> }.into_any(),
            None => view! { <p class="named hint">{text}</p> }.into_any(),
        })}
        <p class="count" aria-live="polite">
            {move || {
                let (rows, total) = hits.get();
                match total {
                    0 => "No lockers match. Check the number, or clear the search.".to_string(),
                    1 => "1 locker".to_string(),
                    t if rows.len() < t => format!("Showing {} of {} lockers", rows.len(), thousands(t)),
                    t => format!("{} lockers", thousands(t)),
                }
            }}
        </p>
        <ul class="rows">
            <For each=move || hits.get().0 key=|row| row.clone() let:row>
                <li>
                    <A href=format!("/lockers/{}", row.locker)>
                        <span class="row-main">
                            <span class="number">{row.number.clone()}</span>
                            <span class="meta">
                                {row.area_name.clone()}
                                {(!row.holders.is_empty()).then(|| format!(" · {}", row.holders))}
                            </span>
                        </span>
                        {if row.overdue {
                            view! { <span class="badge overdue">"Overdue"</span> }.into_any()
                        } else {
                            view! { <StatusBadge status=row.status/> }.into_any()
                        }}
                    </A>
                </li>
            </For>
        </ul>
        <Show when=move || hits.with(|(rows, total)| rows.len() < *total)>
            <button type="button" class="button more" on:click=move |_| filter.shown.update(|n| *n += RegisterFilter::PAGE)>
                "Show more lockers"
            </button>
        </Show>
        <p class="more-links"><A href="/master">"Master keys"</A></p>
    }
}

/// What a pasted label URL or typed tag id names, when the list alone cannot show it: a key
/// (its locker is the list's first row), a blank tag, another site's label, or a label this
/// register does not know. Text and where it leads.
fn named(state: crate::state::AppState, text: &str) -> Option<(String, Option<String>)> {
    let scanned = Scanned::parse(text)?;
    let url = text.contains("://");
    let site = state.site();
    state.register.with(|r| match r.resolve(&scanned) {
        Resolved::Key(s, id) if Some(s) == site => {
            let key = r.key(id)?;
            let locker = r.locker_of_key(id).map(|l| l.number.clone()).unwrap_or_default();
            let path = match key.kind {
                KeyKind::Master => format!("/master/keys/{id}"),
                _ => format!("/keys/{id}"),
            };
            Some((format!("Open key {} of locker {locker}", key.tag), Some(path)))
        }
        Resolved::Locker(s, _) if Some(s) == site => None,
        Resolved::Locker(s, _) | Resolved::Key(s, _) => {
            let name = r.site(s).map(|s| s.name.clone()).unwrap_or_default();
            Some((format!("That label belongs to {name}, not the site this device is showing."), None))
        }
        Resolved::BlankTag(_, tag) => Some((
            format!("Tag {tag} is a blank tag: put it on a key"),
            Some(format!("/tags/{tag}")),
        )),
        Resolved::Unknown if url => Some((
            "That label is not in the register on this device. If it was added on another device, sync first.".to_string(),
            None,
        )),
        Resolved::Unknown => None,
    })
}
