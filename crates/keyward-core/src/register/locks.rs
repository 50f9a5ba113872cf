//! Locks: fitting one to a locker, and the decision when two devices recorded different locks.

use super::{Fit, Register};
use crate::command::Context;
use crate::conflict::{ConflictKind, Resolution};
use crate::error::CommandError;
use crate::event::{Change, Event};
use crate::ids::SiteId;
use crate::ids::{LockId, LockerId};
use crate::model::{CaseClosed, Fault, FaultKind, KeyKind, KeyState, Loan, Lock, LockKind};
use chrono::{DateTime, Duration, Utc};

use crate::normalise::tidy;
use crate::timeline::What;

impl Register {
    pub(super) fn decide_fit_lock(
        &self,
        locker: LockerId,
        kind: LockKind,
        code: String,
        suite: String,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let locker = self.locker(locker).ok_or(CommandError::UnknownLocker)?;
        if locker.lock.is_some() {
            return Err(CommandError::LockAlreadyFitted {
                number: locker.number.clone(),
            });
        }
        let code = tidy(&code).to_uppercase();
        if code.is_empty() {
            return Err(CommandError::LockCodeEmpty);
        }
        let suite = tidy(&suite);
        Ok(Change::LockFitted {
            lock: LockId::generate(ctx.now, ctx.entropy),
            locker: locker.id,
            kind,
            code,
            suite: (!suite.is_empty()).then_some(suite),
        })
    }

    pub(super) fn assess_lock_fitted(&self, lock: LockId, locker: LockerId) -> Fit {
        match self.locker(locker) {
            None => Fit::Unknown("its locker is not in the register"),
            Some(l) => match l.lock {
                Some(standing) if standing != lock => {
                    Fit::Conflicts(ConflictKind::LockAlreadyFitted {
                        locker,
                        lock,
                        standing,
                    })
                }
                _ => Fit::Fits,
            },
        }
    }

    /// `conflicted`: a second lock recorded offline is kept, but not fitted, until decided.
    pub(super) fn apply_lock_fitted(&mut self, event: &Event, conflicted: bool) {
        let Change::LockFitted {
            lock,
            locker,
            kind,
            code,
            suite,
        } = &event.change
        else {
            return;
        };
        let Some(l) = self.lockers.get_mut(locker) else {
            return;
        };
        if !conflicted {
            l.lock = Some(*lock);
        }
        self.insert_lock(event, *lock, *locker, *kind, code, suite);
        self.log(*locker, event, What::LockFitted { lock: *lock });
    }

    pub(super) fn decide_fault(
        &self,
        lock: LockId,
        kind: FaultKind,
        notes: String,
    ) -> Result<Change, CommandError> {
        let lock = self.lock(lock).ok_or(CommandError::UnknownLock)?;
        Ok(Change::FaultRecorded {
            lock: lock.id,
            kind,
            notes: notes.trim().to_string(),
        })
    }

    pub(super) fn decide_change_lock(
        &self,
        locker: LockerId,
        kind: LockKind,
        code: String,
        suite: String,
        reason: String,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let locker = self.locker(locker).ok_or(CommandError::UnknownLocker)?;
        let old = locker.lock.ok_or_else(|| CommandError::NoLockToChange {
            number: locker.number.clone(),
        })?;
        let code = tidy(&code).to_uppercase();
        if code.is_empty() {
            return Err(CommandError::LockCodeEmpty);
        }
        let reason = tidy(&reason);
        if reason.is_empty() {
            return Err(CommandError::LockChangeReasonMissing);
        }
        let suite = tidy(&suite);
        Ok(Change::LockChanged {
            locker: locker.id,
            old,
            lock: LockId::generate(ctx.now, ctx.entropy),
            kind,
            code,
            suite: (!suite.is_empty()).then_some(suite),
            reason,
        })
    }

    pub(super) fn assess_lock_known(&self, lock: LockId) -> Fit {
        match self.lock(lock) {
            Some(_) => Fit::Fits,
            None => Fit::Unknown("its lock is not in the register"),
        }
    }

    /// A lock change made against an older view of the locker: another lock went on first.
    pub(super) fn assess_lock_changed(&self, locker: LockerId, old: LockId, lock: LockId) -> Fit {
        match self.locker(locker).map(|l| l.lock) {
            None => Fit::Unknown("its locker is not in the register"),
            Some(Some(standing)) if standing != old && standing != lock => {
                Fit::Conflicts(ConflictKind::LockAlreadyFitted {
                    locker,
                    lock,
                    standing,
                })
            }
            Some(_) => Fit::Fits,
        }
    }

