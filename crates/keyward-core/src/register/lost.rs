//! The lost-key case (DOMAIN.md procedure 5): a key reported lost or stolen, the case that
//! follows it (the issue record, a master-key use if the locker had to be opened, the
//! decision between a replacement cut to code and a lock change, a charge), a found key, and
//! repeated losses by one person or at one locker.
//!
//! A case closes by itself when its replacement order is received in full (`orders`), when
//! the locker's lock is changed (`locks`), or when the key turns up.

use super::{Fit, Register};
use crate::command::Context;
use crate::conflict::{ConflictKind, Resolution};
use crate::error::CommandError;
use crate::event::{Change, Event};
use crate::ids::{CaseId, KeyId, LoanId, LockerId, PersonId, SiteId};
use crate::model::{
    CaseClosed, CaseDecision, CaseOutcome, Charge, ChargeStatus, Holder, KeyKind, KeyState, Loss,
    LostCase,
};
use crate::normalise::tidy;
use crate::timeline::What;
use std::collections::BTreeMap;

/// Losses by one person or at one locker from this many on are "repeated".
pub const REPEATED_LOSSES: usize = 2;

/// Who and where keys keep going missing, with how many cases each, most first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepeatedLosses {
    pub people: Vec<(PersonId, usize)>,
    pub lockers: Vec<(LockerId, usize)>,
}

impl Register {
    pub(super) fn decide_report_lost(
        &self,
        key: KeyId,
        loss: Loss,
        notes: String,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let key = self.key(key).ok_or(CommandError::UnknownKey)?;
        key.not_master()?;
        if matches!(
            key.state,
            KeyState::Lost | KeyState::Stolen | KeyState::Retired
        ) {
            return Err(CommandError::KeyAlreadyGone {
                tag: key.tag.to_string(),
                state: key.state.label().to_lowercase(),
            });
        }
        self.locker_of_key(key.id)
            .ok_or(CommandError::UnknownLocker)?;
        Ok(Change::KeyReportedLost {
            case: CaseId::generate(ctx.now, ctx.entropy),
            key: key.id,
            loan: self.current_loan(key.id).map(|l| l.id),
            loss,
            notes: notes.trim().to_string(),
        })
    }

    pub(super) fn decide_found(&self, key: KeyId, notes: String) -> Result<Change, CommandError> {
        let key = self.key(key).ok_or(CommandError::UnknownKey)?;
        key.not_master()?;
        if !matches!(key.state, KeyState::Lost | KeyState::Stolen) {
            return Err(CommandError::KeyNotLost {
                tag: key.tag.to_string(),
            });
        }
        Ok(Change::KeyFound {
            key: key.id,
            notes: notes.trim().to_string(),
        })
    }

    pub(super) fn decide_case(
        &self,
        case: CaseId,
        outcome: CaseOutcome,
        reason: String,
        opened_with: Option<KeyId>,
    ) -> Result<Change, CommandError> {
        let c = self.open_case(case)?;
        if let Some(d) = &c.decision {
            return Err(CommandError::CaseAlreadyDecided {
                by: d.by.clone(),
                outcome: d.outcome.label().to_lowercase(),
            });
        }
        let reason = tidy(&reason);
        if reason.is_empty() {
            return Err(CommandError::CaseReasonMissing);
        }
        if let Some(master) = opened_with {
            let k = self.key(master).ok_or(CommandError::UnknownKey)?;
            if k.kind != KeyKind::Master {
                return Err(CommandError::OpenedWithNotMaster {
                    tag: k.tag.to_string(),
                });
            }
        }
        Ok(Change::LostCaseDecided {
            case,
            outcome,
            reason,
            opened_with,
        })
    }

    pub(super) fn decide_charge(
        &self,
        case: CaseId,
        status: ChargeStatus,
        amount: u32,
    ) -> Result<Change, CommandError> {
        let c = self.case(case).ok_or(CommandError::UnknownCase)?;
        let amount = match status {
            ChargeStatus::Waived => c.charge.as_ref().map_or(amount, |c| c.amount),
            _ if amount == 0 => return Err(CommandError::ChargeMissing),
            _ => amount,
        };
        Ok(Change::ChargeRecorded {
            case,
            status,
            amount,
        })
    }

    /// A case that is still open, or why it cannot be acted on.
    pub(super) fn open_case(&self, case: CaseId) -> Result<&LostCase, CommandError> {
        let c = self.case(case).ok_or(CommandError::UnknownCase)?;
        if c.closed.is_some() {
            return Err(CommandError::CaseClosed);
        }
        Ok(c)
    }

