//! Conflicts: two devices recorded facts offline that cannot both stand (the same key issued
//! twice, the same locker numbers added twice). Both facts stay in the log; the fold, run in
//! the one global order every device shares, records a [`Conflict`] for the later one, and a
//! person decides it with a [`Change::ConflictResolved`](crate::Change) event.

use crate::format::uk_date;
use crate::ids::{
    AuditId, CaseId, DeviceId, EscalationId, EventId, FindingId, KeyId, LoanId, LockId, LockerId,
    OrderId, SignOutId, SiteId, SuiteId, TagId,
};
use crate::register::Register;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the later fact ran into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum ConflictKind {
    /// A key issued when it was no longer in store: already issued on another device
    /// (`standing`), or lost or damaged meanwhile (`standing` is `None`).
    KeyNotInStore {
        key: KeyId,
        loan: LoanId,
        standing: Option<LoanId>,
    },
    /// A person given a key to a locker they already held a key to.
    HolderHasKey {
        locker: LockerId,
        loan: LoanId,
        standing: LoanId,
    },
    /// Lockers added with numbers another device had added first.
    LockerNumbersTaken { site: SiteId, numbers: Vec<String> },
    /// A lock recorded on a locker that another device had recorded a lock on first.
    LockAlreadyFitted {
        locker: LockerId,
        lock: LockId,
        standing: LockId,
    },
    /// A loan returned on two devices.
    ReturnedTwice { loan: LoanId },
    /// A tag put on a key whose tag another device had changed first (or a tag used twice).
    TagNotAttached { key: KeyId, tag: TagId },
    /// A conflict decided on two devices; the first decision stands.
    DecidedTwice { conflict: EventId },
    /// A key issued on one device after another device had retired it (changed its lock).
    IssuedAfterRetired { key: KeyId, loan: LoanId },
    /// A key reported lost on one device and returned on another; `lost_first` says which
    /// came first in the one order.
    LostAndReturned {
        key: KeyId,
        case: CaseId,
        loan: LoanId,
        lost_first: bool,
    },
    /// The same key reported lost on two devices; the first case stands.
    LostTwice { key: KeyId, case: CaseId },
    /// A lost-key case decided on two devices; the first decision stands.
    CaseDecidedTwice { case: CaseId },
    /// More keys received against an order than it has (received on two devices).
    OrderReceivedTwice { order: OrderId },
    /// A key handed over from a loan that was no longer the key's: returned, handed over or
    /// closed on another device first. `standing` is the loan the key is on now, if it is out.
    HandOverNotCurrent {
        key: KeyId,
        loan: LoanId,
        new_loan: LoanId,
        standing: Option<LoanId>,
    },
    /// A master key signed out when another device had signed it out first (`standing`).
    MasterOutTwice {
        key: KeyId,
        sign_out: SignOutId,
        standing: SignOutId,
    },
    /// A master key signed out after another device had reported it lost.
    MasterOutWhileLost {
        key: KeyId,
        sign_out: SignOutId,
        escalation: EscalationId,
    },
    /// A master key's sign-out returned on two devices.
    MasterReturnedTwice { key: KeyId, sign_out: SignOutId },
    /// A master key returned after another device had reported it lost while out.
    MasterReturnedWhileLost {
        key: KeyId,
        sign_out: SignOutId,
        escalation: EscalationId,
    },
    /// A master key reported lost after another device had returned it or signed it out
    /// (`standing`: the sign-out it is on now, if any).
    MasterLostMeanwhile {
        key: KeyId,
        escalation: EscalationId,
        standing: Option<SignOutId>,
    },
    /// A master key reported lost on two devices; the first escalation stands.
    MasterLostTwice { key: KeyId, standing: EscalationId },
    /// A master key seen in its place while another device had it signed out or lost.
    MasterSeenMeanwhile { key: KeyId },
    /// A master key signed out by a holder whose authorisation another device had withdrawn:
    /// kept, and flagged for review like an emergency use.
    MasterHolderWithdrawn { key: KeyId, sign_out: SignOutId },
    /// An emergency use reviewed on two devices; the first review stands.
    MasterReviewedTwice { key: KeyId, sign_out: SignOutId },
    /// A lost master key's escalation resolved on two devices; the first stands.
    EscalationResolvedTwice {
        key: KeyId,
        escalation: EscalationId,
    },
    /// A suite defined with a name another device had defined first at the site: not added.
    SuiteNameTaken {
        site: SiteId,
        suite: SuiteId,
        name: String,
    },
    /// Two auditors recorded different findings at one locker, neither knowing of the other:
    /// `standing` was folded first, `finding` later. Both count until a person decides.
    AuditFindingsDiffer {
        audit: AuditId,
        locker: LockerId,
        finding: FindingId,
        standing: FindingId,
    },
}

