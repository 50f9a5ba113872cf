//! Pieces every screen uses: form submission with its error, the flash message, status badges,
//! dates in UK form, the signature pad.

use crate::state::{use_app, AppState};
use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, Timelike, Utc};
use keyward_core::{Action, AreaId, Command, Event, LockerStatus};
use leptos::prelude::*;

mod signature;
pub use signature::SignaturePad;

/// 26/11/2026 14:05 in the device's time zone.
pub fn local_date_time(at: DateTime<Utc>) -> String {
    keyward_core::format::uk_date_time(&at.with_timezone(&Local))
}

pub fn today() -> NaiveDate {
    Local::now().date_naive()
}

/// The device's date and time now, to the minute (site time: what due-back times mean).
pub fn now() -> NaiveDateTime {
    let now = Local::now().naive_local();
    now.with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now)
}

/// The register screen's search and filters, kept while the person opens a locker and comes
/// back.
#[derive(Clone, Copy)]
pub struct RegisterFilter {
    pub text: RwSignal<String>,
    pub status: RwSignal<Option<LockerStatus>>,
    pub area: RwSignal<Option<AreaId>>,
    pub overdue: RwSignal<bool>,
    pub shown: RwSignal<usize>,
}

impl RegisterFilter {
    pub const PAGE: usize = 50;
    pub fn new() -> Self {
        Self {
            text: RwSignal::new(String::new()),
            status: RwSignal::new(None),
            area: RwSignal::new(None),
            overdue: RwSignal::new(false),
            shown: RwSignal::new(Self::PAGE),
        }
    }
}

/// A form's submission state: busy while storing, and the refusal message if any.
#[derive(Clone, Copy)]
pub struct FormState {
    pub busy: RwSignal<bool>,
    pub error: RwSignal<Option<String>>,
    state: AppState,
}

impl FormState {
    pub fn new() -> Self {
        Self {
            busy: RwSignal::new(false),
            error: RwSignal::new(None),
            state: use_app(),
        }
    }

    /// Sends the command; on success runs `done` with the stored event, otherwise shows why.
    pub fn run(self, command: Command, done: impl FnOnce(Event) + 'static) {
        if self.busy.get_untracked() {
            return;
        }
        self.busy.set(true);
        self.error.set(None);
        leptos::task::spawn_local(async move {
            let result = self.state.dispatch(command).await;
            self.busy.set(false);
            match result {
                Ok(event) => done(event),
                Err(message) => self.error.set(Some(message)),
            }
        });
    }

    pub fn fail(self, message: impl Into<String>) {
        self.error.set(Some(message.into()));
    }
}

