//! The backup file: the whole event log as JSON. Restoring adds the events the register does
//! not hold yet; folding ignores the rest, so restoring twice changes nothing.

use crate::event::Event;
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "keyward-events";
pub const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
pub struct Backup {
    pub format: String,
    pub version: u32,
    pub events: Vec<Event>,
}

impl Backup {
    pub fn new(events: Vec<Event>) -> Self {
        Self {
            format: FORMAT.into(),
            version: VERSION,
            events,
        }
    }

    /// Reads a backup file, or says in plain words why it is not one.
    pub fn parse(text: &str) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Header {
            format: Option<String>,
            version: Option<u32>,
        }
        let header: Header = serde_json::from_str(text).map_err(|_| {
            "This file is not a Keyward backup (it is not readable as one). Choose the .json file \
             that “Download backup” saved."
                .to_string()
        })?;
        if header.format.as_deref() != Some(FORMAT) {
            return Err("This file is not a Keyward backup. Choose the .json file that “Download backup” saved.".into());
        }
        if header.version != Some(VERSION) {
            return Err("This backup was made by a newer version of Keyward. Update this device (reload), then try again.".into());
        }
        serde_json::from_str(text).map_err(|e| {
            format!("This backup is damaged and was not restored; nothing was changed. ({e})")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_files_are_explained() {
        assert!(Backup::parse("hello")
            .unwrap_err()
            .contains("not a Keyward backup"));
        assert!(Backup::parse(r#"{"a":1}"#)
            .unwrap_err()
            .contains("not a Keyward backup"));
        assert!(
            Backup::parse(r#"{"format":"keyward-events","version":9,"events":[]}"#)
                .unwrap_err()
                .contains("newer version")
        );
        assert!(
            Backup::parse(r#"{"format":"keyward-events","version":1,"events":[{"x":1}]}"#)
                .unwrap_err()
                .contains("damaged")
        );
        let empty = serde_json::to_string(&Backup::new(vec![])).unwrap();
        assert!(Backup::parse(&empty).unwrap().events.is_empty());
    }
}
