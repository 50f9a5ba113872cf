//! Small per-device settings in localStorage (gloo-storage): which device this is, who is using
//! it, which site it shows, how its printer is calibrated. The register itself never goes here.
//!
//! A session token is kept here in clear only for an account without a PIN. An account with a
//! PIN keeps only its token sealed under the PIN ([`Sealed`], made and opened by `pin.rs`); the
//! PIN itself, or any fast hash of it, is never stored. See `pin.rs` for the threat model.

use gloo_storage::{LocalStorage, Storage};
use keyward_core::sync::Session;
use keyward_core::{DeviceId, Role, SiteId};
use serde::{Deserialize, Serialize};

const KEY: &str = "keyward.device";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub device: Option<DeviceId>,
    /// The name recorded on every event made here.
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub site: Option<SiteId>,
    /// This device's printer: how far its labels land from where they should, in mm.
    #[serde(default)]
    pub print_offset: (f64, f64),
    /// The label sheet last printed on.
    #[serde(default)]
    pub template: Option<String>,
    /// Everyone who has signed in on this device (a shared ward tablet has several).
    #[serde(default)]
    pub accounts: Vec<Account>,
    /// The username of the account in use.
    #[serde(default)]
    pub active: Option<String>,
    /// Sessions signed out here while the server could not be reached: their changes still
    /// to send, then `POST /api/logout` with each token when next online. Gone from the
    /// device's screens meanwhile.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ending: Vec<Ending>,
}

/// A person signed in on this device: who, their role, and their session with the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub username: String,
    pub name: String,
    pub role: Role,
    pub site: SiteId,
    pub site_name: String,
    /// The session's token in clear, only for an account without a PIN. `None` with a PIN
    /// (then it is in `sealed`), or once the server has ended the session.
    pub token: Option<String>,
    /// With a PIN: the token sealed under it. A PIN set by an older version (a salted fast
    /// hash, field `pin`) is dropped when settings are read: that person sets a PIN again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Sealed>,
}

/// A session token encrypted under a key derived from a PIN (AES-GCM, key by PBKDF2-SHA-256):
/// all hex. `failures` counts wrong PINs since the last right one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub salt: String,
    pub iv: String,
    pub ciphertext: String,
    pub iterations: u32,
    #[serde(default)]
    pub failures: u32,
}

/// A session to end on the server once it can be reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ending {
    pub username: String,
    pub token: String,
}

impl Account {
    pub fn from_session(session: Session) -> Self {
        Self {
            username: session.username,
            name: session.name,
            role: session.role,
            site: session.site,
            site_name: session.site_name,
            token: Some(session.token),
            sealed: None,
        }
    }

    /// Whether switching to this account takes a PIN (its token is sealed under one).
    pub fn has_pin(&self) -> bool {
        self.sealed.is_some()
    }

    /// Whether the session may still be usable: a token in clear or sealed.
    pub fn has_session(&self) -> bool {
        self.token.is_some() || self.sealed.is_some()
    }
}

impl Settings {
    pub fn load() -> Self {
        LocalStorage::get(KEY).unwrap_or_default()
    }

    /// The account in use, if any.
    pub fn account(&self) -> Option<&Account> {
        let active = self.active.as_ref()?;
        self.accounts.iter().find(|a| &a.username == active)
    }

    pub fn account_mut(&mut self, username: &str) -> Option<&mut Account> {
        self.accounts.iter_mut().find(|a| a.username == username)
    }

    /// Whether this device syncs with a server (someone has signed in on it).
    pub fn enrolled(&self) -> bool {
        !self.accounts.is_empty()
    }

    /// Adds or refreshes an account and makes it the one in use. A new sign-in replaces a
    /// sealed token: the person sets their PIN again.
    pub fn sign_in(&mut self, account: Account) {
        self.accounts.retain(|a| a.username != account.username);
        self.ending.retain(|e| e.username != account.username);
        self.active = Some(account.username.clone());
        self.site = Some(account.site);
        self.accounts.push(account);
    }

    /// Takes an account off this device; its token, if known, is kept to end on the server.
    /// The next account signed in here (if any) becomes the one in use, its token still
    /// sealed if it has a PIN.
    pub fn sign_out(&mut self, username: &str, token: Option<String>) {
        self.accounts.retain(|a| a.username != username);
        if self.active.as_deref() == Some(username) {
            self.active = self.accounts.first().map(|a| a.username.clone());
        }
        if let Some(token) = token {
            self.ending.push(Ending {
                username: username.to_string(),
                token,
            });
        }
    }

    /// Calls `changed` when another tab of this app writes the settings.
    pub fn on_change_elsewhere(changed: impl Fn() + 'static) {
        use wasm_bindgen::{closure::Closure, JsCast};
        let listener =
            Closure::<dyn Fn(web_sys::StorageEvent)>::new(move |e: web_sys::StorageEvent| {
                if e.key().as_deref() == Some(KEY) {
                    changed();
                }
            });
        if let Some(window) = web_sys::window() {
            let _ = window
                .add_event_listener_with_callback("storage", listener.as_ref().unchecked_ref());
        }
        // Lives as long as the page does.
        listener.forget();
    }

    pub fn save(&self) {
        // Losing a setting is harmless (it is asked again); losing the register is not, and
        // that never lives here.
        let _ = LocalStorage::set(KEY, self);
    }
}
