//! Checks of a change's content that need no state: sizes, counts, formats and lengths.
//!
//! They live here once. [`Register::execute`](crate::Register::execute) runs them on every
//! change it makes, so a person who types too much is told what to shorten; the server runs
//! them on every pushed event (`sync::judge`), so a crafted client can never store a change
//! the app would refuse. Every check accepts exactly what `decide` produces: names tidied
//! (trimmed, single spaces), codes and references in upper case, locker numbers normalised.

use crate::error::CommandError;
use crate::event::{Change, Event, NewKey};
use crate::ids::TagId;
use crate::label::{normalise_host, LabelRef};
use crate::model::{Confirmation, Holder, KeyKind, PersonDetails};
use crate::normalise::normalise_locker_number;
use crate::normalise::{is_stored_locker_number, tidy, MAX_RANGE};
use crate::register::audits::{
    check_terms, MAX_DUPLICATES, MAX_EXPECTED_KEYS, MAX_ROUTE, MAX_TERMS,
};
use crate::register::policies::check_area_change;
use crate::register::{
    AuditScope, Expected, FindingKind, MAX_BLANK_TAGS, MAX_CHARGE_PENCE, MAX_KEYS_AT_ONCE,
};
use crate::search::natural_cmp;
use chrono::{NaiveDate, NaiveTime, Timelike};

/// A name, a place, a reason: one line.
pub const MAX_NAME: usize = 120;
/// A pupil or staff number, a lock's code.
pub const MAX_CODE: usize = 40;
/// Notes: a few lines.
pub const MAX_NOTES: usize = 1_000;
/// A signature drawn on screen, as SVG path data (the pad stops taking strokes at 20,000).
pub const MAX_SIGNATURE: usize = 40_000;
/// The highest copy number a key can have.
pub const MAX_COPY: u32 = 9_999;
/// The longest interval between a master key's presence checks, in days.
pub const MAX_CHECK_DAYS: u32 = 366;
/// The most lines one order may have.
pub const MAX_ORDER_LINES: usize = 100;

impl Event {
    /// The event's own fields and its change, as [`Change::check`].
    pub fn check(&self) -> Result<(), CommandError> {
        line("The name of who made it", &self.actor, MAX_NAME, true)?;
        self.change.check()
    }
}

