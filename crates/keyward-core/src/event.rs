//! Events: the append-only log and the unit of sync. An event is self-contained (it carries
//! every id it creates), so it can be shipped to another device and folded there unchanged.

use crate::conflict::Resolution;
use crate::ids::{
    AreaId, DeviceId, EscalationId, EventId, KeyId, LoanId, LockId, LockerId, PersonId, SignOutId,
    SiteId, SuiteId, TagId,
};
use crate::label::LabelRef;
use crate::model::{Condition, Confirmation, Holder, KeyKind, LockKind, PersonDetails, SiteLabels};
use chrono::{DateTime, NaiveDate, Utc};
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
}
