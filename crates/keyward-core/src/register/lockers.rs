//! Lockers: adding them one at a time or as a range, taking them out of service, and what a
//! locker's state and history are.

use super::{Fit, Register};
use crate::command::{Command, Context};
use crate::conflict::ConflictKind;
use crate::error::CommandError;
use crate::event::{Change, Event, NewLocker};
use crate::ids::{AreaId, LockerId, SiteId};
use crate::model::{KeyState, Locker, LockerStatus};
use crate::normalise::{locker_number_key, normalise_locker_number, parse_locker_range, tidy};
use crate::search::natural_cmp;
use crate::timeline::{Entry, What};
use std::collections::{HashMap, HashSet};

/// Collisions named in a refused range; the rest are counted.
const COLLISIONS_SHOWN: usize = 10;

impl Register {
    pub(super) fn decide_add_locker(
        &self,
        site: SiteId,
        area: AreaId,
        number: String,
        allow_similar: bool,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let numbers = vec![normalise_locker_number(&number)?];
        self.lockers_added(site, area, numbers, allow_similar, ctx)
    }

    pub(super) fn decide_add_locker_range(
        &self,
        site: SiteId,
        area: AreaId,
        (from, to): (String, String),
        allow_similar: bool,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let numbers = parse_locker_range(&from, &to)?;
        self.lockers_added(site, area, numbers, allow_similar, ctx)
    }

    fn lockers_added(
        &self,
        site: SiteId,
        area: AreaId,
        numbers: Vec<String>,
        allow_similar: bool,
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
        if !allow_similar {
            let similar = self.similar_numbers(site.id, &numbers);
            match similar.as_slice() {
                [] => {}
                [(number, existing)] if numbers.len() == 1 => {
                    return Err(CommandError::LockerNumberSimilar {
                        number: number.clone(),
                        existing: existing.clone(),
                    })
                }
                [(_, first), ..] => {
                    return Err(CommandError::RangeSimilar {
                        first: first.clone(),
                        count: similar.len(),
                        similar: similar
                            .iter()
                            .take(COLLISIONS_SHOWN)
                            .map(|(n, e)| format!("{n} like {e}"))
                            .collect(),
                    })
                }
            }
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

    /// The numbers of `numbers` that differ from a locker of `site` only in case, spaces,
    /// hyphens or leading zeros ("S4" and S004), each with that locker's number. "A12" and
    /// "A120" are not alike; a number that is exactly taken is not counted here.
    pub fn similar_numbers(&self, site: SiteId, numbers: &[String]) -> Vec<(String, String)> {
        let keys: HashSet<String> = numbers.iter().map(|n| locker_number_key(n)).collect();
        let mut existing: HashMap<String, &str> = HashMap::new();
        for ((_, number), _) in self
            .numbers
            .range((site, String::new())..)
            .take_while(|((s, _), _)| *s == site)
        {
            let key = locker_number_key(number);
            if keys.contains(&key) {
                existing.entry(key).or_insert(number);
            }
        }
        numbers
            .iter()
            .filter_map(|n| {
                let like = existing.get(&locker_number_key(n))?;
                (*like != n).then(|| (n.clone(), like.to_string()))
            })
            .collect()
    }

    /// Why the add-lockers command would be refused as near-duplicates, for the screen's "Did
    /// you mean" prompt: the numbers it adds (tidied) each with the existing locker it looks
    /// like; empty when it would not be refused so (a number exactly taken is refused as taken).
    pub fn similar_lockers(&self, command: &Command) -> Vec<(String, String)> {
        let (site, numbers) = match command {
            Command::AddLocker { site, number, .. } => {
                (*site, normalise_locker_number(number).map(|n| vec![n]))
            }
            Command::AddLockerRange { site, from, to, .. } => (*site, parse_locker_range(from, to)),
            _ => return Vec::new(),
        };
        let Ok(numbers) = numbers else {
            return Vec::new();
        };
        // A number exactly taken is refused first, as taken.
        if numbers
            .iter()
            .any(|n| self.numbers.contains_key(&(site, n.clone())))
        {
            return Vec::new();
        }
        self.similar_numbers(site, &numbers)
    }

    pub fn locker(&self, id: LockerId) -> Option<&Locker> {
        self.lockers.get(&id)
    }
    /// Finds a locker by what a person typed: "a12 " finds A12, and "S4", "s 4" or "S-004"
    /// find S004 when no locker is numbered exactly so (case, spaces, hyphens and leading
    /// zeros aside; the first in number order when several are alike).
    pub fn locker_by_number(&self, site: SiteId, typed: &str) -> Option<&Locker> {
        let number = normalise_locker_number(typed).ok()?;
        let id = match self.numbers.get(&(site, number.clone())) {
            Some(id) => id,
            None => {
                let key = locker_number_key(&number);
                self.numbers
                    .range((site, String::new())..)
                    .take_while(|((s, _), _)| *s == site)
                    .filter(|((_, n), _)| locker_number_key(n) == key)
                    .min_by(|a, b| natural_cmp(&a.0 .1, &b.0 .1))?
                    .1
            }
        };
        self.lockers.get(id)
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
