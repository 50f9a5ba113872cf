//! Small per-device settings in localStorage (gloo-storage): which device this is, who is using
//! it, which site it shows, how its printer is calibrated. The register itself never goes here.

use gloo_storage::{LocalStorage, Storage};
use keyward_core::{DeviceId, SiteId};
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
}

impl Settings {
    pub fn load() -> Self {
        LocalStorage::get(KEY).unwrap_or_default()
    }

    pub fn save(&self) {
        // Losing a setting is harmless (it is asked again); losing the register is not, and
        // that never lives here.
        let _ = LocalStorage::set(KEY, self);
    }
}
