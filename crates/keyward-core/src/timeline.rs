//! A locker's history, as a person reads it on the locker page.

use crate::format::uk_date;
use crate::ids::{
    CaseId, EscalationId, EventId, FindingId, KeyId, LoanId, LockId, OrderId, SignOutId, TagId,
};
use crate::model::{Condition, Confirmation};
use crate::register::{due_words, Register};
use chrono::{DateTime, Utc};

/// One line of a locker's history: which event, when, who, and what happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub event: EventId,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub what: What,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum What {
    Added {
        number: String,
    },
    Service {
        out_of_service: Option<String>,
    },
    LockFitted {
        lock: LockId,
    },
    KeysAdded {
        keys: Vec<KeyId>,
    },
    Issued {
        loan: LoanId,
    },
    Returned {
        loan: LoanId,
    },
    TagReplaced {
        key: KeyId,
        previous: TagId,
        tag: TagId,
    },
    /// A conflict between devices, named by its later event.
    Conflict {
        event: EventId,
    },
    Decided {
        conflict: EventId,
    },
    Fault {
        lock: LockId,
        index: usize,
    },
    LockChanged {
        old: LockId,
        lock: LockId,
        reason: String,
    },
    KeyRetired {
        key: KeyId,
        reason: String,
    },
    KeyLost {
        case: CaseId,
    },
    KeyFound {
        key: KeyId,
    },
    CaseDecided {
        case: CaseId,
    },
    Charge {
        case: CaseId,
    },
    KeysReceived {
        order: OrderId,
        keys: Vec<KeyId>,
    },
    /// A key passed straight from one holder (the loan `from`) to the next (`to`).
    HandedOver {
        from: LoanId,
        to: LoanId,
    },
    MasterSignedOut {
        sign_out: SignOutId,
    },
    MasterReturned {
        sign_out: SignOutId,
    },
    MasterSeen {
        key: KeyId,
    },
    MasterLost {
        escalation: EscalationId,
    },
    EscalationResolved {
        escalation: EscalationId,
    },
    /// A finding of an audit at this locker.
    Audited {
        finding: FindingId,
    },
    /// An audit finding taken back.
    FindingUndone {
        finding: FindingId,
    },
}

