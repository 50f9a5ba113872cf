//! The register: the state folded from the event log, the rules that turn commands into
//! events, and the queries the screens ask.

use crate::command::{Command, Context};
use crate::conflict::{Conflict, ConflictKind, Decision, Resolution};
use crate::error::CommandError;
use crate::event::{Change, Event, NewKey, NewLabel, NewLocker};
use crate::format::uk_date;
use crate::ids::{AreaId, EventId, KeyId, LoanId, LockId, LockerId, PersonId, SiteId, TagId};
use crate::label::{normalise_host, LabelRef, Scanned};
use crate::model::{
    Area, Confirmation, Holder, Key, KeyKind, KeyState, Loan, Lock, LockKind, Locker, LockerStatus,
    Person, PersonDetails, Return, Site, SiteLabels,
};
use crate::normalise::{normalise_locker_number, parse_locker_range, tidy};
use crate::timeline::{Entry, What};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// The most keys one "add keys" may create.
pub const MAX_KEYS_AT_ONCE: u32 = 50;
/// The most blank tags made at once: a few sheets.
pub const MAX_BLANK_TAGS: u32 = 650;
/// Collisions named in a refused range; the rest are counted.
const COLLISIONS_SHOWN: usize = 10;

/// How a change fits the register as it stands: the one judgement both the fold and the
/// server's check of a pushed change make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fit {
    /// It applies cleanly.
    Fits,
    /// It breaks a rule because it was made against an older view: kept, with a conflict.
    Conflicts(ConflictKind),
    /// It refers to something this register does not hold: it cannot be applied at all.
    Unknown(&'static str),
}

/// Where a scanned code leads, with the site it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    Locker(SiteId, LockerId),
    Key(SiteId, KeyId),
    /// A tag printed in advance and on no key yet.
    BlankTag(SiteId, TagId),
    Unknown,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Register {
    sites: BTreeMap<SiteId, Site>,
    areas: BTreeMap<AreaId, Area>,
    lockers: BTreeMap<LockerId, Locker>,
    locks: BTreeMap<LockId, Lock>,
    keys: BTreeMap<KeyId, Key>,
    people: BTreeMap<PersonId, Person>,
    loans: BTreeMap<LoanId, Loan>,
    /// (site, normalised number) → locker.
    numbers: BTreeMap<(SiteId, String), LockerId>,
    tags: BTreeMap<TagId, KeyId>,
    labels: BTreeMap<LabelRef, LockerId>,
    blank_tags: BTreeMap<TagId, SiteId>,
    timelines: BTreeMap<LockerId, Vec<Entry>>,
    /// Keyed by the later event that caused each one.
    conflicts: BTreeMap<EventId, Conflict>,
    applied: BTreeSet<EventId>,
    events: usize,
}

impl Register {
    pub fn new() -> Self {
        Self::default()
    }

