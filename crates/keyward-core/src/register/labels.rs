//! Labels and tags: label references for lockers, blank tags printed in advance, putting a
//! tag on a key, and what a scanned code points at.

use super::{Fit, Register};
use crate::command::Context;
use crate::conflict::ConflictKind;
use crate::error::CommandError;
use crate::event::{Change, Event, NewLabel};
use crate::ids::{KeyId, LockerId, SiteId, TagId};
use crate::label::{LabelRef, Scanned};
use crate::model::{Key, Locker};
use crate::timeline::What;
use std::collections::HashSet;

/// The most blank tags made at once: a few sheets.
pub const MAX_BLANK_TAGS: u32 = 650;

/// Where a scanned code leads, with the site it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    Locker(SiteId, LockerId),
    Key(SiteId, KeyId),
    /// A tag printed in advance and on no key yet.
    BlankTag(SiteId, TagId),
    Unknown,
}

impl Register {
    pub(super) fn decide_locker_labels(
        &self,
        lockers: Vec<LockerId>,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let mut fresh = HashSet::new();
        let mut labels = Vec::new();
        for id in lockers {
            let locker = self.locker(id).ok_or(CommandError::UnknownLocker)?;
            if locker.label.is_some() || labels.iter().any(|l: &NewLabel| l.locker == id) {
                continue;
            }
            let label = loop {
                let label = LabelRef::generate(ctx.entropy);
                if !self.labels.contains_key(&label) && fresh.insert(label.clone()) {
                    break label;
                }
            };
            labels.push(NewLabel { locker: id, label });
        }
        if labels.is_empty() {
            return Err(CommandError::NothingToLabel);
        }
        Ok(Change::LockerLabelsIssued { labels })
    }

    pub(super) fn decide_blank_tags(
        &self,
        site: SiteId,
        count: u32,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let site = self.site(site).ok_or(CommandError::UnknownSite)?;
        if !(1..=MAX_BLANK_TAGS).contains(&count) {
            return Err(CommandError::BlankTagCountOutOfRange {
                max: MAX_BLANK_TAGS,
            });
        }
        let mut fresh = HashSet::new();
        let tags = (0..count)
            .map(|_| self.fresh_tag(ctx.entropy, &mut fresh))
            .collect();
        Ok(Change::BlankTagsMade {
            site: site.id,
            tags,
        })
    }

    pub(super) fn decide_attach_tag(&self, key: KeyId, tag: TagId) -> Result<Change, CommandError> {
        let key = self.key(key).ok_or(CommandError::UnknownKey)?;
        if self.tags.contains_key(&tag) {
            return Err(CommandError::TagInUse {
                tag: tag.to_string(),
            });
        }
        let site = self.locker_of_key(key.id).map(|l| l.site);
        if self.blank_tags.get(&tag).copied() != site || site.is_none() {
            return Err(CommandError::NotABlankTag {
                tag: tag.to_string(),
            });
        }
        Ok(Change::TagAttached {
            key: key.id,
            tag,
            previous: key.tag.clone(),
        })
    }

    pub(super) fn assess_locker_labels(&self, labels: &[NewLabel]) -> Fit {
        if labels.iter().all(|l| self.lockers.contains_key(&l.locker)) {
            Fit::Fits
        } else {
            Fit::Unknown("a locker it labels is not in the register")
        }
    }

    pub(super) fn assess_tag_attached(&self, key: KeyId, tag: &TagId, previous: &TagId) -> Fit {
        match self.key(key) {
            None => Fit::Unknown("its key is not in the register"),
            Some(k) if self.tags.contains_key(tag) || k.tag != *previous => {
                Fit::Conflicts(ConflictKind::TagNotAttached {
                    key,
                    tag: tag.clone(),
                })
            }
            Some(_) => Fit::Fits,
        }
    }

    pub(super) fn apply_locker_labels(&mut self, labels: &[NewLabel]) {
        for new in labels {
            let Some(locker) = self.lockers.get_mut(&new.locker) else {
                continue;
            };
            if locker.label.is_some() || self.labels.contains_key(&new.label) {
                continue;
            }
            locker.label = Some(new.label.clone());
            self.labels.insert(new.label.clone(), new.locker);
        }
    }

    pub(super) fn apply_blank_tags(&mut self, site: SiteId, tags: &[TagId]) {
        for tag in tags {
            if !self.tags.contains_key(tag) {
                self.blank_tags.entry(tag.clone()).or_insert(site);
            }
        }
    }

    pub(super) fn apply_tag_attached(
        &mut self,
        event: &Event,
        key: KeyId,
        tag: &TagId,
        previous: &TagId,
    ) {
        let Some(k) = self.keys.get_mut(&key) else {
            return;
        };
        if self.tags.contains_key(tag) || k.tag != *previous {
            return;
        }
        self.blank_tags.remove(tag);
        self.tags.remove(previous);
        self.tags.insert(tag.clone(), key);
        k.tag = tag.clone();
        let lock = k.lock;
        if let Some(locker) = self.locks.get(&lock).map(|l| l.locker) {
            self.log(
                locker,
                event,
                What::TagReplaced {
                    key,
                    previous: previous.clone(),
                    tag: tag.clone(),
                },
            );
        }
    }

    /// Whether `tag` is a blank tag of `site`, waiting to go on a key.
    pub fn is_blank_tag(&self, site: SiteId, tag: &TagId) -> bool {
        self.blank_tags.get(tag) == Some(&site)
    }
    pub fn locker_by_label(&self, label: &LabelRef) -> Option<&Locker> {
        self.labels.get(label).and_then(|id| self.lockers.get(id))
    }
    pub fn key_by_tag(&self, tag: &TagId) -> Option<&Key> {
        self.tags.get(tag).and_then(|id| self.keys.get(id))
    }
    /// What a scanned code points at in this register.
    pub fn resolve(&self, scanned: &Scanned) -> Resolved {
        match scanned {
            Scanned::Locker(label) => self
                .locker_by_label(label)
                .map_or(Resolved::Unknown, |l| Resolved::Locker(l.site, l.id)),
            Scanned::Key(tag) => match self.key_by_tag(tag) {
                Some(k) => self
                    .locker_of_key(k.id)
                    .map_or(Resolved::Unknown, |l| Resolved::Key(l.site, k.id)),
                None => self
                    .blank_tags
                    .get(tag)
                    .map_or(Resolved::Unknown, |s| Resolved::BlankTag(*s, tag.clone())),
            },
        }
    }
}
