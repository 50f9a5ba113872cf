//! Master keys: the fold, and what deciding each of their conflicts does.

use super::{suite_key, Escalation, EscalationEnd, MasterReturn, Review, Sighting, SignOut, Suite};
use crate::conflict::{ConflictKind, Resolution};
use crate::event::{Change, Event};
use crate::ids::{EscalationId, KeyId, SignOutId};
use crate::model::KeyState;
use crate::register::Register;
use crate::timeline::What;
use std::collections::BTreeSet;

impl Register {
    /// `conflicted`: its name was taken at the site first, so it is not added.
    pub(in crate::register) fn apply_suite_defined(&mut self, event: &Event, conflicted: bool) {
        let Change::SuiteDefined {
            suite,
            site,
            name,
            check_every_days,
            witness_required,
        } = &event.change
        else {
            return;
        };
        if conflicted || self.suites.contains_key(suite) {
            return;
        }
        self.suite_names.insert((*site, suite_key(name)), *suite);
        self.suites.insert(
            *suite,
            Suite {
                id: *suite,
                site: *site,
                name: name.clone(),
                check_every_days: *check_every_days,
                witness_required: *witness_required,
                holders: BTreeSet::new(),
                defined_at: event.at,
            },
        );
    }

    pub(in crate::register) fn apply_master_holder(&mut self, event: &Event) {
        let Change::MasterHolderSet {
            suite,
            person,
            authorised,
        } = &event.change
        else {
            return;
        };
        if let Some(s) = self.suites.get_mut(suite) {
            if *authorised {
                s.holders.insert(*person);
            } else {
                s.holders.remove(person);
            }
        }
    }

    /// Signed out twice or while lost: kept as a record, not the key's sign-out, until decided.
    pub(in crate::register) fn apply_master_sign_out(
        &mut self,
        event: &Event,
        conflict: Option<&ConflictKind>,
    ) {
        let Change::MasterSignedOut {
            sign_out,
            key,
            person,
            reason,
            witness,
            due_back,
            emergency,
        } = &event.change
        else {
            return;
        };
        let Some(suite) = self.suite_of_key(*key).map(|s| s.id) else {
            return;
        };
        let withdrawn = matches!(conflict, Some(ConflictKind::MasterHolderWithdrawn { .. }));
        if conflict.is_none() || withdrawn {
            self.master_out.insert(*key, *sign_out);
        }
        self.sign_outs.insert(
            *sign_out,
            SignOut {
                id: *sign_out,
                key: *key,
                suite,
                person: *person,
                reason: reason.clone(),
                witness: *witness,
                due_back: *due_back,
                emergency: *emergency,
                flagged: *emergency || withdrawn,
                out_at: event.at,
                recorded_by: event.actor.clone(),
                event: event.id,
                returned: None,
                lost: None,
                review: None,
            },
        );
        self.log_master(
            *key,
            event,
            What::MasterSignedOut {
                sign_out: *sign_out,
            },
        );
    }

    /// Returned twice: the first return stands. Returned after the key was reported lost: the
    /// return is recorded on the sign-out, the key stays lost until decided.
    pub(in crate::register) fn apply_master_return(
        &mut self,
        event: &Event,
        conflict: Option<&ConflictKind>,
    ) {
        let Change::MasterReturned {
            sign_out,
            key,
            received_by,
            notes,
        } = &event.change
        else {
            return;
        };
        if matches!(conflict, Some(ConflictKind::MasterReturnedTwice { .. })) {
            return;
        }
        let Some(s) = self.sign_outs.get_mut(sign_out) else {
            return;
        };
        s.returned = Some(MasterReturn {
            received_by: received_by.clone(),
            notes: notes.clone(),
            by: event.actor.clone(),
            at: event.at,
        });
        if self.master_out.get(key) == Some(sign_out) {
            self.master_out.remove(key);
        }
        self.log_master(
            *key,
            event,
            What::MasterReturned {
                sign_out: *sign_out,
            },
        );
    }

    /// A sighting moves the next check's due date, even when it was recorded against an older
    /// view (the key was seen).
    pub(in crate::register) fn apply_master_seen(&mut self, event: &Event) {
        let Change::MasterSeen { key, notes } = &event.change else {
            return;
        };
        self.master_seen.insert(
            *key,
            Sighting {
                at: event.at,
                by: event.actor.clone(),
                notes: notes.clone(),
            },
        );
        self.log_master(*key, event, What::MasterSeen { key: *key });
    }

    /// A loss escalates at once, even when recorded against an older view (the safe side); a
    /// second report of the same loss raises nothing more.
    pub(in crate::register) fn apply_master_lost(
        &mut self,
        event: &Event,
        conflict: Option<&ConflictKind>,
    ) {
        let Change::MasterLostReported {
            escalation,
            key,
            notes,
            ..
        } = &event.change
        else {
            return;
        };
        if matches!(conflict, Some(ConflictKind::MasterLostTwice { .. })) {
            return;
        }
        let Some((site, suite)) = self.suite_of_key(*key).map(|s| (s.site, s.id)) else {
            return;
        };
        let ended = self.master_out.remove(key);
        if let Some(s) = ended.and_then(|s| self.sign_outs.get_mut(&s)) {
            s.lost = Some(*escalation);
        }
        if let Some(k) = self.keys.get_mut(key) {
            k.state = KeyState::Lost;
        }
        self.master_lost.insert(*key, *escalation);
        self.escalations.insert(
            *escalation,
            Escalation {
                id: *escalation,
                site,
                suite,
                key: *key,
                reported_by: event.actor.clone(),
                at: event.at,
                notes: notes.clone(),
                sign_out: ended,
                end: None,
            },
        );
        self.log_master(
            *key,
            event,
            What::MasterLost {
                escalation: *escalation,
            },
        );
    }

