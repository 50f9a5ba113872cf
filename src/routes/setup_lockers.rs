//! Adding lockers: one by one, or a whole range at once ("A-001" to "A-120"), all or nothing.
//! A number alike an existing one in all but case, spaces, hyphens or leading zeros ("S4"
//! beside S004) is refused by the core until the person confirms it here: "Did you mean
//! S004?" with an explicit "Add S4 anyway".

use crate::components::{Back, Choices, FormError, FormState, Submit};
use crate::state::use_app;
use keyward_core::{
    normalise_locker_number, parse_locker_range, Action, AreaId, Change, Command, Event, LockerId,
};
use leptos::prelude::*;
use leptos_router::components::A;

/// The "Did you mean" question after the core refused numbers alike existing ones.
#[derive(Clone, PartialEq)]
struct Alike {
    /// "Did you mean S004?"
    question: String,
    /// The rest of the core's refusal.
    message: String,
    /// The existing locker the (first) number looks like, to open instead.
    existing: Option<(LockerId, String)>,
    /// "Add S4 anyway".
    confirm: String,
    /// The same command, confirmed.
    command: Command,
}

#[component]
pub fn AddLockersPage() -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let range = RwSignal::new(true);
    let number = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let area = RwSignal::new(None::<AreaId>);
    let alike = RwSignal::new(None::<Alike>);
    // The range's own error was what the core refused: read it out where it is shown.
    let range_refused = RwSignal::new(false);
    let areas = Memo::new(move |_| state.areas());
    // The first area is chosen until the person picks another.
    let chosen_area = move || {
        area.get()
            .or_else(|| areas.with(|a| a.first().map(|(id, _)| *id)))
    };
    // A question about other numbers than the ones now typed no longer applies.
    Effect::new(move |_| {
        range.track();
        number.track();
        from.track();
        to.track();
        area.track();
        alike.set(None);
    });
    // What the range adds, or what is wrong with it, as it is typed: a range's error is
    // shown here, where it happened, and not again under the button.
    let preview = Memo::new(move |_| {
        if !range.get() {
            return None;
        }
        let (f, t) = (from.get(), to.get());
        if f.trim().is_empty() || t.trim().is_empty() {
            return None;
        }
        Some(match parse_locker_range(&f, &t) {
            Ok(numbers) if numbers.len() > 3 => Ok(format!(
                "Adds {} lockers: {}, {} … {}",
                numbers.len(),
                numbers[0],
                numbers[1],
                numbers[numbers.len() - 1]
            )),
            Ok(numbers) => Ok(format!("Adds {}: {}", numbers.len(), numbers.join(", "))),
            Err(e) => Err(e.to_string()),
        })
    });
    let done = move |event: Event| {
        if let Change::LockersAdded { lockers, .. } = event.change {
            let text = match lockers.as_slice() {
                [one] => format!("Locker {} added.", one.number),
                many => format!(
                    "{} lockers added, {} to {}.",
                    many.len(),
                    many[0].number,
                    many[many.len() - 1].number
                ),
            };
            state.flash.set(Some(text));
        }
        number.set(String::new());
        from.set(String::new());
        to.set(String::new());
    };
    let send = move |command: Command| {
        if form.busy.get_untracked() {
            return;
        }
        form.busy.set(true);
        form.error.set(None);
        alike.set(None);
        range_refused.set(false);
        leptos::task::spawn_local(async move {
            let result = state.dispatch(command.clone()).await;
            form.busy.set(false);
            match result {
                Ok(event) => done(event),
                Err(message) => match ask(state, &command, message) {
                    Ok(question) => alike.set(Some(question)),
                    Err(message) => {
                        let shown_above = preview
                            .with_untracked(|p| matches!(p, Some(Err(shown)) if *shown == message));
                        if shown_above {
                            range_refused.set(true);
                        } else {
                            form.error.set(Some(message));
                        }
                    }
                },
            }
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(site) = state.site() else { return };
        let Some(area) = chosen_area() else {
            form.fail("Add an area first (Set-up, Areas), then add its lockers.");
            return;
        };
        let command = if range.get_untracked() {
            Command::AddLockerRange {
                site,
                area,
                from: from.get_untracked(),
                to: to.get_untracked(),
                allow_similar: false,
            }
        } else {
            Command::AddLocker {
                site,
                area,
                number: number.get_untracked(),
                allow_similar: false,
            }
        };
        send(command);
    };
    view! {
        <Back href="/setup" label="Set-up"/>
        <h1>"Add lockers"</h1>
        <form class="card" on:submit=submit novalidate>
            <label for="locker-area">"Area"</label>
            <select id="locker-area" on:change=move |ev| area.set(AreaId::parse(&event_target_value(&ev)))>
                <For each=move || areas.get() key=|a| a.clone() let:((id, name))>
                    <option value=id.to_string() selected=move || chosen_area() == Some(id)>{name}</option>
                </For>
            </select>
            <Choices legend="How many" name="mode" value=range options=vec![(true, "A range"), (false, "One locker")]/>
            <Show
                when=move || range.get()
                fallback=move || view! {
                    <label for="locker-number">"Locker number"</label>
                    <input id="locker-number" autocapitalize="characters" placeholder="A12" bind:value=number/>
                }
            >
                <div class="pair">
                    <div>
                        <label for="range-from">"From"</label>
                        <input id="range-from" autocapitalize="characters" placeholder="A-001" bind:value=from/>
                    </div>
                    <div>
                        <label for="range-to">"To"</label>
                        <input id="range-to" autocapitalize="characters" placeholder="A-120" bind:value=to/>
                    </div>
                </div>
                <div aria-live="polite">
                    {move || preview.get().map(|p| match p {
                        Ok(text) => view! { <p class="hint">{text}</p> }.into_any(),
                        Err(text) => view! {
                            <p class="error" role=move || range_refused.get().then_some("alert")>{text}</p>
                        }.into_any(),
                    })}
                </div>
            </Show>
            <div aria-live="assertive">
                {move || alike.get().map(|a| {
                    let again = a.command.clone();
                    view! {
                        <div class="did-you-mean" role="alert">
                            <h2>{a.question}</h2>
                            <p>{a.message}</p>
                            <div class="actions">
                                {a.existing.map(|(id, number)| view! {
                                    <A href=format!("/lockers/{id}") attr:class="button primary">{format!("Open {number}")}</A>
                                })}
                                <button type="button" class="button" disabled=move || form.busy.get()
                                    on:click=move |_| send(again.clone())>
                                    {a.confirm}
                                </button>
                            </div>
                        </div>
                    }
                })}
            </div>
            <FormError form/>
            <Submit form label="Add lockers" action=Action::AddLockers/>
        </form>
        <p><A href="/">"Go to the register"</A></p>
    }
}

/// The "Did you mean" question when the core refused the command's numbers as alike existing
/// ones (and it was not already confirmed); otherwise the refusal as it is.
fn ask(state: crate::state::AppState, command: &Command, message: String) -> Result<Alike, String> {
    let (site, confirmed, adds) = match command {
        Command::AddLocker {
            site,
            number,
            allow_similar,
            ..
        } => (
            *site,
            *allow_similar,
            normalise_locker_number(number).unwrap_or_default(),
        ),
        Command::AddLockerRange {
            site,
            from,
            to,
            allow_similar,
            ..
        } => (
            *site,
            *allow_similar,
            match parse_locker_range(from, to) {
                Ok(numbers) => format!("{} to {}", numbers[0], numbers[numbers.len() - 1]),
                Err(_) => return Err(message),
            },
        ),
        _ => return Err(message),
    };
    let pairs = state
        .register
        .with_untracked(|r| r.similar_lockers(command));
    let Some((_, like)) = pairs.first().filter(|_| !confirmed) else {
        return Err(message);
    };
    let question = format!("Did you mean {like}?");
    let existing = state.register.with_untracked(|r| {
        r.locker_by_number(site, like)
            .filter(|l| l.number == *like)
            .map(|l| (l.id, l.number.clone()))
    });
    let mut command = command.clone();
    if let Command::AddLocker { allow_similar, .. }
    | Command::AddLockerRange { allow_similar, .. } = &mut command
    {
        *allow_similar = true;
    }
    Ok(Alike {
        message: message
            .strip_prefix(&question)
            .map(str::trim)
            .unwrap_or(&message)
            .to_string(),
        question,
        existing,
        confirm: format!("Add {adds} anyway"),
        command,
    })
}
