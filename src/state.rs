//! The app's state, shared through context: the register (folded from IndexedDB), the device
//! settings, and the one function that changes the register, [`AppState::dispatch`].
//! Screens read the register and send commands; they never touch storage or decide validity.

use crate::settings::Settings;
use crate::storage::{mark, StorageError, Store};
use crate::tabs;
use keyward_core::{search::Index, Command, Context, DeviceId, Entropy, Event, Register, SiteId};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

thread_local! {
    // IndexedDB handles are not Send, so the store lives beside the signals, not in them.
    static STORE: RefCell<Option<Rc<Store>>> = const { RefCell::new(None) };
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Load {
    Loading,
    Ready,
    Failed(String),
}

#[derive(Clone, Copy)]
pub struct AppState {
    pub register: RwSignal<Register>,
    pub settings: RwSignal<Settings>,
    pub load: RwSignal<Load>,
    /// The search index of the current site, rebuilt when the register changes.
    pub index: RwSignal<Arc<Index>>,
    /// A short confirmation shown on the next screen ("Key 7KQ2M9P issued to Sam Jones").
    pub flash: RwSignal<Option<String>>,
    cursor: StoredValue<u64>,
}

pub fn use_app() -> AppState {
    expect_context::<AppState>()
}

impl AppState {
    pub fn new() -> Self {
        let mut settings = Settings::load();
        if settings.device.is_none() {
            settings.device = Some(DeviceId::generate(chrono::Utc::now(), &mut Crypto::new()));
            settings.save();
        }
        let state = Self {
            register: RwSignal::new(Register::new()),
            settings: RwSignal::new(settings),
            load: RwSignal::new(Load::Loading),
            index: RwSignal::new(Arc::new(Index::default())),
            flash: RwSignal::new(None),
            cursor: StoredValue::new(0),
        };
        // One place mirrors settings to storage, so no screen writes them itself.
        Effect::new(move |_| state.settings.with(Settings::save));
        Effect::new(move |_| {
            let site = state.site();
            let index = state.register.with(|r| {
                site.map(|s| Index::build(r, s, crate::components::today()))
                    .unwrap_or_default()
            });
            state.index.set(Arc::new(index));
        });
        state
    }

    /// Opens IndexedDB and folds the whole log. Called once at start.
    pub async fn start(self) {
        let opened = async {
            let store = Store::open().await?;
            mark("keyward:store-opened");
            let events = store.read_after(0).await?;
            mark("keyward:log-read");
            Ok::<_, StorageError>((store, events))
        };
        match opened.await {
            Ok((store, events)) => {
                let store = Rc::new(store);
                STORE.with(|s| *s.borrow_mut() = Some(store.clone()));
                self.absorb(&events);
                mark("keyward:log-folded");
                self.load.set(Load::Ready);
                tabs::listen(move || leptos::task::spawn_local(self.catch_up()));
                // Tidy the log's storage for the next opening, once this one is on screen.
                leptos::task::spawn_local(async move {
                    if let Err(e) = store.pack().await {
                        web_sys::console::warn_1(&e.to_string().into());
                    }
                });
            }
            Err(e) => self.load.set(Load::Failed(e.to_string())),
        }
    }

    /// The site this device shows: the one chosen, or the first there is.
    pub fn site(&self) -> Option<SiteId> {
        let chosen = self.settings.with(|s| s.site);
        self.register.with(|r| {
            chosen
                .filter(|id| r.site(*id).is_some())
                .or_else(|| r.sites().next().map(|s| s.id))
        })
    }

    /// The current site's areas by name (tracked).
    pub fn areas(&self) -> Vec<(keyward_core::AreaId, String)> {
        let site = self.site();
        self.register.with(|r| {
            site.map(|s| {
                r.areas_of(s)
                    .into_iter()
                    .map(|a| (a.id, a.name.clone()))
                    .collect()
            })
            .unwrap_or_default()
        })
    }

    pub fn user(&self) -> String {
        self.settings.with(|s| s.user.clone())
    }

    /// Checks a command against the latest register (including other tabs' changes), stores
    /// the event, and only then shows it. The error is a message for the person.
    pub async fn dispatch(self, command: Command) -> Result<Event, String> {
        let store = store()?;
        let (actor, device) = self.settings.with_untracked(|s| {
            (
                if s.user.trim().is_empty() {
                    "Unnamed user".to_string()
                } else {
                    s.user.trim().to_string()
                },
                s.device.expect("a device id is made at start"),
            )
        });
        let register = self.register;
        let mut caught_up = false;
        let outcome = store
            .write(self.cursor.get_value(), |fresh| {
                if !fresh.is_empty() {
                    caught_up = true;
                    register.update_untracked(|r| fresh.iter().for_each(|(_, e)| r.apply(e)));
                }
                let mut entropy = Crypto::new();
                let mut ctx = Context {
                    actor,
                    device,
                    now: chrono::Utc::now(),
                    entropy: &mut entropy,
                };
                register
                    .with_untracked(|r| r.execute(command, &mut ctx))
                    .map_err(|e| Refusal(e.to_string()))
            })
            .await;
        let result = match outcome {
            Ok((fresh, (seq, event))) => {
                self.advance(fresh.iter().map(|(s, _)| *s).chain([seq]));
                register.update(|r| r.apply(&event));
                tabs::announce();
                Ok(event)
            }
            Err(Refusal(message)) => Err(message),
        };
        if caught_up && result.is_err() {
            register.update(|_| ());
        }
        result
    }

    /// Adds events from a backup. Those already held are ignored when folded.
    pub async fn restore(self, events: Vec<Event>) -> Result<usize, String> {
        let store = store()?;
        let before = self.register.with_untracked(Register::event_count);
        // Only what this device does not hold yet is stored, so restoring twice adds nothing.
        let events: Vec<Event> = self
            .register
            .with_untracked(|r| events.into_iter().filter(|e| !r.has_event(e.id)).collect());
        if events.is_empty() {
            return Ok(0);
        }
        store.append_all(&events).await.map_err(|e| e.to_string())?;
        self.catch_up().await;
        tabs::announce();
        Ok(self.register.with_untracked(Register::event_count) - before)
    }

    /// The whole log as a backup file, and how many events it holds.
    pub async fn export(self) -> Result<(String, usize), String> {
        let store = store()?;
        let events: Vec<Event> = store
            .read_after(0)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        let count = events.len();
        serde_json::to_string(&keyward_core::backup::Backup::new(events))
            .map(|json| (json, count))
            .map_err(|e| e.to_string())
    }

    /// Reads what other tabs stored since this one last looked.
    pub async fn catch_up(self) {
        let Ok(store) = store() else {
            return;
        };
        if let Ok(events) = store.read_after(self.cursor.get_value()).await {
            if !events.is_empty() {
                self.absorb(&events);
            }
        }
    }

    fn absorb(&self, events: &[(u64, Event)]) {
        self.advance(events.iter().map(|(s, _)| *s));
        self.register
            .update(|r| events.iter().for_each(|(_, e)| r.apply(e)));
    }

    fn advance(&self, seqs: impl Iterator<Item = u64>) {
        let max = seqs.max().unwrap_or(0);
        self.cursor.update_value(|c| *c = (*c).max(max));
    }
}

/// The open IndexedDB store, or what to tell the person while it is still opening.
fn store() -> Result<Rc<Store>, String> {
    STORE
        .with(|s| s.borrow().clone())
        .ok_or_else(|| "The register is still opening. Wait a moment and try again.".to_string())
}

/// Why a write did not happen, as the message for the person.
struct Refusal(String);

impl From<StorageError> for Refusal {
    fn from(e: StorageError) -> Self {
        Self(e.to_string())
    }
}

/// The browser's cryptographic random numbers, drawn in blocks.
pub struct Crypto {
    buffer: [u8; 256],
    used: usize,
}

impl Crypto {
    pub fn new() -> Self {
        Self {
            buffer: [0; 256],
            used: 256,
        }
    }
}

impl Entropy for Crypto {
    fn next_u64(&mut self) -> u64 {
        if self.used + 8 > self.buffer.len() {
            let crypto = window().crypto().expect("the browser has crypto");
            crypto
                .get_random_values_with_u8_array(&mut self.buffer)
                .expect("crypto.getRandomValues works");
            self.used = 0;
        }
        let mut bytes = [0; 8];
        bytes.copy_from_slice(&self.buffer[self.used..self.used + 8]);
        self.used += 8;
        u64::from_le_bytes(bytes)
    }
}