    pub(in crate::register) fn apply_review(&mut self, event: &Event, conflicted: bool) {
        let Change::EmergencyUseReviewed { sign_out, notes } = &event.change else {
            return;
        };
        if conflicted {
            return;
        }
        if let Some(s) = self.sign_outs.get_mut(sign_out) {
            s.review = Some(Review {
                notes: notes.clone(),
                by: event.actor.clone(),
                at: event.at,
            });
        }
    }

    pub(in crate::register) fn apply_escalation_resolved(
        &mut self,
        event: &Event,
        conflicted: bool,
    ) {
        let Change::EscalationResolved {
            escalation,
            found,
            notes,
        } = &event.change
        else {
            return;
        };
        if conflicted {
            return;
        }
        self.end_escalation(*escalation, *found, notes, event);
        if let Some(key) = self.escalation(*escalation).map(|e| e.key) {
            self.log_master(
                key,
                event,
                What::EscalationResolved {
                    escalation: *escalation,
                },
            );
        }
    }

    /// Closes an escalation; `found` puts its key back in its place if this loss is the key's.
    pub(super) fn end_escalation(
        &mut self,
        escalation: EscalationId,
        found: bool,
        notes: &str,
        event: &Event,
    ) {
        let Some(e) = self.escalations.get_mut(&escalation) else {
            return;
        };
        if e.end.is_some() {
            return;
        }
        e.end = Some(EscalationEnd {
            found,
            notes: notes.to_string(),
            by: event.actor.clone(),
            at: event.at,
        });
        let key = e.key;
        if found && self.master_lost.get(&key) == Some(&escalation) {
            self.master_lost.remove(&key);
            if let Some(k) = self.keys.get_mut(&key) {
                if k.state == KeyState::Lost {
                    k.state = KeyState::InStore;
                }
            }
        }
    }

    /// Closes a sign-out a decision ended.
    pub(super) fn close_sign_out(&mut self, sign_out: SignOutId, event: &Event, note: &str) {
        let Some(s) = self.sign_outs.get_mut(&sign_out) else {
            return;
        };
        if s.returned.is_none() && s.lost.is_none() {
            s.returned = Some(MasterReturn {
                received_by: event.actor.clone(),
                notes: note.to_string(),
                by: event.actor.clone(),
                at: event.at,
            });
        }
        if self.master_out.get(&s.key) == Some(&sign_out) {
            self.master_out.remove(&s.key);
        }
    }

    /// What deciding a conflict this procedure owns does to the state; `note` goes on every
    /// sign-out or escalation the decision closes.
    pub(in crate::register) fn apply_master_decision(
        &mut self,
        event: &Event,
        kind: &ConflictKind,
        choice: Resolution,
        note: &str,
    ) {
        match (kind, choice) {
            (ConflictKind::MasterOutTwice { sign_out, .. }, Resolution::KeepFirst)
            | (ConflictKind::MasterOutWhileLost { sign_out, .. }, Resolution::Noted) => {
                self.close_sign_out(*sign_out, event, note)
            }
            (
                ConflictKind::MasterOutTwice {
                    key,
                    sign_out,
                    standing,
                },
                Resolution::KeepLater,
            ) => {
                self.close_sign_out(*standing, event, note);
                let later_open = self.sign_out(*sign_out).is_some_and(SignOut::is_open);
                let free = self.key(*key).is_some_and(|k| k.state == KeyState::InStore)
                    && !self.master_out.contains_key(key);
                if later_open && free {
                    self.master_out.insert(*key, *sign_out);
                } else {
                    // Lost, or signed out again meanwhile: the later sign-out cannot have it.
                    let note = format!("{note}; the key had moved on since");
                    self.close_sign_out(*sign_out, event, &note);
                }
            }
            (ConflictKind::MasterReturnedWhileLost { escalation, .. }, Resolution::KeepLater) => {
                self.end_escalation(*escalation, true, note, event)
            }
            (
                ConflictKind::MasterLostMeanwhile {
                    key,
                    escalation,
                    standing,
                },
                Resolution::KeepFirst,
            ) => {
                let open = self
                    .escalation(*escalation)
                    .is_some_and(|e| e.end.is_none());
                if !open {
                    return;
                }
                self.end_escalation(*escalation, true, note, event);
                // The sign-out the loss ended goes on, if the key is free for it.
                if let Some(s) = standing {
                    let ended_here = self
                        .sign_out(*s)
                        .is_some_and(|s| s.lost == Some(*escalation) && s.returned.is_none());
                    let free = self.key(*key).is_some_and(|k| k.state == KeyState::InStore)
                        && !self.master_out.contains_key(key);
                    if ended_here && free {
                        if let Some(so) = self.sign_outs.get_mut(s) {
                            so.lost = None;
                        }
                        self.master_out.insert(*key, *s);
                    }
                }
            }
            _ => {}
        }
    }

    pub(super) fn log_master(&mut self, key: KeyId, event: &Event, what: What) {
        if let Some(locker) = self.locker_of_key(key).map(|l| l.id) {
            self.log(locker, event, what);
        }
    }
}
