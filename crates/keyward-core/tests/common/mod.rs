//! A register driven the way the app drives it: execute, store, apply.
#![allow(dead_code)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use keyward_core::*;

pub use keyward_core::SplitMix;

pub struct Harness {
    pub register: Register,
    pub log: Vec<Event>,
    pub entropy: SplitMix,
    pub now: DateTime<Utc>,
    pub device: DeviceId,
}

impl Harness {
    pub fn new(seed: u64) -> Self {
        let mut entropy = SplitMix(seed);
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
        let device = DeviceId::generate(now, &mut entropy);
        Self {
            register: Register::new(),
            log: Vec::new(),
            entropy,
            now,
            device,
        }
    }

    pub fn run(&mut self, command: Command) -> Result<Event, CommandError> {
        self.now += Duration::seconds(1);
        let mut ctx = Context {
            actor: "Pat Caretaker".into(),
            device: self.device,
            now: self.now,
            entropy: &mut self.entropy,
        };
        let event = self.register.execute(command, &mut ctx)?;
        self.register.apply(&event);
        self.log.push(event.clone());
        Ok(event)
    }

    pub fn ok(&mut self, command: Command) -> Event {
        match self.run(command.clone()) {
            Ok(e) => e,
            Err(e) => panic!("{command:?} refused: {e}"),
        }
    }

    /// A site with one area; returns both ids.
    pub fn site(&mut self, name: &str) -> (SiteId, AreaId) {
        let site = match self.ok(Command::CreateSite { name: name.into() }).change {
            Change::SiteCreated { site, .. } => site,
            c => panic!("{c:?}"),
        };
        let area = match self
            .ok(Command::AddArea {
                site,
                name: "Main corridor".into(),
            })
            .change
        {
            Change::AreaAdded { area, .. } => area,
            c => panic!("{c:?}"),
        };
        (site, area)
    }

    pub fn locker(&mut self, site: SiteId, area: AreaId, number: &str) -> LockerId {
        match self
            .ok(Command::AddLocker {
                site,
                area,
                number: number.into(),
                allow_similar: false,
            })
            .change
        {
            Change::LockersAdded { lockers, .. } => lockers[0].id,
            c => panic!("{c:?}"),
        }
    }

    /// Fits a keyed lock and adds `count` user keys.
    pub fn lock_with_keys(&mut self, locker: LockerId, count: u32) -> Vec<KeyId> {
        let lock = match self
            .ok(Command::FitLock {
                locker,
                kind: LockKind::Keyed,
                code: "k 101".into(),
                suite: String::new(),
            })
            .change
        {
            Change::LockFitted { lock, .. } => lock,
            c => panic!("{c:?}"),
        };
        match self
            .ok(Command::AddKeys {
                lock,
                kind: KeyKind::User,
                count,
                storage: "Cabinet 1".into(),
            })
            .change
        {
            Change::KeysAdded { keys, .. } => keys.into_iter().map(|k| k.id).collect(),
            c => panic!("{c:?}"),
        }
    }

    pub fn person(&mut self, site: SiteId, name: &str, reference: &str) -> PersonId {
        match self
            .ok(Command::AddPerson {
                site,
                details: PersonDetails {
                    name: name.into(),
                    kind: PersonKind::Pupil,
                    reference: reference.into(),
                    department: "Year 9".into(),
                },
            })
            .change
        {
            Change::PersonAdded { person, .. } => person,
            c => panic!("{c:?}"),
        }
    }

