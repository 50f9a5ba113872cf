//! The shell: state in context, the router (one route per screen, see routes/), the top bar,
//! the bottom navigation within thumb reach, and the banners shown on every screen.

use crate::components::{Flash, RegisterFilter};
use crate::pwa;
use crate::routes::*;
use crate::state::{AppState, Load};
use crate::storage::Notice;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

#[component]
pub fn App() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);
    provide_context(RegisterFilter::new());
    leptos::task::spawn_local(state.start());

    let update_ready = RwSignal::new(false);
    pwa::register(move || update_ready.set(true));
    let online = RwSignal::new(true);
    online.set(pwa::watch_connectivity(move |now| online.set(now)));

    if let Some(boot) = document().get_element_by_id("boot") {
        boot.remove();
    }

    let site_name = move || {
        let site = state.site();
        state
            .register
            .with(|r| site.and_then(|s| r.site(s)).map(|s| s.name.clone()))
    };

    let sync_class = move || {
        let status = state.sync.get();
        if !state.settings.with(|s| s.enrolled()) {
            "local"
        } else if status.unreachable || !online.get() {
            "offline"
        } else if status.problem.is_some() {
            "problem"
        } else if state.pending.get() > 0 || status.running {
            "waiting"
        } else {
            "synced"
        }
    };

    /// A few words after the status when changes kept only here may be cleared by the browser.
    fn at_risk(state: AppState) -> String {
        if state.pending.get() == 0 || !state.device.at_risk() {
            String::new()
        } else if state.settings.with(|s| s.enrolled()) {
            " · only on this device, which may clear them".into()
        } else {
            " · the browser may clear it".into()
        }
    }

    view! {
        <Router>
            <a class="skip" href="#main">"Skip to content"</a>
            <header class="topbar">
                <A href="/" attr:class="brand">
                    <img class="brand-mark" src="/icon.svg" alt="" width="28" height="28"/>
                    "Keyward"
                </A>
                <span class="site-name">{site_name}</span>
            </header>
            <div class="statusbar">
                <A href="/sync" attr:class="sync-chip">
                    <span class=move || format!("dot {}", sync_class())></span>
                    <span>{move || status_text(state) + &at_risk(state)}</span>
                </A>
                {move || {
                    let open = if state.load.get() == Load::Ready { open_conflicts().len() } else { 0 };
                    (open > 0).then(|| view! {
                        <A href="/conflicts" attr:class="conflict-chip">
                            {if open == 1 { "1 conflict".to_string() } else { format!("{open} conflicts") }}
                        </A>
                    })
                }}
            </div>
            {move || {
                if state.load.get() != Load::Ready {
                    return None;
                }
                let lost = open_escalation_lines(state);
                (!lost.is_empty()).then(|| view! {
                    <section class="banner escalation" aria-label="Lost master key">
                        {lost.into_iter().map(|(id, tag, lockers)| view! {
                            <p>
                                <strong>{format!("Master key {tag} is lost.")}</strong>
                                {format!(" Lockers at risk: {}. ", locker_list(&lockers))}
                                <A href=format!("/master/escalations/{id}")>"What to do"</A>
                            </p>
                        }).collect_view()}
                    </section>
                })
            }}
            {move || match state.storage_notice.get() {
                Some(Notice::UpgradeBlocked) => Some(view! {
                    <p class="banner update" role="alert">
                        "Keyward is updating how it stores the register. Close Keyward in your other tabs, or reload them, to finish. Nothing is lost."
                    </p>
                }.into_any()),
                Some(Notice::Replaced) => Some(view! {
                    <div class="banner update" role="alert">
                        <span>"Keyward was updated in another tab. Reload this tab to carry on: everything you recorded is kept."</span>
                        <button type="button" class="button small" on:click=move |_| { let _ = window().location().reload(); }>
                            "Reload"
                        </button>
                    </div>
                }.into_any()),
                Some(Notice::Opened) | None => None,
            }}
            {(!pwa::secure_context()).then(|| view! {
                <div class="banner insecure" role="status">
                    <p><strong>"This address is not secure (http), so Keyward cannot work offline here or use the camera to scan."</strong></p>
                    <details>
                        <summary>"How to fix it"</summary>
                        <p>"Everything else works while there is a network. To fix it, open Keyward at its https address: ask whoever runs the Keyward server for it. If this device is asked to trust the server's certificate first, its /ca page shows how, for Android and for iPhone."</p>
                    </details>
                </div>
            })}
            {move || state.device.clock_warning().map(|w| view! {
                <p class="banner clock" role="status">{w}</p>
            })}
            <Show when=move || !online.get()>
                <p class="banner offline" role="status">
                    "Offline. Everything you record is kept on this device and sent when back online."
                </p>
            </Show>
            <Show when=move || update_ready.get()>
                <div class="banner update" role="status">
                    <span>"A new version of Keyward is ready."</span>
                    <button type="button" class="button small" on:click=move |_| pwa::reload_to_update()>
                        "Reload"
                    </button>
                </div>
            </Show>
            <main id="main" tabindex="-1">
                <Flash/>
                {move || match state.load.get() {
                    Load::Loading => view! { <p class="loading" role="status">"Opening the register…"</p> }.into_any(),
                    Load::Damaged(damage) => view! { <SafeMode damage/> }.into_any(),
                    Load::Failed(message) => view! {
                        <div class="error" role="alert">
                            <h1>"The register could not be opened"</h1>
                            <p>{message}</p>
                        </div>
                    }.into_any(),
                    Load::Ready => view! {
                        <UntilRefetched>
                        <Routes fallback=|| view! { <NotFound/> }>
                            <Route path=path!("/") view=RegisterPage/>
                            <Route path=path!("/lockers/:id") view=LockerPage/>
                            <Route path=path!("/lockers/:id/issue") view=IssuePage/>
                            <Route path=path!("/keys/:id") view=KeyPage/>
                            <Route path=path!("/keys/:id/return") view=ReturnPage/>
                            <Route path=path!("/keys/:id/lost") view=ReportLostPage/>
                            <Route path=path!("/lockers/:id/change-lock") view=ChangeLockPage/>
                            <Route path=path!("/cases") view=CasesPage/>
                            <Route path=path!("/cases/:id") view=CasePage/>
                            <Route path=path!("/orders") view=OrdersPage/>
                            <Route path=path!("/orders/new") view=NewOrderPage/>
                            <Route path=path!("/orders/:id") view=OrderPage/>
                            <Route path=path!("/locks-to-replace") view=LocksToReplacePage/>
                            <Route path=path!("/repeated-losses") view=RepeatedLossesPage/>
                            <Route path=path!("/keys/:id/handover") view=HandOverPage/>
                            <Route path=path!("/overdue") view=OverduePage/>
                            <Route path=path!("/audits") view=AuditsPage/>
                            <Route path=path!("/audits/:id") view=AuditPage/>
                            <Route path=path!("/audits/:id/report") view=AuditReportPage/>
                            <Route path=path!("/dashboard") view=DashboardPage/>
                            <Route path=path!("/spares") view=SparesPage/>
                            <Route path=path!("/scan") view=ScanPage/>
                            <Route path=path!("/tags/:tag") view=BlankTagPage/>
                            <Route path=path!("/l/:code") view=ScanLanding/>
                            <Route path=path!("/k/:code") view=ScanLanding/>
                            // Label QR codes are in capitals (the QR's compact alphanumeric mode).
                            <Route path=path!("/L/:code") view=ScanLanding/>
                            <Route path=path!("/K/:code") view=ScanLanding/>
                            <Route path=path!("/people") view=PeoplePage/>
                            <Route path=path!("/people/new") view=NewPersonPage/>
                            <Route path=path!("/people/:id") view=PersonPage/>
                            <Route path=path!("/people/:id/edit") view=EditPersonPage/>
                            <Route path=path!("/setup") view=SetupPage/>
                            <Route path=path!("/setup/lockers") view=AddLockersPage/>
                            <Route path=path!("/setup/backup") view=BackupPage/>
                            <Route path=path!("/setup/policies") view=PoliciesPage/>
                            <Route path=path!("/labels") view=LabelsPage/>
                            <Route path=path!("/sync") view=SyncPage/>
                            <Route path=path!("/reset") view=ResetPasswordPage/>
                            <Route path=path!("/conflicts") view=ConflictsPage/>
                            <Route path=path!("/master") view=MasterPage/>
                            <Route path=path!("/master/check") view=CheckPage/>
                            <Route path=path!("/master/reviews") view=ReviewsPage/>
                            <Route path=path!("/master/keys/:id") view=MasterKeyPage/>
                            <Route path=path!("/master/escalations/:id") view=EscalationPage/>
                        </Routes>
                        </UntilRefetched>
                    }.into_any(),
                }}
            </main>
            <nav class="bottomnav" aria-label="Main">
                <A href="/" exact=true>
                    <svg class="nav-icon" aria-hidden="true" viewBox="0 0 24 24"><path d="M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z"/></svg>
                    "Register"
                </A>
                <A href="/scan">
                    <svg class="nav-icon" aria-hidden="true" viewBox="0 0 24 24"><path d="M3 3h6v2H5v4H3zM15 3h6v6h-2V5h-4zM3 15h2v4h4v2H3zM19 15h2v6h-6v-2h4zM7 7h4v4H7zM13 13h4v4h-4zM13 7h4v4h-4zM7 13h4v4H7z"/></svg>
                    "Scan"
                </A>
                <A href="/people">
                    <svg class="nav-icon" aria-hidden="true" viewBox="0 0 24 24"><circle cx="12" cy="8" r="4"/><path d="M4 21c0-4.4 3.6-8 8-8s8 3.6 8 8z"/></svg>
                    "People"
                </A>
                <A href="/setup">
                    <svg class="nav-icon" aria-hidden="true" viewBox="0 0 24 24"><path d="M10 2h4l.6 3 2.4 1.4 2.9-1 2 3.4-2.3 2v2.4l2.3 2-2 3.4-2.9-1L14.6 19 14 22h-4l-.6-3L7 17.6l-2.9 1-2-3.4 2.3-2v-2.4l-2.3-2 2-3.4 2.9 1L9.4 5zM12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z" fill-rule="evenodd"/></svg>
                    "Set-up"
                </A>
            </nav>
        </Router>
    }
}
