//! Locks: fitting one to a locker, and the decision when two devices recorded different locks.

use super::{Fit, Register};
use crate::command::Context;
use crate::conflict::{ConflictKind, Resolution};
use crate::error::CommandError;
use crate::event::{Change, Event};
use crate::ids::{LockId, LockerId};
use crate::model::{Lock, LockKind};
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
        self.locks.insert(
            *lock,
            Lock {
                id: *lock,
                locker: *locker,
                kind: *kind,
                code: code.clone(),
                suite: suite.clone(),
                fitted_at: event.at,
                keys: Vec::new(),
            },
        );
        self.log(*locker, event, What::LockFitted { lock: *lock });
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
}
