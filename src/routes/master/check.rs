//! The presence check (`/master/check`): each master key seen in its place, by a tap, a typed
//! tag or the camera.

use super::*;

#[component]
pub fn CheckPage() -> impl IntoView {
    use crate::camera;
    use leptos::html::Video;

    let state = use_app();
    let form = FormState::new();
    let site = Memo::new(move |_| state.site());
    let keys = Memo::new(move |_| {
        site.get()
            .map(|s| key_lines(state, s, None))
            .unwrap_or_default()
    });
    let typed = RwSignal::new(String::new());
    let scanning = RwSignal::new(false);
    let camera_problem = RwSignal::new(None::<String>);
    let video = NodeRef::<Video>::new();
    let last = StoredValue::new(String::new());

    let seen = move |tag: String| {
        let Some(parsed) = keyward_core::TagId::parse(&tag) else {
            let tag = tag.trim().to_string();
            form.fail(format!(
                "“{tag}” is not a tag id. A tag id has 7 letters and digits, like K7M2P9Q."
            ));
            return;
        };
        let shown = parsed.to_string();
        form.run(
            Command::CheckMasterKey {
                tag: parsed,
                notes: String::new(),
            },
            move |_| {
                let due = state.register.with_untracked(|r| {
                    let key = r.key_by_tag(&keyward_core::TagId::parse(&shown)?)?;
                    let site = r.locker_of_key(key.id)?.site;
                    r.presence_checks(site, Utc::now())
                        .into_iter()
                        .find(|c| c.key == key.id)
                        .map(|c| local_date(c.due))
                });
                state.flash.set(Some(format!(
                    "Master key {} seen in its place.{}",
                    shown,
                    due.map(|d| format!(" Next check due {d}."))
                        .unwrap_or_default()
                )));
                typed.set(String::new());
            },
        );
    };
    // A scanned label is a key tag's URL: the tag is what is checked.
    let from_code = move |text: String| {
        if last.with_value(|l| *l == text) {
            return;
        }
        last.set_value(text.clone());
        let tag =
            state
                .register
                .with_untracked(|r| match Scanned::parse(&text).map(|s| r.resolve(&s)) {
                    Some(Resolved::Key(_, id)) => r.key(id).map(|k| k.tag.to_string()),
                    _ => None,
                });
        match tag {
            Some(tag) => seen(tag),
            None => form
                .fail("That code is not a master key of this register. Scan a master key's tag."),
        }
    };
    let start = move |_| {
        scanning.set(true);
        camera_problem.set(None);
    };
    let started = StoredValue::new(false);
    Effect::new(move |_| {
        if !scanning.get() || started.get_value() {
            return;
        }
        let Some(element) = video.get() else {
            return;
        };
        started.set_value(true);
        leptos::task::spawn_local(async move {
            if let Err(reason) =
                camera::start(&element, false, camera::Codes::Labels, move |text, _| {
                    from_code(text)
                })
                .await
            {
                camera_problem.set(Some(format!(
                    "The camera could not start ({reason}). Tap “Seen” beside each key instead, or type its tag."
                )));
            }
        });
    });
    on_cleanup(camera::stop);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        seen(typed.get_untracked());
    };
    let next = move || {
        keys.with(|k| {
            let late = k.iter().filter(|k| k.late).count();
            let next = site.get().and_then(|s| {
                state.register.with(|r| {
                    r.presence_checks(s, Utc::now())
                        .into_iter()
                        .find(|c| !c.late)
                        .map(|c| local_date(c.due))
                })
            });
            (late, next)
        })
    };
    view! {
        <Back href="/master" label="Master keys"/>
        <h1>"Check master keys"</h1>
        <p class="lead">"Record each master key you see in its place: tap “Seen”, scan its tag, or type it."</p>
        {move || {
            let (late, next) = next();
            view! {
                {(late > 0).then(|| view! { <p class="warning">{if late == 1 { "1 check is late.".to_string() } else { format!("{late} checks are late.") }}</p> })}
                {next.map(|d| view! { <p>"Next check due "<strong>{d}</strong>"."</p> })}
            }
        }}
        <FormError form/>
        <RoleNote action=Action::UseMasterKey/>
        <ul class="rows checks">
            <For each=move || keys.get() key=|k| k.clone() let:k>
                <li class="check-row">
                    <span class="row-main">
                        <a href=format!("/master/keys/{}", k.id)><span class="tag">{k.tag.clone()}</span></a>
                        <span class="meta">{k.suite.clone()}" · "{k.status.clone()}</span>
                        <span class="meta" class:late=k.late>
                            {k.last_seen.clone().map(|s| format!("Seen {s}")).unwrap_or_else(|| "Never checked".into())}
                            {k.due.clone().map(|d| format!(" · due {d}{}", if k.late { " (late)" } else { "" }))}
                        </span>
                    </span>
                    {(!k.out && !k.lost).then(|| {
                        let tag = k.tag.clone();
                        view! {
                            <Allowed action=Action::UseMasterKey>
                                <button type="button" class="button small" aria-label=format!("Seen {}", tag) disabled=move || form.busy.get() on:click={
                                    let tag = tag.clone();
                                    move |_| seen(tag.clone())
                                }>"Seen"</button>
                            </Allowed>
                        }
                    })}
                </li>
            </For>
        </ul>
        <Show when=move || keys.with(Vec::is_empty)>
            <p class="empty">"No master key to check. Define a suite and add master keys to its locks first."</p>
        </Show>
        <section class="card">
            <h2>"Scan or type a tag"</h2>
            <Show
                when=move || scanning.get()
                fallback=move || view! { <button type="button" class="button" on:click=start>"Scan tags with the camera"</button> }
            >
                <div class="camera">
                    <video node_ref=video aria-label="Camera view" muted=true playsinline=true></video>
                    <div class="target" aria-hidden="true"></div>
                </div>
                <p class="hint" role="status">{move || camera_problem.get().unwrap_or_else(|| "Point the camera at each master key's tag.".into())}</p>
            </Show>
            <form on:submit=submit novalidate>
                <label for="check-tag">"Tag id"</label>
                <input id="check-tag" autocomplete="off" autocapitalize="characters" placeholder="K7M2P9Q" bind:value=typed/>
                <Submit form label="Record seen" action=Action::UseMasterKey/>
            </form>
        </section>
    }
}

// ---------------------------------------------------------------------------------------------
// Emergency uses to review
