//! Keys: adding copies to a lock with fresh tag ids, and which keys a locker has.

use super::{Fit, Register};
use crate::command::{Context, Entropy};
use crate::error::CommandError;
use crate::event::{Change, Event, NewKey};
use crate::ids::{KeyId, LockId, LockerId, TagId};
use crate::model::{Key, KeyKind, KeyState, LockKind, Locker};
use crate::normalise::tidy;
use crate::timeline::What;
use chrono::{DateTime, Utc};
use std::collections::HashSet;

/// The most keys one "add keys" may create.
pub const MAX_KEYS_AT_ONCE: u32 = 50;

impl Register {
    pub(super) fn decide_add_keys(
        &self,
        lock: LockId,
        kind: KeyKind,
        count: u32,
        storage: String,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let lock = self.lock(lock).ok_or(CommandError::UnknownLock)?;
        if lock.kind != LockKind::Keyed {
            return Err(CommandError::LockHasNoKeys);
        }
        if lock.removed_at.is_some() {
            return Err(CommandError::LockRemoved {
                number: self
                    .locker(lock.locker)
                    .map(|l| l.number.clone())
                    .unwrap_or_default(),
            });
        }
        if !(1..=MAX_KEYS_AT_ONCE).contains(&count) {
            return Err(CommandError::KeyCountOutOfRange {
                max: MAX_KEYS_AT_ONCE,
            });
        }
        let first_copy = self.next_copy(lock.id);
        let mut fresh = HashSet::new();
        let keys = (0..count)
            .map(|i| {
                let tag = self.fresh_tag(ctx.entropy, &mut fresh);
                NewKey {
                    id: KeyId::generate(ctx.now, ctx.entropy),
                    copy: first_copy + i,
                    tag,
                }
            })
            .collect();
        let storage = tidy(&storage);
        Ok(Change::KeysAdded {
            lock: lock.id,
            kind,
            storage: (!storage.is_empty()).then_some(storage),
            keys,
        })
    }

    /// A tag id on no key, no blank tag, and not in `fresh` (which it joins).
    pub(super) fn fresh_tag(&self, entropy: &mut dyn Entropy, fresh: &mut HashSet<TagId>) -> TagId {
        loop {
            let tag = TagId::generate(entropy);
            if !self.tags.contains_key(&tag)
                && !self.blank_tags.contains_key(&tag)
                && fresh.insert(tag.clone())
            {
                return tag;
            }
        }
    }

    pub(super) fn assess_keys_added(&self, lock: LockId) -> Fit {
        match self.lock(lock) {
            Some(_) => Fit::Fits,
            None => Fit::Unknown("its lock is not in the register"),
        }
    }

    /// Keys added other than by a replacement order; those added to a lock that had keys
    /// already are copies ([`Register::unordered_copy`]).
    pub(super) fn apply_keys_added(
        &mut self,
        event: &Event,
        lock: LockId,
        kind: KeyKind,
        storage: &Option<String>,
        keys: &[NewKey],
    ) {
        let copies = self.lock(lock).is_some_and(|l| !l.keys.is_empty());
        if let Some((locker, added)) = self.add_keys(lock, kind, storage, keys) {
            if copies {
                for key in &added {
                    self.unordered_copies.insert(*key, event.at);
                }
            }
            self.log(locker, event, What::KeysAdded { keys: added });
        }
    }

    /// Puts new keys on a lock (skipping any id or tag already used); the lock's locker and
    /// the keys added, or `None` for an unknown lock.
    pub(super) fn add_keys(
        &mut self,
        lock: LockId,
        kind: KeyKind,
        storage: &Option<String>,
        keys: &[NewKey],
    ) -> Option<(LockerId, Vec<KeyId>)> {
        let l = self.locks.get_mut(&lock)?;
        let locker = l.locker;
        // Keys of a lock that was changed meanwhile (cut or added on another device) fit
        // nothing: they arrive retired.
        let state = if l.removed_at.is_some() {
            KeyState::Retired
        } else {
            KeyState::InStore
        };
        let mut added = Vec::new();
        for new in keys {
            if self.keys.contains_key(&new.id) || self.tags.contains_key(&new.tag) {
                continue;
            }
            l.keys.push(new.id);
            self.tags.insert(new.tag.clone(), new.id);
            self.keys.insert(
                new.id,
                Key {
                    id: new.id,
                    lock,
                    copy: new.copy,
                    kind,
                    tag: new.tag.clone(),
                    state,
                    storage: storage.clone(),
                    loan: None,
                },
            );
            added.push(new.id);
        }
        Some((locker, added))
    }

    /// The next copy number of a lock's keys.
    pub(super) fn next_copy(&self, lock: LockId) -> u32 {
        self.lock(lock)
            .map(|l| {
                l.keys
                    .iter()
                    .filter_map(|k| self.key(*k))
                    .map(|k| k.copy)
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0)
            + 1
    }

    pub(super) fn decide_retire(&self, key: KeyId, reason: String) -> Result<Change, CommandError> {
        let key = self.key(key).ok_or(CommandError::UnknownKey)?;
        key.not_master()?;
        if let Some(loan) = self.current_loan(key.id) {
            return Err(CommandError::KeyStillOut {
                tag: key.tag.to_string(),
                holder: self.holder_name(&loan.holder),
            });
        }
        if matches!(
            key.state,
            KeyState::Retired | KeyState::Lost | KeyState::Stolen
        ) {
            return Err(CommandError::KeyAlreadyGone {
                tag: key.tag.to_string(),
                state: key.state.label().to_lowercase(),
            });
        }
        let reason = tidy(&reason);
        if reason.is_empty() {
            return Err(CommandError::RetireReasonMissing);
        }
        Ok(Change::KeyRetired {
            key: key.id,
            reason,
        })
    }

    /// A retired or found key: any key but a master key, which has its own procedure.
    pub(super) fn assess_user_key(&self, key: KeyId) -> Fit {
        match self.key(key) {
            Some(k) if k.kind == KeyKind::Master => {
                Fit::Unknown("master keys are retired or found through their suite")
            }
            Some(_) => Fit::Fits,
            None => Fit::Unknown("its key is not in the register"),
        }
    }

    pub(super) fn apply_retired(&mut self, event: &Event, key: KeyId, reason: &str) {
        let Some(k) = self.keys.get_mut(&key) else {
            return;
        };
        k.state = KeyState::Retired;
        if let Some(locker) = self.locker_of_key(key).map(|l| l.id) {
            self.log(
                locker,
                event,
                What::KeyRetired {
                    key,
                    reason: reason.to_string(),
                },
            );
        }
    }

    pub fn key(&self, id: KeyId) -> Option<&Key> {
        self.keys.get(&id)
    }
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.keys.values()
    }
    /// The locker a key's lock is (or was) fitted to.
    pub fn locker_of_key(&self, key: KeyId) -> Option<&Locker> {
        let lock = self.lock(self.key(key)?.lock)?;
        self.locker(lock.locker)
    }
    /// The keys of the lock fitted to a locker now, by copy number.
    pub fn keys_of_locker(&self, locker: LockerId) -> Vec<&Key> {
        self.locker(locker)
            .and_then(|l| l.lock)
            .and_then(|lock| self.lock(lock))
            .map(|lock| lock.keys.iter().filter_map(|k| self.keys.get(k)).collect())
            .unwrap_or_default()
    }
}

impl Register {
    /// When a key was added as a copy without a replacement order, if it was.
    pub fn unordered_copy(&self, key: KeyId) -> Option<DateTime<Utc>> {
        self.unordered_copies.get(&key).copied()
    }
}
