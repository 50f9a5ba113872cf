//! Audits (DOMAIN.md procedure 8): an auditor walks the lockers of a site, an area or a range
//! of one area's lockers in walking order (number order, or the area's saved route) and
//! records what they find at each; the master keys of the suites the audit covers are seen or
//! not; completing it makes the report, kept with the audit.
//!
//! - **Findings are facts.** Each finding records what the register expected at the locker
//!   when it was made ([`Expected`]: the keys it held for it and who had them), so it can be
//!   judged on any device. Undo is a further event. A locker's current finding is the latest
//!   one not undone; a finding replaces the one its device showed for the locker (`replaces`).
//! - **Several auditors share one audit** (by area, typically). Two findings of different
//!   kinds at one locker, neither made knowing the other, are a conflict
//!   ([`ConflictKind::AuditFindingsDiffer`](crate::ConflictKind)) decided by a person: the
//!   finding not chosen is set aside.
//! - **The report is made when the completion is folded** ([`AuditReport`]), from the state
//!   at that point of the one order, so it reads the same later and on every device.
//! - **Schedules** (`schedule`): each area's interval from its policy; termly from the site's
//!   term dates. **Dashboard** (`dashboard`): series for the manager's charts.
//!
//! A folder by phase, like `master/`: `decide`, `apply` (assess, fold, the conflict's
//! decision), `queries`, `report` (and its CSV), `schedule`, `dashboard`.

mod apply;
mod dashboard;
mod decide;
mod queries;
mod report;
mod schedule;

pub use dashboard::{AreaCount, AuditCompletion, MonthCount, WeekCount};
pub(crate) use decide::check_terms;
pub use queries::{AuditProgress, AuditScan, LockerProgress, MasterProgress};
pub use report::{
    AuditReport, ReportChange, ReportChanges, ReportFinding, ReportKey, ReportLeaver, ReportMaster,
    ReportMismatch, ReportMissing, ReportOverdue, ReportProblem,
};
pub use schedule::{AuditDue, DueState, LEAVERS_WINDOW_DAYS, MANY_LEAVERS};

use crate::ids::{AreaId, AuditId, EventId, FindingId, KeyId, LockId, LockerId, SiteId, TagId};
use crate::model::{Holder, KeyKind, KeyState};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most keys a finding records as expected at one locker.
pub const MAX_EXPECTED_KEYS: usize = 500;
/// The most lockers a saved route names.
pub const MAX_ROUTE: usize = 5_000;
/// The most terms a site sets at once.
pub const MAX_TERMS: usize = 30;
/// The most duplicate keys a finding counts.
pub const MAX_DUPLICATES: u16 = 99;

/// What an audit covers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum AuditScope {
    /// Every locker of the site.
    Site,
    /// Every locker of one area.
    Area { area: AreaId },
    /// One area's lockers numbered `from` to `to` (normalised numbers, number order, both
    /// included).
    Range {
        area: AreaId,
        from: String,
        to: String,
    },
}

/// What an auditor found at a locker.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FindingKind {
    AsExpected,
    KeyMissing,
    UnexpectedKey,
    LockFault,
    LockerDamaged,
    LabelMissing,
    /// More keys of the locker's code than the register holds: `found` of them.
    DuplicateKeys {
        found: u16,
    },
    /// A key tag found at a locker it does not belong to: the key, and the locker it belongs
    /// to (its number as it was then).
    WrongLocker {
        key: KeyId,
        tag: TagId,
        belongs: LockerId,
        number: String,
    },
    /// A code scanned at the locker that this register does not know.
    UnknownCode {
        code: String,
    },
}

impl FindingKind {
    /// Every kind an auditor picks from a list (the others come from a scan or a count).
    pub const PLAIN: [FindingKind; 6] = [
        FindingKind::AsExpected,
        FindingKind::KeyMissing,
        FindingKind::UnexpectedKey,
        FindingKind::LockFault,
        FindingKind::LockerDamaged,
        FindingKind::LabelMissing,
    ];