/// How a person decided a conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The first fact stands; the later one is closed.
    KeepFirst,
    /// The later fact stands; the first one is closed.
    KeepLater,
    /// Nothing to choose: the register already keeps the first fact; seen and noted.
    Noted,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub choice: Resolution,
    pub notes: String,
    pub by: String,
    pub at: DateTime<Utc>,
    pub event: EventId,
}

/// A conflict, named by the later event that caused it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub event: EventId,
    pub actor: String,
    pub device: DeviceId,
    pub at: DateTime<Utc>,
    pub kind: ConflictKind,
    pub decision: Option<Decision>,
}

impl ConflictKind {
    /// The choices a person has, first the default.
    pub fn choices(&self) -> &'static [Resolution] {
        match self {
            ConflictKind::KeyNotInStore { .. }
            | ConflictKind::HolderHasKey { .. }
            | ConflictKind::LockAlreadyFitted { .. }
            | ConflictKind::LostAndReturned { .. }
            | ConflictKind::HandOverNotCurrent { .. }
            | ConflictKind::MasterOutTwice { .. }
            | ConflictKind::MasterReturnedWhileLost { .. }
            | ConflictKind::MasterLostMeanwhile { .. }
            | ConflictKind::AuditFindingsDiffer { .. } => {
                &[Resolution::KeepFirst, Resolution::KeepLater]
            }
            ConflictKind::IssuedAfterRetired { .. } => &[Resolution::KeepFirst],
            _ => &[Resolution::Noted],
        }
    }
}

/// A conflict in plain words for the inbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConflictText {
    pub title: String,
    pub detail: String,
    /// Each choice with what it means, e.g. "Sam Jones has the key: cancel the issue to Ali".
    pub choices: Vec<(Resolution, String)>,
}

