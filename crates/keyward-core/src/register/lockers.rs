//! Lockers: adding them one at a time or as a range, taking them out of service, and what a
//! locker's state and history are.

use super::{Fit, Register};
use crate::command::Context;
use crate::conflict::ConflictKind;
use crate::error::CommandError;
use crate::event::{Change, Event, NewLocker};
use crate::ids::{AreaId, LockerId, SiteId};
use crate::model::{KeyState, Locker, LockerStatus};
use crate::normalise::{normalise_locker_number, parse_locker_range, tidy};
use crate::timeline::{Entry, What};

/// Collisions named in a refused range; the rest are counted.
const COLLISIONS_SHOWN: usize = 10;

impl Register {
    pub(super) fn decide_add_locker(
        &self,
        site: SiteId,
        area: AreaId,
        number: String,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let numbers = vec![normalise_locker_number(&number)?];
        self.lockers_added(site, area, numbers, ctx)
    }

    pub(super) fn decide_add_locker_range(
        &self,
        site: SiteId,
        area: AreaId,
        from: String,
        to: String,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let numbers = parse_locker_range(&from, &to)?;
        self.lockers_added(site, area, numbers, ctx)
    }

    fn lockers_added(
        &self,
        site: SiteId,
        area: AreaId,
        numbers: Vec<String>,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let site = self.site(site).ok_or(CommandError::UnknownSite)?;
        match self.area(area) {
            Some(a) if a.site == site.id => {}
            _ => return Err(CommandError::UnknownArea),
        }
        let taken: Vec<&String> = numbers
            .iter()
            .filter(|n| self.numbers.contains_key(&(site.id, (*n).clone())))
            .collect();
        if numbers.len() == 1 && taken.len() == 1 {
            return Err(CommandError::LockerNumberTaken {
                site: site.name.clone(),
                number: numbers[0].clone(),
            });
        }
        if !taken.is_empty() {
            return Err(CommandError::RangeCollides {
                site: site.name.clone(),
                count: taken.len(),
                numbers: taken.into_iter().take(COLLISIONS_SHOWN).cloned().collect(),
            });
        }
        let lockers = numbers
            .into_iter()
            .map(|number| NewLocker {
                id: LockerId::generate(ctx.now, ctx.entropy),
                number,
            })
            .collect();
        Ok(Change::LockersAdded {
            site: site.id,
            area,
            lockers,
        })
    }

    pub(super) fn decide_service(
        &self,
        locker: LockerId,
        out_of_service: Option<String>,
    ) -> Result<Change, CommandError> {
        let locker = self.locker(locker).ok_or(CommandError::UnknownLocker)?;
        let out_of_service = match out_of_service {
            Some(reason) => {
                let reason = tidy(&reason);
                if reason.is_empty() {
                    return Err(CommandError::ReasonMissing);
                }
                Some(reason)
            }
            None if locker.out_of_service.is_none() => {
                return Err(CommandError::AlreadyInService {
                    number: locker.number.clone(),
                })
            }
            None => None,
        };
        Ok(Change::LockerServiceChanged {
            locker: locker.id,
            out_of_service,
        })
    }

    pub(super) fn assess_lockers_added(
        &self,
        site: SiteId,
        area: AreaId,
        lockers: &[NewLocker],
    ) -> Fit {
        if !self.sites.contains_key(&site) || self.area(area).is_none_or(|a| a.site != site) {
            return Fit::Unknown("its site or area is not in the register");
        }
        let numbers: Vec<String> = lockers
            .iter()
            .filter(|l| {
                self.numbers
                    .get(&(site, l.number.clone()))
                    .is_some_and(|id| *id != l.id)
            })
            .map(|l| l.number.clone())
            .collect();
        if numbers.is_empty() {
            Fit::Fits
        } else {
            Fit::Conflicts(ConflictKind::LockerNumbersTaken { site, numbers })
        }
    }

    /// A change that needs only its locker to be known.
    pub(super) fn assess_locker_known(&self, locker: LockerId) -> Fit {
        match self.locker(locker) {
            Some(_) => Fit::Fits,
            None => Fit::Unknown("its locker is not in the register"),
        }
    }

    pub(super) fn apply_lockers_added(
        &mut self,
        event: &Event,
        site: SiteId,
        area: AreaId,
        lockers: &[NewLocker],
    ) {
        for new in lockers {
            let slot = (site, new.number.clone());
            if self.numbers.contains_key(&slot) || self.lockers.contains_key(&new.id) {
                continue;
            }
            self.numbers.insert(slot, new.id);
            self.lockers.insert(
                new.id,
                Locker {
                    id: new.id,
                    site,
                    area,
                    number: new.number.clone(),
                    lock: None,
                    out_of_service: None,
                    label: None,
                },
            );
            self.log(
                new.id,
                event,
                What::Added {
                    number: new.number.clone(),
                },
            );
        }
    }

    pub(super) fn apply_service(
        &mut self,
        event: &Event,
        locker: LockerId,
        out_of_service: &Option<String>,
    ) {
        if let Some(l) = self.lockers.get_mut(&locker) {
            l.out_of_service = out_of_service.clone();
            self.log(
                locker,
                event,
                What::Service {
                    out_of_service: out_of_service.clone(),
                },
            );
        }
    }

    pub fn locker(&self, id: LockerId) -> Option<&Locker> {
        self.lockers.get(&id)
    }
    /// Finds a locker by what a person typed ("a12 " finds A12).
    pub fn locker_by_number(&self, site: SiteId, typed: &str) -> Option<&Locker> {
        let number = normalise_locker_number(typed).ok()?;
        self.numbers
            .get(&(site, number))
            .and_then(|id| self.lockers.get(id))
    }
    pub fn lockers(&self) -> impl Iterator<Item = &Locker> {
        self.lockers.values()
    }
    pub fn locker_count(&self, site: SiteId) -> usize {
        self.numbers
            .range((site, String::new())..)
            .take_while(|((s, _), _)| *s == site)
            .count()
    }
    pub fn status(&self, locker: &Locker) -> LockerStatus {
        if locker.out_of_service.is_some() {
            return LockerStatus::OutOfService;
        }
        if locker.lock.is_none() {
            return LockerStatus::NoLock;
        }
        let keys = self.keys_of_locker(locker.id);
        if keys.iter().any(|k| k.state == KeyState::Issued) {
            LockerStatus::InUse
        } else if keys.iter().any(|k| k.state == KeyState::SignedOut) {
            LockerStatus::OnLoan
        } else {
            LockerStatus::Free
        }
    }
    /// The locker's history, oldest first.
    pub fn timeline(&self, locker: LockerId) -> &[Entry] {
        self.timelines
            .get(&locker)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}
