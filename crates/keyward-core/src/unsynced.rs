//! The file of a device's unsynced changes: what someone saves before leaving a device whose
//! changes have not reached the server yet (signing out, clearing it). It holds the outbox's
//! records as they are (number, username, event), so nothing is lost however long it waits.
//!
//! The file is versioned (`version`) and checksummed: `checksum` is `sha256:` and the SHA-256,
//! in hex, of the file written as compact JSON with `checksum` empty. A file that was cut short,
//! edited or is something else is refused with a message and changes nothing.

use crate::error::CommandError;
use crate::event::{Change, Event};
use crate::ids::DeviceId;
use crate::register::{Fit, Register};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const FORMAT: &str = "keyward-unsynced";
pub const VERSION: u32 = 1;

/// One change recorded on the device and not yet confirmed by the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unsynced {
    /// The device's number for it (1, 2, 3 …).
    pub n: u64,
    /// The username whose sign-in was to send it; empty if recorded before signing in.
    pub user: String,
    pub event: Event,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsyncedFile {
    pub format: String,
    pub version: u32,
    /// The site's name as the device showed it.
    pub site: String,
    /// The device the changes were recorded on.
    pub device: DeviceId,
    /// When the file was saved (the device's clock).
    pub saved: DateTime<Utc>,
    pub changes: Vec<Unsynced>,
    pub checksum: String,
}

impl UnsyncedFile {
    /// A file of these changes, with its checksum.
    pub fn new(
        site: impl Into<String>,
        device: DeviceId,
        saved: DateTime<Utc>,
        changes: Vec<Unsynced>,
    ) -> Self {
        let mut file = Self {
            format: FORMAT.into(),
            version: VERSION,
            site: site.into(),
            device,
            saved,
            changes,
            checksum: String::new(),
        };
        file.checksum = file.digest();
        file
    }

    /// `sha256:` and the hex SHA-256 of the file as compact JSON with `checksum` empty.
    pub fn digest(&self) -> String {
        let mut bare = self.clone();
        bare.checksum = String::new();
        let json = serde_json::to_string(&bare).expect("a file of events serialises");
        let hash = Sha256::digest(json.as_bytes());
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }

    /// The file as saved (pretty JSON, for a person who opens it).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a file of events serialises")
    }

    /// A name for the file: `keyward-unsynced-<site>-<date>.json`, the site in lower-case
    /// letters and digits joined by hyphens, the date as given (e.g. `2026-12-02-0945`).
    pub fn file_name(&self, date: &str) -> String {
        let mut slug = String::new();
        for c in self.site.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug = slug.trim_end_matches('-');
        let slug = if slug.is_empty() { "site" } else { slug };
        format!("keyward-unsynced-{slug}-{date}.json")
    }

    /// Reads such a file, or says in plain words why it is not one (nothing is changed).
    pub fn parse(text: &str) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Header {
            format: Option<String>,
            version: Option<u32>,
        }
        let not_one = "This is not a file of unsynced Keyward changes. Choose the .json file that “Save them as a file” saved (its name begins keyward-unsynced).";
        let header: Header = serde_json::from_str(text).map_err(|_| not_one.to_string())?;
        if header.format.as_deref() != Some(FORMAT) {
            return Err(not_one.into());
        }
        if header.version != Some(VERSION) {
            return Err("This file was saved by a newer version of Keyward. Update this device (reload), then try again.".into());
        }
        let damaged = "This file is damaged or was edited, so it was not read; nothing was changed. Use the file exactly as it was saved.";
        let file: Self = serde_json::from_str(text).map_err(|_| damaged.to_string())?;
        if file.checksum != file.digest() {
            return Err(damaged.into());
        }
        Ok(file)
    }
}

/// Decides [`Command::RecordAgain`](crate::Command): a change from such a file, recorded
/// again by the person signed in on this device. The server takes a device's changes only
/// from that device, so the change becomes a new event of this device, by this person, now
/// (the role table is checked on it as on any command). It must fit the register as it is:
/// a change that clashes with what was recorded since, or refers to something this register
/// does not hold, is refused, so importing a file never makes a conflict.
pub fn record_again(register: &Register, change: Change) -> Result<Change, CommandError> {
    // What the register would take twice without a conflict: a file read again, or on two
    // devices. (Everything else recorded twice conflicts with the first, and is refused below.)
    let held = match &change {
        Change::SiteCreated { .. } => return Err(CommandError::SiteCreatedElsewhere),
        Change::AreaAdded { area, .. } => register.area(*area).is_some(),
        Change::PersonAdded { person, .. } => register.person(*person).is_some(),
        Change::SupplierAdded { supplier, .. } => register.supplier(*supplier).is_some(),
        Change::AuditStarted { audit, .. } => register.audit(*audit).is_some(),
        Change::AuditFindingRecorded { finding, .. } => register.finding(*finding).is_some(),
        Change::BlankTagsMade { tags, .. } => tags.iter().any(|t| {
            register.resolve(&crate::label::Scanned::Key(t.clone())) != crate::Resolved::Unknown
        }),
        _ => false,
    };
    if held {
        return Err(CommandError::AlreadyRecorded);
    }
    match register.assess(&change) {
        Fit::Fits => Ok(change),
        Fit::Conflicts(_) => Err(CommandError::NoLongerFits {
            why: "it clashes with what has been recorded since".into(),
        }),
        Fit::Unknown(why) => Err(CommandError::NoLongerFits { why: why.into() }),
    }
}

