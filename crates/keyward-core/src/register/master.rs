//! Master keys (procedure 4): suites, authorised holders, sign-out and return, emergency use
//! and its review, presence checks, and the escalation a lost master key raises.
//!
//! A master key opens a **suite**: a named set of locks of one site (a corridor, a ward's
//! changing room). A suite takes in every lock of its site whose `suite` (as typed when the
//! lock was fitted) has the suite's name, whatever the case, so no lock event changes.
//!
//! **Master keys recorded before suites existed.** Sites already recorded master keys with
//! `KeysAdded { kind: Master }` on a locker's lock, and named a suite on locks with
//! `LockFitted { suite }`. Those events fold exactly as before: until a suite of that name is
//! defined at the site, such a key is a master key of no suite, and it cannot be signed out,
//! checked or reported lost (the refusal says to define the suite). Once a suite with the same
//! name is defined, it takes in the locks whose `suite` matches, and a master key already
//! recorded on one of those locks is that suite's master key, with nothing else recorded. A
//! master key on a lock that names no suite stays outside every suite. New master keys are
//! added the same way: `AddKeys { kind: Master }` on any lock of the suite.
//!
//! A master key's own `state` stays "in store" while it is signed out (a sign-out is not a
//! loan: the locker it hangs on is not in use), and becomes "lost" when it is reported lost;
//! [`Register::master_sign_out_of`] says who has it now.

use super::{Fit, Register};
use crate::command::Context;
use crate::conflict::{Conflict, ConflictKind, ConflictText, Resolution};
use crate::error::CommandError;
use crate::event::{Change, Event};
use crate::format::{uk_date, uk_date_time};
use crate::ids::{
    EscalationId, EventId, KeyId, LockId, LockerId, PersonId, SignOutId, SiteId, SuiteId, TagId,
};
use crate::model::{Key, KeyKind, KeyState, Lock};
use crate::normalise::tidy;
use crate::timeline::{Entry, What};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeSet;

/// A named set of locks of one site that its master keys open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suite {
    pub id: SuiteId,
    pub site: SiteId,
    pub name: String,
    /// Its master keys must be seen in their place at least this often.
    pub check_every_days: u32,
    /// Every sign-out needs a named witness.
    pub witness_required: bool,
    /// The people who may sign its master keys out.
    pub holders: BTreeSet<PersonId>,
    pub defined_at: DateTime<Utc>,
}

/// One use of a master key: out with a reason, and back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignOut {
    pub id: SignOutId,
    pub key: KeyId,
    pub suite: SuiteId,
    pub person: PersonId,
    pub reason: String,
    pub witness: Option<PersonId>,
    pub due_back: Option<DateTime<Utc>>,
    /// Recorded as an emergency use by someone not authorised.
    pub emergency: bool,
    /// Waits for an admin's review (an emergency use, or a use by a holder whose authorisation
    /// another device had withdrawn) until [`review`](Self::review) is set.
    pub flagged: bool,
    pub out_at: DateTime<Utc>,
    pub recorded_by: String,
    pub event: EventId,
    pub returned: Option<MasterReturn>,
    /// The escalation that ended it: the key was reported lost while out.
    pub lost: Option<EscalationId>,
    pub review: Option<Review>,
}