impl Change {
    /// Whether the change's content is well formed, whatever the register holds.
    pub fn check(&self) -> Result<(), CommandError> {
        match self {
            Change::SiteCreated { name, .. } => name_text("The site's name", name),
            Change::AreaAdded { name, .. } => name_text("The area's name", name),
            Change::SiteLabelsSet { labels, .. } => {
                if normalise_host(&labels.host).ok().as_deref() != Some(labels.host.as_str()) {
                    return Err(CommandError::LabelHostInvalid);
                }
                line("Where found keys go", &labels.front_desk, MAX_NAME, true)
            }
            Change::LockersAdded { lockers, .. } => {
                count("lockers", lockers.len(), MAX_RANGE)?;
                for l in lockers {
                    if !is_stored_locker_number(&l.number)? {
                        return Err(malformed("a locker number is not in its normal form"));
                    }
                }
                Ok(())
            }
            Change::LockerServiceChanged { out_of_service, .. } => match out_of_service {
                Some(reason) => line("The reason", reason, MAX_NAME, true),
                None => Ok(()),
            },
            Change::LockFitted { code, suite, .. } => {
                code_text("The lock's code", code)?;
                optional_line("The suite's name", suite)
            }
            Change::KeysAdded { keys, storage, .. } => {
                count("keys", keys.len(), MAX_KEYS_AT_ONCE as usize)?;
                keys.iter().try_for_each(new_key)?;
                optional_line("Where the keys are kept", storage)
            }
            Change::PersonAdded { details, .. } | Change::PersonEdited { details, .. } => {
                person(details)
            }
            Change::KeyIssued {
                holder,
                date,
                expected_return,
                due_time,
                confirmation,
                notes,
                ..
            } => loan(
                holder,
                *date,
                *expected_return,
                *due_time,
                confirmation,
                notes,
            ),
            Change::KeyHandedOver {
                loan: old,
                new_loan,
                to,
                date,
                expected_return,
                due_time,
                confirmation,
                notes,
                ..
            } => {
                if old == new_loan {
                    return Err(malformed("a loan is handed over to itself"));
                }
                loan(to, *date, *expected_return, *due_time, confirmation, notes)
            }
            Change::SitePolicySet { policy, .. } => policy.check(),
            Change::AreaPolicySet { set, clear, .. } => check_area_change(set, clear),
            Change::KeyReturned {
                brought_by,
                received_by,
                notes,
                ..
            } => {
                line("Who brought it back", brought_by, MAX_NAME, false)?;
                line("Who received it", received_by, MAX_NAME, true)?;
                note_text(notes)
            }
            Change::LockerLabelsIssued { labels } => {
                count("labels", labels.len(), MAX_RANGE)?;
                if labels
                    .iter()
                    .any(|l| LabelRef::parse(&l.label.0).as_ref() != Some(&l.label))
                {
                    return Err(malformed("a label reference is not well formed"));
                }
                Ok(())
            }
            Change::BlankTagsMade { tags, .. } => {
                count("blank tags", tags.len(), MAX_BLANK_TAGS as usize)?;
                tags.iter().try_for_each(tag)
            }
            Change::TagAttached {
                tag: t, previous, ..
            } => {
                tag(t)?;
                tag(previous)
            }
            Change::ConflictResolved { notes, .. } => note_text(notes),
            Change::FaultRecorded { notes, .. } | Change::KeyFound { notes, .. } => {
                note_text(notes)
            }
            Change::LockChanged {
                code,
                suite,
                reason,
                ..
            } => {
                code_text("The lock's code", code)?;
                optional_line("The suite's name", suite)?;
                line("The reason", reason, MAX_NAME, true)
            }
            Change::KeyRetired { reason, .. } => line("The reason", reason, MAX_NAME, true),
            Change::KeyReportedLost { notes, .. } => note_text(notes),
            Change::LostCaseDecided { reason, .. } => line("The reason", reason, MAX_NAME, true),
            Change::ChargeRecorded { amount, .. } => {
                if *amount > MAX_CHARGE_PENCE {
                    return Err(malformed("the charge is out of range"));
                }
                Ok(())
            }
            Change::SupplierAdded { name, contact, .. } => {
                name_text("The supplier's name", name)?;
                line("The supplier's contact", contact, MAX_NAME, false)
            }
            Change::OrderPlaced {
                lines,
                ordered,
                expected,
                notes,
                ..
            } => {
                count("order lines", lines.len(), MAX_ORDER_LINES)?;
                for l in lines {
                    code_text("The key code", &l.code)?;
                    if l.kind == KeyKind::Master {
                        return Err(malformed("master keys are not ordered as replacements"));
                    }
                    if !(1..=MAX_KEYS_AT_ONCE).contains(&l.quantity) {
                        return Err(malformed("an order line's quantity is out of range"));
                    }
                }
                if expected.is_some_and(|e| e < *ordered) {
                    return Err(malformed("its expected date is before its order date"));
                }
                note_text(notes)
            }
            Change::OrderReceived { lines, .. } => {
                count("order lines", lines.len(), MAX_ORDER_LINES)?;
                for l in lines {
                    count("keys", l.keys.len(), MAX_KEYS_AT_ONCE as usize)?;
                    l.keys.iter().try_for_each(new_key)?;
                }
                Ok(())
            }
            Change::SuiteDefined {
                name,
                check_every_days,
                ..
            } => {
                name_text("The suite's name", name)?;
                if !(1..=MAX_CHECK_DAYS).contains(check_every_days) {
                    return Err(malformed("the check interval is out of range"));
                }
                Ok(())
            }
            Change::MasterHolderSet { .. } => Ok(()),
            Change::MasterSignedOut {
                person,
                reason,
                witness,
                ..
            } => {
                if *witness == Some(*person) {
                    return Err(CommandError::WitnessIsHolder);
                }
                line("The reason", reason, MAX_NAME, true)
            }
            Change::MasterReturned {
                received_by, notes, ..
            } => {
                line("Who received it", received_by, MAX_NAME, true)?;
                note_text(notes)
            }
            Change::MasterSeen { notes, .. } | Change::MasterLostReported { notes, .. } => {
                note_text(notes)
            }
            Change::EmergencyUseReviewed { notes, .. }
            | Change::EscalationResolved { notes, .. } => {
                if notes.is_empty() {
                    return Err(CommandError::TextMissing { field: "The notes" });
                }
                note_text(notes)
            }
            Change::AuditStarted { scope, .. } => match scope {
                AuditScope::Range { from, to, .. } => {
                    for n in [from, to] {
                        if normalise_locker_number(n).ok().as_ref() != Some(n) {
                            return Err(malformed("a locker number is not in its normal form"));
                        }
                    }
                    if natural_cmp(from, to).is_gt() {
                        return Err(malformed("the range runs backwards"));
                    }
                    Ok(())
                }
                AuditScope::Site | AuditScope::Area { .. } => Ok(()),
            },
            Change::AuditFindingRecorded {
                finding,
                kind,
                expected,
                replaces,
                notes,
                ..
            } => {
                if *replaces == Some(*finding) {
                    return Err(malformed("a finding replaces itself"));
                }
                finding_kind(kind)?;
                expected_text(expected)?;
                note_text(notes)
            }
            Change::AuditFindingUndone { .. } | Change::AuditCompleted { .. } => Ok(()),
            Change::AuditMasterChecked { notes, .. } => note_text(notes),
            Change::AuditRouteSet { lockers, .. } => {
                count("lockers in the route", lockers.len(), MAX_ROUTE)?;
                let distinct: std::collections::BTreeSet<_> = lockers.iter().collect();
                if distinct.len() != lockers.len() {
                    return Err(malformed("a locker is in the route twice"));
                }
                Ok(())
            }
            Change::TermDatesSet { terms, .. } => {
                if terms.len() > MAX_TERMS {
                    return Err(CommandError::CountOutOfRange {
                        what: "terms",
                        max: MAX_TERMS,
                    });
                }
                check_terms(terms)
            }
            Change::PersonLeft { .. } => Ok(()),
        }
    }
}

