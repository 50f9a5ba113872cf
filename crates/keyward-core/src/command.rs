//! Commands: what a person asks the register to do. Validation lives in
//! [`crate::Register::execute`]; a command that passes becomes one event.

use crate::conflict::Resolution;
use crate::event::Change;
use crate::ids::{
    AreaId, AuditId, CaseId, DeviceId, EscalationId, EventId, FindingId, KeyId, LockId, LockerId,
    OrderId, PersonId, SignOutId, SiteId, SuiteId, SupplierId, TagId,
};
use crate::model::{
    CaseOutcome, ChargeStatus, Condition, Confirmation, FaultKind, Holder, KeyKind, LockKind, Loss,
    PersonDetails,
};
use crate::register::{AuditScope, FindingKind, Policy, PolicyField, PolicyOverrides, Term};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

/// A source of randomness for ids and tag ids. The app draws from the browser's crypto, tests
/// from a seeded generator; the core never picks its own.
pub trait Entropy {
    fn next_u64(&mut self) -> u64;
}

/// A seeded generator (splitmix64) for tests, simulations and generated registers: the same
/// seed gives the same ids. Never for real devices, which use the platform's crypto.
pub struct SplitMix(pub u64);

impl Entropy for SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Who is acting, where and when: everything an event records besides its change.
pub struct Context<'a> {
    pub actor: String,
    pub device: DeviceId,
    pub now: DateTime<Utc>,
    pub entropy: &'a mut dyn Entropy,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    CreateSite {
        name: String,
    },
    AddArea {
        site: SiteId,
        name: String,
    },
    AddLocker {
        site: SiteId,
        area: AreaId,
        number: String,
        /// The person confirmed a number like an existing one ("S4" beside S004).
        #[serde(default)]
        allow_similar: bool,
    },
    /// "A-001" to "A-120": all or nothing.
    AddLockerRange {
        site: SiteId,
        area: AreaId,
        from: String,
        to: String,
        /// The person confirmed numbers like existing ones ("A1" beside A-001).
        #[serde(default)]
        allow_similar: bool,
    },
    /// `Some(reason)` takes a locker out of service; `None` puts it back.
    SetLockerService {
        locker: LockerId,
        out_of_service: Option<String>,
    },
    FitLock {
        locker: LockerId,
        kind: LockKind,
        code: String,
        /// Empty for none.
        suite: String,
    },
    AddKeys {
        lock: LockId,
        kind: KeyKind,
        count: u32,
        /// Where the keys are kept, e.g. "Cabinet 1, hook 12"; empty for not recorded.
        storage: String,
    },
    AddPerson {
        site: SiteId,
        details: PersonDetails,
    },
    EditPerson {
        person: PersonId,
        details: PersonDetails,
    },
    IssueKey {
        key: KeyId,
        locker: LockerId,
        holder: Holder,
        date: NaiveDate,
        /// Set for a temporary loan: the day it is due back
        /// ([`Register::default_return`](crate::Register::default_return) suggests one).
        expected_return: Option<NaiveDate>,
        confirmation: Confirmation,
        notes: String,
        /// The time of day a temporary loan is due back (site time, 24-hour), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_time: Option<NaiveTime>,
    },
    /// The site's Keyward address for label QR codes, and its front desk for found keys.
    SetSiteLabels {
        site: SiteId,
        host: String,
        front_desk: String,
    },
    /// Gives each of these lockers a label reference if it has none (before printing).
    IssueLockerLabels {
        lockers: Vec<LockerId>,
    },
    /// Reserves `count` fresh tag ids for a run of blank tags printed in advance.
    MakeBlankTags {
        site: SiteId,
        count: u32,
    },
    /// Puts a blank tag on a key, replacing the key's tag.
    AttachTag {
        key: KeyId,
        tag: TagId,
    },
    ReturnKey {
        key: KeyId,
        /// Who brought it back; empty means the holder.
        brought_by: String,
        received_by: String,
        condition: Condition,
        notes: String,
    },
    /// Records again, as the person signed in here, a change saved in a file of another
    /// device's unsynced changes ([`crate::unsynced`]). It must still fit the register.
    RecordAgain {
        change: Change,
    },
    /// Decides a conflict between devices.
    ResolveConflict {
        conflict: EventId,
        choice: Resolution,
        notes: String,
    },
    RecordFault {
        lock: LockId,
        kind: FaultKind,
        notes: String,
    },
    /// A new lock and code on a locker; every key of the old lock is retired.
    ChangeLock {
        locker: LockerId,
        kind: LockKind,
        code: String,
        /// Empty for none.
        suite: String,
        reason: String,
    },
    RetireKey {
        key: KeyId,
        reason: String,
    },
    ReportKeyLost {
        key: KeyId,
        loss: Loss,
        notes: String,
    },
    RecordKeyFound {
        key: KeyId,
        notes: String,
    },
    DecideLostCase {
        case: CaseId,
        outcome: CaseOutcome,
        reason: String,
        opened_with: Option<KeyId>,
    },
    RecordCharge {
        case: CaseId,
        status: ChargeStatus,
        /// In pence.
        amount: u32,
    },
    AddSupplier {
        site: SiteId,
        name: String,
        contact: String,
    },
    /// Keys cut to code: each line is a lock and how many of its keys.
    PlaceOrder {
        supplier: SupplierId,
        lines: Vec<(LockId, KeyKind, u32)>,
        ordered: NaiveDate,
        expected: Option<NaiveDate>,
        case: Option<CaseId>,
        notes: String,
    },
    /// How many keys of each line arrived now.
    ReceiveOrder {
        order: OrderId,
        quantities: Vec<u32>,
    },
    /// Sets the site's whole policy (what areas inherit).
    SetSitePolicy {
        site: SiteId,
        policy: Policy,
    },
    /// Overrides some of an area's settings (`set`) and makes others inherit the site's again
    /// (`clear`); fields in neither are left as they are.
    SetAreaPolicy {
        area: AreaId,
        set: PolicyOverrides,
        clear: Vec<PolicyField>,
    },
    /// Hands a key that is out straight to the next holder (a shift change), without it going
    /// back to the store: the current loan closes and a new one opens, both named.
    HandOverKey {
        key: KeyId,
        to: Holder,
        date: NaiveDate,
        /// Set for a temporary loan, as for an issue.
        expected_return: Option<NaiveDate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_time: Option<NaiveTime>,
        confirmation: Confirmation,
        notes: String,
    },
    /// Defines a master-key suite at a site; the site's locks whose suite has this name (as
    /// typed when the lock was fitted, any case) belong to it.
    DefineSuite {
        site: SiteId,
        name: String,
        /// How often its master keys must be seen in their place.
        check_every_days: u32,
        /// Whether every sign-out needs a named witness.
        witness_required: bool,
    },
    /// Makes a person an authorised holder of the suite's master keys, or withdraws it.
    SetMasterHolder {
        suite: SuiteId,
        person: PersonId,
        authorised: bool,
    },
    /// Signs a master key out to a person, with a reason. `emergency`: the person is not an
    /// authorised holder and the use is recorded for an admin's review.
    SignOutMasterKey {
        key: KeyId,
        person: PersonId,
        reason: String,
        witness: Option<PersonId>,
        due_back: Option<DateTime<Utc>>,
        emergency: bool,
    },
    ReturnMasterKey {
        key: KeyId,
        received_by: String,
        notes: String,
    },
    /// A presence check: the master key with this tag is in its place.
    CheckMasterKey {
        tag: TagId,
        notes: String,
    },
    ReportMasterKeyLost {
        key: KeyId,
        notes: String,
    },
    ReviewEmergencyUse {
        sign_out: SignOutId,
        notes: String,
    },
    /// Resolves a lost master key's escalation: `found` puts the key back in its place.
    ResolveEscalation {
        escalation: EscalationId,
        found: bool,
        notes: String,
    },
    /// Starts an audit of the whole site, one area, or a range of one area's lockers.
    StartAudit {
        site: SiteId,
        scope: AuditScope,
    },
    /// Records what was found at a locker of an open audit (the register's expectation is
    /// added by the core). [`Register::audit_scan`](crate::Register::audit_scan) turns a scan
    /// of the wrong thing into its kind.
    RecordFinding {
        audit: AuditId,
        locker: LockerId,
        kind: FindingKind,
        notes: String,
    },
    /// Takes a finding back.
    UndoFinding {
        finding: FindingId,
    },
    /// Records a master key of the audit's suites as seen in its place, or not.
    CheckAuditMaster {
        audit: AuditId,
        key: KeyId,
        seen: bool,
        notes: String,
    },
    /// Finishes an audit and makes its report.
    CompleteAudit {
        audit: AuditId,
    },
    /// The order to walk an area's lockers in; those not named follow in number order.
    SetAuditRoute {
        area: AreaId,
        lockers: Vec<LockerId>,
    },
    /// Sets the site's term dates, whole.
    SetTermDates {
        site: SiteId,
        terms: Vec<Term>,
    },
    /// Records that a person left the site on a day, or (`None`) that they are back.
    SetPersonLeft {
        person: PersonId,
        left: Option<NaiveDate>,
    },
}
