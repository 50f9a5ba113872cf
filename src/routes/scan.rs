//! Where a label's QR leads when a phone's camera opens it (`/l/<reference>`, `/k/<tag>`):
//! straight to the locker or key when this device's register knows it, to the right site if
//! it belongs to another one, and otherwise to a neutral page that shows no register data.

use crate::state::use_app;
use keyward_core::{Resolved, Scanned};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

#[component]
pub fn ScanLanding() -> impl IntoView {
    let state = use_app();
    let navigate = use_navigate();
    let path = use_location().pathname.get_untracked();
    let resolved = Scanned::parse(&path).map(|s| state.register.with_untracked(|r| r.resolve(&s)));
    let (site, target) = match resolved {
        Some(Resolved::Locker(site, id)) => (site, format!("/lockers/{id}")),
        Some(Resolved::Key(site, id)) => (site, format!("/keys/{id}")),
        _ => return view! { <Neutral/> }.into_any(),
    };
    if state.site() == Some(site) {
        navigate(
            &target,
            NavigateOptions {
                replace: true,
                ..Default::default()
            },
        );
        return view! { <p class="loading">"Opening…"</p> }.into_any();
    }
    let name = state
        .register
        .with_untracked(|r| r.site(site).map(|s| s.name.clone()).unwrap_or_default());
    let open = move |_| {
        state.settings.update(|s| s.site = Some(site));
        navigate(
            &target,
            NavigateOptions {
                replace: true,
                ..Default::default()
            },
        );
    };
    view! {
        <h1>"Another site"</h1>
        <p>"This label belongs to "<strong>{name.clone()}</strong>", not the site this device is showing."</p>
        <button type="button" class="button primary" on:click=open>{format!("Switch to {name} and open it")}</button>
    }
    .into_any()
}

/// For a label this device does not know: nothing about the locker, its key or its holder.
#[component]
fn Neutral() -> impl IntoView {
    let state = use_app();
    let host = window().location().host().unwrap_or_default();
    // A device that keeps this site's register knows its name and front desk; a stranger's
    // phone does not, and is told only what to do with a found key.
    let site = state.register.with_untracked(|r| {
        r.sites()
            .find(|s| s.labels.as_ref().is_some_and(|l| l.host == host))
            .map(|s| {
                (
                    s.name.clone(),
                    s.labels.clone().map(|l| l.front_desk).unwrap_or_default(),
                )
            })
    });
    view! {
        <h1>"Keyward"</h1>
        {match site {
            Some((name, desk)) => view! {
                <p class="lead">"This locker is managed by "{name}"."</p>
                <p>"Found a key? Please hand it to "{desk}"."</p>
            }.into_any(),
            None => view! {
                <p class="lead">"This label belongs to a key register."</p>
                <p>"Found a key? Please hand it to the front desk or reception of the building where you found it."</p>
            }.into_any(),
        }}
    }
}