/// A loan's holder, dates (a time only with a day, to the minute), confirmation and notes.
fn loan(
    holder: &Holder,
    date: NaiveDate,
    expected_return: Option<NaiveDate>,
    due_time: Option<NaiveTime>,
    confirmation: &Confirmation,
    notes: &str,
) -> Result<(), CommandError> {
    if let Holder::Department(name) = holder {
        name_text("The department", name)?;
    }
    if expected_return.is_some_and(|back| back < date) {
        return Err(malformed("its return date is before its issue date"));
    }
    if let Some(time) = due_time {
        if expected_return.is_none() {
            return Err(malformed("it has a due time without a due date"));
        }
        if time.second() != 0 || time.nanosecond() != 0 {
            return Err(malformed("its due time is not in whole minutes"));
        }
    }
    match confirmation {
        Confirmation::TypedName(name) => name_text("The typed name", name)?,
        Confirmation::Signature(path) => signature(path)?,
        Confirmation::Tapped => {}
    }
    note_text(notes)
}

fn malformed(what: &'static str) -> CommandError {
    CommandError::Malformed(what)
}

/// One line of text: tidied, printable, at most `max` characters, and present if `required`.
pub(crate) fn line(
    field: &'static str,
    text: &str,
    max: usize,
    required: bool,
) -> Result<(), CommandError> {
    if required && text.is_empty() {
        return Err(CommandError::TextMissing { field });
    }
    length(field, text, max)?;
    if tidy(text) != text || text.chars().any(char::is_control) {
        return Err(malformed("a name has stray spaces or control characters"));
    }
    Ok(())
}

/// A name: a line that has at least one letter (of any alphabet), so "🙂" or "--" is not a
/// name anyone can find or read out.
pub(crate) fn name_text(field: &'static str, text: &str) -> Result<(), CommandError> {
    line(field, text, MAX_NAME, true)?;
    if !text.chars().any(char::is_alphabetic) {
        return Err(CommandError::NameNeedsLetter { field });
    }
    Ok(())
}

