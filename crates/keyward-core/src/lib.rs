//! The Keyward register: the nouns and verbs of DOMAIN.md, with their rules.
//!
//! - [`Command`]s are what a person asks for. [`Register::execute`] checks one against the
//!   current state and answers with exactly one [`Event`] or a [`CommandError`] whose message
//!   tells the person what to do. One command, one event: a bulk change is a single event, so
//!   it is stored (and later synced) whole or not at all.
//! - [`Event`]s are the append-only log. [`Register::apply`] folds one into the state; the state
//!   is nothing but the fold of the log, deterministic and idempotent per event id.
//! - The crate has no clock, no randomness source and no I/O: the caller passes the time and
//!   an [`Entropy`] in a [`Context`], so the app, the server and the tests agree exactly.

pub mod backup;
pub mod checks;
mod command;
mod conflict;
mod error;
mod event;
pub mod format;
mod ids;
pub mod label;
mod model;
mod normalise;
mod register;
mod role;
pub mod search;
pub mod sync;
mod timeline;
pub mod unsynced;

pub use command::{Command, Context, Entropy, SplitMix};
pub use conflict::{Conflict, ConflictKind, ConflictText, Decision, Resolution};
pub use error::CommandError;
pub use event::{Change, Event, NewKey, NewLabel, NewLocker, ReceivedLine};
pub use ids::{
    AreaId, AuditId, CaseId, DeviceId, EscalationId, EventId, FindingId, KeyId, LoanId, LockId,
    LockerId, OrderId, PersonId, SignOutId, SiteId, SuiteId, SupplierId, TagId,
};
pub use label::{LabelRef, Scanned};
pub use model::{
    Area, CaseClosed, CaseDecision, CaseOutcome, Charge, ChargeStatus, Condition, Confirmation,
    Fault, FaultKind, Holder, Key, KeyKind, KeyState, Loan, Lock, LockKind, Locker, LockerStatus,
    Loss, LostCase, Order, OrderLine, Person, PersonDetails, PersonKind, Return, Site, SiteLabels,
    Supplier,
};
pub use normalise::{
    fold, locker_number_key, normalise_locker_number, parse_locker_range, MAX_RANGE,
};
pub use register::{
    due_words, late_words, AreaCount, AtRisk, Audit, AuditCompletion, AuditDue, AuditInterval,
    AuditProgress, AuditReport, AuditScan, AuditScope, Completed, DueState, Escalation,
    EscalationEnd, Expected, ExpectedKey, FaultFlag, Finding, FindingEnd, FindingKind,
    LockerProgress, MasterCheck, MasterProgress, MasterReturn, MonthCount, Overdue, Policy,
    PolicyField, PolicyOverrides, PresenceDue, Register, RepeatedLosses, ReportChange,
    ReportChanges, ReportFinding, ReportKey, ReportLeaver, ReportMaster, ReportMismatch,
    ReportMissing, ReportOverdue, ReportProblem, Resolved, Review, RiskLevel, Sighting, SignOut,
    Suite, TakerConfirms, Term, WeekCount, LEAVERS_WINDOW_DAYS, LIKELY_TAKERS, MANY_LEAVERS,
    MAX_AUDIT_DAYS, MAX_BLANK_TAGS, MAX_CHARGE_PENCE, MAX_FAULTS, MAX_KEYS_AT_ONCE, MAX_LOAN_DAYS,
    REPEATED_LOSSES,
};
pub use role::{Action, Role};
pub use timeline::{Entry, What};