impl SignOut {
    /// Still out: neither returned nor ended by a loss.
    pub fn is_open(&self) -> bool {
        self.returned.is_none() && self.lost.is_none()
    }
    /// Still out after the time it was due back.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.is_open() && self.due_back.is_some_and(|due| due < now)
    }
    /// Flagged and not yet reviewed.
    pub fn needs_review(&self) -> bool {
        self.flagged && self.review.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterReturn {
    pub received_by: String,
    pub notes: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    pub notes: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A presence check: the key was seen in its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sighting {
    pub at: DateTime<Utc>,
    pub by: String,
    pub notes: String,
}

/// A lost master key: open (a banner on every screen) until an admin resolves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Escalation {
    pub id: EscalationId,
    pub site: SiteId,
    pub suite: SuiteId,
    pub key: KeyId,
    pub reported_by: String,
    pub at: DateTime<Utc>,
    pub notes: String,
    /// The sign-out the loss ended, when the key was out.
    pub sign_out: Option<SignOutId>,
    pub end: Option<EscalationEnd>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscalationEnd {
    /// The key was found and is back in its place.
    pub found: bool,
    pub notes: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// When a master key must next be seen in its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresenceDue {
    pub key: KeyId,
    pub suite: SuiteId,
    pub last_seen: Option<DateTime<Utc>>,
    /// The last check (or, never checked, the suite's definition) plus the suite's interval.
    pub due: DateTime<Utc>,
    pub late: bool,
}

/// A lock a lost master key opens, and the locker it is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AtRisk {
    pub lock: LockId,
    pub locker: LockerId,
    pub number: String,
}

/// How a suite's name is compared with a lock's `suite`.
fn suite_key(name: &str) -> String {
    tidy(name).to_lowercase()
}

impl Register {
    // ----- deciding -----

    pub(super) fn decide_define_suite(
        &self,
        site: SiteId,
        name: String,
        check_every_days: u32,
        witness_required: bool,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let site = self.site(site).ok_or(CommandError::UnknownSite)?;
        let name = tidy(&name);
        if name.is_empty() {
            return Err(CommandError::SuiteNameEmpty);
        }
        if let Some(taken) = self.suite_by_name(site.id, &name) {
            return Err(CommandError::SuiteNameTaken {
                site: site.name.clone(),
                name: taken.name.clone(),
            });
        }
        if !(1..=crate::checks::MAX_CHECK_DAYS).contains(&check_every_days) {
            return Err(CommandError::CheckIntervalOutOfRange {
                max: crate::checks::MAX_CHECK_DAYS,
            });
        }
        Ok(Change::SuiteDefined {
            suite: SuiteId::generate(ctx.now, ctx.entropy),
            site: site.id,
            name,
            check_every_days,
            witness_required,
        })
    }

    pub(super) fn decide_master_holder(
        &self,
        suite: SuiteId,
        person: PersonId,
        authorised: bool,
    ) -> Result<Change, CommandError> {
        let suite = self.suite(suite).ok_or(CommandError::UnknownSuite)?;
        let person = self
            .person(person)
            .filter(|p| p.site == suite.site)
            .ok_or(CommandError::UnknownPerson)?;
        if suite.holders.contains(&person.id) == authorised {
            return Err(CommandError::HolderUnchanged {
                name: person.details.name.clone(),
                suite: suite.name.clone(),
                authorised,
            });
        }
        Ok(Change::MasterHolderSet {
            suite: suite.id,
            person: person.id,
            authorised,
        })
    }

    /// The master key and its suite, or why it cannot be used.
    fn master_key(&self, key: KeyId) -> Result<(&Key, &Suite), CommandError> {
        let key = self.key(key).ok_or(CommandError::UnknownKey)?;
        if key.kind != KeyKind::Master {
            return Err(CommandError::NotAMasterKey {
                tag: key.tag.to_string(),
            });
        }
        let suite =
            self.suite_of_key(key.id)
                .ok_or_else(|| CommandError::MasterKeyWithoutSuite {
                    tag: key.tag.to_string(),
                    suite: self
                        .lock(key.lock)
                        .and_then(|l| l.suite.clone())
                        .unwrap_or_default(),
                })?;
        Ok((key, suite))
    }

    /// Refuses a key that is lost or (when `out_too`) signed out.
    fn master_in_place(&self, key: &Key, out_too: bool) -> Result<(), CommandError> {
        if key.state == KeyState::Lost {
            return Err(CommandError::MasterKeyLost {
                tag: key.tag.to_string(),
            });
        }
        if let Some(out) = self.master_sign_out_of(key.id).filter(|_| out_too) {
            return Err(CommandError::MasterKeyOut {
                tag: key.tag.to_string(),
                name: self.person_name(out.person),
            });
        }
        if key.state != KeyState::InStore {
            return Err(CommandError::KeyNotInStore {
                tag: key.tag.to_string(),
                state: key.state.label().to_lowercase(),
            });
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn decide_master_sign_out(
        &self,
        key: KeyId,
        person: PersonId,
        reason: String,
        witness: Option<PersonId>,
        due_back: Option<DateTime<Utc>>,
        emergency: bool,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let (key, suite) = self.master_key(key)?;
        self.master_in_place(key, true)?;
        let person = self
            .person(person)
            .filter(|p| p.site == suite.site)
            .ok_or(CommandError::UnknownPerson)?;
        let authorised = suite.holders.contains(&person.id);
        if !authorised && !emergency {
            return Err(CommandError::NotAuthorisedHolder {
                name: person.details.name.clone(),
                tag: key.tag.to_string(),
                suite: suite.name.clone(),
            });
        }
        let reason = tidy(&reason);
        if reason.is_empty() {
            return Err(CommandError::MasterReasonMissing);
        }
        let witness = match witness {
            Some(w) => {
                let w = self
                    .person(w)
                    .filter(|p| p.site == suite.site)
                    .ok_or(CommandError::UnknownPerson)?;
                if w.id == person.id {
                    return Err(CommandError::WitnessIsHolder);
                }
                Some(w.id)
            }
            None if self.witness_required(suite.id) => {
                return Err(CommandError::WitnessRequired {
                    suite: suite.name.clone(),
                })
            }
            None => None,
        };
        if let Some(due) = due_back.filter(|due| *due < ctx.now) {
            return Err(CommandError::DueBackBeforeOut {
                due: uk_date_time(&due),
            });
        }
        Ok(Change::MasterSignedOut {
            sign_out: SignOutId::generate(ctx.now, ctx.entropy),
            key: key.id,
            person: person.id,
            reason,
            witness,
            due_back,
            // An authorised holder's use is never an emergency use.
            emergency: !authorised,
        })
    }

    pub(super) fn decide_master_return(
        &self,
        key: KeyId,
        received_by: String,
        notes: String,
    ) -> Result<Change, CommandError> {
        let (key, _) = self.master_key(key)?;
        let out = self
            .master_sign_out_of(key.id)
            .ok_or_else(|| CommandError::MasterKeyNotOut {
                tag: key.tag.to_string(),
            })?;
        let received_by = tidy(&received_by);
        if received_by.is_empty() {
            return Err(CommandError::ReceiverMissing);
        }
        Ok(Change::MasterReturned {
            sign_out: out.id,
            key: key.id,
            received_by,
            notes: notes.trim().to_string(),
        })
    }

    pub(super) fn decide_master_check(
        &self,
        tag: TagId,
        notes: String,
    ) -> Result<Change, CommandError> {
        let key = self
            .key_by_tag(&tag)
            .ok_or_else(|| CommandError::UnknownTag {
                tag: tag.to_string(),
            })?;
        let (key, _) = self.master_key(key.id)?;
        self.master_in_place(key, true)?;
        Ok(Change::MasterSeen {
            key: key.id,
            notes: notes.trim().to_string(),
        })
    }

    pub(super) fn decide_master_lost(
        &self,
        key: KeyId,
        notes: String,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let (key, _) = self.master_key(key)?;
        self.master_in_place(key, false)?;
        Ok(Change::MasterLostReported {
            escalation: EscalationId::generate(ctx.now, ctx.entropy),
            key: key.id,
            sign_out: self.master_out.get(&key.id).copied(),
            notes: notes.trim().to_string(),
        })
    }

    pub(super) fn decide_review(
        &self,
        sign_out: SignOutId,
        notes: String,
    ) -> Result<Change, CommandError> {
        let s = self
            .sign_out(sign_out)
            .ok_or(CommandError::UnknownSignOut)?;
        if let Some(r) = &s.review {
            return Err(CommandError::AlreadyReviewed {
                by: r.by.clone(),
                on: uk_date(r.at.date_naive()),
            });
        }
        if !s.flagged {
            return Err(CommandError::NotFlaggedForReview);
        }
        let notes = notes.trim().to_string();
        if notes.is_empty() {
            return Err(CommandError::ReviewNotesMissing);
        }
        Ok(Change::EmergencyUseReviewed { sign_out, notes })
    }

    pub(super) fn decide_resolve_escalation(
        &self,
        escalation: EscalationId,
        found: bool,
        notes: String,
    ) -> Result<Change, CommandError> {
        let e = self
            .escalation(escalation)
            .ok_or(CommandError::UnknownEscalation)?;
        if let Some(end) = &e.end {
            return Err(CommandError::EscalationAlreadyResolved {
                by: end.by.clone(),
                on: uk_date(end.at.date_naive()),
            });
        }
        let notes = notes.trim().to_string();
        if notes.is_empty() {
            return Err(CommandError::EscalationNotesMissing);
        }
        Ok(Change::EscalationResolved {
            escalation,
            found,
            notes,
        })
    }

    // ----- how a change fits -----

    pub(super) fn assess_suite_defined(&self, suite: SuiteId, site: SiteId, name: &str) -> Fit {
        if self.site(site).is_none() {
            return Fit::Unknown("its site is not in the register");
        }
        match self.suite_by_name(site, name) {
            Some(s) if s.id != suite => Fit::Conflicts(ConflictKind::SuiteNameTaken {
                site,
                suite,
                name: name.to_string(),
            }),
            _ => Fit::Fits,
        }
    }

    pub(super) fn assess_master_holder(&self, suite: SuiteId, person: PersonId) -> Fit {
        match (self.suite(suite), self.person(person)) {
            (Some(_), Some(_)) => Fit::Fits,
            _ => Fit::Unknown("its suite or person is not in the register"),
        }
    }

    /// A master key of a suite, as the fold sees it.
    fn known_master(&self, key: KeyId) -> Option<(&Key, &Suite)> {
        let key = self.key(key).filter(|k| k.kind == KeyKind::Master)?;
        Some((key, self.suite_of_key(key.id)?))
    }

    pub(super) fn assess_master_sign_out(&self, change: &Change) -> Fit {
        let Change::MasterSignedOut {
            sign_out,
            key,
            person,
            witness,
            emergency,
            ..
        } = change
        else {
            return Fit::Unknown("not a sign-out");
        };
        let Some((k, suite)) = self.known_master(*key) else {
            return Fit::Unknown("its key is not a master key of a suite in the register");
        };
        if self.person(*person).is_none() || witness.is_some_and(|w| self.person(w).is_none()) {
            return Fit::Unknown("the person or witness is not in the register");
        }
        if k.state == KeyState::Lost {
            return Fit::Conflicts(ConflictKind::MasterOutWhileLost {
                key: *key,
                sign_out: *sign_out,
                escalation: self.master_lost[key],
            });
        }
        if let Some(standing) = self.master_out.get(key) {
            return Fit::Conflicts(ConflictKind::MasterOutTwice {
                key: *key,
                sign_out: *sign_out,
                standing: *standing,
            });
        }
        if !*emergency && !suite.holders.contains(person) {
            return Fit::Conflicts(ConflictKind::MasterHolderWithdrawn {
                key: *key,
                sign_out: *sign_out,
            });
        }
        Fit::Fits
    }

    pub(super) fn assess_master_return(&self, sign_out: SignOutId, key: KeyId) -> Fit {
        match self.sign_out(sign_out) {
            Some(s) if s.key == key => match (&s.returned, s.lost) {
                (Some(_), _) => Fit::Conflicts(ConflictKind::MasterReturnedTwice { key, sign_out }),
                (None, Some(escalation)) => Fit::Conflicts(ConflictKind::MasterReturnedWhileLost {
                    key,
                    sign_out,
                    escalation,
                }),
                (None, None) => Fit::Fits,
            },
            _ => Fit::Unknown("its sign-out is not in the register"),
        }
    }

    pub(super) fn assess_master_seen(&self, key: KeyId) -> Fit {
        match self.known_master(key) {
            None => Fit::Unknown("its key is not a master key of a suite in the register"),
            Some((k, _)) if k.state == KeyState::Lost || self.master_out.contains_key(&key) => {
                Fit::Conflicts(ConflictKind::MasterSeenMeanwhile { key })
            }
            Some(_) => Fit::Fits,
        }
    }

    pub(super) fn assess_master_lost(
        &self,
        escalation: EscalationId,
        key: KeyId,
        sign_out: Option<SignOutId>,
    ) -> Fit {
        let Some((k, _)) = self.known_master(key) else {
            return Fit::Unknown("its key is not a master key of a suite in the register");
        };
        if sign_out.is_some_and(|s| self.sign_out(s).is_none()) {
            return Fit::Unknown("its sign-out is not in the register");
        }
        if k.state == KeyState::Lost {
            return Fit::Conflicts(ConflictKind::MasterLostTwice {
                key,
                standing: self.master_lost[&key],
            });
        }
        let standing = self.master_out.get(&key).copied();
        if standing != sign_out {
            return Fit::Conflicts(ConflictKind::MasterLostMeanwhile {
                key,
                escalation,
                standing,
            });
        }
        Fit::Fits
    }

    pub(super) fn assess_review(&self, sign_out: SignOutId) -> Fit {
        match self.sign_out(sign_out) {
            None => Fit::Unknown("its sign-out is not in the register"),
            Some(s) if s.review.is_some() => Fit::Conflicts(ConflictKind::MasterReviewedTwice {
                key: s.key,
                sign_out,
            }),
            Some(_) => Fit::Fits,
        }
    }

    pub(super) fn assess_escalation_resolved(&self, escalation: EscalationId) -> Fit {
        match self.escalation(escalation) {
            None => Fit::Unknown("that escalation is not in the register"),
            Some(e) if e.end.is_some() => Fit::Conflicts(ConflictKind::EscalationResolvedTwice {
                key: e.key,
                escalation,
            }),
            Some(_) => Fit::Fits,
        }
    }

    // ----- the fold -----

    /// `conflicted`: its name was taken at the site first, so it is not added.
    pub(super) fn apply_suite_defined(&mut self, event: &Event, conflicted: bool) {
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

    pub(super) fn apply_master_holder(&mut self, event: &Event) {
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
    pub(super) fn apply_master_sign_out(&mut self, event: &Event, conflict: Option<&ConflictKind>) {
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
    pub(super) fn apply_master_return(&mut self, event: &Event, conflict: Option<&ConflictKind>) {
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
    pub(super) fn apply_master_seen(&mut self, event: &Event) {
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
    pub(super) fn apply_master_lost(&mut self, event: &Event, conflict: Option<&ConflictKind>) {
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

    pub(super) fn apply_review(&mut self, event: &Event, conflicted: bool) {
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

    pub(super) fn apply_escalation_resolved(&mut self, event: &Event, conflicted: bool) {
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
    fn end_escalation(
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
    fn close_sign_out(&mut self, sign_out: SignOutId, event: &Event, note: &str) {
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
    pub(super) fn apply_master_decision(
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

    fn log_master(&mut self, key: KeyId, event: &Event, what: What) {
        if let Some(locker) = self.locker_of_key(key).map(|l| l.id) {
            self.log(locker, event, what);
        }
    }

    // ----- queries -----

    /// Whether a sign-out of the suite's master keys needs a witness: the suite asks for one,
    /// or the policy of an area one of its locks is in does.
    pub fn witness_required(&self, suite: SuiteId) -> bool {
        self.suite(suite).is_some_and(|s| {
            s.witness_required
                || self
                    .suite_locks(suite)
                    .iter()
                    .any(|l| self.policy_for_locker(l.locker).master_needs_witness)
        })
    }
    pub fn suite(&self, id: SuiteId) -> Option<&Suite> {
        self.suites.get(&id)
    }
    /// The site's suites, by name.
    pub fn suites_of(&self, site: SiteId) -> Vec<&Suite> {
        self.suite_names
            .range((site, String::new())..)
            .take_while(|((s, _), _)| *s == site)
            .filter_map(|(_, id)| self.suites.get(id))
            .collect()
    }
    /// The site's suite with this name, whatever its case.
    pub fn suite_by_name(&self, site: SiteId, name: &str) -> Option<&Suite> {
        self.suite_names
            .get(&(site, suite_key(name)))
            .and_then(|id| self.suites.get(id))
    }
    /// The suite a lock belongs to: its site's suite named as the lock's `suite`.
    pub fn suite_of_lock(&self, lock: LockId) -> Option<&Suite> {
        let lock = self.lock(lock)?;
        let site = self.locker(lock.locker)?.site;
        self.suite_by_name(site, lock.suite.as_deref()?)
    }
    /// The suite a master key opens (that of the lock it was recorded on).
    pub fn suite_of_key(&self, key: KeyId) -> Option<&Suite> {
        let key = self.key(key).filter(|k| k.kind == KeyKind::Master)?;
        self.suite_of_lock(key.lock)
    }
    /// The suite's locks fitted to a locker now, by locker number.
    pub fn suite_locks(&self, suite: SuiteId) -> Vec<&Lock> {
        let Some(suite) = self.suite(suite) else {
            return Vec::new();
        };
        let name = suite_key(&suite.name);
        let mut locks: Vec<(&str, &Lock)> = self
            .locks
            .values()
            .filter(|l| l.suite.as_deref().map(suite_key).as_deref() == Some(name.as_str()))
            .filter_map(|l| {
                let locker = self.locker(l.locker)?;
                (locker.site == suite.site && locker.lock == Some(l.id))
                    .then_some((locker.number.as_str(), l))
            })
            .collect();
        locks.sort_by(|a, b| a.0.cmp(b.0));
        locks.into_iter().map(|(_, l)| l).collect()
    }
    /// The suite's master keys: master keys recorded on any of its locks (fitted now or not).
    pub fn master_keys_of(&self, suite: SuiteId) -> Vec<&Key> {
        self.keys
            .values()
            .filter(|k| self.suite_of_key(k.id).is_some_and(|s| s.id == suite))
            .collect()
    }
    pub fn is_authorised(&self, suite: SuiteId, person: PersonId) -> bool {
        self.suite(suite)
            .is_some_and(|s| s.holders.contains(&person))
    }
    pub fn sign_out(&self, id: SignOutId) -> Option<&SignOut> {
        self.sign_outs.get(&id)
    }
    /// The sign-out a master key is out on now.
    pub fn master_sign_out_of(&self, key: KeyId) -> Option<&SignOut> {
        self.master_out
            .get(&key)
            .and_then(|s| self.sign_outs.get(s))
    }
    /// Every sign-out of a master key, newest first.
    pub fn sign_outs_of_key(&self, key: KeyId) -> Vec<&SignOut> {
        let mut all: Vec<&SignOut> = self.sign_outs.values().filter(|s| s.key == key).collect();
        all.sort_by_key(|s| std::cmp::Reverse(s.event));
        all
    }
    fn sign_outs_of_site(&self, site: SiteId) -> impl Iterator<Item = &SignOut> {
        self.sign_outs
            .values()
            .filter(move |s| self.suite(s.suite).is_some_and(|x| x.site == site))
    }
    /// The site's master keys out now, oldest first.
    pub fn master_keys_out(&self, site: SiteId) -> Vec<&SignOut> {
        let mut out: Vec<&SignOut> = self
            .master_out
            .values()
            .filter_map(|s| self.sign_outs.get(s))
            .filter(|s| self.suite(s.suite).is_some_and(|x| x.site == site))
            .collect();
        out.sort_by_key(|s| s.event);
        out
    }
    /// Master keys out after the time they were due back at `now`.
    pub fn overdue_master_keys(&self, site: SiteId, now: DateTime<Utc>) -> Vec<&SignOut> {
        self.master_keys_out(site)
            .into_iter()
            .filter(|s| s.is_overdue(now))
            .collect()
    }
    /// Uses waiting for an admin's review (emergency uses), oldest first.
    pub fn uses_to_review(&self, site: SiteId) -> Vec<&SignOut> {
        let mut flagged: Vec<&SignOut> = self
            .sign_outs_of_site(site)
            .filter(|s| s.needs_review())
            .collect();
        flagged.sort_by_key(|s| s.event);
        flagged
    }
    /// When the master key was last seen in its place.
    pub fn last_seen(&self, key: KeyId) -> Option<&Sighting> {
        self.master_seen.get(&key)
    }
    /// When each of the site's master keys (not lost) must next be seen, soonest first; `late`
    /// as at `now` (the caller's clock).
    pub fn presence_checks(&self, site: SiteId, now: DateTime<Utc>) -> Vec<PresenceDue> {
        let mut due: Vec<PresenceDue> = self
            .suites_of(site)
            .into_iter()
            .flat_map(|suite| {
                self.master_keys_of(suite.id)
                    .into_iter()
                    .filter(|k| k.state != KeyState::Lost)
                    .map(move |k| (suite, k))
            })
            .map(|(suite, k)| {
                let last_seen = self.last_seen(k.id).map(|s| s.at);
                let from = last_seen.unwrap_or(suite.defined_at);
                let due = from + Duration::days(i64::from(suite.check_every_days));
                PresenceDue {
                    key: k.id,
                    suite: suite.id,
                    last_seen,
                    due,
                    late: due < now,
                }
            })
            .collect();
        due.sort_by_key(|d| (d.due, d.key));
        due
    }
    /// The presence checks that are late at `now`.
    pub fn late_presence_checks(&self, site: SiteId, now: DateTime<Utc>) -> Vec<PresenceDue> {
        self.presence_checks(site, now)
            .into_iter()
            .filter(|d| d.late)
            .collect()
    }
    pub fn escalation(&self, id: EscalationId) -> Option<&Escalation> {
        self.escalations.get(&id)
    }
    /// The site's lost master keys not yet resolved, oldest first: the banner on every screen.
    pub fn open_escalations(&self, site: SiteId) -> Vec<&Escalation> {
        self.escalations
            .values()
            .filter(|e| e.site == site && e.end.is_none())
            .collect()
    }
    /// Every escalation of the site, newest first.
    pub fn escalations_of(&self, site: SiteId) -> Vec<&Escalation> {
        self.escalations
            .values()
            .rev()
            .filter(|e| e.site == site)
            .collect()
    }
    /// The locks (and their lockers) a lost master key opens: every lock of its suite.
    pub fn at_risk(&self, escalation: EscalationId) -> Vec<AtRisk> {
        let Some(e) = self.escalation(escalation) else {
            return Vec::new();
        };
        self.suite_locks(e.suite)
            .into_iter()
            .filter_map(|l| {
                let locker = self.locker(l.locker)?;
                Some(AtRisk {
                    lock: l.id,
                    locker: locker.id,
                    number: locker.number.clone(),
                })
            })
            .collect()
    }

    fn person_name(&self, person: PersonId) -> String {
        self.person(person)
            .map(|p| p.details.name.clone())
            .unwrap_or_else(|| "an unknown person".into())
    }

    // ----- in words -----

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
