//! Events: the append-only log and the unit of sync. An event is self-contained (it carries
//! every id it creates), so it can be shipped to another device and folded there unchanged.

use crate::conflict::Resolution;
use crate::ids::{
    AreaId, CaseId, DeviceId, EventId, KeyId, LoanId, LockId, LockerId, OrderId, PersonId, SiteId,
    SupplierId, TagId,
};
use crate::label::LabelRef;
use crate::model::{
    CaseOutcome, ChargeStatus, Condition, Confirmation, FaultKind, Holder, KeyKind, LockKind, Loss,
    OrderLine, PersonDetails, SiteLabels,
};
use crate::register::{Policy, PolicyField, PolicyOverrides};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    /// Who did it: the name of the person using the device.
    pub actor: String,
    pub device: DeviceId,
    /// The device's clock when it was recorded.
    pub at: DateTime<Utc>,
    pub change: Change,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLocker {
    pub id: LockerId,
    pub number: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewKey {
    pub id: KeyId,
    pub copy: u32,
    pub tag: TagId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLabel {
    pub locker: LockerId,
    pub label: LabelRef,
}

/// The keys one line of an order brought.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedLine {
    /// The order line, counted from 0.
    pub line: u32,
    pub keys: Vec<NewKey>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Change {
    SiteCreated {
        site: SiteId,
        name: String,
    },
    AreaAdded {
        area: AreaId,
        site: SiteId,
        name: String,
    },
    /// One locker or a whole range: one event either way, so a range lands whole.
    LockersAdded {
        site: SiteId,
        area: AreaId,
        lockers: Vec<NewLocker>,
    },
    LockerServiceChanged {
        locker: LockerId,
        /// `Some(reason)` takes it out of service, `None` puts it back.
        out_of_service: Option<String>,
    },
    LockFitted {
        lock: LockId,
        locker: LockerId,
        kind: LockKind,
        code: String,
        suite: Option<String>,
    },
    KeysAdded {
        lock: LockId,
        kind: KeyKind,
        storage: Option<String>,
        keys: Vec<NewKey>,
    },
    PersonAdded {
        person: PersonId,
        site: SiteId,
        details: PersonDetails,
    },
    PersonEdited {
        person: PersonId,
        details: PersonDetails,
    },
    KeyIssued {
        loan: LoanId,
        key: KeyId,
        locker: LockerId,
        holder: Holder,
        date: NaiveDate,
        expected_return: Option<NaiveDate>,
        confirmation: Confirmation,
        notes: String,
        /// The time of day a temporary loan is due back (site time); added later, so absent
        /// from older events.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_time: Option<NaiveTime>,
    },
    SiteLabelsSet {
        site: SiteId,
        labels: SiteLabels,
    },
    /// Label references for lockers that had none, made when their labels are first printed.
    LockerLabelsIssued {
        labels: Vec<NewLabel>,
    },
    /// Tag ids printed in advance on blank tags, not yet on any key.
    BlankTagsMade {
        site: SiteId,
        tags: Vec<TagId>,
    },
    /// A blank tag put on a key; the key's previous tag stops resolving.
    TagAttached {
        key: KeyId,
        tag: TagId,
        previous: TagId,
    },
    KeyReturned {
        loan: LoanId,
        key: KeyId,
        brought_by: String,
        received_by: String,
        condition: Condition,
        notes: String,
    },
    /// A person's decision on a conflict (named by the later event that caused it).
    ConflictResolved {
        conflict: EventId,
        choice: Resolution,
        notes: String,
    },
    FaultRecorded {
        lock: LockId,
        kind: FaultKind,
        notes: String,
    },
    /// A new lock on a locker; every key of the old lock is retired in the same event (the
    /// fold retires them, so keys added on other devices meanwhile are retired too).
    LockChanged {
        locker: LockerId,
        old: LockId,
        lock: LockId,
        kind: LockKind,
        code: String,
        suite: Option<String>,
        reason: String,
    },
    /// A key taken out of use for good (worn, damaged, surplus).
    KeyRetired {
        key: KeyId,
        reason: String,
    },
    /// A key reported lost or stolen, opening a lost-key case.
    KeyReportedLost {
        case: CaseId,
        key: KeyId,
        /// The loan it was out on, if it was out.
        loan: Option<LoanId>,
        loss: Loss,
        notes: String,
    },
    /// A lost or stolen key turned up.
    KeyFound {
        key: KeyId,
        notes: String,
    },
    LostCaseDecided {
        case: CaseId,
        outcome: CaseOutcome,
        reason: String,
        /// The master key the locker was opened with, if it had to be opened.
        opened_with: Option<KeyId>,
    },
    ChargeRecorded {
        case: CaseId,
        status: ChargeStatus,
        /// In pence.
        amount: u32,
    },
    SupplierAdded {
        supplier: SupplierId,
        site: SiteId,
        name: String,
        contact: String,
    },
    OrderPlaced {
        order: OrderId,
        site: SiteId,
        supplier: SupplierId,
        lines: Vec<OrderLine>,
        ordered: NaiveDate,
        expected: Option<NaiveDate>,
        case: Option<CaseId>,
        notes: String,
    },
    /// Keys delivered against an order, in full or in part: their key records, with fresh
    /// tag ids ready to print, are made in this same event.
    OrderReceived {
        order: OrderId,
        lines: Vec<ReceivedLine>,
    },
    /// The site's policy, whole.
    SitePolicySet {
        site: SiteId,
        policy: Policy,
    },
    /// An area's overrides, field by field: `set` overrides what it holds, `clear` makes
    /// those fields inherit the site's again.
    AreaPolicySet {
        area: AreaId,
        set: PolicyOverrides,
        clear: Vec<PolicyField>,
    },
    /// A key passed straight from one holder to the next (a shift change): closes `loan` and
    /// opens `new_loan` in one step, without the key going back to the store.
    KeyHandedOver {
        loan: LoanId,
        new_loan: LoanId,
        key: KeyId,
        locker: LockerId,
        to: Holder,
        date: NaiveDate,
        expected_return: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_time: Option<NaiveTime>,
        confirmation: Confirmation,
        notes: String,
    },
}
