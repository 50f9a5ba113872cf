//! Master keys: how a change fits the register, and the conflicts two devices can make.

use super::Suite;
use crate::conflict::ConflictKind;
use crate::event::Change;
use crate::ids::{EscalationId, KeyId, PersonId, SignOutId, SiteId, SuiteId};
use crate::model::{Key, KeyKind, KeyState};
use crate::register::{Fit, Register};

impl Register {
    pub(in crate::register) fn assess_suite_defined(
        &self,
        suite: SuiteId,
        site: SiteId,
        name: &str,
    ) -> Fit {
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

    pub(in crate::register) fn assess_master_holder(
        &self,
        suite: SuiteId,
        person: PersonId,
    ) -> Fit {
        match (self.suite(suite), self.person(person)) {
            (Some(_), Some(_)) => Fit::Fits,
            _ => Fit::Unknown("its suite or person is not in the register"),
        }
    }

    /// A master key of a suite, as the fold sees it.
    pub(super) fn known_master(&self, key: KeyId) -> Option<(&Key, &Suite)> {
        let key = self.key(key).filter(|k| k.kind == KeyKind::Master)?;
        Some((key, self.suite_of_key(key.id)?))
    }

    pub(in crate::register) fn assess_master_sign_out(&self, change: &Change) -> Fit {
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

    pub(in crate::register) fn assess_master_return(&self, sign_out: SignOutId, key: KeyId) -> Fit {
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

    pub(in crate::register) fn assess_master_seen(&self, key: KeyId) -> Fit {
        match self.known_master(key) {
            None => Fit::Unknown("its key is not a master key of a suite in the register"),
            Some((k, _)) if k.state == KeyState::Lost || self.master_out.contains_key(&key) => {
                Fit::Conflicts(ConflictKind::MasterSeenMeanwhile { key })
            }
            Some(_) => Fit::Fits,
        }
    }

    pub(in crate::register) fn assess_master_lost(
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

    pub(in crate::register) fn assess_review(&self, sign_out: SignOutId) -> Fit {
        match self.sign_out(sign_out) {
            None => Fit::Unknown("its sign-out is not in the register"),
            Some(s) if s.review.is_some() => Fit::Conflicts(ConflictKind::MasterReviewedTwice {
                key: s.key,
                sign_out,
            }),
            Some(_) => Fit::Fits,
        }
    }

    pub(in crate::register) fn assess_escalation_resolved(&self, escalation: EscalationId) -> Fit {
        match self.escalation(escalation) {
            None => Fit::Unknown("that escalation is not in the register"),
            Some(e) if e.end.is_some() => Fit::Conflicts(ConflictKind::EscalationResolvedTwice {
                key: e.key,
                escalation,
            }),
            Some(_) => Fit::Fits,
        }
    }
}
