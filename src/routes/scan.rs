//! Where a label's QR leads when a phone's camera opens it (`/l/<reference>`, `/k/<tag>`) or
//! the scanner reads it: a key in store straight to its quick issue screen, a key that is out
//! to its quick return (for those who may issue and return keys; others see the key's page),
//! a locker whose one key is in store to the quick issue of that key, any other locker to its
//! page; to the right site if it belongs to another one, and otherwise to a neutral page that
//! shows no register data.

use crate::routes::issue::quick_issue_path;
use crate::routes::return_key::quick_return_path;
use crate::state::{use_app, AppState};
use keyward_core::{Action, KeyKind, KeyState, LockerId, Register, Resolved, Scanned};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

#[component]
pub fn ScanLanding() -> impl IntoView {
    let state = use_app();
    let navigate = use_navigate();
    let path = use_location().pathname.get_untracked();
    let may_issue = state.allowed(Action::IssueReturn).is_ok();
    let resolved = Scanned::parse(&path).map(|s| state.register.with_untracked(|r| r.resolve(&s)));
    let (site, target) = match resolved {
        Some(Resolved::Locker(site, id)) => (
            site,
            state
                .register
                .with_untracked(|r| locker_path(r, id, may_issue)),
        ),
        Some(Resolved::Key(site, id)) => (
            site,
            state
                .register
                .with_untracked(|r| key_path(r, id, may_issue)),
        ),
        Some(Resolved::BlankTag(site, tag)) => (site, format!("/tags/{tag}")),
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

/// Where a scanned key tag leads: a master key's own page (signed out, returned or checked
/// there); for someone who may issue and return keys, the quick issue of a key in store (its
/// locker in service) and the quick return of a key that is out; otherwise the key's page.
fn key_path(r: &Register, id: keyward_core::KeyId, may_issue: bool) -> String {
    let Some(key) = r.key(id) else {
        return format!("/keys/{id}");
    };
    if key.kind == KeyKind::Master {
        return format!("/master/keys/{id}");
    }
    let locker = r.locker_of_key(id);
    match (may_issue, key.state, locker) {
        (true, KeyState::InStore, Some(l)) if l.out_of_service.is_none() => {
            quick_issue_path(l.id, id)
        }
        (true, s, _) if s.is_out() => quick_return_path(id),
        _ => format!("/keys/{id}"),
    }
}

/// Where a scanned locker label leads: the quick issue of its key when exactly one key is in
/// store and none is out (a free locker), for someone who may issue keys; else its page.
fn locker_path(r: &Register, id: LockerId, may_issue: bool) -> String {
    let keys: Vec<_> = r
        .keys_of_locker(id)
        .into_iter()
        .filter(|k| k.kind != KeyKind::Master)
        .collect();
    let in_store: Vec<_> = keys
        .iter()
        .filter(|k| k.state == KeyState::InStore)
        .collect();
    let in_service = r.locker(id).is_some_and(|l| l.out_of_service.is_none());
    match in_store.as_slice() {
        [only] if may_issue && in_service && !keys.iter().any(|k| k.state.is_out()) => {
            quick_issue_path(id, only.id)
        }
        _ => format!("/lockers/{id}"),
    }
}

/// Where a code leads in this register.
enum Found {
    Go(String),
    OtherSite(keyward_core::SiteId, String, String),
    NotKeyward,
    Unknown(String),
}

fn find(state: AppState, text: &str) -> Found {
    let site = state.site();
    let may_issue = state.allowed(Action::IssueReturn).is_ok();
    state.register.with_untracked(|r| {
        let go = |s: keyward_core::SiteId, path: String| {
            if Some(s) == site {
                Found::Go(path)
            } else {
                let name = r.site(s).map(|s| s.name.clone()).unwrap_or_default();
                Found::OtherSite(s, name, path)
            }
        };
        match Scanned::parse(text).map(|s| r.resolve(&s)) {
            Some(Resolved::Locker(s, id)) => go(s, locker_path(r, id, may_issue)),
            Some(Resolved::Key(s, id)) => go(s, key_path(r, id, may_issue)),
            Some(Resolved::BlankTag(s, tag)) => go(s, format!("/tags/{tag}")),
            Some(Resolved::Unknown) => Found::Unknown(text.trim().to_string()),
            None => match site.and_then(|s| r.locker_by_number(s, text)) {
                Some(l) => Found::Go(format!("/lockers/{}", l.id)),
                None if text.contains("://") => Found::NotKeyward,
                None => Found::Unknown(text.trim().to_string()),
            },
        }
    })
}

/// The scanner: the rear camera reading labels continuously, the torch where the phone has
/// one, and a box to type a tag id or locker number that always works.
#[component]
pub fn ScanPage() -> impl IntoView {
    use crate::camera::{self, Decoder};
    use leptos::html::Video;
    use leptos_router::hooks::use_query_map;

    let state = use_app();
    let navigate = use_navigate();
    let force_rqrr =
        use_query_map().with_untracked(|q| q.get("decoder").as_deref() == Some("rqrr"));
    let video = NodeRef::<Video>::new();
    let camera_state = RwSignal::new(None::<Result<Decoder, String>>);
    let torch = RwSignal::new(None::<bool>);
    let typed = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(String, Option<(keyward_core::SiteId, String)>)>);
    let last = StoredValue::new(String::new());

    let handle = {
        let navigate = navigate.clone();
        move |text: String, from_camera: bool| {
            if from_camera && last.with_value(|l| *l == text) {
                return;
            }
            last.set_value(text.clone());
            match find(state, &text) {
                Found::Go(path) => {
                    if from_camera {
                        crate::storage::mark("keyward:scan-decoded");
                    }
                    camera::stop();
                    navigate(&path, Default::default());
                }
                Found::OtherSite(site, name, path) => message.set(Some((
                    format!("That label belongs to {name}, not the site this device is showing."),
                    Some((site, path)),
                ))),
                Found::NotKeyward => message.set(Some(("That code is not a Keyward label.".into(), None))),
                Found::Unknown(code) => message.set(Some((
                    format!("No locker or key “{code}” in this register. Check the code, or add the locker under Set-up."),
                    None,
                ))),
            }
        }
    };

    let on_camera = handle.clone();
    Effect::new(move |started: Option<bool>| {
        if started == Some(true) {
            return true;
        }
        let Some(element) = video.get() else {
            return false;
        };
        let on_camera = on_camera.clone();
        leptos::task::spawn_local(async move {
            let result = camera::start(
                &element,
                force_rqrr,
                camera::Codes::Labels,
                move |text, _ms| on_camera(text, true),
            )
            .await;
            if result.is_ok() && camera::has_torch() {
                torch.set(Some(false));
            }
            camera_state.set(Some(result));
        });
        true
    });
    on_cleanup(camera::stop);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = typed.get_untracked();
        if text.trim().is_empty() {
            message.set(Some((
                "Type a key's tag id (like K7M2P9Q) or a locker number (like A12).".into(),
                None,
            )));
            return;
        }
        handle(text, false);
    };
    let switch = move |site, path: String| {
        let navigate = navigate.clone();
        move |_| {
            state.settings.update(|s| s.site = Some(site));
            camera::stop();
            navigate(&path, Default::default());
        }
    };
    let toggle_torch = move |_| {
        let on = !torch.get_untracked().unwrap_or(false);
        leptos::task::spawn_local(async move {
            if camera::set_torch(on).await {
                torch.set(Some(on));
            }
        });
    };

    view! {
        <h1>"Scan"</h1>
        <div class="camera">
            <video node_ref=video aria-label="Camera view" muted=true playsinline=true></video>
            <div class="target" aria-hidden="true"></div>
        </div>
        <p class="hint" role="status">{move || match camera_state.get() {
            None => "Starting the camera…".to_string(),
            Some(Ok(_)) => "Point the camera at a locker label or a key tag.".to_string(),
            Some(Err(reason)) => camera_problem(&reason),
        }}</p>
        <Show when=move || torch.get().is_some()>
            <button type="button" class="button" aria-pressed=move || torch.get().unwrap_or(false).to_string() on:click=toggle_torch>
                "Torch"
            </button>
        </Show>
        <div aria-live="assertive">
            {move || message.get().map(|(text, other)| view! {
                <div class="warning" role="alert">
                    <p>{text}</p>
                    {other.map(|(site, path)| view! {
                        <button type="button" class="button small" on:click=switch(site, path)>"Switch site and open it"</button>
                    })}
                </div>
            })}
        </div>
        <form class="card" on:submit=submit novalidate>
            <label for="scan-manual">"Tag id or locker number"</label>
            <input id="scan-manual" autocomplete="off" autocapitalize="characters" placeholder="K7M2P9Q or A12" bind:value=typed/>
            <button type="submit" class="button primary">"Find"</button>
        </form>
        <span class="visually-hidden" data-decoder=move || match camera_state.get() {
            Some(Ok(Decoder::BarcodeDetector)) => "BarcodeDetector",
            Some(Ok(Decoder::Rqrr)) => "rqrr",
            _ => "",
        }></span>
    }
}

pub(super) fn camera_problem(reason: &str) -> String {
    match reason {
        "NotAllowedError" | "SecurityError" => "The camera is blocked for Keyward. Allow it in the browser's settings for this site, or type the code below.".into(),
        "NotFoundError" | "OverconstrainedError" | "NotReadableError" => "No camera Keyward can use on this device (or another app is using it). Type the code below.".into(),
        "NotSupported" if !crate::pwa::secure_context() => "The camera works only when Keyward is opened at an https address, and this one is http. Type the code below, or ask whoever runs the Keyward server for its https address.".into(),
        "NotSupported" => "This browser cannot use the camera. Type the code below.".into(),
        other => format!("The camera could not start ({other}). Type the code below."),
    }
}
