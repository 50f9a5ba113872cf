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

pub use command::{Command, Context, Entropy, SplitMix};
pub use conflict::{Conflict, ConflictKind, ConflictText, Decision, Resolution};
pub use error::CommandError;
pub use event::{Change, Event, NewKey, NewLabel, NewLocker};
pub use ids::{
    AreaId, DeviceId, EscalationId, EventId, KeyId, LoanId, LockId, LockerId, PersonId, SignOutId,
    SiteId, SuiteId, TagId,
};
pub use label::{LabelRef, Scanned};
pub use model::{
    Area, Condition, Confirmation, Holder, Key, KeyKind, KeyState, Loan, Lock, LockKind, Locker,
    LockerStatus, Person, PersonDetails, PersonKind, Return, Site, SiteLabels,
};
pub use normalise::{normalise_locker_number, parse_locker_range, MAX_RANGE};
pub use register::{
    AtRisk, Escalation, EscalationEnd, MasterReturn, PresenceDue, Register, Resolved, Review,
    Sighting, SignOut, Suite,
};
pub use role::{Action, Role};
pub use timeline::{Entry, What};