    pub(super) fn assess_report_lost(&self, case: CaseId, key: KeyId, loan: Option<LoanId>) -> Fit {
        let Some(k) = self.key(key) else {
            return Fit::Unknown("its key is not in the register");
        };
        if k.kind == KeyKind::Master {
            return Fit::Unknown("master keys are reported lost through their suite");
        }
        if self.locker_of_key(key).is_none() {
            return Fit::Unknown("its key's locker is not in the register");
        }
        if matches!(k.state, KeyState::Lost | KeyState::Stolen) {
            return Fit::Conflicts(ConflictKind::LostTwice { key, case });
        }
        match loan.map(|l| self.loan(l)) {
            None => Fit::Fits,
            Some(None) => Fit::Unknown("its loan is not in the register"),
            Some(Some(l)) if l.returned.is_some() => {
                Fit::Conflicts(ConflictKind::LostAndReturned {
                    key,
                    case,
                    loan: l.id,
                    lost_first: false,
                })
            }
            Some(Some(_)) => Fit::Fits,
        }
    }

    pub(super) fn assess_case_decided(&self, case: CaseId) -> Fit {
        match self.case(case) {
            None => Fit::Unknown("its lost-key case is not in the register"),
            Some(c) if c.decision.is_some() => {
                Fit::Conflicts(ConflictKind::CaseDecidedTwice { case })
            }
            Some(_) => Fit::Fits,
        }
    }

    pub(super) fn assess_case_known(&self, case: CaseId) -> Fit {
        match self.case(case) {
            Some(_) => Fit::Fits,
            None => Fit::Unknown("its lost-key case is not in the register"),
        }
    }

    /// Opens the case; the key goes missing and its loan ends, unless another device had
    /// already reported it lost (no second case) or recorded its return (the case is kept
    /// and the key stays in store until a person decides).
    pub(super) fn apply_report_lost(&mut self, event: &Event, conflict: Option<&ConflictKind>) {
        let Change::KeyReportedLost {
            case,
            key,
            loan,
            loss,
            notes,
        } = &event.change
        else {
            return;
        };
        if matches!(conflict, Some(ConflictKind::LostTwice { .. })) {
            return;
        }
        let Some(locker) = self.locker_of_key(*key).map(|l| l.id) else {
            return;
        };
        // The key goes missing from whatever loan it is on now (another device may have
        // issued or returned it since the report was made); a conflicting report keeps the
        // loan it named.
        let loan = match conflict {
            None => self
                .key(*key)
                .and_then(|k| k.loan)
                .filter(|l| self.loan(*l).is_some_and(|l| l.is_open())),
            Some(_) => *loan,
        };
        let holder = loan.and_then(|l| self.loan(l)).map(|l| l.holder.clone());
        self.cases.insert(
            *case,
            LostCase {
                id: *case,
                key: *key,
                locker,
                loan,
                holder,
                loss: *loss,
                notes: notes.clone(),
                reported_by: event.actor.clone(),
                reported_at: event.at,
                decision: None,
                charge: None,
                order: None,
                closed: None,
            },
        );
        if conflict.is_none() {
            self.mark_lost(*case);
        }
        self.log(locker, event, What::KeyLost { case: *case });
    }

    /// The case's key goes missing, and the loan it was out on ends with it.
    fn mark_lost(&mut self, case: CaseId) {
        let Some(c) = self.cases.get(&case) else {
            return;
        };
        let (key, loan, stolen) = (c.key, c.loan, c.loss.stolen);
        if let Some(k) = self.keys.get_mut(&key) {
            k.state = if stolen {
                KeyState::Stolen
            } else {
                KeyState::Lost
            };
            k.loan = None;
        }
        if let Some(l) = loan.and_then(|l| self.loans.get_mut(&l)) {
            l.lost = Some(case);
        }
    }

    /// The key is back: a missing key goes in store, or is retired if its lock was changed
    /// meanwhile (a key that is not missing stays as it is); its open cases close as found.
    fn mark_found(&mut self, key: KeyId) {
        let removed = self
            .key(key)
            .and_then(|k| self.lock(k.lock))
            .is_some_and(|l| l.removed_at.is_some());
        if let Some(k) = self.keys.get_mut(&key) {
            if matches!(k.state, KeyState::Lost | KeyState::Stolen) {
                k.state = if removed {
                    KeyState::Retired
                } else {
                    KeyState::InStore
                };
                k.loan = None;
            }
        }
        for c in self.cases.values_mut() {
            if c.key == key && c.closed.is_none() {
                c.closed = Some(CaseClosed::Found);
            }
        }
    }

    pub(super) fn apply_found(&mut self, event: &Event, key: KeyId) {
        if !self
            .key(key)
            .is_some_and(|k| matches!(k.state, KeyState::Lost | KeyState::Stolen))
        {
            return;
        }
        self.mark_found(key);
        if let Some(locker) = self.locker_of_key(key).map(|l| l.id) {
            self.log(locker, event, What::KeyFound { key });
        }
    }

