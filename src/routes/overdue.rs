//! The overdue list (temporary loans past their due-back day and time, by area, the longest
//! overdue first) and the spare keys that are out (who took each, where it goes back).

use crate::components::{local_date_time, Back};
use crate::state::use_app;
use keyward_core::format::uk_date;
use keyward_core::KeyId;
use leptos::prelude::*;
use leptos_router::components::A;

/// One overdue key as the list shows it.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Row {
    key: KeyId,
    tag: String,
    locker: String,
    holder: String,
    due: String,
    late: String,
}

#[component]
pub fn OverduePage() -> impl IntoView {
    let state = use_app();
    state.tick();
    let groups = Memo::new(move |_| {
        let now = state.clock.get();
        let Some(site) = state.site() else {
            return Vec::new();
        };
        state.register.with(|r| {
            let mut groups: Vec<(String, Vec<Row>)> = Vec::new();
            for o in r.overdue(site, None, now) {
                let row = Row {
                    key: o.key.id,
                    tag: o.key.tag.to_string(),
                    locker: o.locker.number.clone(),
                    holder: o.holder.clone(),
                    due: o.due_words(),
                    late: o.late_words(),
                };
                match groups.last_mut() {
                    Some((area, rows)) if *area == o.area_name => rows.push(row),
                    _ => groups.push((o.area_name.clone(), vec![row])),
                }
            }
            groups
        })
    });
    let total = move || groups.with(|g| g.iter().map(|(_, rows)| rows.len()).sum::<usize>());
    view! {
        <Back href="/" label="Register"/>
        <h1>"Overdue"</h1>
        <p class="count" aria-live="polite">{move || match total() {
            0 => "Nothing is overdue.".to_string(),
            1 => "1 key overdue, the longest overdue first.".to_string(),
            n => format!("{n} keys overdue, by area, the longest overdue first."),
        }}</p>
        <For each=move || groups.get() key=|g| g.clone() let:((area, rows))>
            <section class="card overdue-area">
                <h2>{area}</h2>
                <ul class="rows">
                    {rows.into_iter().map(|row| view! {
                        <li>
                            <A href=format!("/keys/{}", row.key)>
                                <span class="row-main">
                                    <span><span class="tag">{row.tag.clone()}</span>" · locker "{row.locker.clone()}</span>
                                    <span class="meta wrap">{row.holder.clone()}" · due back "{row.due.clone()}</span>
                                </span>
                                <span class="badge overdue">{row.late.clone()}</span>
                            </A>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        </For>
        <p><A href="/spares" attr:class="button">"Spare keys out"</A></p>
    }
}

#[component]
pub fn SparesPage() -> impl IntoView {
    let state = use_app();
    let rows = Memo::new(move |_| {
        let Some(site) = state.site() else {
            return Vec::new();
        };
        state.register.with(|r| {
            r.spares_out(site)
                .into_iter()
                .map(|(k, l)| {
                    let locker = r
                        .locker(l.locker)
                        .map(|l| l.number.clone())
                        .unwrap_or_default();
                    let due = keyward_core::due_words(l);
                    let mut since = format!("since {}", uk_date(l.date));
                    if !due.is_empty() {
                        since.push_str(&format!(", due back {due}"));
                    }
                    (
                        k.id,
                        k.tag.to_string(),
                        locker,
                        r.holder_name(&l.holder),
                        since,
                        k.storage.clone(),
                        local_date_time(l.issued_at),
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    view! {
        <Back href="/overdue" label="Overdue"/>
        <h1>"Spare keys out"</h1>
        <p class="count" aria-live="polite">{move || match rows.with(Vec::len) {
            0 => "Every spare key is in its place.".to_string(),
            1 => "1 spare key out.".to_string(),
            n => format!("{n} spare keys out, the longest out first."),
        }}</p>
        <ul class="rows">
            <For each=move || rows.get() key=|r| r.clone() let:((key, tag, locker, holder, since, storage, recorded))>
                <li>
                    <A href=format!("/keys/{key}")>
                        <span class="row-main">
                            <span><span class="tag">{tag}</span>" · locker "{locker}</span>
                            <span class="meta wrap">"Taken by "{holder}" "{since}</span>
                            <span class="meta wrap">{match storage {
                                Some(place) => format!("Goes back to: {place}"),
                                None => "No storage place recorded".to_string(),
                            }}</span>
                            <span class="visually-hidden">{format!("Recorded {recorded}")}</span>
                        </span>
                    </A>
                </li>
            </For>
        </ul>
    }
}
