//! The app's state, shared through context: the register (folded from IndexedDB), the device
//! settings, and the one function that changes the register, [`AppState::dispatch`].
//! Screens read the register and send commands; they never touch storage or decide validity.

use crate::settings::{Account, Settings};
use crate::storage::{mark, Outgoing, Refused, Snapshot, StorageError, Store};
use crate::tabs;
use keyward_core::{
    search::Index, Action, Command, Context, DeviceId, Entropy, Event, Register, Role, SiteId,
};
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
    /// Safe mode: records that do not read, shown for a person to decide; nothing changed.
    Damaged(Vec<crate::storage::Damage>),
}

#[derive(Clone, Copy)]
pub struct AppState {
    pub register: RwSignal<Register>,
    pub settings: RwSignal<Settings>,
    pub load: RwSignal<Load>,
    /// The last thing storage said outside a call: an upgrade waiting for another tab, or a
    /// newer version in another tab (this one must reload).
    pub storage_notice: RwSignal<Option<crate::storage::Notice>>,
    /// The search index of the current site, rebuilt when the register changes.
    pub index: RwSignal<Arc<Index>>,
    /// A short confirmation shown on the next screen ("Key 7KQ2M9P issued to Sam Jones").
    pub flash: RwSignal<Option<String>>,
    /// Changes recorded here and not yet confirmed by the server.
    pub pending: RwSignal<usize>,
    /// Changes the server refused, until dismissed.
    pub refused: RwSignal<Vec<Refused>>,
    pub sync: RwSignal<crate::sync::Status>,
    /// Safe mode fetched the register again from the server and the first pull has not
    /// ended yet: the register here is not the site's, so screens wait for it.
    pub refetching: RwSignal<bool>,
    /// The token of the account in use when it has a PIN, decrypted with it: (username,
    /// token). Held in memory only, and only for the account in use (read through the
    /// token methods in `pin.rs`).
    pub(crate) unlocked: RwSignal<Option<(String, String)>>,
    /// The local date and time to the minute, for what is overdue; moves on every half minute.
    pub clock: RwSignal<chrono::NaiveDateTime>,
    /// This device's storage (kept for good, room left) and clock against the server's.
    pub device: crate::device::Device,
    outbox: StoredValue<Vec<Outgoing>>,
    /// How far this tab has read: the confirmed log's sequence and the outbox's change number.
    seen: StoredValue<(u64, u64)>,
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
            storage_notice: RwSignal::new(None),
            index: RwSignal::new(Arc::new(Index::default())),
            flash: RwSignal::new(None),
            pending: RwSignal::new(0),
            refused: RwSignal::new(Vec::new()),
            sync: RwSignal::new(Default::default()),
            refetching: RwSignal::new(false),
            unlocked: RwSignal::new(None),
            clock: RwSignal::new(crate::components::now()),
            device: crate::device::Device::new(),
            outbox: StoredValue::new(Vec::new()),
            seen: StoredValue::new((0, 0)),
        };
        // One place mirrors settings to storage, so no screen writes them itself.
        Effect::new(move |_| state.settings.with(Settings::save));
        // Another tab changed them (a PIN set, a switch, a sign-out): read them again, so this
        // tab never writes back what that tab took out (a token in clear).
        Settings::on_change_elsewhere(move || state.settings.set(Settings::load()));
        // Whoever uses the device now, a decrypted token of someone else goes.
        Effect::new(move |_| {
            let active = state.settings.with(|s| s.active.clone());
            if state.unlocked.with_untracked(|u| {
                u.as_ref()
                    .is_some_and(|(who, _)| Some(who) != active.as_ref())
            }) {
                state.unlocked.set(None);
            }
        });
        // Once there is a register worth keeping, ask the browser to keep it for good.
        let has_site = Memo::new(move |_| {
            state.load.get() == Load::Ready && state.register.with(|r| r.sites().next().is_some())
        });
        Effect::new(move |_| {
            if has_site.get() {
                state.device.ask_once();
            }
        });
        set_interval(move || state.tick(), std::time::Duration::from_secs(30));
        Effect::new(move |_| {
            let site = state.site();
            let now = state.clock.get();
            let index = state
                .register
                .with(|r| site.map(|s| Index::build_at(r, s, now)).unwrap_or_default());
            state.index.set(Arc::new(index));
        });
        state
    }

    /// Reads the clock again (screens that show what is overdue call it when they open); the
    /// index is rebuilt only when the minute has changed.
    pub fn tick(&self) {
        let now = crate::components::now();
        if self.clock.get_untracked() != now {
            self.clock.set(now);
        }
    }

    /// Opens IndexedDB and folds the whole log. Called once at start.
    pub async fn start(self) {
        let opened = async {
            let notice = self.storage_notice;
            let store = Store::open(move |n| notice.set(Some(n))).await?;
            mark("keyward:store-opened");
            let snapshot = store.snapshot().await?;
            mark("keyward:log-read");
            let refused = store.rejected().await?;
            self.refetching.set(store.refetching().await?);
            Ok::<_, StorageError>((store, snapshot, refused))
        };
        match opened.await {
            Ok((store, snapshot, refused)) => {
                let store = Rc::new(store);
                STORE.with(|s| *s.borrow_mut() = Some(store.clone()));
                self.show(snapshot);
                self.refused.set(refused);
                mark("keyward:log-folded");
                self.load.set(Load::Ready);
                tabs::listen(move || leptos::task::spawn_local(self.refresh()));
                crate::sync::start(self);
                // Tidy the log's storage for the next opening, once this one is on screen.
                leptos::task::spawn_local(async move {
                    if let Err(e) = store.pack(crate::storage::PACK_AFTER).await {
                        web_sys::console::warn_1(&e.to_string().into());
                    }
                });
            }
            Err(e) => self.load.set(self.diagnose(e).await),
        }
    }

    /// Why the register did not open: damaged records (safe mode) when a fresh look finds
    /// some, else the storage error as it is.
    async fn diagnose(self, error: StorageError) -> Load {
        let notice = self.storage_notice;
        let Ok(store) = Store::open(move |n| notice.set(Some(n))).await else {
            return Load::Failed(error.to_string());
        };
        match store.diagnose().await {
            Ok(damage) if !damage.is_empty() => {
                STORE.with(|s| *s.borrow_mut() = Some(Rc::new(store)));
                Load::Damaged(damage)
            }
            _ => Load::Failed(error.to_string()),
        }
    }

    /// Shows the confirmed log folded with the outbox replayed on top. The register is the
    /// only copy kept: no second "confirmed" register doubles the memory and the opening time.
    fn show(&self, snapshot: Snapshot) {
        let mut view = Register::fold(snapshot.confirmed.iter().map(|(_, e)| e));
        snapshot.outbox.iter().for_each(|p| view.apply(&p.event));
        let last_seq = snapshot.confirmed.last().map_or(0, |(s, _)| *s);
        let last_n = snapshot.outbox.last().map_or(0, |o| o.n);
        self.seen.set_value((last_seq, last_n));
        self.outbox.set_value(snapshot.outbox);
        self.count_pending();
        self.register.set(view);
    }

    fn count_pending(&self) {
        self.pending.set(
            self.outbox
                .with_value(|o| o.iter().filter(|p| p.pos.is_none()).count()),
        );
    }

    /// Takes in what storage gained since this tab last looked (another tab's change, or a
    /// sync). The register shown is fold(confirmed + pending); when the new confirmed log
    /// followed by the outbox still begins with the events pending before, in the same order
    /// (nothing refused, nobody else's events slotted in before them), the new events are
    /// simply applied on top. Otherwise the register is folded again from storage.
    pub async fn refresh(self) {
        let Ok(store) = store() else {
            return;
        };
        let Ok((fresh, outbox, refused)) = store.changes(self.seen.get_value().0).await else {
            return;
        };
        if self.refused.with_untracked(|r| r.len()) != refused.len() {
            self.refused.set(refused);
        }
        let now: Vec<&Event> = fresh
            .iter()
            .map(|(_, e)| e)
            .chain(outbox.iter().map(|o| &o.event))
            .collect();
        let extends = self.outbox.with_value(|before| {
            before.len() <= now.len() && before.iter().zip(&now).all(|(p, e)| p.event.id == e.id)
        });
        if !extends {
            if let Ok(snapshot) = store.snapshot().await {
                self.show(snapshot);
            }
            return;
        }
        let last_seq = fresh.last().map(|(s, _)| *s);
        let last_n = outbox.last().map(|o| o.n);
        self.seen.update_value(|(seq, n)| {
            *seq = last_seq.unwrap_or(*seq);
            *n = (*n).max(last_n.unwrap_or(0));
        });
        let skip = self.outbox.with_value(Vec::len);
        if now.len() > skip {
            self.register
                .update(|r| now[skip..].iter().for_each(|e| r.apply(e)));
        }
        self.outbox.set_value(outbox);
        self.count_pending();
    }

    /// The outbox as it stands in memory.
    pub fn outbox(&self) -> Vec<Outgoing> {
        self.outbox.get_value()
    }

    /// The account in use on this device, if it has signed in.
    pub fn account(&self) -> Option<Account> {
        self.settings.with(|s| s.account().cloned())
    }

    pub fn account_untracked(&self) -> Option<Account> {
        self.settings.with_untracked(|s| s.account().cloned())
    }

    /// The role of whoever is using the device; `None` on a device that has never signed in,
    /// where the one person using it may do everything.
    pub fn role(&self) -> Option<Role> {
        self.account().map(|a| a.role)
    }

    /// Whether the person using the device may take this action, with the reason if not.
    pub fn allowed(&self, action: Action) -> Result<(), String> {
        self.role().map_or(Ok(()), |r| r.check(action))
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

    /// This device's id, made when the app first ran here.
    pub fn device(&self) -> DeviceId {
        self.settings
            .with_untracked(|s| s.device.expect("a device id is made at start"))
    }

    /// The name recorded on events: the signed-in person, or the name typed on this device.
    pub fn actor(&self) -> String {
        self.settings.with_untracked(|s| match s.account() {
            Some(a) => a.name.clone(),
            None if s.user.trim().is_empty() => "Unnamed user".to_string(),
            None => s.user.trim().to_string(),
        })
    }

    /// Checks a command against the latest register (including other tabs' changes), stores
    /// the event, and only then shows it. The error is a message for the person.
    pub async fn dispatch(self, command: Command) -> Result<Event, String> {
        self.allowed(command.action())?;
        let store = store()?;
        let actor = self.actor();
        let device = self.device();
        let user = self
            .settings
            .with_untracked(|s| s.account().map(|a| a.username.clone()).unwrap_or_default());
        let register = self.register;
        let mut caught_up = false;
        let mut outcome = Err(Refusal::Stale);
        // A sync in another tab may have confirmed events since this tab looked: then take
        // them in first (they go beneath the pending ones) and check the command again.
        for _ in 0..3 {
            let command = command.clone();
            let actor = actor.clone();
            outcome = store
                .write(self.seen.get_value(), &user, |fresh| {
                    if !fresh.confirmed.is_empty() {
                        return Err(Refusal::Stale);
                    }
                    if !fresh.outbox.is_empty() {
                        caught_up = true;
                        self.take_in(fresh.outbox.clone());
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
                        .map_err(|e| Refusal::Said(e.to_string()))
                })
                .await;
            match outcome {
                Err(Refusal::Stale) => self.refresh().await,
                _ => break,
            }
        }
        let result = match outcome {
            Ok((_, outgoing)) => {
                let event = outgoing.event.clone();
                self.seen.update_value(|(_, n)| *n = (*n).max(outgoing.n));
                self.outbox.update_value(|o| o.push(outgoing));
                register.update(|r| r.apply(&event));
                self.pending.update(|p| *p += 1);
                tabs::announce();
                crate::sync::soon(self);
                Ok(event)
            }
            Err(Refusal::Said(message)) => Err(message),
            Err(Refusal::Stale) => Err(
                "Other devices' changes are still arriving. Wait a moment and try again.".into(),
            ),
        };
        if caught_up && result.is_err() {
            register.update(|_| ());
        }
        result
    }

    /// Applies changes another tab recorded (inside a write), without notifying.
    fn take_in(&self, outbox: Vec<Outgoing>) {
        if let Some(last) = outbox.last() {
            self.seen.update_value(|(_, n)| *n = (*n).max(last.n));
        }
        self.register
            .update_untracked(|r| outbox.iter().for_each(|p| r.apply(&p.event)));
        self.outbox.update_value(|o| o.extend(outbox));
    }

    /// Adds events from a backup. Those already held are ignored when folded.
    pub async fn restore(self, events: Vec<Event>) -> Result<usize, String> {
        if self.account().is_some() {
            return Err("This device syncs with a server, which keeps the register. Restore a backup on a device that has not signed in.".into());
        }
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
        self.refresh().await;
        tabs::announce();
        Ok(self.register.with_untracked(Register::event_count) - before)
    }

    /// The whole log as a backup file, and how many events it holds.
    pub async fn export(self) -> Result<(String, usize), String> {
        self.allowed(Action::ExportData)?;
        let store = store()?;
        let snapshot = store.snapshot().await.map_err(|e| e.to_string())?;
        let events: Vec<Event> = snapshot
            .confirmed
            .into_iter()
            .map(|(_, e)| e)
            .chain(snapshot.outbox.into_iter().map(|o| o.event))
            .collect();
        let count = events.len();
        serde_json::to_string(&keyward_core::backup::Backup::new(events))
            .map(|json| (json, count))
            .map_err(|e| e.to_string())
    }
}

/// The open IndexedDB store, or what to tell the person while it is still opening.
pub fn store() -> Result<Rc<Store>, String> {
    STORE
        .with(|s| s.borrow().clone())
        .ok_or_else(|| "The register is still opening. Wait a moment and try again.".to_string())
}

/// Why a write did not happen.
enum Refusal {
    /// The message for the person.
    Said(String),
    /// Another tab confirmed events since this one looked: take them in, then try again.
    Stale,
}

impl From<StorageError> for Refusal {
    fn from(e: StorageError) -> Self {
        Self::Said(e.to_string())
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
