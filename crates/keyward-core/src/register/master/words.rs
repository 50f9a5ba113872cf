//! Master keys: their history lines and conflicts in plain words.

use super::Escalation;
use crate::conflict::{Conflict, ConflictKind, ConflictText, Resolution};
use crate::format::uk_date_time;
use crate::ids::{KeyId, SignOutId};
use crate::register::Register;
use crate::timeline::{Entry, What};

impl Register {
    /// A master-key line of a locker's history.
    pub(crate) fn describe_master(&self, entry: &Entry) -> String {
        let tag = |key: KeyId| {
            self.key(key)
                .map(|k| k.tag.to_string())
                .unwrap_or_else(|| "?".into())
        };
        match &entry.what {
            What::MasterSignedOut { sign_out } => match self.sign_out(*sign_out) {
                Some(s) => {
                    let mut text = format!(
                        "Master key {} signed out to {}: {}",
                        tag(s.key),
                        self.person_name(s.person),
                        s.reason
                    );
                    if let Some(w) = s.witness {
                        text.push_str(&format!(", witnessed by {}", self.person_name(w)));
                    }
                    if let Some(due) = s.due_back {
                        text.push_str(&format!(", due back {}", uk_date_time(&due)));
                    }
                    if s.emergency {
                        text.push_str(" (emergency use)");
                    }
                    text
                }
                None => "Master key signed out".into(),
            },
            What::MasterReturned { sign_out } => match self.sign_out(*sign_out) {
                Some(s) => {
                    let received = s
                        .returned
                        .as_ref()
                        .map(|r| format!(", received by {}", r.received_by))
                        .unwrap_or_default();
                    format!(
                        "Master key {} returned by {}{received}",
                        tag(s.key),
                        self.person_name(s.person)
                    )
                }
                None => "Master key returned".into(),
            },
            What::MasterSeen { key } => format!("Master key {} seen in its place", tag(*key)),
            What::MasterLost { escalation } => match self.escalation(*escalation) {
                Some(e) => format!("Master key {} reported lost", tag(e.key)),
                None => "Master key reported lost".into(),
            },
            What::EscalationResolved { escalation } => match self.escalation(*escalation) {
                Some(Escalation {
                    key,
                    end: Some(end),
                    ..
                }) => format!(
                    "Lost master key {} {}: {}",
                    tag(*key),
                    if end.found { "found" } else { "not found" },
                    end.notes
                ),
                _ => "Lost master key resolved".into(),
            },
            _ => String::new(),
        }
    }