    /// The state after `events`, in order.
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut register = Self::new();
        for event in events {
            register.apply(event);
        }
        register
    }

    /// Checks a command against the current state. On success the returned event is what must
    /// be stored and then [applied](Self::apply); the register itself is not changed here.
    pub fn execute(&self, command: Command, ctx: &mut Context<'_>) -> Result<Event, CommandError> {
        let change = self.decide(command, ctx)?;
        Ok(Event {
            id: EventId::generate(ctx.now, ctx.entropy),
            actor: ctx.actor.clone(),
            device: ctx.device,
            at: ctx.now,
            change,
        })
    }

    fn decide(&self, command: Command, ctx: &mut Context<'_>) -> Result<Change, CommandError> {
        let now = ctx.now;
        match command {
            Command::CreateSite { name } => {
                let name = tidy(&name);
                if name.is_empty() {
                    return Err(CommandError::SiteNameEmpty);
                }
                if self
                    .sites
                    .values()
                    .any(|s| s.name.eq_ignore_ascii_case(&name))
                {
                    return Err(CommandError::SiteNameTaken { name });
                }
                Ok(Change::SiteCreated {
                    site: SiteId::generate(now, ctx.entropy),
                    name,
                })
            }
            Command::AddArea { site, name } => {
                let site = self.site(site).ok_or(CommandError::UnknownSite)?;
                let name = tidy(&name);
                if name.is_empty() {
                    return Err(CommandError::AreaNameEmpty);
                }
                if self
                    .areas_of(site.id)
                    .iter()
                    .any(|a| a.name.eq_ignore_ascii_case(&name))
                {
                    return Err(CommandError::AreaNameTaken {
                        site: site.name.clone(),
                        name,
                    });
                }
                Ok(Change::AreaAdded {
                    area: AreaId::generate(now, ctx.entropy),
                    site: site.id,
                    name,
                })
            }
            Command::AddLocker { site, area, number } => {
                let numbers = vec![normalise_locker_number(&number)?];
                self.lockers_added(site, area, numbers, ctx)
            }
            Command::AddLockerRange {
                site,
                area,
                from,
                to,
            } => {
                let numbers = parse_locker_range(&from, &to)?;
                self.lockers_added(site, area, numbers, ctx)
            }
            Command::SetLockerService {
                locker,
                out_of_service,
            } => {
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
            Command::FitLock {
                locker,
                kind,
                code,
                suite,
            } => {
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
                    lock: LockId::generate(now, ctx.entropy),
                    locker: locker.id,
                    kind,
                    code,
                    suite: (!suite.is_empty()).then_some(suite),
                })
            }
            Command::AddKeys {
                lock,
                kind,
                count,
                storage,
            } => {
                let lock = self.lock(lock).ok_or(CommandError::UnknownLock)?;
                if lock.kind != LockKind::Keyed {
                    return Err(CommandError::LockHasNoKeys);
                }
                if !(1..=MAX_KEYS_AT_ONCE).contains(&count) {
                    return Err(CommandError::KeyCountOutOfRange {
                        max: MAX_KEYS_AT_ONCE,
                    });
                }
                let first_copy = lock
                    .keys
                    .iter()
                    .filter_map(|k| self.key(*k))
                    .map(|k| k.copy)
                    .max()
                    .unwrap_or(0)
                    + 1;
                let mut fresh = HashSet::new();
                let keys = (0..count)
                    .map(|i| {
                        let tag = self.fresh_tag(ctx.entropy, &mut fresh);
                        NewKey {
                            id: KeyId::generate(now, ctx.entropy),
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
            Command::AddPerson { site, details } => {
                let site = self.site(site).ok_or(CommandError::UnknownSite)?;
                let details = self.check_person(site.id, None, details)?;
                Ok(Change::PersonAdded {
                    person: PersonId::generate(now, ctx.entropy),
                    site: site.id,
                    details,
                })
            }
            Command::EditPerson { person, details } => {
                let person = self.person(person).ok_or(CommandError::UnknownPerson)?;
                let details = self.check_person(person.site, Some(person.id), details)?;
                Ok(Change::PersonEdited {
                    person: person.id,
                    details,
                })
            }
            Command::IssueKey {
                key,
                locker,
                holder,
                date,
                expected_return,
                confirmation,
                notes,
            } => self.check_issue(
                key,
                locker,
                holder,
                date,
                expected_return,
                confirmation,
                notes,
                ctx,
            ),
            Command::SetSiteLabels {
                site,
                host,
                front_desk,
            } => {
                let site = self.site(site).ok_or(CommandError::UnknownSite)?;
                let host = normalise_host(&host)?;
                let front_desk = tidy(&front_desk);
                if front_desk.is_empty() {
                    return Err(CommandError::FrontDeskMissing);
                }
                Ok(Change::SiteLabelsSet {
                    site: site.id,
                    labels: SiteLabels { host, front_desk },
                })
            }
            Command::IssueLockerLabels { lockers } => {
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
            Command::MakeBlankTags { site, count } => {
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
            Command::AttachTag { key, tag } => {
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
            Command::ResolveConflict {
                conflict,
                choice,
                notes,
            } => {
                let c = self
                    .conflicts
                    .get(&conflict)
                    .ok_or(CommandError::UnknownConflict)?;
                if let Some(d) = &c.decision {
                    return Err(CommandError::ConflictDecided {
                        by: d.by.clone(),
                        on: uk_date(d.at.date_naive()),
                    });
                }
                if !c.kind.choices().contains(&choice) {
                    return Err(CommandError::ChoiceNotOffered);
                }
                if let (
                    ConflictKind::KeyNotInStore {
                        key,
                        loan,
                        standing,
                    },
                    Resolution::KeepLater,
                ) = (&c.kind, choice)
                {
                    let key = self.key(*key).ok_or(CommandError::UnknownKey)?;
                    let later_open = self.loan(*loan).is_some_and(|l| l.returned.is_none());
                    let key_free = !key.state.is_out() || key.loan == *standing;
                    if !later_open || !key_free {
                        return Err(CommandError::KeyMovedOn);
                    }
                }
                Ok(Change::ConflictResolved {
                    conflict,
                    choice,
                    notes: notes.trim().to_string(),
                })
            }
            Command::ReturnKey {
                key,
                brought_by,
                received_by,
                condition,
                notes,
            } => {
                let key = self.key(key).ok_or(CommandError::UnknownKey)?;
                let loan = match key.loan.and_then(|l| self.loan(l)) {
                    Some(loan) if key.state.is_out() => loan,
                    _ => {
                        return Err(CommandError::KeyNotOut {
                            tag: key.tag.to_string(),
                            state: key.state.label().to_lowercase(),
                        })
                    }
                };
                let received_by = tidy(&received_by);
                if received_by.is_empty() {
                    return Err(CommandError::ReceiverMissing);
                }
                let brought_by = match tidy(&brought_by) {
                    b if b.is_empty() => self.holder_name(&loan.holder),
                    b => b,
                };
                Ok(Change::KeyReturned {
                    loan: loan.id,
                    key: key.id,
                    brought_by,
                    received_by,
                    condition,
                    notes: notes.trim().to_string(),
                })
            }
        }
    }

    /// A tag id on no key, no blank tag, and not in `fresh` (which it joins).
    fn fresh_tag(
        &self,
        entropy: &mut dyn crate::command::Entropy,
        fresh: &mut HashSet<TagId>,
    ) -> TagId {
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

    fn check_person(
        &self,
        site: SiteId,
        editing: Option<PersonId>,
        details: PersonDetails,
    ) -> Result<PersonDetails, CommandError> {
        let details = PersonDetails {
            name: tidy(&details.name),
            kind: details.kind,
            reference: tidy(&details.reference).to_uppercase(),
            department: tidy(&details.department),
        };
        if details.name.is_empty() {
            return Err(CommandError::PersonNameEmpty);
        }
        if !details.reference.is_empty() {
            if let Some(other) = self.people.values().find(|p| {
                p.site == site && Some(p.id) != editing && p.details.reference == details.reference
            }) {
                return Err(CommandError::ReferenceTaken {
                    reference: details.reference,
                    name: other.details.name.clone(),
                });
            }
        }
        Ok(details)
    }

    #[allow(clippy::too_many_arguments)]
    fn check_issue(
        &self,
        key: KeyId,
        locker: LockerId,
        holder: Holder,
        date: chrono::NaiveDate,
        expected_return: Option<chrono::NaiveDate>,
        confirmation: Confirmation,
        notes: String,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let key = self.key(key).ok_or(CommandError::UnknownKey)?;
        let locker = self.locker(locker).ok_or(CommandError::UnknownLocker)?;
        if locker.lock != Some(key.lock) {
            return Err(CommandError::KeyNotForLocker {
                tag: key.tag.to_string(),
                number: locker.number.clone(),
            });
        }
        if key.kind == KeyKind::Master {
            return Err(CommandError::MasterKeyNotIssued);
        }
        if key.state != KeyState::InStore {
            return Err(CommandError::KeyNotInStore {
                tag: key.tag.to_string(),
                state: key.state.label().to_lowercase(),
            });
        }
        if locker.out_of_service.is_some() {
            return Err(CommandError::LockerOutOfService {
                number: locker.number.clone(),
            });
        }
        let holder = match holder {
            Holder::Person(person) => {
                let person = self.person(person).ok_or(CommandError::UnknownPerson)?;
                if let Some(held) = self.keys_of_locker(locker.id).into_iter().find(|k| {
                    self.current_loan(k.id)
                        .is_some_and(|l| l.holder == Holder::Person(person.id))
                }) {
                    return Err(CommandError::AlreadyHoldsKey {
                        name: person.details.name.clone(),
                        number: locker.number.clone(),
                        tag: held.tag.to_string(),
                    });
                }
                Holder::Person(person.id)
            }
            Holder::Department(name) => {
                let name = tidy(&name);
                if name.is_empty() {
                    return Err(CommandError::HolderMissing);
                }
                Holder::Department(name)
            }
        };
        if let Some(expected) = expected_return {
            if expected < date {
                return Err(CommandError::ReturnBeforeIssue {
                    date: uk_date(date),
                    expected: uk_date(expected),
                });
            }
        }
        let confirmation = match confirmation {
            Confirmation::TypedName(name) => Confirmation::TypedName(tidy(&name)),
            Confirmation::Signature(path) => Confirmation::Signature(path.trim().to_string()),
        };
        if matches!(&confirmation, Confirmation::TypedName(s) | Confirmation::Signature(s) if s.is_empty())
        {
            return Err(CommandError::ConfirmationMissing);
        }
        Ok(Change::KeyIssued {
            loan: LoanId::generate(ctx.now, ctx.entropy),
            key: key.id,
            locker: locker.id,
            holder,
            date,
            expected_return,
            confirmation,
            notes: notes.trim().to_string(),
        })
    }

    /// Folds one event into the state. Total and idempotent: an event already applied, or one
    /// that refers to something this register does not hold, changes nothing.
    pub fn apply(&mut self, event: &Event) {
        if !self.applied.insert(event.id) {
            return;
        }
        self.events += 1;
        let conflict = match self.assess(&event.change) {
            Fit::Unknown(_) => return,
            Fit::Conflicts(kind) => {
                self.record_conflict(event, kind.clone());
                Some(kind)
            }
            Fit::Fits => None,
        };
        let entry = |what| Entry {
            event: event.id,
            at: event.at,
            actor: event.actor.clone(),
            what,
        };
        match &event.change {
            Change::SiteCreated { site, name } => {
                self.sites.entry(*site).or_insert_with(|| Site {
                    id: *site,
                    name: name.clone(),
                    labels: None,
                });
            }
            Change::SiteLabelsSet { site, labels } => {
                if let Some(s) = self.sites.get_mut(site) {
                    s.labels = Some(labels.clone());
                }
            }
            Change::LockerLabelsIssued { labels } => {
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
            Change::AreaAdded { area, site, name } => {
                if self.sites.contains_key(site) {
                    self.areas.entry(*area).or_insert_with(|| Area {
                        id: *area,
                        site: *site,
                        name: name.clone(),
                    });
                }
            }
            Change::LockersAdded {
                site,
                area,
                lockers,
            } => {
                for new in lockers {
                    let slot = (*site, new.number.clone());
                    if self.numbers.contains_key(&slot) || self.lockers.contains_key(&new.id) {
                        continue;
                    }
                    self.numbers.insert(slot, new.id);
                    self.lockers.insert(
                        new.id,
                        Locker {
                            id: new.id,
                            site: *site,
                            area: *area,
                            number: new.number.clone(),
                            lock: None,
                            out_of_service: None,
                            label: None,
                        },
                    );
                    self.timelines.insert(
                        new.id,
                        vec![entry(What::Added {
                            number: new.number.clone(),
                        })],
                    );
                }
            }
            Change::LockerServiceChanged {
                locker,
                out_of_service,
            } => {
                if let Some(l) = self.lockers.get_mut(locker) {
                    l.out_of_service = out_of_service.clone();
                    self.log(
                        *locker,
                        entry(What::Service {
                            out_of_service: out_of_service.clone(),
                        }),
                    );
                }
            }
            Change::LockFitted {
                lock,
                locker,
                kind,
                code,
                suite,
            } => {
                if let Some(l) = self.lockers.get_mut(locker) {
                    // A second lock recorded offline is kept, but not fitted, until decided.
                    if conflict.is_none() {
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
                    self.log(*locker, entry(What::LockFitted { lock: *lock }));
                }
            }
            Change::KeysAdded {
                lock,
                kind,
                storage,
                keys,
            } => {
                let Some(l) = self.locks.get_mut(lock) else {
                    return;
                };
                let locker = l.locker;
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
                            lock: *lock,
                            copy: new.copy,
                            kind: *kind,
                            tag: new.tag.clone(),
                            state: KeyState::InStore,
                            storage: storage.clone(),
                            loan: None,
                        },
                    );
                    added.push(new.id);
                }
                self.log(locker, entry(What::KeysAdded { keys: added }));
            }
            Change::PersonAdded {
                person,
                site,
                details,
            } => {
                self.people.entry(*person).or_insert_with(|| Person {
                    id: *person,
                    site: *site,
                    details: details.clone(),
                });
            }
            Change::PersonEdited { person, details } => {
                if let Some(p) = self.people.get_mut(person) {
                    p.details = details.clone();
                }
            }
            Change::KeyIssued {
                loan,
                key,
                locker,
                holder,
                date,
                expected_return,
                confirmation,
                notes,
            } => {
                let Some(k) = self.keys.get_mut(key) else {
                    return;
                };
                // Issued twice: the later loan is kept as a record, the key stays where it is.
                if !matches!(conflict, Some(ConflictKind::KeyNotInStore { .. })) {
                    k.state = if expected_return.is_some() {
                        KeyState::SignedOut
                    } else {
                        KeyState::Issued
                    };
                    k.loan = Some(*loan);
                }
                self.loans.insert(
                    *loan,
                    Loan {
                        id: *loan,
                        key: *key,
                        locker: *locker,
                        holder: holder.clone(),
                        date: *date,
                        expected_return: *expected_return,
                        confirmation: confirmation.clone(),
                        notes: notes.clone(),
                        issued_by: event.actor.clone(),
                        issued_at: event.at,
                        issue_event: event.id,
                        returned: None,
                    },
                );
                self.log(*locker, entry(What::Issued { loan: *loan }));
            }
            Change::BlankTagsMade { site, tags } => {
                for tag in tags {
                    if !self.tags.contains_key(tag) {
                        self.blank_tags.entry(tag.clone()).or_insert(*site);
                    }
                }
            }
            Change::TagAttached { key, tag, previous } => {
                let Some(k) = self.keys.get_mut(key) else {
                    return;
                };
                if self.tags.contains_key(tag) || k.tag != *previous {
                    return;
                }
                self.blank_tags.remove(tag);
                self.tags.remove(previous);
                self.tags.insert(tag.clone(), *key);
                k.tag = tag.clone();
                let lock = k.lock;
                if let Some(locker) = self.locks.get(&lock).map(|l| l.locker) {
                    self.log(
                        locker,
                        entry(What::TagReplaced {
                            key: *key,
                            previous: previous.clone(),
                            tag: tag.clone(),
                        }),
                    );
                }
            }
            Change::KeyReturned {
                loan,
                key,
                brought_by,
                received_by,
                condition,
                notes,
            } => {
                if conflict.is_some() {
                    return; // returned twice: the first return stands
                }
                let (Some(k), Some(l)) = (self.keys.get_mut(key), self.loans.get_mut(loan)) else {
                    return;
                };
                if k.loan == Some(*loan) {
                    k.loan = None;
                    k.state = match condition {
                        crate::model::Condition::Fine => KeyState::InStore,
                        crate::model::Condition::Damaged => KeyState::Damaged,
                    };
                }
                l.returned = Some(Return {
                    brought_by: brought_by.clone(),
                    received_by: received_by.clone(),
                    condition: *condition,
                    notes: notes.clone(),
                    at: event.at,
                });
                let locker = l.locker;
                self.log(locker, entry(What::Returned { loan: *loan }));
            }
            Change::ConflictResolved {
                conflict: decided,
                choice,
                notes,
            } => {
                if conflict.is_some() {
                    return; // decided twice: the first decision stands
                }
                let Some(c) = self.conflicts.get_mut(decided) else {
                    return;
                };
                c.decision = Some(Decision {
                    choice: *choice,
                    notes: notes.clone(),
                    by: event.actor.clone(),
                    at: event.at,
                    event: event.id,
                });
                let kind = c.kind.clone();
                let mut note = format!("Closed when {} decided a conflict", event.actor);
                if !notes.is_empty() {
                    note.push_str(&format!(": {notes}"));
                }
                match (&kind, choice) {
                    (ConflictKind::KeyNotInStore { loan, .. }, Resolution::KeepFirst)
                    | (ConflictKind::HolderHasKey { loan, .. }, Resolution::KeepFirst)
                    | (ConflictKind::HolderHasKey { standing: loan, .. }, Resolution::KeepLater) => {
                        self.close_loan(*loan, event, &note)
                    }
                    (
                        ConflictKind::KeyNotInStore {
                            key,
                            loan,
                            standing,
                        },
                        Resolution::KeepLater,
                    ) => {
                        if let Some(standing) = standing {
                            self.close_loan(*standing, event, &note);
                        }
                        let open = self.loans.get(loan).filter(|l| l.returned.is_none());
                        let signed_out = open.map(|l| l.expected_return.is_some());
                        let mut moved_on = false;
                        if let (Some(k), Some(signed_out)) = (self.keys.get_mut(key), signed_out) {
                            if k.state.is_out() {
                                moved_on = true;
                            } else {
                                k.loan = Some(*loan);
                                k.state = if signed_out {
                                    KeyState::SignedOut
                                } else {
                                    KeyState::Issued
                                };
                            }
                        }
                        // Another device issued the key again meanwhile: the later loan cannot
                        // have it, so it is closed too rather than left open on no key.
                        if moved_on {
                            let note = format!("{note}; the key had been issued again since");
                            self.close_loan(*loan, event, &note);
                        }
                    }
                    (
                        ConflictKind::LockAlreadyFitted { locker, lock, .. },
                        Resolution::KeepLater,
                    ) => {
                        if let Some(l) = self.lockers.get_mut(locker) {
                            l.lock = Some(*lock);
                        }
                    }
                    _ => {}
                }
                if let Some(locker) = self.conflict_locker(&kind) {
                    self.log(locker, entry(What::Decided { conflict: *decided }));
                }
            }
        }
    }

    /// Closes a loan that a decision ended; its key goes back to the store if it was on it.
    fn close_loan(&mut self, loan: LoanId, event: &Event, note: &str) {
        let Some(l) = self.loans.get_mut(&loan) else {
            return;
        };
        if l.returned.is_none() {
            l.returned = Some(Return {
                brought_by: String::new(),
                received_by: event.actor.clone(),
                condition: crate::model::Condition::Fine,
                notes: note.to_string(),
                at: event.at,
            });
        }
        if let Some(k) = self.keys.get_mut(&l.key) {
            if k.loan == Some(loan) {
                k.loan = None;
                k.state = KeyState::InStore;
            }
        }
    }

    fn record_conflict(&mut self, event: &Event, kind: ConflictKind) {
        if let Some(locker) = self.conflict_locker(&kind) {
            self.log(
                locker,
                Entry {
                    event: event.id,
                    at: event.at,
                    actor: event.actor.clone(),
                    what: What::Conflict { event: event.id },
                },
            );
        }
        self.conflicts.insert(
            event.id,
            Conflict {
                event: event.id,
                actor: event.actor.clone(),
                device: event.device,
                at: event.at,
                kind,
                decision: None,
            },
        );
    }

    /// The locker whose history shows a conflict.
    fn conflict_locker(&self, kind: &ConflictKind) -> Option<LockerId> {
        match kind {
            ConflictKind::KeyNotInStore { key, .. } | ConflictKind::TagNotAttached { key, .. } => {
                self.locker_of_key(*key).map(|l| l.id)
            }
            ConflictKind::HolderHasKey { locker, .. }
            | ConflictKind::LockAlreadyFitted { locker, .. } => Some(*locker),
            ConflictKind::ReturnedTwice { loan } => self.loan(*loan).map(|l| l.locker),
            ConflictKind::DecidedTwice { conflict } => self
                .conflicts
                .get(conflict)
                .and_then(|c| self.conflict_locker(&c.kind)),
            ConflictKind::LockerNumbersTaken { .. } => None,
        }
    }

    /// How a change fits the register as it stands. The fold records a conflict for
    /// [`Fit::Conflicts`] and skips [`Fit::Unknown`]; the server answers a pushed change with
    /// the same judgement.
    pub fn assess(&self, change: &Change) -> Fit {
        use Fit::{Conflicts, Fits, Unknown};
        let site_known = |site: &SiteId| self.sites.contains_key(site);
        match change {
            Change::SiteCreated { .. } => Fits,
            Change::AreaAdded { site, .. }
            | Change::PersonAdded { site, .. }
            | Change::SiteLabelsSet { site, .. }
            | Change::BlankTagsMade { site, .. } => {
                if site_known(site) {
                    Fits
                } else {
                    Unknown("its site is not in the register")
                }
            }
            Change::LockersAdded {
                site,
                area,
                lockers,
            } => {
                if !site_known(site) || self.area(*area).is_none_or(|a| a.site != *site) {
                    return Unknown("its site or area is not in the register");
                }
                let numbers: Vec<String> = lockers
                    .iter()
                    .filter(|l| {
                        self.numbers
                            .get(&(*site, l.number.clone()))
                            .is_some_and(|id| *id != l.id)
                    })
                    .map(|l| l.number.clone())
                    .collect();
                if numbers.is_empty() {
                    Fits
                } else {
                    Conflicts(ConflictKind::LockerNumbersTaken {
                        site: *site,
                        numbers,
                    })
                }
            }
            Change::LockerServiceChanged { locker, .. } => match self.locker(*locker) {
                Some(_) => Fits,
                None => Unknown("its locker is not in the register"),
            },
            Change::LockFitted { lock, locker, .. } => match self.locker(*locker) {
                None => Unknown("its locker is not in the register"),
                Some(l) => match l.lock {
                    Some(standing) if standing != *lock => {
                        Conflicts(ConflictKind::LockAlreadyFitted {
                            locker: *locker,
                            lock: *lock,
                            standing,
                        })
                    }
                    _ => Fits,
                },
            },
            Change::KeysAdded { lock, .. } => match self.lock(*lock) {
                Some(_) => Fits,
                None => Unknown("its lock is not in the register"),
            },
            Change::PersonEdited { person, .. } => match self.person(*person) {
                Some(_) => Fits,
                None => Unknown("that person is not in the register"),
            },
            Change::KeyIssued {
                loan,
                key,
                locker,
                holder,
                ..
            } => {
                let (Some(k), Some(_)) = (self.key(*key), self.locker(*locker)) else {
                    return Unknown("its key or locker is not in the register");
                };
                if k.kind == KeyKind::Master {
                    return Unknown("master keys are signed out, not issued");
                }
                if let Holder::Person(p) = holder {
                    if self.person(*p).is_none() {
                        return Unknown("the person it was issued to is not in the register");
                    }
                }
                if k.state != KeyState::InStore {
                    return Conflicts(ConflictKind::KeyNotInStore {
                        key: *key,
                        loan: *loan,
                        standing: k.loan.filter(|_| k.state.is_out()),
                    });
                }
                if let Holder::Person(_) = holder {
                    if let Some(standing) = self
                        .keys_of_locker(*locker)
                        .into_iter()
                        .filter_map(|k| self.current_loan(k.id))
                        .find(|l| l.holder == *holder)
                    {
                        return Conflicts(ConflictKind::HolderHasKey {
                            locker: *locker,
                            loan: *loan,
                            standing: standing.id,
                        });
                    }
                }
                Fits
            }
            Change::LockerLabelsIssued { labels } => {
                if labels.iter().all(|l| self.lockers.contains_key(&l.locker)) {
                    Fits
                } else {
                    Unknown("a locker it labels is not in the register")
                }
            }
            Change::TagAttached { key, tag, previous } => match self.key(*key) {
                None => Unknown("its key is not in the register"),
                Some(k) if self.tags.contains_key(tag) || k.tag != *previous => {
                    Conflicts(ConflictKind::TagNotAttached {
                        key: *key,
                        tag: tag.clone(),
                    })
                }
                Some(_) => Fits,
            },
            Change::KeyReturned { loan, key, .. } => match (self.loan(*loan), self.key(*key)) {
                (Some(l), Some(_)) if l.returned.is_some() => {
                    Conflicts(ConflictKind::ReturnedTwice { loan: *loan })
                }
                (Some(_), Some(_)) => Fits,
                _ => Unknown("its loan or key is not in the register"),
            },
            Change::ConflictResolved {
                conflict, choice, ..
            } => match self.conflicts.get(conflict) {
                None => Unknown("that conflict is not in the register"),
                Some(c) if !c.kind.choices().contains(choice) => {
                    Unknown("that choice does not fit the conflict")
                }
                Some(c) if c.decision.is_some() => Conflicts(ConflictKind::DecidedTwice {
                    conflict: *conflict,
                }),
                Some(_) => Fits,
            },
        }
    }

    fn log(&mut self, locker: LockerId, entry: Entry) {
        self.timelines.entry(locker).or_default().push(entry);
    }

    // ----- queries -----

    /// Whether the event was folded in already.
    pub fn has_event(&self, id: EventId) -> bool {
        self.applied.contains(&id)
    }

    /// Every conflict, newest first.
    pub fn conflicts(&self) -> Vec<&Conflict> {
        self.conflicts.values().rev().collect()
    }
    pub fn conflict(&self, event: EventId) -> Option<&Conflict> {
        self.conflicts.get(&event)
    }
    /// Conflicts of a site nobody has decided yet, newest first.
    pub fn open_conflicts(&self, site: SiteId) -> Vec<&Conflict> {
        self.conflicts
            .values()
            .rev()
            .filter(|c| c.decision.is_none() && self.conflict_site(&c.kind) == Some(site))
            .collect()
    }
    /// Undecided conflicts shown in a locker's history.
    pub fn open_conflicts_of_locker(&self, locker: LockerId) -> Vec<&Conflict> {
        self.conflicts
            .values()
            .filter(|c| c.decision.is_none() && self.conflict_locker(&c.kind) == Some(locker))
            .collect()
    }
    pub fn conflict_site(&self, kind: &ConflictKind) -> Option<SiteId> {
        match kind {
            ConflictKind::LockerNumbersTaken { site, .. } => Some(*site),
            // Its site is the decided conflict's (which may name no locker).
            ConflictKind::DecidedTwice { conflict } => self
                .conflicts
                .get(conflict)
                .and_then(|c| self.conflict_site(&c.kind)),
            kind => self
                .conflict_locker(kind)
                .and_then(|l| self.locker(l))
                .map(|l| l.site),
        }
    }

    /// How many distinct events have been folded in.
    pub fn event_count(&self) -> usize {
        self.events
    }

    pub fn sites(&self) -> impl Iterator<Item = &Site> {
        self.sites.values()
    }
    pub fn site(&self, id: SiteId) -> Option<&Site> {
        self.sites.get(&id)
    }
    pub fn area(&self, id: AreaId) -> Option<&Area> {
        self.areas.get(&id)
    }
    /// A site's areas by name.
    pub fn areas_of(&self, site: SiteId) -> Vec<&Area> {
        let mut areas: Vec<&Area> = self.areas.values().filter(|a| a.site == site).collect();
        areas.sort_by_key(|a| a.name.to_lowercase());
        areas
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
    pub fn lock(&self, id: LockId) -> Option<&Lock> {
        self.locks.get(&id)
    }
    pub fn key(&self, id: KeyId) -> Option<&Key> {
        self.keys.get(&id)
    }
    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.keys.values()
    }
    /// Whether `tag` is a blank tag of `site`, waiting to go on a key.
    pub fn is_blank_tag(&self, site: SiteId, tag: &TagId) -> bool {
        self.blank_tags.get(tag) == Some(&site)
    }
    pub fn locker_by_label(&self, label: &LabelRef) -> Option<&Locker> {
        self.labels.get(label).and_then(|id| self.lockers.get(id))
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
    pub fn key_by_tag(&self, tag: &TagId) -> Option<&Key> {
        self.tags.get(tag).and_then(|id| self.keys.get(id))
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
    pub fn people_of(&self, site: SiteId) -> Vec<&Person> {
        let mut people: Vec<&Person> = self.people.values().filter(|p| p.site == site).collect();
        people.sort_by_key(|p| p.details.name.to_lowercase());
        people
    }
    /// People of a site whose name, reference or department contain every word typed.
    pub fn find_people(&self, site: SiteId, text: &str) -> Vec<&Person> {
        let text = text.to_lowercase();
        let words: Vec<&str> = text.split_whitespace().collect();
        self.people_of(site)
            .into_iter()
            .filter(|p| {
                let d = &p.details;
                let hay = format!("{} {} {}", d.name, d.reference, d.department).to_lowercase();
                words.iter().all(|w| hay.contains(w))
            })
            .collect()
    }
    pub fn person(&self, id: PersonId) -> Option<&Person> {
        self.people.get(&id)
    }
    pub fn loan(&self, id: LoanId) -> Option<&Loan> {
        self.loans.get(&id)
    }
    /// The loan a key is out on now.
    pub fn current_loan(&self, key: KeyId) -> Option<&Loan> {
        let key = self.key(key)?;
        if !key.state.is_out() {
            return None;
        }
        self.loan(key.loan?)
    }
    /// Every loan to a person, newest first.
    pub fn loans_of(&self, person: PersonId) -> Vec<&Loan> {
        let holder = Holder::Person(person);
        let mut loans: Vec<&Loan> = self.loans.values().filter(|l| l.holder == holder).collect();
        loans.sort_by_key(|l| std::cmp::Reverse(l.issue_event));
        loans
    }
    /// Keys a person holds now.
    pub fn keys_held_by(&self, person: PersonId) -> Vec<&Key> {
        self.loans_of(person)
            .into_iter()
            .filter(|l| l.returned.is_none())
            .filter_map(|l| self.key(l.key).filter(|k| k.loan == Some(l.id)))
            .collect()
    }
    pub fn holder_name(&self, holder: &Holder) -> String {
        match holder {
            Holder::Person(p) => self
                .person(*p)
                .map(|p| p.details.name.clone())
                .unwrap_or_else(|| "an unknown person".into()),
            Holder::Department(d) => d.clone(),
        }
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
    /// Who holds a key to the locker now, names joined.
    pub fn holders_of(&self, locker: LockerId) -> Vec<String> {
        self.keys_of_locker(locker)
            .into_iter()
            .filter_map(|k| self.current_loan(k.id))
            .map(|l| self.holder_name(&l.holder))
            .collect()
    }
    /// The locker's history, oldest first.
    pub fn timeline(&self, locker: LockerId) -> &[Entry] {
        self.timelines
            .get(&locker)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}