/// A question with a few answers, as radio buttons side by side ("A person" / "A department").
#[component]
pub fn Choices<T>(
    legend: &'static str,
    name: &'static str,
    options: Vec<(T, &'static str)>,
    value: RwSignal<T>,
) -> impl IntoView
where
    T: Copy + PartialEq + Send + Sync + 'static,
{
    view! {
        <fieldset class="segmented">
            <legend>{legend}</legend>
            {options.into_iter().map(|(option, text)| view! {
                <label class="choice">
                    <input type="radio" name=name prop:checked=move || value.get() == option on:change=move |_| value.set(option)/>
                    {text}
                </label>
            }).collect_view()}
        </fieldset>
    }
}

/// The refusal message of a form, read out by screen readers when it appears.
#[component]
pub fn FormError(form: FormState) -> impl IntoView {
    view! {
        <div aria-live="assertive">
            {move || form.error.get().map(|message| view! {
                <p class="error" role="alert">{message}</p>
            })}
        </div>
    }
}

/// The submit button, disabled while the command is being stored, and disabled with the
/// reason when the person's role may not take `action`.
#[component]
pub fn Submit(
    form: FormState,
    #[prop(into)] label: String,
    #[prop(optional)] action: Option<Action>,
) -> impl IntoView {
    let state = use_app();
    let refusal = move || action.and_then(|a| state.allowed(a).err());
    view! {
        <button type="submit" class="button primary" disabled=move || form.busy.get() || refusal().is_some()>
            {label}
        </button>
        {move || refusal().map(|reason| view! { <p class="not-allowed">{reason}</p> })}
    }
}

/// The confirmation left by the last screen. It stays on the screen it was shown on and
/// goes when the person moves to another.
#[component]
pub fn Flash() -> impl IntoView {
    let state = use_app();
    let location = leptos_router::hooks::use_location();
    let shown_on = StoredValue::new(None::<String>);
    Effect::new(move |_| {
        let path = location.pathname.get();
        if state.flash.with(Option::is_none) {
            shown_on.set_value(None);
            return;
        }
        match shown_on.get_value() {
            None => shown_on.set_value(Some(path)),
            Some(first) if first != path => state.flash.set(None),
            Some(_) => {}
        }
    });
    view! {
        <div aria-live="polite">
            {move || state.flash.get().map(|message| view! {
                <p class="flash" role="status">
                    <span>{message}</span>
                    <button type="button" class="link" on:click=move |_| state.flash.set(None)>
                        <span aria-hidden="true">"✕"</span>
                        <span class="visually-hidden">"Dismiss"</span>
                    </button>
                </p>
            })}
        </div>
    }
}

#[component]
pub fn StatusBadge(status: LockerStatus) -> impl IntoView {
    view! { <span class=format!("badge {}", status.slug())>{status.label()}</span> }
}

/// "Back to …" at the top of a screen.
#[component]
pub fn Back(#[prop(into)] href: String, #[prop(into)] label: String) -> impl IntoView {
    view! { <p class="back"><leptos_router::components::A href=href>"‹ "{label}</leptos_router::components::A></p> }
}

/// Shows its children only when the person's role allows the action (buttons a role cannot
/// use are hidden; a [`RoleNote`] nearby says why).
#[component]
pub fn Allowed(action: Action, children: ChildrenFn) -> impl IntoView {
    let state = use_app();
    move || state.allowed(action).is_ok().then(|| children())
}

/// Why the person's role cannot take an action here; nothing when it can.
#[component]
pub fn RoleNote(action: Action) -> impl IntoView {
    let state = use_app();
    move || {
        state
            .allowed(action)
            .err()
            .map(|reason| view! { <p class="not-allowed">{reason}</p> })
    }
}

/// The key a `/keys/:id/…` screen is about: its id, tag, and the locker it opens (id and
/// number); `None` when this device does not hold it.
pub fn key_in_route() -> Option<(keyward_core::KeyId, String, keyward_core::LockerId, String)> {
    let state = use_app();
    let key = leptos_router::hooks::use_params_map()
        .with_untracked(|p| p.get("id").and_then(|id| keyward_core::KeyId::parse(&id)))?;
    state.register.with_untracked(|r| {
        let k = r.key(key)?;
        let locker = r.locker_of_key(key)?;
        Some((key, k.tag.to_string(), locker.id, locker.number.clone()))
    })
}

/// What a key screen shows when this device does not hold the key.
#[component]
pub fn KeyNotFound() -> impl IntoView {
    view! {
        <Back href="/" label="Register"/>
        <h1>"Key not found"</h1>
        <p>"This key is not in the register on this device."</p>
    }
}

/// "812 of 1,000 characters" under a text field once it is four-fifths full, and in red
/// beyond its limit (the core refuses longer text; the field's `maxlength` stops typing at
/// it, and this says why a paste was cut short).
#[component]
pub fn Count(value: RwSignal<String>, max: usize) -> impl IntoView {
    let used = move || value.with(|v| v.chars().count());
    view! {
        <Show when={move || used() * 5 >= max * 4}>
            <p class="char-count" class:over={move || used() >= max} aria-live="polite">
                {move || format!(
                    "{} of {} characters",
                    keyward_core::format::thousands(used()),
                    keyward_core::format::thousands(max)
                )}
            </p>
        </Show>
    }
}
