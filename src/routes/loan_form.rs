//! The parts the issue and handover forms share: who takes the key (the locker's recent and
//! likely people first, one tap each; a search; a scan of their staff or pupil card; or a
//! department), the date, a temporary
//! loan's due-back day (prefilled from the area's policy) and optional time, and the taker's
//! confirmation as the area's policy asks (typed name, a signature drawn on screen, either, or
//! the issuer's tap). The typed name is never filled in for the taker.

use crate::components::{today, Choices, SignaturePad};
use crate::routes::card_scan::CardScanner;
use crate::state::use_app;
use chrono::NaiveTime;
use keyward_core::format::{parse_date, uk_date};
use keyward_core::{Confirmation, Holder, LockerId, PersonId, TakerConfirms, LIKELY_TAKERS};
use leptos::prelude::*;

/// What the person typed and chose on a loan form.
#[derive(Clone, Copy)]
pub struct LoanInput {
    pub to_person: RwSignal<bool>,
    pub person: RwSignal<Option<PersonId>>,
    pub person_search: RwSignal<String>,
    pub department: RwSignal<String>,
    pub date: RwSignal<String>,
    pub temporary: RwSignal<bool>,
    pub back_by: RwSignal<String>,
    pub due_time: RwSignal<String>,
    pub signed: RwSignal<bool>,
    pub typed_name: RwSignal<String>,
    pub signature: RwSignal<String>,
    pub notes: RwSignal<String>,
    /// Dates far from today that the person has been asked about once: pressing the button
    /// again with the same date records it.
    pub far_confirmed: RwSignal<Vec<chrono::NaiveDate>>,
}

/// A loan form read, ready for a command.
pub struct LoanParts {
    pub holder: Holder,
    pub date: chrono::NaiveDate,
    pub expected_return: Option<chrono::NaiveDate>,
    pub due_time: Option<NaiveTime>,
    pub confirmation: Confirmation,
    pub notes: String,
}

impl LoanInput {
    pub fn new() -> Self {
        Self {
            to_person: RwSignal::new(true),
            person: RwSignal::new(None),
            person_search: RwSignal::new(String::new()),
            department: RwSignal::new(String::new()),
            date: RwSignal::new(uk_date(today())),
            temporary: RwSignal::new(false),
            back_by: RwSignal::new(String::new()),
            due_time: RwSignal::new(String::new()),
            signed: RwSignal::new(false),
            typed_name: RwSignal::new(String::new()),
            signature: RwSignal::new(String::new()),
            notes: RwSignal::new(String::new()),
            far_confirmed: RwSignal::new(Vec::new()),
        }
    }

    /// The form's answers, or what to put right (checks of form only: the core decides the
    /// rest and says so in its own words). `needs` is what the area's policy asks of the taker:
    /// where a tap is enough, the confirm button alone is the confirmation.
    pub fn read(&self, date_words: &str, needs: TakerConfirms) -> Result<LoanParts, String> {
        let holder = if self.to_person.get_untracked() {
            match self.person.get_untracked() {
                Some(p) => Holder::Person(p),
                None => return Err("Choose the person taking the key: search by name or reference and tap their name.".into()),
            }
        } else {
            Holder::Department(self.department.get_untracked())
        };
        let Some(date) = parse_date(&self.date.get_untracked()) else {
            return Err(format!(
                "Enter the {date_words} as day/month/year, for example 26/11/2026."
            ));
        };
        let (expected_return, due_time) = if self.temporary.get_untracked() {
            let Some(day) = parse_date(&self.back_by.get_untracked()) else {
                return Err("Enter when the key is due back as day/month/year, for example 27/11/2026, or untick “Temporary loan”.".into());
            };
            let time = self.due_time.get_untracked();
            let time = if time.trim().is_empty() {
                None
            } else {
                match parse_time(&time) {
                    Some(t) => Some(t),
                    None => return Err("Enter the due-back time on the 24-hour clock, for example 17:00, or leave it empty for the end of the day.".into()),
                }
            };
            (Some(day), time)
        } else {
            (None, None)
        };
        for (day, words) in [(Some(date), date_words), (expected_return, "due-back day")] {
            let Some(day) = day else { continue };
            if let Some(far) = keyward_core::format::far_from_today(day, today()) {
                if !self
                    .far_confirmed
                    .with_untracked(|seen| seen.contains(&day))
                {
                    self.far_confirmed.update(|seen| seen.push(day));
                    return Err(format!(
                        "The {words}, {}, is {far}. Check the year; if it is right, press the button again to record it.",
                        uk_date(day)
                    ));
                }
            }
        }
        let signed = match needs {
            TakerConfirms::IssuerTap => None,
            TakerConfirms::TypedName => Some(false),
            TakerConfirms::Signature => Some(true),
            TakerConfirms::NameOrSignature => Some(self.signed.get_untracked()),
        };
        let confirmation = match signed {
            None => Confirmation::Tapped,
            Some(true) => Confirmation::Signature(self.signature.get_untracked()),
            Some(false) => Confirmation::TypedName(self.typed_name.get_untracked()),
        };
        Ok(LoanParts {
            holder,
            date,
            expected_return,
            due_time,
            confirmation,
            notes: self.notes.get_untracked(),
        })
    }
}

