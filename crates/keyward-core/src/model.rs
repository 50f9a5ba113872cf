//! The things in the register, as derived from the event log.

use crate::ids::{
    AreaId, CaseId, EventId, KeyId, LoanId, LockId, LockerId, OrderId, PersonId, SiteId,
    SupplierId, TagId,
};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    pub id: SiteId,
    pub name: String,
    pub labels: Option<SiteLabels>,
}

/// How the site's labels are printed, and what a stranger who scans one is told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteLabels {
    /// The address of Keyward for this site, e.g. "keys.northgate.sch.uk" or
    /// "192.168.1.20:8080": its host, and its port unless the scheme's own.
    pub host: String,
    /// How the address is reached; events from before it was kept have none and read as https.
    #[serde(default, skip_serializing_if = "crate::label::Scheme::is_https")]
    pub scheme: crate::label::Scheme,
    /// Where a found key goes, e.g. "the school office".
    pub front_desk: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Area {
    pub id: AreaId,
    pub site: SiteId,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Locker {
    pub id: LockerId,
    pub site: SiteId,
    pub area: AreaId,
    /// Normalised: trimmed, upper case, single spaces.
    pub number: String,
    /// The lock fitted now; earlier locks keep their own records.
    pub lock: Option<LockId>,
    /// Why it is out of service, when it is.
    pub out_of_service: Option<String>,
    /// The reference printed in its label's QR, once a label was made.
    pub label: Option<crate::label::LabelRef>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LockKind {
    Keyed,
    Combination,
    Electronic,
}

impl LockKind {
    pub const ALL: [LockKind; 3] = [LockKind::Keyed, LockKind::Combination, LockKind::Electronic];
    pub fn label(self) -> &'static str {
        match self {
            LockKind::Keyed => "Keyed",
            LockKind::Combination => "Combination",
            LockKind::Electronic => "Electronic",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lock {
    pub id: LockId,
    pub locker: LockerId,
    pub kind: LockKind,
    /// The code a key is cut to. Never printed on a label.
    pub code: String,
    /// The master-key suite this lock belongs to.
    pub suite: Option<String>,
    pub fitted_at: DateTime<Utc>,
    pub keys: Vec<KeyId>,
    /// Faults recorded on it, oldest first.
    pub faults: Vec<Fault>,
    /// When a lock change took it off its locker.
    pub removed_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyKind {
    User,
    Spare,
    Master,
}

impl KeyKind {
    pub const ALL: [KeyKind; 3] = [KeyKind::User, KeyKind::Spare, KeyKind::Master];
    pub fn label(self) -> &'static str {
        match self {
            KeyKind::User => "User key",
            KeyKind::Spare => "Spare key",
            KeyKind::Master => "Master key",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyState {
    InStore,
    Issued,
    SignedOut,
    Lost,
    Stolen,
    Damaged,
    Retired,
}

impl KeyState {
    pub fn label(self) -> &'static str {
        match self {
            KeyState::InStore => "In store",
            KeyState::Issued => "Issued",
            KeyState::SignedOut => "On loan",
            KeyState::Lost => "Lost",
            KeyState::Stolen => "Stolen",
            KeyState::Damaged => "Damaged",
            KeyState::Retired => "Retired",
        }
    }

    /// Out with somebody: issued for the term or on a temporary loan.
    pub fn is_out(self) -> bool {
        matches!(self, KeyState::Issued | KeyState::SignedOut)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub id: KeyId,
    pub lock: LockId,
    pub copy: u32,
    pub kind: KeyKind,
    pub tag: TagId,
    pub state: KeyState,
    /// Where it lives when in store, e.g. "Cabinet 1, hook 12".
    pub storage: Option<String>,
    /// The loan it is out on, when it is out.
    pub loan: Option<LoanId>,
}

impl Key {
    /// Refuses a master key for a procedure of user and spare keys.
    pub(crate) fn not_master(&self) -> Result<(), crate::error::CommandError> {
        if self.kind == KeyKind::Master {
            Err(crate::error::CommandError::MasterKeyOwnProcedure {
                tag: self.tag.to_string(),
            })
        } else {
            Ok(())
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PersonKind {
    Pupil,
    Staff,
    Contractor,
    Member,
}

impl PersonKind {
    pub const ALL: [PersonKind; 4] = [
        PersonKind::Pupil,
        PersonKind::Staff,
        PersonKind::Contractor,
        PersonKind::Member,
    ];
    pub fn label(self) -> &'static str {
        match self {
            PersonKind::Pupil => "Pupil",
            PersonKind::Staff => "Staff",
            PersonKind::Contractor => "Contractor",
            PersonKind::Member => "Member",
        }
    }
}

/// What a person is, as typed on the person form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonDetails {
    pub name: String,
    pub kind: PersonKind,
    /// Pupil or staff number; unique within the site when given.
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub department: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    pub site: SiteId,
    pub details: PersonDetails,
    /// The day they left the site (staff leaving, a pupil moving on), once recorded.
    pub left: Option<NaiveDate>,
}

/// Who a key is issued to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Holder {
    Person(PersonId),
    Department(String),
}

/// How the person taking a key confirmed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Confirmation {
    TypedName(String),
    /// A signature drawn on screen, as SVG path data in a 300×120 box.
    Signature(String),
    /// No mark of the taker's: the issuer's tap on the confirm button, where the area's policy
    /// says a tap is enough (`TakerConfirms::IssuerTap`). Stored as `"Tapped"`.
    Tapped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Condition {
    Fine,
    Damaged,
}

impl Condition {
    pub fn label(self) -> &'static str {
        match self {
            Condition::Fine => "Fine",
            Condition::Damaged => "Damaged",
        }
    }
}

/// One issue of a key and, once it came back, its return. The issue record of DOMAIN.md.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loan {
    pub id: LoanId,
    pub key: KeyId,
    pub locker: LockerId,
    pub holder: Holder,
    pub date: NaiveDate,
    /// Set for a temporary loan: the day it is due back.
    pub expected_return: Option<NaiveDate>,
    pub confirmation: Confirmation,
    pub notes: String,
    pub issued_by: String,
    pub issued_at: DateTime<Utc>,
    pub issue_event: EventId,
    pub returned: Option<Return>,
    /// The lost-key case opened when the key went missing on this loan.
    pub lost: Option<CaseId>,
    /// The time of day it is due back (site time), when one was given.
    pub due_time: Option<NaiveTime>,
    /// The loan it was handed over from, holder to holder, when it began with a handover.
    pub handed_over_from: Option<LoanId>,
}

impl Loan {
    /// Neither returned nor ended by a loss.
    pub fn is_open(&self) -> bool {
        self.returned.is_none() && self.lost.is_none()
    }

    /// A temporary loan (due back on a date), not an issue for the term.
    pub fn is_temporary(&self) -> bool {
        self.expected_return.is_some()
    }

    /// The moment it becomes overdue, in site time: its due time, or the end of its due day
    /// (the next midnight) when it has no time.
    pub fn due_at(&self) -> Option<NaiveDateTime> {
        let day = self.expected_return?;
        Some(match self.due_time {
            Some(time) => day.and_time(time),
            None => day.succ_opt().unwrap_or(day).and_time(NaiveTime::MIN),
        })
    }

    /// Still out after it was due back, as of `now` (site time; the caller's clock).
    pub fn is_overdue(&self, now: NaiveDateTime) -> bool {
        self.is_open()
            && match (self.expected_return, self.due_time) {
                (Some(day), Some(time)) => now > day.and_time(time),
                (Some(day), None) => now.date() > day,
                (None, _) => false,
            }
    }

    /// How late it is as of `now`, when it is overdue.
    pub fn lateness(&self, now: NaiveDateTime) -> Option<Duration> {
        if !self.is_overdue(now) {
            return None;
        }
        self.due_at().map(|due| (now - due).max(Duration::zero()))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Return {
    pub brought_by: String,
    pub received_by: String,
    pub condition: Condition,
    pub notes: String,
    pub at: DateTime<Utc>,
    /// Set when the key went straight to the next holder: the loan it was handed over to.
    pub handed_over_to: Option<LoanId>,
}

/// A locker's state as a person filters for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockerStatus {
    /// A key is issued to someone.
    InUse,
    /// A key is out on a temporary loan.
    OnLoan,
    /// Lock fitted, no key out.
    Free,
    /// No lock fitted yet.
    NoLock,
    OutOfService,
}

impl LockerStatus {
    pub const ALL: [LockerStatus; 5] = [
        LockerStatus::InUse,
        LockerStatus::OnLoan,
        LockerStatus::Free,
        LockerStatus::NoLock,
        LockerStatus::OutOfService,
    ];
    pub fn label(self) -> &'static str {
        match self {
            LockerStatus::InUse => "In use",
            LockerStatus::OnLoan => "On loan",
            LockerStatus::Free => "Free",
            LockerStatus::NoLock => "No lock",
            LockerStatus::OutOfService => "Out of service",
        }
    }
    /// A stable short name, for CSS classes and URLs. `OnLoan` keeps its first slug,
    /// "signed-out", so saved links still work; [`Self::from_slug`] also reads "on-loan".
    pub fn slug(self) -> &'static str {
        match self {
            LockerStatus::InUse => "in-use",
            LockerStatus::OnLoan => "signed-out",
            LockerStatus::Free => "free",
            LockerStatus::NoLock => "no-lock",
            LockerStatus::OutOfService => "out-of-service",
        }
    }
    pub fn from_slug(slug: &str) -> Option<Self> {
        if slug == "on-loan" {
            return Some(LockerStatus::OnLoan);
        }
        Self::ALL.into_iter().find(|s| s.slug() == slug)
    }
}

impl fmt::Display for LockerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What went wrong with a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Jammed,
    Broken,
    KeySnapped,
    Other,
}

impl FaultKind {
    pub const ALL: [FaultKind; 4] = [
        FaultKind::Jammed,
        FaultKind::Broken,
        FaultKind::KeySnapped,
        FaultKind::Other,
    ];
    pub fn label(self) -> &'static str {
        match self {
            FaultKind::Jammed => "Jammed",
            FaultKind::Broken => "Broken",
            FaultKind::KeySnapped => "Key snapped in the lock",
            FaultKind::Other => "Other",
        }
    }
}

/// A fault recorded on a lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub event: EventId,
    pub kind: FaultKind,
    pub notes: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// How a key went missing: what the lost-key case weighs when it recommends a lock change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loss {
    /// Stolen rather than lost.
    pub stolen: bool,
    /// The key's tag or ring named the locker.
    pub labelled_with_number: bool,
    /// Lost together with an access card or fob.
    pub with_access_card: bool,
    /// The locker held sensitive items (drugs, records, cash).
    pub sensitive_items: bool,
}

impl Loss {
    /// Why a lock change is recommended, in plain words; empty when a replacement may do.
    pub fn lock_change_reasons(&self) -> Vec<&'static str> {
        let mut reasons = Vec::new();
        if self.stolen {
            reasons.push("the key was stolen");
        }
        if self.labelled_with_number {
            reasons.push("the key was labelled with the locker number");
        }
        if self.with_access_card {
            reasons.push("the key was lost with an access card");
        }
        if self.sensitive_items {
            reasons.push("the locker guards sensitive items");
        }
        reasons
    }
}