    /// A master-key conflict in plain words.
    pub(crate) fn describe_master_conflict(&self, conflict: &Conflict) -> ConflictText {
        let tag = |key: &KeyId| {
            self.key(*key)
                .map(|k| k.tag.to_string())
                .unwrap_or_else(|| "?".into())
        };
        let who = |s: &SignOutId| {
            self.sign_out(*s)
                .map(|s| self.person_name(s.person))
                .unwrap_or_else(|| "someone".into())
        };
        let out_words = |s: &SignOutId| match self.sign_out(*s) {
            Some(s) => format!(
                "{} signed it out to {} at {}",
                s.recorded_by,
                self.person_name(s.person),
                uk_date_time(&s.out_at)
            ),
            None => "it was signed out".into(),
        };
        let noted = || vec![(Resolution::Noted, "Noted".to_string())];
        let actor = &conflict.actor;
        match &conflict.kind {
            ConflictKind::MasterOutTwice {
                key,
                sign_out,
                standing,
            } => ConflictText {
                title: format!("Master key {} was signed out twice", tag(key)),
                detail: format!(
                    "First {}. Then, on another device that had not heard of it yet, {}. Only one of them can have the key.",
                    out_words(standing),
                    out_words(sign_out)
                ),
                choices: vec![
                    (
                        Resolution::KeepFirst,
                        format!("{} has the key: close the sign-out to {}", who(standing), who(sign_out)),
                    ),
                    (
                        Resolution::KeepLater,
                        format!("{} has the key: close the sign-out to {}", who(sign_out), who(standing)),
                    ),
                ],
            },
            ConflictKind::MasterOutWhileLost { key, sign_out, .. } => ConflictText {
                title: format!("Master key {} was signed out after it was reported lost", tag(key)),
                detail: format!(
                    "{}, but another device had already reported the key lost. The sign-out is kept as a record and closed; if the key is in hand, an admin resolves the escalation as found.",
                    out_words(sign_out)
                ),
                choices: noted(),
            },
            ConflictKind::MasterReturnedTwice { key, .. } => ConflictText {
                title: format!("Master key {} was returned twice", tag(key)),
                detail: format!(
                    "{actor} recorded a second return on another device. The first return is kept."
                ),
                choices: noted(),
            },
            ConflictKind::MasterReturnedWhileLost { key, sign_out, .. } => ConflictText {
                title: format!("Master key {} was returned after it was reported lost", tag(key)),
                detail: format!(
                    "Another device reported the key lost while {} had it; then {actor} recorded its return. Until this is decided the key counts as lost.",
                    who(sign_out)
                ),
                choices: vec![
                    (Resolution::KeepFirst, "The key is lost: keep the escalation open".into()),
                    (
                        Resolution::KeepLater,
                        "The key came back: put it back in its place and close the escalation".into(),
                    ),
                ],
            },
            ConflictKind::MasterLostMeanwhile { key, standing, .. } => ConflictText {
                title: format!("Master key {} was reported lost after it had moved", tag(key)),
                detail: format!(
                    "{actor} reported the key lost on a device that had not heard that {}. Until this is decided the key counts as lost.",
                    match standing {
                        Some(s) => out_words(s),
                        None => "it had been returned".into(),
                    }
                ),
                choices: vec![
                    (
                        Resolution::KeepFirst,
                        match standing {
                            Some(s) => format!("{} has the key: close the escalation", who(s)),
                            None => "The key is in its place: close the escalation".into(),
                        },
                    ),
                    (Resolution::KeepLater, "The key is lost: keep the escalation open".into()),
                ],
            },
            ConflictKind::MasterLostTwice { key, .. } => ConflictText {
                title: format!("Master key {} was reported lost twice", tag(key)),
                detail: format!(
                    "{actor} reported the key lost on another device after it had been reported lost. The first escalation stands."
                ),
                choices: noted(),
            },
            ConflictKind::MasterSeenMeanwhile { key } => ConflictText {
                title: format!("Master key {} was seen in its place while signed out or lost", tag(key)),
                detail: format!(
                    "{actor} saw the key in its place, but another device had signed it out or reported it lost. The check is kept; record the key's return, or resolve its escalation as found, if it is there."
                ),
                choices: noted(),
            },
            ConflictKind::MasterHolderWithdrawn { key, sign_out } => ConflictText {
                title: format!("Master key {} was signed out by someone no longer authorised", tag(key)),
                detail: format!(
                    "{}, but another device had withdrawn {}'s authorisation first. The use is kept and flagged for an admin's review.",
                    out_words(sign_out),
                    who(sign_out)
                ),
                choices: noted(),
            },
            ConflictKind::MasterReviewedTwice { key, .. } => ConflictText {
                title: format!("A use of master key {} was reviewed twice", tag(key)),
                detail: format!(
                    "{actor} reviewed the use on another device after it had been reviewed. The first review stands."
                ),
                choices: noted(),
            },
            ConflictKind::EscalationResolvedTwice { key, .. } => ConflictText {
                title: format!("The loss of master key {} was resolved twice", tag(key)),
                detail: format!(
                    "{actor} resolved the escalation on another device after it had been resolved. The first resolution stands."
                ),
                choices: noted(),
            },
            ConflictKind::SuiteNameTaken { name, .. } => ConflictText {
                title: format!("Suite {name} was defined twice"),
                detail: format!(
                    "{actor} defined suite {name} on another device after it was already defined. The register keeps the first."
                ),
                choices: noted(),
            },
            _ => ConflictText {
                title: "Conflict between devices".into(),
                detail: String::new(),
                choices: noted(),
            },
        }
    }
}