fn optional_line(field: &'static str, text: &Option<String>) -> Result<(), CommandError> {
    match text {
        Some(text) => line(field, text, MAX_NAME, true),
        None => Ok(()),
    }
}

/// A code as typed on a lock or a card: one line in upper case.
fn code_text(field: &'static str, code: &str) -> Result<(), CommandError> {
    line(field, code, MAX_CODE, true)?;
    if code.to_uppercase() != code {
        return Err(malformed("a code is not in upper case"));
    }
    Ok(())
}

fn note_text(notes: &str) -> Result<(), CommandError> {
    length("The notes", notes, MAX_NOTES)?;
    if notes.trim() != notes || notes.chars().any(|c| c.is_control() && c != '\n') {
        return Err(malformed(
            "the notes have stray spaces or control characters",
        ));
    }
    Ok(())
}

fn length(field: &'static str, text: &str, max: usize) -> Result<(), CommandError> {
    if text.chars().count() > max {
        return Err(CommandError::TextTooLong { field, max });
    }
    Ok(())
}

fn count(what: &'static str, n: usize, max: usize) -> Result<(), CommandError> {
    if n == 0 || n > max {
        return Err(CommandError::CountOutOfRange { what, max });
    }
    Ok(())
}

fn person(details: &PersonDetails) -> Result<(), CommandError> {
    name_text("The person's name", &details.name)?;
    line("The department", &details.department, MAX_NAME, false)?;
    if !details.reference.is_empty() {
        code_text("The reference", &details.reference)?;
    }
    Ok(())
}

fn signature(path: &str) -> Result<(), CommandError> {
    if path.is_empty() {
        return Err(CommandError::ConfirmationMissing);
    }
    length("The signature", path, MAX_SIGNATURE)?;
    let drawn = path
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, 'M' | 'L' | ' ' | '.' | '-'));
    if !drawn || path.trim() != path {
        return Err(malformed("the signature is not path data"));
    }
    Ok(())
}

fn new_key(key: &NewKey) -> Result<(), CommandError> {
    if !(1..=MAX_COPY).contains(&key.copy) {
        return Err(malformed("a key's copy number is out of range"));
    }
    tag(&key.tag)
}

fn finding_kind(kind: &FindingKind) -> Result<(), CommandError> {
    match kind {
        FindingKind::DuplicateKeys { found } if !(2..=MAX_DUPLICATES).contains(found) => {
            Err(malformed("a count of duplicated keys is out of range"))
        }
        FindingKind::WrongLocker { tag: t, number, .. } => {
            tag(t)?;
            stored_number(number)
        }
        FindingKind::UnknownCode { code } => line("The code", code, MAX_NAME, true),
        _ => Ok(()),
    }
}

/// What the register expected at a locker: its number, and each key's holder's name.
fn expected_text(expected: &Expected) -> Result<(), CommandError> {
    stored_number(&expected.number)?;
    if expected.keys.len() > MAX_EXPECTED_KEYS {
        return Err(CommandError::CountOutOfRange {
            what: "expected keys",
            max: MAX_EXPECTED_KEYS,
        });
    }
    for k in &expected.keys {
        tag(&k.tag)?;
        if let Some(Holder::Department(name)) = &k.holder {
            name_text("The department", name)?;
        }
        if k.holder.is_none() != k.holder_name.is_empty() {
            return Err(malformed("a key's holder and their name do not match"));
        }
        line("The holder's name", &k.holder_name, MAX_NAME, false)?;
    }
    Ok(())
}

fn stored_number(number: &str) -> Result<(), CommandError> {
    if is_stored_locker_number(number)? {
        Ok(())
    } else {
        Err(malformed("a locker number is not in its normal form"))
    }
}

fn tag(tag: &TagId) -> Result<(), CommandError> {
    let ok = tag.0.len() == TagId::LEN && tag.0.bytes().all(|b| TagId::ALPHABET.contains(&b));
    if ok {
        Ok(())
    } else {
        Err(malformed("a tag id is not well formed"))
    }
}