    pub fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }

    pub fn issue(&self, key: KeyId, locker: LockerId, holder: Holder) -> Command {
        Command::IssueKey {
            key,
            locker,
            holder,
            date: self.today(),
            expected_return: None,
            confirmation: Confirmation::TypedName("Sam Jones".into()),
            notes: String::new(),
            due_time: None,
        }
    }

    /// A temporary loan of `key` due back on `back` (at `time`, if given).
    pub fn lend(
        &self,
        key: KeyId,
        locker: LockerId,
        holder: Holder,
        back: NaiveDate,
        time: Option<chrono::NaiveTime>,
    ) -> Command {
        let mut c = self.issue(key, locker, holder);
        if let Command::IssueKey {
            expected_return,
            due_time,
            ..
        } = &mut c
        {
            *expected_return = Some(back);
            *due_time = time;
        }
        c
    }

    /// Hands `key` over to `to` for the term.
    pub fn hand_over(&self, key: KeyId, to: Holder) -> Command {
        Command::HandOverKey {
            key,
            to,
            date: self.today(),
            expected_return: None,
            due_time: None,
            confirmation: Confirmation::TypedName("Next Holder".into()),
            notes: String::new(),
        }
    }

    pub fn ret(&self, key: KeyId) -> Command {
        Command::ReturnKey {
            key,
            brought_by: String::new(),
            received_by: "Pat Caretaker".into(),
            condition: Condition::Fine,
            notes: String::new(),
        }
    }
}

impl Harness {
    /// A supplier of the site, added now.
    pub fn supplier(&mut self, site: SiteId, name: &str) -> SupplierId {
        match self
            .ok(Command::AddSupplier {
                site,
                name: name.into(),
                contact: "01234 567890".into(),
            })
            .change
        {
            Change::SupplierAdded { supplier, .. } => supplier,
            c => panic!("{c:?}"),
        }
    }

    /// An order placed today: `lines` of (lock, kind, quantity), from a case if given.
    pub fn order(
        &mut self,
        supplier: SupplierId,
        lines: Vec<(LockId, KeyKind, u32)>,
        case: Option<CaseId>,
    ) -> OrderId {
        match self
            .ok(Command::PlaceOrder {
                supplier,
                lines,
                ordered: self.today(),
                expected: None,
                case,
                notes: String::new(),
            })
            .change
        {
            Change::OrderPlaced { order, .. } => order,
            c => panic!("{c:?}"),
        }
    }

    /// Reports a key lost (or as `loss` says); the case it opens.
    pub fn report_lost(&mut self, key: KeyId, loss: Loss) -> CaseId {
        match self
            .ok(Command::ReportKeyLost {
                key,
                loss,
                notes: "Lost on the school trip".into(),
            })
            .change
        {
            Change::KeyReportedLost { case, .. } => case,
            c => panic!("{c:?}"),
        }
    }
}

/// Another device working offline from a copy of a register: its events are not in the
/// harness's log until merged.
pub struct Offline {
    pub register: Register,
    /// This device's own events, in the order it recorded them.
    pub log: Vec<Event>,
    pub entropy: SplitMix,
    pub now: DateTime<Utc>,
    pub device: DeviceId,
    pub actor: String,
}

impl Harness {
    /// A second device that took a copy of this register and went offline.
    pub fn offline(&self, seed: u64, actor: &str) -> Offline {
        Offline::from_register(&self.register, self.now, seed, actor)
    }
}

impl Offline {
    pub fn from_register(register: &Register, now: DateTime<Utc>, seed: u64, actor: &str) -> Self {
        let mut entropy = SplitMix(seed);
        let device = DeviceId::generate(now, &mut entropy);
        Self {
            register: register.clone(),
            log: Vec::new(),
            entropy,
            now,
            device,
            actor: actor.into(),
        }
    }

    pub fn run(&mut self, command: Command) -> Result<Event, CommandError> {
        self.now += Duration::seconds(1);
        let mut ctx = Context {
            actor: self.actor.clone(),
            device: self.device,
            now: self.now,
            entropy: &mut self.entropy,
        };
        let event = self.register.execute(command, &mut ctx)?;
        self.register.apply(&event);
        self.log.push(event.clone());
        Ok(event)
    }

    pub fn ok(&mut self, command: Command) -> Event {
        match self.run(command.clone()) {
            Ok(e) => e,
            Err(e) => panic!("{command:?} refused: {e}"),
        }
    }
}