    pub(super) fn apply_fault(
        &mut self,
        event: &Event,
        lock: LockId,
        kind: FaultKind,
        notes: &str,
    ) {
        let Some(l) = self.locks.get_mut(&lock) else {
            return;
        };
        l.faults.push(Fault {
            event: event.id,
            kind,
            notes: notes.to_string(),
            by: event.actor.clone(),
            at: event.at,
        });
        let (locker, index) = (l.locker, l.faults.len() - 1);
        self.log(locker, event, What::Fault { lock, index });
    }

    /// The new lock goes on and every key of the old one is retired (a lost or stolen one
    /// stays so); a key still out stays on its loan (retired while out, its holder to be told). Open lost-key cases of the
    /// locker close. `conflicted`: another lock went on first, so this one is kept unfitted.
    pub(super) fn apply_lock_changed(&mut self, event: &Event, conflicted: bool) {
        let Change::LockChanged {
            locker,
            old,
            lock,
            kind,
            code,
            suite,
            reason,
        } = &event.change
        else {
            return;
        };
        self.insert_lock(event, *lock, *locker, *kind, code, suite);
        if !conflicted {
            if let Some(l) = self.lockers.get_mut(locker) {
                l.lock = Some(*lock);
            }
            if let Some(o) = self.locks.get_mut(old) {
                o.removed_at.get_or_insert(event.at);
                for key in o.keys.clone() {
                    // A lost or stolen key stays so: found later, it comes back retired. A
                    // master key opens its suite, not this lock alone: it is not retired.
                    if let Some(k) = self.keys.get_mut(&key) {
                        if k.kind != KeyKind::Master
                            && !matches!(k.state, KeyState::Lost | KeyState::Stolen)
                        {
                            k.state = KeyState::Retired;
                        }
                    }
                }
            }
            self.close_cases_of_locker(*locker, CaseClosed::LockChanged { lock: *lock });
        }
        self.log(
            *locker,
            event,
            What::LockChanged {
                old: *old,
                lock: *lock,
                reason: reason.clone(),
            },
        );
    }

    /// Records a lock on a locker as of the event, with no keys and no faults yet.
    fn insert_lock(
        &mut self,
        event: &Event,
        lock: LockId,
        locker: LockerId,
        kind: LockKind,
        code: &str,
        suite: &Option<String>,
    ) {
        self.locks.insert(
            lock,
            Lock {
                id: lock,
                locker,
                kind,
                code: code.to_string(),
                suite: suite.clone(),
                fitted_at: event.at,
                keys: Vec::new(),
                faults: Vec::new(),
                removed_at: None,
            },
        );
    }

    /// What deciding a conflict this procedure owns does to the state.
    pub(super) fn apply_lock_decision(&mut self, kind: &ConflictKind, choice: Resolution) {
        if let (ConflictKind::LockAlreadyFitted { locker, lock, .. }, Resolution::KeepLater) =
            (kind, choice)
        {
            if let Some(l) = self.lockers.get_mut(locker) {
                l.lock = Some(*lock);
            }
        }
    }

    pub fn lock(&self, id: LockId) -> Option<&Lock> {
        self.locks.get(&id)
    }
    /// Faults on a lock in the `days` before `now`.
    pub fn recent_faults(&self, lock: LockId, now: DateTime<Utc>, days: i64) -> usize {
        let since = now - Duration::days(days);
        self.lock(lock)
            .map(|l| l.faults.iter().filter(|f| f.at > since).count())
            .unwrap_or(0)
    }
    /// Whether a lock has had repeated faults: as many within as many days as its area's
    /// policy says (3 in 90 unless set).
    pub fn lock_flagged(&self, lock: LockId, now: DateTime<Utc>) -> bool {
        let Some(l) = self.lock(lock) else {
            return false;
        };
        let flag = self.policy_for_locker(l.locker).fault_flag;
        self.recent_faults(lock, now, i64::from(flag.days)) >= usize::from(flag.faults)
    }
    /// The locks to replace: fitted locks of a site with repeated faults, most faults first.
    pub fn locks_to_replace(&self, site: SiteId, now: DateTime<Utc>) -> Vec<&Lock> {
        let mut locks: Vec<&Lock> = self
            .lockers()
            .filter(|l| l.site == site)
            .filter_map(|l| l.lock.and_then(|id| self.lock(id)))
            .filter(|l| self.lock_flagged(l.id, now))
            .collect();
        locks.sort_by_key(|l| std::cmp::Reverse(l.faults.len()));
        locks
    }
    /// Loans whose key was retired (its lock changed) while still out: holders to be told.
    pub fn retired_while_out(&self, site: SiteId) -> Vec<&Loan> {
        self.keys()
            .filter(|k| k.state == KeyState::Retired)
            .filter_map(|k| k.loan.and_then(|l| self.loan(l)))
            .filter(|l| l.is_open() && self.locker(l.locker).is_some_and(|x| x.site == site))
            .collect()
    }
}
