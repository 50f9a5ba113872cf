//! Events: the append-only log and the unit of sync. An event is self-contained (it carries
//! every id it creates), so it can be shipped to another device and folded there unchanged.

use crate::conflict::Resolution;
use crate::ids::{
    AreaId, AuditId, CaseId, DeviceId, EscalationId, EventId, FindingId, KeyId, LoanId, LockId,
    LockerId, OrderId, PersonId, SignOutId, SiteId, SuiteId, SupplierId, TagId,
};
use crate::label::LabelRef;
use crate::model::{
    CaseOutcome, ChargeStatus, Condition, Confirmation, FaultKind, Holder, KeyKind, LockKind, Loss,
    OrderLine, PersonDetails, SiteLabels,
};
use crate::register::{
    AuditScope, Expected, FindingKind, Policy, PolicyField, PolicyOverrides, Term,
};
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
    /// A master-key suite: it takes in the site's locks whose suite has this name.
    SuiteDefined {
        suite: SuiteId,
        site: SiteId,
        name: String,
        check_every_days: u32,
        witness_required: bool,
    },
    /// A person made (or no longer) an authorised holder of a suite's master keys.
    MasterHolderSet {
        suite: SuiteId,
        person: PersonId,
        authorised: bool,
    },
    /// A master key signed out, by an authorised holder or as a recorded emergency use.
    MasterSignedOut {
        sign_out: SignOutId,
        key: KeyId,
        person: PersonId,
        reason: String,
        witness: Option<PersonId>,
        due_back: Option<DateTime<Utc>>,
        emergency: bool,
    },
    MasterReturned {
        sign_out: SignOutId,
        key: KeyId,
        received_by: String,
        notes: String,
    },
    /// A presence check: the master key was seen in its place.
    MasterSeen {
        key: KeyId,
        notes: String,
    },
    /// A master key reported lost (`sign_out`: the use it was out on, as the reporter saw
    /// it); raises an escalation.
    MasterLostReported {
        escalation: EscalationId,
        key: KeyId,
        sign_out: Option<SignOutId>,
        notes: String,
    },
    EmergencyUseReviewed {
        sign_out: SignOutId,
        notes: String,
    },
    /// An admin's answer to a lost master key: found (back in its place) or not.
    EscalationResolved {
        escalation: EscalationId,
        found: bool,
        notes: String,
    },
    /// An audit begun: of the whole site, one area, or a range of one area's lockers.
    AuditStarted {
        audit: AuditId,
        site: SiteId,
        scope: AuditScope,
    },
    /// What an auditor found at a locker, with what the register expected there when it was
    /// recorded. `replaces`: the finding this device showed for the locker then, if any.
    AuditFindingRecorded {
        finding: FindingId,
        audit: AuditId,
        locker: LockerId,
        kind: FindingKind,
        expected: Expected,
        replaces: Option<FindingId>,
        notes: String,
    },
    /// A finding taken back (a mistake): it stays in the log, no longer counted.
    AuditFindingUndone {
        finding: FindingId,
    },
    /// A master key of a suite the audit covers, seen in its place or not.
    AuditMasterChecked {
        audit: AuditId,
        key: KeyId,
        seen: bool,
        notes: String,
    },
    /// The audit finished: its report is made when this is folded.
    AuditCompleted {
        audit: AuditId,
    },
    /// The order an auditor walks an area's lockers in (the rest follow in number order).
    AuditRouteSet {
        area: AreaId,
        lockers: Vec<LockerId>,
    },
    /// The site's term dates, whole (termly audits are due once a term).
    TermDatesSet {
        site: SiteId,
        terms: Vec<Term>,
    },
    /// A person recorded as having left the site on a day (`None`: back again).
    PersonLeft {
        person: PersonId,
        left: Option<NaiveDate>,
    },
}

impl Change {
    /// The change's kind in a few words, e.g. "Key issued".
    pub fn words(&self) -> &'static str {
        use Change::*;
        match self {
            SiteCreated { .. } => "Site created",
            AreaAdded { .. } => "Area added",
            LockersAdded { .. } => "Lockers added",
            LockerServiceChanged { .. } => "Locker service changed",
            LockFitted { .. } => "Lock fitted",
            KeysAdded { .. } => "Keys added",
            PersonAdded { .. } => "Person added",
            PersonEdited { .. } => "Person edited",
            KeyIssued { .. } => "Key issued",
            SiteLabelsSet { .. } => "Label address set",
            LockerLabelsIssued { .. } => "Labels printed",
            BlankTagsMade { .. } => "Blank tags made",
            TagAttached { .. } => "Tag put on a key",
            KeyReturned { .. } => "Key returned",
            ConflictResolved { .. } => "Conflict decided",
            SitePolicySet { .. } => "Site policy set",
            AreaPolicySet { .. } => "Area policy set",
            KeyHandedOver { .. } => "Key handed over",
            SuiteDefined { .. } => "Master-key suite defined",
            MasterHolderSet { .. } => "Master-key holder changed",
            MasterSignedOut { .. } => "Master key signed out",
            MasterReturned { .. } => "Master key returned",
            MasterSeen { .. } => "Master key checked",
            MasterLostReported { .. } => "Master key reported lost",
            EmergencyUseReviewed { .. } => "Emergency use reviewed",
            EscalationResolved { .. } => "Lost master key resolved",
            FaultRecorded { .. } => "Lock fault recorded",
            LockChanged { .. } => "Lock changed",
            KeyRetired { .. } => "Key retired",
            KeyReportedLost { .. } => "Key reported lost",
            KeyFound { .. } => "Key found",
            LostCaseDecided { .. } => "Lost-key case decided",
            ChargeRecorded { .. } => "Lost-key charge recorded",
            SupplierAdded { .. } => "Supplier added",
            OrderPlaced { .. } => "Replacement keys ordered",
            OrderReceived { .. } => "Replacement keys received",
            AuditStarted { .. } => "Audit started",
            AuditFindingRecorded { .. } => "Audit finding recorded",
            AuditFindingUndone { .. } => "Audit finding undone",
            AuditMasterChecked { .. } => "Master key checked in an audit",
            AuditCompleted { .. } => "Audit completed",
            AuditRouteSet { .. } => "Audit route set",
            TermDatesSet { .. } => "Term dates set",
            PersonLeft { .. } => "Person left",
        }
    }
}