    /// The kind in a few words, e.g. "Key missing".
    pub fn label(&self) -> &'static str {
        match self {
            FindingKind::AsExpected => "As expected",
            FindingKind::KeyMissing => "Key missing",
            FindingKind::UnexpectedKey => "Unexpected key or tag",
            FindingKind::LockFault => "Lock fault",
            FindingKind::LockerDamaged => "Locker damaged",
            FindingKind::LabelMissing => "Label missing or unreadable",
            FindingKind::DuplicateKeys { .. } => "Duplicated keys",
            FindingKind::WrongLocker { .. } => "Key at the wrong locker",
            FindingKind::UnknownCode { .. } => "Unknown code scanned",
        }
    }

    /// The finding in a sentence, e.g. "Key K7M2P9Q belongs to locker A12".
    pub fn words(&self) -> String {
        match self {
            FindingKind::DuplicateKeys { found } => {
                format!("{found} keys of this lock's code found")
            }
            FindingKind::WrongLocker { tag, number, .. } => {
                format!("Key {tag} found here; it belongs to locker {number}")
            }
            FindingKind::UnknownCode { code } => format!("Unknown code scanned: {code}"),
            kind => kind.label().to_string(),
        }
    }

    /// Anything but "as expected".
    pub fn is_issue(&self) -> bool {
        *self != FindingKind::AsExpected
    }
}

/// What the register held for a locker when a finding was made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expected {
    pub number: String,
    pub out_of_service: bool,
    /// The lock fitted then, if any.
    pub lock: Option<LockId>,
    /// Its keys (not retired), by copy number.
    pub keys: Vec<ExpectedKey>,
}

/// One key the register held for the locker, and where it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedKey {
    pub key: KeyId,
    pub tag: TagId,
    pub kind: KeyKind,
    pub state: KeyState,
    /// Who had it, when it was out.
    pub holder: Option<Holder>,
    /// Their name then; empty when in store.
    pub holder_name: String,
}

/// A term of the site's year.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Term {
    /// E.g. "Autumn 2026".
    pub name: String,
    pub start: NaiveDate,
    /// Its last day.
    pub end: NaiveDate,
}

/// An audit, from start to completion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audit {
    pub id: AuditId,
    pub site: SiteId,
    pub scope: AuditScope,
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    pub event: EventId,
    /// Its findings, in the order folded (undone and set aside ones too).
    pub findings: Vec<FindingId>,
    /// Each master key checked, as last recorded.
    pub masters: BTreeMap<KeyId, MasterCheck>,
    pub completed: Option<Completed>,
}

impl Audit {
    pub fn is_open(&self) -> bool {
        self.completed.is_none()
    }
}

/// A master key seen (or not) during an audit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterCheck {
    pub seen: bool,
    pub notes: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// How an audit finished, and its report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completed {
    pub by: String,
    pub at: DateTime<Utc>,
    pub report: AuditReport,
}

/// One finding at one locker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub id: FindingId,
    pub audit: AuditId,
    pub locker: LockerId,
    pub kind: FindingKind,
    pub expected: Expected,
    pub replaces: Option<FindingId>,
    pub notes: String,
    pub by: String,
    pub at: DateTime<Utc>,
    pub event: EventId,
    /// Recorded after the audit was completed (on a device that had not heard): kept, but not
    /// in the report.
    pub late: bool,
    pub ended: Option<FindingEnd>,
}

impl Finding {
    /// Neither undone, replaced nor set aside.
    pub fn is_current(&self) -> bool {
        self.ended.is_none()
    }
}

/// Why a finding no longer counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FindingEnd {
    Undone {
        by: String,
        at: DateTime<Utc>,
    },
    /// A later finding at the locker took its place.
    Replaced {
        by: FindingId,
    },
    /// A person decided the other finding of a conflict was right.
    SetAside {
        decision: EventId,
    },
}