impl Register {
    /// The conflict and how it reads: what happened, and what each choice does.
    pub fn describe_conflict(&self, conflict: &Conflict) -> ConflictText {
        let tag = |key: KeyId| {
            self.key(key)
                .map(|k| k.tag.to_string())
                .unwrap_or_else(|| "?".into())
        };
        let loan_words = |loan: LoanId| match self.loan(loan) {
            Some(l) => format!(
                "{} issued it to {} on {}",
                l.issued_by,
                self.holder_name(&l.holder),
                uk_date(l.date)
            ),
            None => "it was issued".into(),
        };
        let holder = |loan: LoanId| {
            self.loan(loan)
                .map(|l| self.holder_name(&l.holder))
                .unwrap_or_else(|| "the holder".into())
        };
        let number = |locker: LockerId| {
            self.locker(locker)
                .map(|l| l.number.clone())
                .unwrap_or_else(|| "?".into())
        };
        let noted = || vec![(Resolution::Noted, "Noted".to_string())];
        match &conflict.kind {
            ConflictKind::KeyNotInStore {
                key,
                loan,
                standing: Some(standing),
            } => ConflictText {
                title: format!("Key {} was issued twice", tag(*key)),
                detail: format!(
                    "First {}. Then, on another device that had not heard of it yet, {}. Only one of them can have the key.",
                    loan_words(*standing),
                    loan_words(*loan)
                ),
                choices: vec![
                    (
                        Resolution::KeepFirst,
                        format!(
                            "{} has the key: cancel the issue to {}",
                            holder(*standing),
                            holder(*loan)
                        ),
                    ),
                    (
                        Resolution::KeepLater,
                        format!(
                            "{} has the key: close the loan to {}",
                            holder(*loan),
                            holder(*standing)
                        ),
                    ),
                ],
            },
            ConflictKind::KeyNotInStore {
                key,
                loan,
                standing: None,
            } => ConflictText {
                title: format!("Key {} was issued when it was not in store", tag(*key)),
                detail: format!(
                    "{}, but another device had already recorded the key as {}.",
                    loan_words(*loan),
                    self.key(*key)
                        .map(|k| k.state.label().to_lowercase())
                        .unwrap_or_default()
                ),
                choices: vec![
                    (
                        Resolution::KeepFirst,
                        format!("{} does not have it: cancel the issue", holder(*loan)),
                    ),
                    (
                        Resolution::KeepLater,
                        format!("{} has the key: record it as issued", holder(*loan)),
                    ),
                ],
            },
            ConflictKind::HolderHasKey {
                locker,
                loan,
                standing,
            } => {
                let key_of = |l: LoanId| self.loan(l).map(|l| tag(l.key)).unwrap_or_default();
                ConflictText {
                    title: format!(
                        "{} was given two keys to locker {}",
                        holder(*loan),
                        number(*locker)
                    ),
                    detail: format!(
                        "First {}. Then, on another device, {}.",
                        loan_words(*standing),
                        loan_words(*loan)
                    ),
                    choices: vec![
                        (
                            Resolution::KeepFirst,
                            format!(
                                "Keep key {}: key {} goes back to the store",
                                key_of(*standing),
                                key_of(*loan)
                            ),
                        ),
                        (
                            Resolution::KeepLater,
                            format!(
                                "Keep key {}: key {} goes back to the store",
                                key_of(*loan),
                                key_of(*standing)
                            ),
                        ),
                    ],
                }
            }
            ConflictKind::LockerNumbersTaken { numbers, .. } => ConflictText {
                title: match numbers.len() {
                    1 => format!("Locker {} was added twice", numbers[0]),
                    n => format!("{n} lockers were added twice"),
                },
                detail: format!(
                    "{} added {} on another device after they were already in the register. The register keeps the first; no locker appears twice.",
                    conflict.actor,
                    numbers.join(", ")
                ),
                choices: noted(),
            },
            ConflictKind::LockAlreadyFitted {
                locker,
                lock,
                standing,
            } => {
                let code = |l: LockId| self.lock(l).map(|l| l.code.clone()).unwrap_or_default();
                ConflictText {
                    title: format!("Two locks were recorded on locker {}", number(*locker)),
                    detail: format!(
                        "Lock code {} was recorded first; {} recorded lock code {} on another device.",
                        code(*standing),
                        conflict.actor,
                        code(*lock)
                    ),
                    choices: vec![
                        (
                            Resolution::KeepFirst,
                            format!("Lock code {} is on the door", code(*standing)),
                        ),
                        (
                            Resolution::KeepLater,
                            format!("Lock code {} is on the door", code(*lock)),
                        ),
                    ],
                }
            }
            ConflictKind::ReturnedTwice { loan } => {
                let handed_to = self
                    .loan(*loan)
                    .and_then(|l| l.returned.as_ref())
                    .and_then(|r| r.handed_over_to);
                ConflictText {
                    title: format!(
                        "Key {} was returned twice",
                        self.loan(*loan).map(|l| tag(l.key)).unwrap_or_default()
                    ),
                    detail: match handed_to {
                        Some(next) => format!(
                            "{} recorded a return on another device after {} had handed the key over to {}. The handover is kept; return the key from {} if it is back in the store.",
                            conflict.actor,
                            holder(*loan),
                            holder(next),
                            holder(next)
                        ),
                        None => format!(
                            "{} recorded a second return on another device. The first return is kept.",
                            conflict.actor
                        ),
                    },
                    choices: noted(),
                }
            }
            ConflictKind::TagNotAttached { key, tag: new } => ConflictText {
                title: format!("Tag {new} was not put on key {}", tag(*key)),
                detail: format!(
                    "{} put tag {new} on the key, but another device had changed the key's tag (or used that tag) first. The key keeps tag {}.",
                    conflict.actor,
                    tag(*key)
                ),
                choices: noted(),
            },
            ConflictKind::IssuedAfterRetired { key, loan } => ConflictText {
                title: format!("Key {} was issued after it was retired", tag(*key)),
                detail: format!(
                    "{} on another device, but its lock had been changed (or the key retired) first. The key no longer opens the locker.",
                    loan_words(*loan)
                ),
                choices: vec![(
                    Resolution::KeepFirst,
                    format!(
                        "Cancel the issue to {}: give them a key of the new lock",
                        holder(*loan)
                    ),
                )],
            },
            ConflictKind::LostAndReturned {
                key,
                loan,
                lost_first,
                ..
            } => {
                let lost = format!("Key {} is lost: the return was a mistake", tag(*key));
                let back = format!(
                    "Key {} is back: {} returned it, close the lost-key case",
                    tag(*key),
                    holder(*loan)
                );
                let (first, later) = if *lost_first { (lost, back) } else { (back, lost) };
                ConflictText {
                    title: format!("Key {} was reported lost and returned", tag(*key)),
                    detail: if *lost_first {
                        format!("The key was reported lost; then, on another device, {} recorded it as returned.", conflict.actor)
                    } else {
                        format!("The key was returned; then, on another device, {} reported it lost.", conflict.actor)
                    },
                    choices: vec![(Resolution::KeepFirst, first), (Resolution::KeepLater, later)],
                }
            }
            ConflictKind::LostTwice { key, .. } => ConflictText {
                title: format!("Key {} was reported lost twice", tag(*key)),
                detail: format!(
                    "{} reported it lost on another device after it had been reported. The first lost-key case is kept.",
                    conflict.actor
                ),
                choices: noted(),
            },
            ConflictKind::CaseDecidedTwice { .. } => ConflictText {
                title: "A lost-key case was decided twice".into(),
                detail: format!(
                    "{} decided the case on another device after it had been decided. The first decision stands.",
                    conflict.actor
                ),
                choices: noted(),
            },
            ConflictKind::OrderReceivedTwice { .. } => ConflictText {
                title: "An order was received twice".into(),
                detail: format!(
                    "{} received keys on another device that had already been received. The first receipt is kept; if a second delivery really arrived, receive it again.",
                    conflict.actor
                ),
                choices: noted(),
            },
            ConflictKind::HandOverNotCurrent {
                key,
                loan,
                new_loan,
                standing,
            } => {
                let from = holder(*loan);
                let to = holder(*new_loan);
                let before = match self.loan(*loan).and_then(|l| l.returned.as_ref()) {
                    Some(r) => match r.handed_over_to {
                        Some(next) => format!(
                            "another device had already recorded {from} handing it to {}",
                            holder(next)
                        ),
                        None if r.brought_by.is_empty() => {
                            format!("{from}'s loan had already been closed on another device")
                        }
                        None => format!(
                            "another device had already recorded it as returned by {}",
                            r.brought_by
                        ),
                    },
                    None => format!("the key was no longer on {from}'s loan"),
                };
                let (keep_first, keep_later) = match standing {
                    Some(s) => (
                        format!("{} has the key: cancel the handover to {to}", holder(*s)),
                        format!(
                            "{to} has the key: record the handover and close the loan to {}",
                            holder(*s)
                        ),
                    ),
                    None => (
                        format!("{to} does not have it: cancel the handover"),
                        format!("{to} has the key: record the handover"),
                    ),
                };
                ConflictText {
                    title: format!("Key {} was handed over after it had moved on", tag(*key)),
                    detail: format!(
                        "{} recorded {from} handing the key to {to}, but {before}. Only one of them can have the key.",
                        conflict.actor
                    ),
                    choices: vec![
                        (Resolution::KeepFirst, keep_first),
                        (Resolution::KeepLater, keep_later),
                    ],
                }
            }
            ConflictKind::MasterOutTwice { .. }
            | ConflictKind::MasterOutWhileLost { .. }
            | ConflictKind::MasterReturnedTwice { .. }
            | ConflictKind::MasterReturnedWhileLost { .. }
            | ConflictKind::MasterLostMeanwhile { .. }
            | ConflictKind::MasterLostTwice { .. }
            | ConflictKind::MasterSeenMeanwhile { .. }
            | ConflictKind::MasterHolderWithdrawn { .. }
            | ConflictKind::MasterReviewedTwice { .. }
            | ConflictKind::EscalationResolvedTwice { .. }
            | ConflictKind::SuiteNameTaken { .. } => self.describe_master_conflict(conflict),
            ConflictKind::AuditFindingsDiffer {
                locker,
                finding,
                standing,
                ..
            } => {
                let said = |f: FindingId| {
                    self.finding(f)
                        .map(|f| (f.by.clone(), f.kind.words(), crate::format::uk_date_time(&f.at)))
                        .unwrap_or_else(|| ("An auditor".into(), "a finding".into(), String::new()))
                };
                let (first_by, first, first_at) = said(*standing);
                let (later_by, later, later_at) = said(*finding);
                ConflictText {
                    title: format!(
                        "Locker {} was recorded differently by two auditors",
                        number(*locker)
                    ),
                    detail: format!(
                        "{first_by} recorded “{first}” at {first_at}; then, on another device, {later_by} recorded “{later}” at {later_at}. Check the locker if you can, then choose the one that is right; the other is set aside."
                    ),
                    choices: vec![
                        (Resolution::KeepFirst, format!("“{first}” ({first_by}) is right")),
                        (Resolution::KeepLater, format!("“{later}” ({later_by}) is right")),
                    ],
                }
            }
            ConflictKind::DecidedTwice { .. } => ConflictText {
                title: "A conflict was decided twice".into(),
                detail: format!(
                    "{} decided a conflict on another device after it had been decided. The first decision stands.",
                    conflict.actor
                ),
                choices: noted(),
            },
        }
    }
}