impl Register {
    /// The entry in plain words, e.g. "Key K7M2P9Q issued to Sam Jones on 26/11/2026, due back 28/11/2026".
    pub fn describe(&self, entry: &Entry) -> String {
        let tag = |key: KeyId| {
            self.key(key)
                .map(|k| k.tag.to_string())
                .unwrap_or_else(|| "?".into())
        };
        match &entry.what {
            What::Added { number } => format!("Locker {number} added to the register"),
            What::Service {
                out_of_service: Some(reason),
            } => format!("Taken out of service: {reason}"),
            What::Service {
                out_of_service: None,
            } => "Put back in service".into(),
            // No code: the history is read by every role, a key code only by those allowed
            // to order keys (the lock card shows it to them).
            What::LockFitted { lock } => match self.lock(*lock) {
                Some(l) => format!(
                    "{} lock fitted{}",
                    l.kind.label(),
                    l.suite
                        .as_ref()
                        .map(|s| format!(", suite {s}"))
                        .unwrap_or_default()
                ),
                None => "Lock fitted".into(),
            },
            What::KeysAdded { keys } => {
                let tags: Vec<String> = keys.iter().map(|k| tag(*k)).collect();
                match tags.len() {
                    1 => format!("Key {} added", tags[0]),
                    _ => format!("{} keys added: {}", tags.len(), tags.join(", ")),
                }
            }
            What::Issued { loan } => {
                let Some(l) = self.loan(*loan) else {
                    return "Key issued".into();
                };
                let text = format!(
                    "Key {} issued to {} on {}",
                    tag(l.key),
                    self.holder_name(&l.holder),
                    uk_date(l.date)
                );
                loan_terms(text, l)
            }
            What::TagReplaced { key, previous, tag } => {
                let copy = self.key(*key).map(|k| k.copy).unwrap_or(0);
                format!("Key copy {copy} tagged {tag}; its old tag {previous} no longer works")
            }
            What::Conflict { event } => match self.conflict(*event) {
                Some(c) => format!("Conflict: {}", self.describe_conflict(c).title),
                None => "Conflict between devices".into(),
            },
            What::Decided { conflict } => {
                let Some(c) = self.conflict(*conflict) else {
                    return "Conflict decided".into();
                };
                let text = self.describe_conflict(c);
                let Some(d) = &c.decision else {
                    return "Conflict decided".into();
                };
                let choice = text
                    .choices
                    .iter()
                    .find(|(r, _)| *r == d.choice)
                    .map(|(_, t)| t.clone())
                    .unwrap_or_default();
                let mut line = format!("Conflict decided ({}): {choice}", text.title);
                if !d.notes.is_empty() {
                    line.push_str(&format!(". Notes: {}", d.notes));
                }
                line
            }
            What::Fault { lock, index } => match self.lock(*lock).and_then(|l| l.faults.get(*index)) {
                Some(f) if f.notes.is_empty() => format!("Fault: {}", f.kind.label()),
                Some(f) => format!("Fault: {}. Notes: {}", f.kind.label(), f.notes),
                None => "Fault recorded".into(),
            },
            What::LockChanged { lock, reason, .. } => match self.lock(*lock) {
                Some(l) => format!(
                    "Lock changed: new {} lock, every key of the old lock retired. Reason: {reason}",
                    l.kind.label().to_lowercase()
                ),
                None => "Lock changed".into(),
            },
            What::KeyRetired { key, reason } => format!("Key {} retired: {reason}", tag(*key)),
            What::KeyLost { case } => match self.case(*case) {
                Some(c) => format!(
                    "Key {} reported {}{}",
                    tag(c.key),
                    if c.loss.stolen { "stolen" } else { "lost" },
                    c.holder
                        .as_ref()
                        .map(|h| format!(" by {}", self.holder_name(h)))
                        .unwrap_or_default()
                ),
                None => "Key reported lost".into(),
            },
            What::KeyFound { key } => format!("Key {} found", tag(*key)),
            What::CaseDecided { case } => match self.case(*case).and_then(|c| c.decision.as_ref()) {
                Some(d) => format!(
                    "Lost-key case decided: {}. Reason: {}",
                    d.outcome.label().to_lowercase(),
                    d.reason
                ),
                None => "Lost-key case decided".into(),
            },
            What::Charge { case } => match self.case(*case).and_then(|c| c.charge.as_ref()) {
                Some(c) => format!(
                    "Lost-key charge {}: {}",
                    crate::format::pounds(c.amount),
                    c.status.label().to_lowercase()
                ),
                None => "Lost-key charge recorded".into(),
            },
            What::KeysReceived { keys, .. } => {
                let tags: Vec<String> = keys.iter().map(|k| tag(*k)).collect();
                format!("Replacement keys received: {}", tags.join(", "))
            }
            What::HandedOver { from, to } => {
                let Some(l) = self.loan(*to) else {
                    return "Key handed over".into();
                };
                let text = format!(
                    "Key {} handed over from {} to {} on {}",
                    tag(l.key),
                    self.loan(*from)
                        .map(|f| self.holder_name(&f.holder))
                        .unwrap_or_else(|| "?".into()),
                    self.holder_name(&l.holder),
                    uk_date(l.date)
                );
                loan_terms(text, l)
            }
            What::MasterSignedOut { .. }
            | What::MasterReturned { .. }
            | What::MasterSeen { .. }
            | What::MasterLost { .. }
            | What::EscalationResolved { .. } => self.describe_master(entry),
            What::Audited { finding } => match self.finding(*finding) {
                Some(f) if f.notes.is_empty() => format!("Audit: {}", f.kind.words()),
                Some(f) => format!("Audit: {}. Notes: {}", f.kind.words(), f.notes),
                None => "Audit finding recorded".into(),
            },
            What::FindingUndone { finding } => match self.finding(*finding) {
                Some(f) => format!("Audit finding taken back: {}", f.kind.words()),
                None => "Audit finding taken back".into(),
            },
            What::Returned { loan } => {
                let Some(l) = self.loan(*loan) else {
                    return "Key returned".into();
                };
                let Some(r) = &l.returned else {
                    return "Key returned".into();
                };
                let mut text = format!(
                    "Key {} returned by {}, received by {}",
                    tag(l.key),
                    r.brought_by,
                    r.received_by
                );
                if r.condition == Condition::Damaged {
                    text.push_str(", damaged");
                }
                if !r.notes.is_empty() {
                    text.push_str(&format!(". Notes: {}", r.notes));
                }
                text
            }
        }
    }
}

/// An issue's or handover's line with its terms: when it is due back, how it was confirmed,
/// its notes.
fn loan_terms(mut text: String, l: &crate::model::Loan) -> String {
    if l.expected_return.is_some() {
        text.push_str(&format!(", due back {}", due_words(l)));
    }
    text.push_str(match &l.confirmation {
        Confirmation::TypedName(_) => " (name typed)",
        Confirmation::Signature(_) => " (signed)",
        Confirmation::Tapped => " (confirmed by the issuer's tap)",
    });
    if !l.notes.is_empty() {
        text.push_str(&format!(". Notes: {}", l.notes));
    }
    text
}