/// What a lost-key case decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseOutcome {
    /// A replacement key cut to the lock's code.
    Replace,
    /// A new lock with a new code; every key of the old one retired.
    ChangeLock,
}

impl CaseOutcome {
    pub fn label(self) -> &'static str {
        match self {
            CaseOutcome::Replace => "Replacement cut to code",
            CaseOutcome::ChangeLock => "Lock change",
        }
    }
}

/// Where a lost-key charge stands (schools).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeStatus {
    Charged,
    Paid,
    Waived,
}

impl ChargeStatus {
    pub const ALL: [ChargeStatus; 3] = [
        ChargeStatus::Charged,
        ChargeStatus::Paid,
        ChargeStatus::Waived,
    ];
    pub fn label(self) -> &'static str {
        match self {
            ChargeStatus::Charged => "Charged",
            ChargeStatus::Paid => "Paid",
            ChargeStatus::Waived => "Waived",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    pub status: ChargeStatus,
    /// In pence.
    pub amount: u32,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseDecision {
    pub outcome: CaseOutcome,
    pub reason: String,
    /// The master key the locker was opened with, if it had to be opened.
    pub opened_with: Option<KeyId>,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// How a lost-key case ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseClosed {
    /// The replacement order was received.
    Replaced { order: OrderId },
    /// The locker's lock was changed.
    LockChanged { lock: LockId },
    /// The key turned up (found, or returned after all).
    Found,
}

/// A lost-key case: the guided procedure of DOMAIN.md, from report to replacement received
/// or lock changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LostCase {
    pub id: CaseId,
    pub key: KeyId,
    pub locker: LockerId,
    /// The loan the key was out on when it went missing, if it was out.
    pub loan: Option<LoanId>,
    pub holder: Option<Holder>,
    pub loss: Loss,
    pub notes: String,
    pub reported_by: String,
    pub reported_at: DateTime<Utc>,
    pub decision: Option<CaseDecision>,
    pub charge: Option<Charge>,
    pub order: Option<OrderId>,
    pub closed: Option<CaseClosed>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Supplier {
    pub id: SupplierId,
    pub site: SiteId,
    pub name: String,
    pub contact: String,
}

/// One line of an order: copies of the keys of one lock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub lock: LockId,
    /// The code the keys are cut to, as ordered.
    pub code: String,
    pub kind: KeyKind,
    pub quantity: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub site: SiteId,
    pub supplier: SupplierId,
    pub lines: Vec<OrderLine>,
    /// How many of each line have been received.
    pub received: Vec<u32>,
    pub ordered: NaiveDate,
    pub expected: Option<NaiveDate>,
    pub case: Option<CaseId>,
    pub notes: String,
    pub by: String,
    pub event: EventId,
    /// The keys made by each receipt, newest last.
    pub keys: Vec<KeyId>,
}

impl Order {
    /// Every line received in full.
    pub fn is_complete(&self) -> bool {
        self.lines
            .iter()
            .zip(&self.received)
            .all(|(l, r)| *r >= l.quantity)
    }
    /// Still to come on line `i`.
    pub fn outstanding(&self, i: usize) -> u32 {
        self.lines[i].quantity.saturating_sub(self.received[i])
    }
}