/// A 24-hour time: "17:00", "17.00", "1700", "9:30".
pub fn parse_time(text: &str) -> Option<NaiveTime> {
    let t = text.trim();
    let (h, m) = match t.find([':', '.']) {
        Some(i) => (&t[..i], &t[i + 1..]),
        None if t.len() == 4 => (&t[..2], &t[2..]),
        None if t.len() <= 2 => (t, "0"),
        None => return None,
    };
    if h.is_empty() || m.len() > 2 || m.is_empty() {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

fn days(n: u16) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

/// Who takes the key: one of the locker's recent and likely people in one tap, a person found
/// by name or reference, or a department. On a quick screen the department is a quieter
/// choice below the people.
#[component]
pub fn HolderFields(
    input: LoanInput,
    prefix: &'static str,
    legend: &'static str,
    locker: LockerId,
    #[prop(optional)] quick: bool,
) -> impl IntoView {
    let state = use_app();
    let site = state.site();
    let row = |p: &keyward_core::Person| {
        (
            p.id,
            p.details.name.clone(),
            [p.details.reference.clone(), p.details.department.clone()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · "),
        )
    };
    let matches = Memo::new(move |_| {
        let text = input.person_search.get();
        if text.trim().is_empty() {
            return Vec::new();
        }
        state.register.with(|r| {
            site.map(|s| r.find_people(s, &text))
                .unwrap_or_default()
                .into_iter()
                .take(6)
                .map(row)
                .collect::<Vec<_>>()
        })
    });
    let likely = Memo::new(move |_| {
        state.register.with(|r| {
            r.likely_takers(locker, LIKELY_TAKERS)
                .into_iter()
                .map(row)
                .collect::<Vec<_>>()
        })
    });
    let searching = move || !input.person_search.with(|s| s.trim().is_empty());
    let person_name = move || {
        input.person.get().and_then(|p| {
            state
                .register
                .with(|r| r.person(p).map(|p| p.details.name.clone()))
        })
    };
    let choose = move |id: PersonId| input.person.set(Some(id));
    let people = move |list: Vec<(PersonId, String, String)>| {
        list.into_iter()
            .map(|(id, name, meta)| {
                view! {
                    <li>
                        <button type="button" class="choice-button" on:click=move |_| choose(id)>
                            <strong>{name}</strong>
                            {(!meta.is_empty()).then(|| view! { <span class="meta">{meta}</span> })}
                        </button>
                    </li>
                }
            })
            .collect_view()
    };
    let dept_id = format!("{prefix}-department");
    view! {
        {(!quick).then(|| view! {
            <Choices legend name="holder" value=input.to_person options=vec![(true, "A person"), (false, "A department")]/>
        })}
        <Show
            when=move || input.to_person.get()
            fallback=move || view! {
                <label for=dept_id.clone()>"Department"</label>
                <input id=dept_id.clone() placeholder="PE department" bind:value=input.department/>
                {quick.then(|| view! {
                    <button type="button" class="button link-button" on:click=move |_| input.to_person.set(true)>"Issue to a person instead"</button>
                })}
            }
        >
            {move || match person_name() {
                Some(name) => view! {
                    <p class="chosen">
                        <span>"Person: "<strong>{name}</strong></span>
                        <button type="button" class="button small" on:click=move |_| input.person.set(None)>"Change"</button>
                    </p>
                }.into_any(),
                None => view! {
                    <label for=format!("{prefix}-person")>"Person"</label>
                    <p class="hint" id=format!("{prefix}-person-hint")>"Tap a name below, search by name, pupil or staff number, or scan their card."</p>
                    <input id=format!("{prefix}-person") type="search" autocomplete="off" aria-describedby=format!("{prefix}-person-hint") bind:value=input.person_search/>
                    <CardScanner choose=move |id| choose(id) search=input.person_search/>
                    <Show
                        when=searching
                        fallback=move || view! {
                            <Show when=move || likely.with(|l| !l.is_empty())>
                                <h2 class="list-heading" id=format!("{prefix}-likely")>"Recent and likely"</h2>
                                <ul class="choices likely" aria-labelledby=format!("{prefix}-likely")>
                                    {move || people(likely.get())}
                                </ul>
                            </Show>
                        }
                    >
                        <ul class="choices" aria-label="Matching people">
                            {move || people(matches.get())}
                        </ul>
                        <Show when=move || matches.with(Vec::is_empty)>
                            <p class="hint">"Nobody matches. Add them under People first."</p>
                        </Show>
                    </Show>
                    {quick.then(|| view! {
                        <button type="button" class="button link-button" on:click=move |_| input.to_person.set(false)>"Issue to a department instead"</button>
                    })}
                }.into_any(),
            }}
        </Show>
    }
}

/// The temporary-loan tick box, the due-back day (prefilled with the area policy's default
/// when ticked) and an optional due-back time on the 24-hour clock.
#[component]
pub fn DueFields(input: LoanInput, prefix: &'static str, locker: LockerId) -> impl IntoView {
    let state = use_app();
    let start = move || parse_date(&input.date.get()).unwrap_or_else(today);
    let hint = move || {
        let start = start();
        state.register.with(|r| {
            let p = r.policy_for_locker(locker);
            format!(
                "Day/month/year. Here a temporary loan lasts {} unless you choose, and at most {} (due back by {}).",
                days(p.default_loan_days),
                days(p.max_loan_days),
                uk_date(p.latest_return(start))
            )
        })
    };
    let on_check = move |ev: leptos::ev::Event| {
        let checked = event_target_checked(&ev);
        input.temporary.set(checked);
        if checked && input.back_by.with_untracked(|b| b.trim().is_empty()) {
            let from = parse_date(&input.date.get_untracked()).unwrap_or_else(today);
            let due = state
                .register
                .with_untracked(|r| r.default_return(locker, from));
            input.back_by.set(uk_date(due));
        }
    };
    view! {
        <label class="choice">
            <input type="checkbox" prop:checked=move || input.temporary.get() on:change=on_check/>
            "Temporary loan (due back on a date)"
        </label>
        <Show when=move || input.temporary.get()>
            <label for=format!("{prefix}-back-by")>"Due back"</label>
            <p class="hint" id=format!("{prefix}-back-by-hint")>{hint}</p>
            <input id=format!("{prefix}-back-by") inputmode="numeric" autocomplete="off" aria-describedby=format!("{prefix}-back-by-hint") bind:value=input.back_by/>
            <label for=format!("{prefix}-due-time")>"Due-back time (optional)"</label>
            <p class="hint" id=format!("{prefix}-due-time-hint")>"24-hour clock, for example 17:00. Empty: by the end of the day."</p>
            <input id=format!("{prefix}-due-time") inputmode="numeric" autocomplete="off" placeholder="17:00" aria-describedby=format!("{prefix}-due-time-hint") bind:value=input.due_time/>
        </Show>
    }
}

/// What the area's policy asks of the person taking a key of `locker` (read live: a policy
/// changed in another tab shows at once).
pub fn taker_confirms(locker: LockerId) -> Memo<TakerConfirms> {
    let state = use_app();
    Memo::new(move |_| {
        state
            .register
            .with(|r| r.policy_for_locker(locker).taker_confirms)
    })
}

/// How the person taking the key confirms it, as the area's policy asks: their typed name
/// (always empty to start with: they type it themselves), a drawn signature, a choice of the
/// two, or nothing but the confirm button where the issuer's tap is enough.
#[component]
pub fn ConfirmFields(
    input: LoanInput,
    prefix: &'static str,
    needs: Memo<TakerConfirms>,
) -> impl IntoView {
    let id = format!("{prefix}-typed-name");
    let typed = move || {
        let id = id.clone();
        view! {
            <label for=id.clone()>"Name typed by the person taking the key"</label>
            <p class="hint" id=format!("{id}-hint")>"They type their own name."</p>
            <input id=id.clone() autocomplete="off" aria-describedby=format!("{id}-hint") bind:value=input.typed_name/>
        }
    };
    move || {
        match needs.get() {
        TakerConfirms::IssuerTap => view! {
            <p class="hint confirm-tap">"Here a tap on the button confirms it: this area's policy needs no name or signature."</p>
        }
        .into_any(),
        TakerConfirms::TypedName => typed().into_any(),
        TakerConfirms::Signature => view! {
            <p class="label-like">"Signature of the person taking the key"</p>
            <SignaturePad path=input.signature/>
        }
        .into_any(),
        TakerConfirms::NameOrSignature => {
            let typed = typed.clone();
            view! {
                <Choices legend="Confirmation by the person taking the key" name="confirm" value=input.signed options=vec![(false, "Typed name"), (true, "Signature")]/>
                <Show when=move || input.signed.get() fallback=typed.clone()>
                    <SignaturePad path=input.signature/>
                </Show>
            }
            .into_any()
        }
    }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_on_the_24_hour_clock() {
        let t = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0);
        assert_eq!(parse_time("17:00"), t(17, 0));
        assert_eq!(parse_time(" 9.30 "), t(9, 30));
        assert_eq!(parse_time("1705"), t(17, 5));
        assert_eq!(parse_time("8"), t(8, 0));
        assert_eq!(parse_time("25:00"), None);
        assert_eq!(parse_time("5pm"), None);
        assert_eq!(parse_time("17:"), None);
    }
}