    pub(super) fn apply_case_decided(&mut self, event: &Event, conflicted: bool) {
        let Change::LostCaseDecided {
            case,
            outcome,
            reason,
            opened_with,
        } = &event.change
        else {
            return;
        };
        if conflicted {
            return; // decided twice: the first decision stands
        }
        let Some(c) = self.cases.get_mut(case) else {
            return;
        };
        c.decision = Some(CaseDecision {
            outcome: *outcome,
            reason: reason.clone(),
            opened_with: *opened_with,
            by: event.actor.clone(),
            at: event.at,
        });
        let locker = c.locker;
        self.log(locker, event, What::CaseDecided { case: *case });
    }

    pub(super) fn apply_charge(
        &mut self,
        event: &Event,
        case: CaseId,
        status: ChargeStatus,
        amount: u32,
    ) {
        let Some(c) = self.cases.get_mut(&case) else {
            return;
        };
        c.charge = Some(Charge {
            status,
            amount,
            by: event.actor.clone(),
            at: event.at,
        });
        let locker = c.locker;
        self.log(locker, event, What::Charge { case });
    }

    /// What deciding a conflict this procedure owns does to the state.
    pub(super) fn apply_lost_decision(&mut self, kind: &ConflictKind, choice: Resolution) {
        let ConflictKind::LostAndReturned {
            key,
            case,
            lost_first,
            ..
        } = kind
        else {
            return;
        };
        match (lost_first, choice) {
            // The return stands: the key is back and the case closes.
            (true, Resolution::KeepLater) | (false, Resolution::KeepFirst) => self.mark_found(*key),
            // The loss stands over an earlier return: the key goes missing, if still in store.
            (false, Resolution::KeepLater)
                if self.key(*key).is_some_and(|k| k.state == KeyState::InStore) =>
            {
                self.mark_lost(*case)
            }
            _ => {}
        }
    }

    /// Closes every open case of a locker (its lock was changed).
    pub(super) fn close_cases_of_locker(&mut self, locker: LockerId, how: CaseClosed) {
        for c in self.cases.values_mut() {
            if c.locker == locker && c.closed.is_none() {
                c.closed = Some(how.clone());
            }
        }
    }

    pub fn case(&self, id: CaseId) -> Option<&LostCase> {
        self.cases.get(&id)
    }
    /// A site's lost-key cases, newest first.
    pub fn cases_of(&self, site: SiteId) -> Vec<&LostCase> {
        self.cases
            .values()
            .rev()
            .filter(|c| self.locker(c.locker).is_some_and(|l| l.site == site))
            .collect()
    }
    /// A site's cases still waiting for a replacement or a lock change, newest first.
    pub fn open_cases(&self, site: SiteId) -> Vec<&LostCase> {
        self.cases_of(site)
            .into_iter()
            .filter(|c| c.closed.is_none())
            .collect()
    }
    /// The open case of a key, if it is missing.
    pub fn case_of_key(&self, key: KeyId) -> Option<&LostCase> {
        self.cases
            .values()
            .rev()
            .find(|c| c.key == key && c.closed.is_none())
    }
    /// Every case of keys a person held, newest first.
    pub fn losses_of(&self, person: PersonId) -> Vec<&LostCase> {
        let holder = Holder::Person(person);
        self.cases
            .values()
            .rev()
            .filter(|c| c.holder.as_ref() == Some(&holder))
            .collect()
    }
    /// Every case at a locker, newest first.
    pub fn losses_at(&self, locker: LockerId) -> Vec<&LostCase> {
        self.cases
            .values()
            .rev()
            .filter(|c| c.locker == locker)
            .collect()
    }
    /// People and lockers of a site with [`REPEATED_LOSSES`] or more cases, most first.
    pub fn repeated_losses(&self, site: SiteId) -> RepeatedLosses {
        let mut people = BTreeMap::new();
        let mut lockers = BTreeMap::new();
        for c in self.cases_of(site) {
            *lockers.entry(c.locker).or_insert(0) += 1;
            if let Some(Holder::Person(p)) = &c.holder {
                *people.entry(*p).or_insert(0) += 1;
            }
        }
        RepeatedLosses {
            people: repeated(people),
            lockers: repeated(lockers),
        }
    }
    /// Why a lock change is recommended for a case, in plain words; empty when a replacement
    /// cut to code may do.
    pub fn lock_change_reasons(&self, case: &LostCase) -> Vec<&'static str> {
        let mut reasons = case.loss.lock_change_reasons();
        if self
            .policy_for_locker(case.locker)
            .lost_key_forces_lock_change
        {
            reasons.push("the area's policy requires a lock change for every lost key");
        }
        reasons
    }
}

/// The entries counted at least [`REPEATED_LOSSES`] times, most first.
fn repeated<T: Ord>(counts: BTreeMap<T, usize>) -> Vec<(T, usize)> {
    let mut v: Vec<(T, usize)> = counts
        .into_iter()
        .filter(|(_, n)| *n >= REPEATED_LOSSES)
        .collect();
    v.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    v
}
