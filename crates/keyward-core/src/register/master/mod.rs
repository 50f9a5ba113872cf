//! Master keys (procedure 4): suites, authorised holders, sign-out and return, emergency use
//! and its review, presence checks, and the escalation a lost master key raises.
//!
//! A master key opens a **suite**: a named set of locks of one site (a corridor, a ward's
//! changing room). A suite takes in every lock of its site whose `suite` (as typed when the
//! lock was fitted) has the suite's name, whatever the case, so no lock event changes.
//!
//! **Master keys recorded before suites existed.** Sites already recorded master keys with
//! `KeysAdded { kind: Master }` on a locker's lock, and named a suite on locks with
//! `LockFitted { suite }`. Those events fold exactly as before: until a suite of that name is
//! defined at the site, such a key is a master key of no suite, and it cannot be signed out,
//! checked or reported lost (the refusal says to define the suite). Once a suite with the same
//! name is defined, it takes in the locks whose `suite` matches, and a master key already
//! recorded on one of those locks is that suite's master key, with nothing else recorded. A
//! master key on a lock that names no suite stays outside every suite. New master keys are
//! added the same way: `AddKeys { kind: Master }` on any lock of the suite.
//!
//! A master key's own `state` stays "in store" while it is signed out (a sign-out is not a
//! loan: the locker it hangs on is not in use), and becomes "lost" when it is reported lost;
//! [`Register::master_sign_out_of`] says who has it now.

mod apply;
mod assess;
mod decide;
mod queries;
mod words;

use crate::ids::{
    EscalationId, EventId, KeyId, LockId, LockerId, PersonId, SignOutId, SiteId, SuiteId,
};
use crate::normalise::tidy;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// A named set of locks of one site that its master keys open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suite {
    pub id: SuiteId,
    pub site: SiteId,
    pub name: String,
    /// Its master keys must be seen in their place at least this often.
    pub check_every_days: u32,
    /// Every sign-out needs a named witness.
    pub witness_required: bool,
    /// The people who may sign its master keys out.
    pub holders: BTreeSet<PersonId>,
    pub defined_at: DateTime<Utc>,
}

/// One use of a master key: out with a reason, and back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignOut {
    pub id: SignOutId,
    pub key: KeyId,
    pub suite: SuiteId,
    pub person: PersonId,
    pub reason: String,
    pub witness: Option<PersonId>,
    pub due_back: Option<DateTime<Utc>>,
    /// Recorded as an emergency use by someone not authorised.
    pub emergency: bool,
    /// Waits for an admin's review (an emergency use, or a use by a holder whose authorisation
    /// another device had withdrawn) until [`review`](Self::review) is set.
    pub flagged: bool,
    pub out_at: DateTime<Utc>,
    pub recorded_by: String,
    pub event: EventId,
    pub returned: Option<MasterReturn>,
    /// The escalation that ended it: the key was reported lost while out.
    pub lost: Option<EscalationId>,
    pub review: Option<Review>,
}

impl SignOut {
    /// Still out: neither returned nor ended by a loss.
    pub fn is_open(&self) -> bool {
        self.returned.is_none() && self.lost.is_none()
    }
    /// Still out after the time it was due back.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.is_open() && self.due_back.is_some_and(|due| due < now)
    }
    /// Flagged and not yet reviewed.
    pub fn needs_review(&self) -> bool {
        self.flagged && self.review.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterReturn {
    pub received_by: String,
    pub notes: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    pub notes: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A presence check: the key was seen in its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sighting {
    pub at: DateTime<Utc>,
    pub by: String,
    pub notes: String,
}

/// A lost master key: open (a banner on every screen) until an admin resolves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Escalation {
    pub id: EscalationId,
    pub site: SiteId,
    pub suite: SuiteId,
    pub key: KeyId,
    pub reported_by: String,
    pub at: DateTime<Utc>,
    pub notes: String,
    /// The sign-out the loss ended, when the key was out.
    pub sign_out: Option<SignOutId>,
    pub end: Option<EscalationEnd>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscalationEnd {
    /// The key was found and is back in its place.
    pub found: bool,
    pub notes: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// When a master key must next be seen in its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresenceDue {
    pub key: KeyId,
    pub suite: SuiteId,
    pub last_seen: Option<DateTime<Utc>>,
    /// The last check (or, never checked, the suite's definition) plus the suite's interval.
    pub due: DateTime<Utc>,
    pub late: bool,
}

/// A lock a lost master key opens, and the locker it is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AtRisk {
    pub lock: LockId,
    pub locker: LockerId,
    pub number: String,
}

/// How a suite's name is compared with a lock's `suite`.
fn suite_key(name: &str) -> String {
    tidy(name).to_lowercase()
}
