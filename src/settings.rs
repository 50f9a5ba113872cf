//! Small per-device settings in localStorage (gloo-storage): which device this is, who is using
//! it, which site it shows, how its printer is calibrated. The register itself never goes here.

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
}

/// A person signed in on this device: who, their role, and their session with the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub username: String,
    pub name: String,
    pub role: Role,
    pub site: SiteId,
    pub site_name: String,
    /// `None` once the server has ended the session: sign in again to send.
    pub token: Option<String>,
    /// Salted SHA-256 of the PIN that switches to this account offline, as "salt:hash".
    #[serde(default)]
    pub pin: Option<String>,
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
            pin: None,
        }
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

    /// Whether this device syncs with a server (someone has signed in on it).
    pub fn enrolled(&self) -> bool {
        !self.accounts.is_empty()
    }

    /// Adds or refreshes an account and makes it the one in use.
    pub fn sign_in(&mut self, account: Account) {
        let pin = self
            .accounts
            .iter()
            .find(|a| a.username == account.username)
            .and_then(|a| a.pin.clone());
        self.accounts.retain(|a| a.username != account.username);
        self.active = Some(account.username.clone());
        self.site = Some(account.site);
        self.accounts.push(Account { pin, ..account });
    }

    pub fn save(&self) {
        // Losing a setting is harmless (it is asked again); losing the register is not, and
        // that never lives here.
        let _ = LocalStorage::set(KEY, self);
    }
}