/// Whether the register holds this saved change already: the event itself reached the server
/// after all, or its change was recorded again here before.
pub fn is_held(register: &Register, saved: &Event) -> bool {
    register.has_event(saved.id)
        || record_again(register, saved.change.clone()) == Err(CommandError::AlreadyRecorded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Change;

    /// A file saved by version 1, frozen: it must always read, check and write back the same.
    const FROZEN: &str = include_str!("../tests/fixtures/unsynced-v1.json");

    fn example() -> UnsyncedFile {
        let line = include_str!("../tests/fixtures/events-v1.jsonl")
            .lines()
            .next()
            .unwrap();
        let event: Event = serde_json::from_str(line).unwrap();
        UnsyncedFile::new(
            "Northgate School",
            event.device,
            "2026-12-02T09:45:00Z".parse().unwrap(),
            vec![Unsynced {
                n: 1,
                user: "pat".into(),
                event,
            }],
        )
    }

    #[test]
    fn the_frozen_file_reads_checks_and_writes_back_the_same() {
        let file = UnsyncedFile::parse(FROZEN).expect("the version 1 file reads");
        assert_eq!(file.version, 1);
        assert_eq!(file.site, "Northgate School");
        assert_eq!(file.changes.len(), 1);
        assert_eq!(file.changes[0].user, "pat");
        assert!(matches!(
            file.changes[0].event.change,
            Change::SiteCreated { .. }
        ));
        assert_eq!(file.to_json(), FROZEN.trim_end());
        assert_eq!(file, example());
        assert_eq!(
            file.checksum,
            "sha256:eee809cdabc616db1e6614f99197041d4ced202cf85823f7a5a6c2a25f59e6b7"
        );
    }

    #[test]
    fn a_saved_file_reads_back() {
        let file = example();
        assert!(file.checksum.starts_with("sha256:"));
        assert_eq!(file.checksum.len(), 7 + 64);
        assert_eq!(UnsyncedFile::parse(&file.to_json()).unwrap(), file);
        // Compact or pretty, the content is what counts.
        assert_eq!(
            UnsyncedFile::parse(&serde_json::to_string(&file).unwrap()).unwrap(),
            file
        );
    }

    #[test]
    fn an_edited_file_is_refused() {
        let json = example().to_json();
        let edited = example().to_json().replacen("\"n\": 1", "\"n\": 2", 1);
        assert_ne!(edited, example().to_json());
        assert!(UnsyncedFile::parse(&edited).unwrap_err().contains("edited"));
        let renamed = example().to_json().replace("Pat Caretaker", "Someone Else");
        assert!(UnsyncedFile::parse(&renamed)
            .unwrap_err()
            .contains("edited"));
        let mut no_sum = example();
        no_sum.checksum = String::new();
        assert!(UnsyncedFile::parse(&no_sum.to_json())
            .unwrap_err()
            .contains("edited"));
        let cut = &json[..json.len() / 2];
        assert!(UnsyncedFile::parse(cut)
            .unwrap_err()
            .contains("not a file of unsynced"));
    }

    #[test]
    fn foreign_files_and_other_versions_are_explained() {
        assert!(UnsyncedFile::parse("hello")
            .unwrap_err()
            .contains("not a file of unsynced"));
        let backup = serde_json::to_string(&crate::backup::Backup::new(vec![])).unwrap();
        assert!(UnsyncedFile::parse(&backup)
            .unwrap_err()
            .contains("not a file of unsynced"));
        let newer = example()
            .to_json()
            .replacen("\"version\": 1", "\"version\": 2", 1);
        assert!(UnsyncedFile::parse(&newer)
            .unwrap_err()
            .contains("newer version"));
        let broken =
            example()
                .to_json()
                .replacen("\"type\": \"SiteCreated\"", "\"type\": \"Nope\"", 1);
        assert!(UnsyncedFile::parse(&broken)
            .unwrap_err()
            .contains("damaged"));
    }

    #[test]
    fn names_say_what_and_where() {
        assert_eq!(
            example().file_name("2026-12-02-0945"),
            "keyward-unsynced-northgate-school-2026-12-02-0945.json"
        );
        let odd = UnsyncedFile::new(
            "  St. Mary's (Annex) ",
            example().device,
            example().saved,
            vec![],
        );
        assert_eq!(
            odd.file_name("d"),
            "keyward-unsynced-st-mary-s-annex-d.json"
        );
        let none = UnsyncedFile::new("…", example().device, example().saved, vec![]);
        assert_eq!(none.file_name("d"), "keyward-unsynced-site-d.json");
    }
}
