//! This device's storage and clock: whether the browser keeps the register for good
//! (`navigator.storage.persist()`), how much room is used and left
//! (`navigator.storage.estimate()`), and how far the device's clock is from the server's (the
//! `Date` header of the server's answers, read in `api.rs`). Nothing here writes the register.

use leptos::prelude::*;
use std::cell::Cell;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Clocks further apart than this get a warning: the server refuses changes dated in the
/// future, or before the same device's earlier ones.
const CLOCK_TOLERANCE_MS: f64 = 5.0 * 60_000.0;
/// Above this share of the room the browser allows, the Set-up card warns.
const NEARLY_FULL: f64 = 0.8;

thread_local! {
    // The signals live as long as the app; `api.rs` reaches them without a context.
    static DEVICE: Cell<Option<Device>> = const { Cell::new(None) };
}

/// Room used and allowed, in bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Room {
    pub used: f64,
    pub quota: f64,
}

impl Room {
    pub fn nearly_full(&self) -> bool {
        self.quota > 0.0 && self.used / self.quota > NEARLY_FULL
    }
}

#[derive(Clone, Copy)]
pub struct Device {
    /// Whether the browser keeps this site's storage for good; `None` until known or where
    /// the browser cannot say.
    pub persisted: RwSignal<Option<bool>>,
    pub room: RwSignal<Option<Room>>,
    /// The device's clock minus the server's, in milliseconds, from the last answer.
    pub skew: RwSignal<Option<f64>>,
    asked: StoredValue<bool>,
}

impl Device {
    pub fn new() -> Self {
        let device = Self {
            persisted: RwSignal::new(None),
            room: RwSignal::new(None),
            skew: RwSignal::new(None),
            asked: StoredValue::new(false),
        };
        DEVICE.with(|d| d.set(Some(device)));
        // Installing the app is the moment a browser is most willing to keep its storage.
        if let Some(window) = web_sys::window() {
            let installed = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
                leptos::task::spawn_local(device.ask());
            });
            let _ = window.add_event_listener_with_callback(
                "appinstalled",
                installed.as_ref().unchecked_ref(),
            );
            installed.forget();
        }
        device
    }

    /// Reads whether storage is kept for good and the room used, for the Set-up card.
    pub async fn check(self) {
        let Some(manager) = manager() else { return };
        if let Some(kept) = call_bool(manager.persisted()).await {
            self.persisted.set(Some(kept));
        }
        if let Ok(promise) = manager.estimate() {
            if let Ok(estimate) = JsFuture::from(promise).await {
                let number = |name: &str| {
                    js_sys::Reflect::get(&estimate, &name.into())
                        .ok()
                        .and_then(|v| v.as_f64())
                };
                if let (Some(used), Some(quota)) = (number("usage"), number("quota")) {
                    self.room.set(Some(Room { used, quota }));
                }
            }
        }
    }

    /// Asks the browser to keep this device's register for good (it may say no, silently).
    pub async fn ask(self) {
        let Some(manager) = manager() else { return };
        self.asked.set_value(true);
        if let Some(kept) = call_bool(manager.persist()).await {
            self.persisted.set(Some(kept));
        }
    }

    /// Asks once, when there is a register worth keeping (the first site exists). Never on
    /// the first paint of an empty device.
    pub fn ask_once(self) {
        if !self.asked.get_value() {
            self.asked.set_value(true);
            leptos::task::spawn_local(async move {
                self.check().await;
                if self.persisted.get_untracked() == Some(false) {
                    self.ask().await;
                }
            });
        }
    }

    /// Whether a change kept only here may be cleared by the browser.
    pub fn at_risk(&self) -> bool {
        self.persisted.get() == Some(false)
    }

    /// "This device's clock is 12 minutes behind the server's. …" when they are more than five
    /// minutes apart.
    pub fn clock_warning(&self) -> Option<String> {
        let skew = self.skew.get()?;
        if skew.abs() <= CLOCK_TOLERANCE_MS {
            return None;
        }
        let side = if skew < 0.0 { "behind" } else { "ahead of" };
        Some(format!(
            "This device's clock is {} {side} the server's. Set the date and time to automatic, \
             or changes may be refused.",
            duration(skew.abs())
        ))
    }
}

/// The server's answer carried this `Date` header: compare it with the device's clock.
pub fn saw_server_date(header: &str) {
    let Ok(server) = chrono::DateTime::parse_from_rfc2822(header) else {
        return;
    };
    // The header has whole seconds: half a second is the middle of where the server was.
    let server = server.timestamp_millis() as f64 + 500.0;
    let skew = js_sys::Date::now() - server;
    if let Some(device) = DEVICE.with(Cell::get) {
        // Only a change of more than a second is news (the header has whole seconds).
        if device
            .skew
            .get_untracked()
            .is_none_or(|before| (before - skew).abs() > 1_000.0)
        {
            device.skew.set(Some(skew));
        }
    }
}

/// "12 minutes", "3 hours", "2 days".
pub fn duration(ms: f64) -> String {
    let minutes = (ms / 60_000.0).round() as u64;
    let (n, unit) = if minutes < 120 {
        (minutes, "minute")
    } else if minutes < 48 * 60 {
        ((minutes as f64 / 60.0).round() as u64, "hour")
    } else {
        ((minutes as f64 / 1_440.0).round() as u64, "day")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// "2.1 MB", "1.2 GB", "640 KB" (decimal units, as phones show storage).
pub fn bytes(n: f64) -> String {
    let units = [("GB", 1e9), ("MB", 1e6), ("KB", 1e3)];
    for (unit, size) in units {
        if n >= size {
            let value = n / size;
            return if value < 10.0 {
                format!("{value:.1} {unit}")
            } else {
                format!("{value:.0} {unit}")
            };
        }
    }
    format!("{n:.0} bytes")
}

fn manager() -> Option<web_sys::StorageManager> {
    let navigator = web_sys::window()?.navigator();
    // Old browsers and some private modes have no StorageManager.
    let storage = js_sys::Reflect::get(&navigator, &"storage".into()).ok()?;
    storage.dyn_into().ok()
}

async fn call_bool(promise: Result<js_sys::Promise, wasm_bindgen::JsValue>) -> Option<bool> {
    JsFuture::from(promise.ok()?).await.ok()?.as_bool()
}
