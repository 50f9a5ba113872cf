//! Loans (the issue record): issuing a key to a person or department, for the term or as a
//! temporary loan (due back on a day, and at a time if given, no longer than the area
//! policy allows), handing it straight to the next holder, returning it, and the decisions
//! when two devices issued, handed over or returned the same key; and who is likely to take a
//! locker's key next. Overdue loans and spare keys out are in `overdue.rs`.

use super::{Fit, Register};
use crate::command::Context;
use crate::conflict::{ConflictKind, Resolution};
use crate::error::CommandError;
use crate::event::{Change, Event};
use crate::format::uk_date;
use crate::ids::{EventId, KeyId, LoanId, LockerId, PersonId};
use crate::model::{Condition, Confirmation, Holder, Key, KeyKind, KeyState, Loan, Person, Return};
use crate::normalise::tidy;
use crate::timeline::What;
use chrono::{NaiveDate, NaiveTime, Timelike};
use std::collections::BTreeMap;

/// How many people [`Register::likely_takers`] offers at most.
pub const LIKELY_TAKERS: usize = 6;

/// The taker's confirmation, tidied; refused when empty, or when it is not what the policy in
/// force where the key is kept asks for (a tap where a name or signature is needed).
fn check_confirmation(
    confirmation: Confirmation,
    policy: &super::Policy,
) -> Result<Confirmation, CommandError> {
    let confirmation = match confirmation {
        Confirmation::TypedName(name) => Confirmation::TypedName(tidy(&name)),
        Confirmation::Signature(path) => Confirmation::Signature(path.trim().to_string()),
        Confirmation::Tapped => Confirmation::Tapped,
    };
    if matches!(&confirmation, Confirmation::TypedName(s) | Confirmation::Signature(s) if s.is_empty())
    {
        // Said in the words of what this area asks for, where it asks for one kind only.
        return Err(match policy.taker_confirms {
            needs @ (super::TakerConfirms::TypedName | super::TakerConfirms::Signature) => {
                CommandError::ConfirmationNotAllowed { needs }
            }
            _ => CommandError::ConfirmationMissing,
        });
    }
    if !policy.taker_confirms.allows(&confirmation) {
        return Err(CommandError::ConfirmationNotAllowed {
            needs: policy.taker_confirms,
        });
    }
    Ok(confirmation)
}

/// When a loan starts and, for a temporary loan, when it is due back: (date, day, time).
pub(super) type LoanDates = (NaiveDate, Option<NaiveDate>, Option<NaiveTime>);

impl Register {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn decide_issue(
        &self,
        key: KeyId,
        locker: LockerId,
        holder: Holder,
        dates: LoanDates,
        confirmation: Confirmation,
        notes: String,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let key = self.key(key).ok_or(CommandError::UnknownKey)?;
        let locker = self.locker(locker).ok_or(CommandError::UnknownLocker)?;
        if locker.lock != Some(key.lock) {
            return Err(CommandError::KeyNotForLocker {
                tag: key.tag.to_string(),
                number: locker.number.clone(),
            });
        }
        if key.kind == KeyKind::Master {
            return Err(CommandError::MasterKeyNotIssued);
        }
        if key.state != KeyState::InStore {
            return Err(CommandError::KeyNotInStore {
                tag: key.tag.to_string(),
                state: key.state.label().to_lowercase(),
            });
        }
        if locker.out_of_service.is_some() {
            return Err(CommandError::LockerOutOfService {
                number: locker.number.clone(),
            });
        }
        let holder = self.check_holder(holder, locker.id, None)?;
        let (date, expected_return, due_time) = self.check_due(locker.id, dates)?;
        let confirmation = check_confirmation(confirmation, &self.policy_for_locker(locker.id))?;
        Ok(Change::KeyIssued {
            loan: LoanId::generate(ctx.now, ctx.entropy),
            key: key.id,
            locker: locker.id,
            holder,
            date,
            expected_return,
            confirmation,
            notes: notes.trim().to_string(),
            due_time,
        })
    }

    /// Who a key goes to: a known person who holds no other key to the locker (`except` is
    /// the key being handed over), or a department's tidied name.
    fn check_holder(
        &self,
        holder: Holder,
        locker: LockerId,
        except: Option<KeyId>,
    ) -> Result<Holder, CommandError> {
        match holder {
            Holder::Person(person) => {
                let person = self.person(person).ok_or(CommandError::UnknownPerson)?;
                if let Some(held) = self.keys_of_locker(locker).into_iter().find(|k| {
                    Some(k.id) != except
                        && self
                            .current_loan(k.id)
                            .is_some_and(|l| l.holder == Holder::Person(person.id))
                }) {
                    return Err(CommandError::AlreadyHoldsKey {
                        name: person.details.name.clone(),
                        number: self
                            .locker(locker)
                            .map(|l| l.number.clone())
                            .unwrap_or_default(),
                        tag: held.tag.to_string(),
                    });
                }
                Ok(Holder::Person(person.id))
            }
            Holder::Department(name) => {
                let name = tidy(&name);
                if name.is_empty() {
                    return Err(CommandError::HolderMissing);
                }
                Ok(Holder::Department(name))
            }
        }
    }

    /// A loan's dates against the locker's policy: due back no earlier than it starts, a time
    /// only with a day (to the minute), and no longer than the policy's longest loan.
    fn check_due(&self, locker: LockerId, dates: LoanDates) -> Result<LoanDates, CommandError> {
        let (date, expected_return, due_time) = dates;
        let due_time = due_time.map(|t| {
            t.with_second(0)
                .and_then(|t| t.with_nanosecond(0))
                .unwrap_or(t)
        });
        let Some(expected) = expected_return else {
            if due_time.is_some() {
                return Err(CommandError::DueTimeWithoutDate);
            }
            return Ok((date, None, None));
        };
        if expected < date {
            return Err(CommandError::ReturnBeforeIssue {
                date: uk_date(date),
                expected: uk_date(expected),
            });
        }
        let policy = self.policy_for_locker(locker);
        if expected > policy.latest_return(date) {
            return Err(CommandError::LoanTooLong {
                max_days: policy.max_loan_days,
                latest: uk_date(policy.latest_return(date)),
            });
        }
        Ok((date, Some(expected), due_time))
    }

    /// When a temporary loan of a key of `locker` starting on `date` is due back unless the
    /// issuer chooses otherwise: the area policy's default loan.
    pub fn default_return(&self, locker: LockerId, date: NaiveDate) -> NaiveDate {
        self.policy_for_locker(locker).default_return(date)
    }

    /// The latest a temporary loan of a key of `locker` starting on `date` may be due back.
    pub fn latest_return(&self, locker: LockerId, date: NaiveDate) -> NaiveDate {
        self.policy_for_locker(locker).latest_return(date)
    }

    pub(super) fn decide_handover(
        &self,
        key: KeyId,
        to: Holder,
        dates: LoanDates,
        confirmation: Confirmation,
        notes: String,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let key = self.key(key).ok_or(CommandError::UnknownKey)?;
        let Some(loan) = self.current_loan(key.id) else {
            return Err(CommandError::NothingToHandOver {
                tag: key.tag.to_string(),
                state: key.state.label().to_lowercase(),
            });
        };
        let to = self.check_holder(to, loan.locker, Some(key.id))?;
        if to == loan.holder {
            return Err(CommandError::HandOverToSameHolder {
                name: self.holder_name(&to),
            });
        }
        let (date, expected_return, due_time) = self.check_due(loan.locker, dates)?;
        let confirmation = check_confirmation(confirmation, &self.policy_for_locker(loan.locker))?;
        Ok(Change::KeyHandedOver {
            loan: loan.id,
            new_loan: LoanId::generate(ctx.now, ctx.entropy),
            key: key.id,
            locker: loan.locker,
            to,
            date,
            expected_return,
            due_time,
            confirmation,
            notes: notes.trim().to_string(),
        })
    }

    pub(super) fn decide_return(
        &self,
        key: KeyId,
        brought_by: String,
        received_by: String,
        condition: Condition,
        notes: String,
    ) -> Result<Change, CommandError> {
        let key = self.key(key).ok_or(CommandError::UnknownKey)?;
        let loan = match key.loan.and_then(|l| self.loan(l)) {
            // A key retired while out (its lock changed) still comes back.
            Some(loan)
                if key.state.is_out() || (key.state == KeyState::Retired && loan.is_open()) =>
            {
                loan
            }
            _ => {
                return Err(CommandError::KeyNotOut {
                    tag: key.tag.to_string(),
                    state: key.state.label().to_lowercase(),
                })
            }
        };
        let received_by = tidy(&received_by);
        if received_by.is_empty() {
            return Err(CommandError::ReceiverMissing);
        }
        let brought_by = match tidy(&brought_by) {
            b if b.is_empty() => self.holder_name(&loan.holder),
            b => b,
        };
        Ok(Change::KeyReturned {
            loan: loan.id,
            key: key.id,
            brought_by,
            received_by,
            condition,
            notes: notes.trim().to_string(),
        })
    }

    /// Refuses a decision the register has moved past: keeping a later issue whose key has
    /// been returned or issued again since.
    pub(super) fn check_loan_decision(
        &self,
        kind: &ConflictKind,
        choice: Resolution,
    ) -> Result<(), CommandError> {
        if let (
            ConflictKind::KeyNotInStore {
                key,
                loan,
                standing,
            }
            | ConflictKind::HandOverNotCurrent {
                key,
                new_loan: loan,
                standing,
                ..
            },
            Resolution::KeepLater,
        ) = (kind, choice)
        {
            let key = self.key(*key).ok_or(CommandError::UnknownKey)?;
            let later_open = self.loan(*loan).is_some_and(|l| l.returned.is_none());
            let key_free = !key.state.is_out() || key.loan == *standing;
            if !later_open || !key_free {
                return Err(CommandError::KeyMovedOn);
            }
        }
        Ok(())
    }

    pub(super) fn assess_issue(
        &self,
        loan: LoanId,
        key: KeyId,
        locker: LockerId,
        holder: &Holder,
    ) -> Fit {
        let (Some(k), Some(_)) = (self.key(key), self.locker(locker)) else {
            return Fit::Unknown("its key or locker is not in the register");
        };
        if k.kind == KeyKind::Master {
            return Fit::Unknown("master keys are signed out, not issued");
        }
        if k.state == KeyState::Retired {
            return Fit::Conflicts(ConflictKind::IssuedAfterRetired { key, loan });
        }
        if let Holder::Person(p) = holder {
            if self.person(*p).is_none() {
                return Fit::Unknown("the person it was issued to is not in the register");
            }
        }
        if k.state != KeyState::InStore {
            return Fit::Conflicts(ConflictKind::KeyNotInStore {
                key,
                loan,
                standing: k.loan.filter(|_| k.state.is_out()),
            });
        }
        if let Holder::Person(_) = holder {
            if let Some(standing) = self
                .keys_of_locker(locker)
                .into_iter()
                .filter_map(|k| self.current_loan(k.id))
                .find(|l| l.holder == *holder)
            {
                return Fit::Conflicts(ConflictKind::HolderHasKey {
                    locker,
                    loan,
                    standing: standing.id,
                });
            }
        }
        Fit::Fits
    }

    pub(super) fn assess_handover(
        &self,
        loan: LoanId,
        new_loan: LoanId,
        key: KeyId,
        locker: LockerId,
        to: &Holder,
    ) -> Fit {
        let (Some(k), Some(l), Some(_)) = (self.key(key), self.loan(loan), self.locker(locker))
        else {
            return Fit::Unknown("its key, loan or locker is not in the register");
        };
        if l.key != key || l.locker != locker || loan == new_loan {
            return Fit::Unknown("its loan is not of that key and locker");
        }
        if let Holder::Person(p) = to {
            if self.person(*p).is_none() {
                return Fit::Unknown("the person it was handed to is not in the register");
            }
        }
        // Returned, handed over or closed on another device first, or never the key's loan.
        if l.returned.is_some() || !k.state.is_out() || k.loan != Some(loan) {
            return Fit::Conflicts(ConflictKind::HandOverNotCurrent {
                key,
                loan,
                new_loan,
                standing: k.loan.filter(|_| k.state.is_out()),
            });
        }
        if let Holder::Person(_) = to {
            if let Some(standing) = self
                .keys_of_locker(locker)
                .into_iter()
                .filter(|other| other.id != key)
                .filter_map(|other| self.current_loan(other.id))
                .find(|other| other.holder == *to)
            {
                return Fit::Conflicts(ConflictKind::HolderHasKey {
                    locker,
                    loan: new_loan,
                    standing: standing.id,
                });
            }
        }
        Fit::Fits
    }

    pub(super) fn assess_return(&self, loan: LoanId, key: KeyId) -> Fit {
        match (self.loan(loan), self.key(key)) {
            (Some(l), Some(_)) if l.returned.is_some() => {
                Fit::Conflicts(ConflictKind::ReturnedTwice { loan })
            }
            (
                Some(Loan {
                    lost: Some(case), ..
                }),
                Some(_),
            ) => Fit::Conflicts(ConflictKind::LostAndReturned {
                key,
                case: *case,
                loan,
                lost_first: true,
            }),
            (Some(_), Some(_)) => Fit::Fits,
            _ => Fit::Unknown("its loan or key is not in the register"),
        }
    }

    pub(super) fn apply_issue(&mut self, event: &Event, conflict: Option<&ConflictKind>) {
        let Change::KeyIssued {
            loan,
            key,
            locker,
            holder,
            date,
            expected_return,
            confirmation,
            notes,
            due_time,
        } = &event.change
        else {
            return;
        };
        let Some(k) = self.keys.get_mut(key) else {
            return;
        };
        // Issued twice (or after the key was retired): the later loan is kept as a record,
        // the key stays where it is.
        if !matches!(
            conflict,
            Some(ConflictKind::KeyNotInStore { .. } | ConflictKind::IssuedAfterRetired { .. })
        ) {
            k.state = if expected_return.is_some() {
                KeyState::SignedOut
            } else {
                KeyState::Issued
            };
            k.loan = Some(*loan);
        }
        self.loans.insert(
            *loan,
            Loan {
                id: *loan,
                key: *key,
                locker: *locker,
                holder: holder.clone(),
                date: *date,
                expected_return: *expected_return,
                confirmation: confirmation.clone(),
                notes: notes.clone(),
                issued_by: event.actor.clone(),
                issued_at: event.at,
                issue_event: event.id,
                returned: None,
                lost: None,
                due_time: *due_time,
                handed_over_from: None,
            },
        );
        self.log(*locker, event, What::Issued { loan: *loan });
    }

    /// A handover that fits closes the old loan and opens the new one with the key on it. One
    /// made after the old loan had moved on (`HandOverNotCurrent`) is kept as a record: the new
    /// loan opens without the key, until a person decides.
    pub(super) fn apply_handover(&mut self, event: &Event, conflict: Option<&ConflictKind>) {
        let Change::KeyHandedOver {
            loan,
            new_loan,
            key,
            locker,
            to,
            date,
            expected_return,
            due_time,
            confirmation,
            notes,
        } = &event.change
        else {
            return;
        };
        let stale = matches!(conflict, Some(ConflictKind::HandOverNotCurrent { .. }));
        if !stale {
            let from = self
                .loans
                .get(loan)
                .map(|l| self.holder_name(&l.holder))
                .unwrap_or_default();
            let received_by = self.holder_name(to);
            if let Some(l) = self.loans.get_mut(loan) {
                l.returned = Some(Return {
                    brought_by: from,
                    received_by,
                    condition: Condition::Fine,
                    notes: notes.clone(),
                    at: event.at,
                    handed_over_to: Some(*new_loan),
                });
            }
            if let Some(k) = self.keys.get_mut(key) {
                k.loan = Some(*new_loan);
                k.state = if expected_return.is_some() {
                    KeyState::SignedOut
                } else {
                    KeyState::Issued
                };
            }
        }
        self.loans.insert(
            *new_loan,
            Loan {
                id: *new_loan,
                key: *key,
                locker: *locker,
                holder: to.clone(),
                date: *date,
                expected_return: *expected_return,
                confirmation: confirmation.clone(),
                notes: notes.clone(),
                issued_by: event.actor.clone(),
                issued_at: event.at,
                issue_event: event.id,
                returned: None,
                lost: None,
                due_time: *due_time,
                handed_over_from: Some(*loan),
            },
        );
        self.log(
            *locker,
            event,
            What::HandedOver {
                from: *loan,
                to: *new_loan,
            },
        );
    }

    /// Returned twice: the first return stands. Returned after the key was reported lost: the
    /// return is recorded on the loan, and the key stays lost until a person decides.
    pub(super) fn apply_return(&mut self, event: &Event, conflict: Option<&ConflictKind>) {
        let Change::KeyReturned {
            loan,
            key,
            brought_by,
            received_by,
            condition,
            notes,
        } = &event.change
        else {
            return;
        };
        if matches!(conflict, Some(ConflictKind::ReturnedTwice { .. })) {
            return;
        }
        let (Some(k), Some(l)) = (self.keys.get_mut(key), self.loans.get_mut(loan)) else {
            return;
        };
        if k.loan == Some(*loan) && conflict.is_none() {
            k.loan = None;
            k.state = match (k.state, condition) {
                (KeyState::Retired, _) => KeyState::Retired,
                (_, Condition::Fine) => KeyState::InStore,
                (_, Condition::Damaged) => KeyState::Damaged,
            };
        }
        l.returned = Some(Return {
            brought_by: brought_by.clone(),
            received_by: received_by.clone(),
            condition: *condition,
            notes: notes.clone(),
            at: event.at,
            handed_over_to: None,
        });
        let locker = l.locker;
        self.log(locker, event, What::Returned { loan: *loan });
    }

    /// What deciding a conflict this procedure owns does to the state; `note` goes on every
    /// loan the decision closes.
    pub(super) fn apply_loan_decision(
        &mut self,
        event: &Event,
        kind: &ConflictKind,
        choice: Resolution,
        note: &str,
    ) {
        match (kind, choice) {
            (ConflictKind::KeyNotInStore { loan, .. }, Resolution::KeepFirst)
            | (ConflictKind::IssuedAfterRetired { loan, .. }, Resolution::KeepFirst)
            | (ConflictKind::HolderHasKey { loan, .. }, Resolution::KeepFirst)
            | (ConflictKind::HolderHasKey { standing: loan, .. }, Resolution::KeepLater) => {
                self.close_loan(*loan, event, note)
            }
            (ConflictKind::HandOverNotCurrent { new_loan, .. }, Resolution::KeepFirst) => {
                self.close_loan(*new_loan, event, note)
            }
            (
                ConflictKind::KeyNotInStore {
                    key,
                    loan,
                    standing,
                }
                | ConflictKind::HandOverNotCurrent {
                    key,
                    new_loan: loan,
                    standing,
                    ..
                },
                Resolution::KeepLater,
            ) => {
                if let Some(standing) = standing {
                    self.close_loan(*standing, event, note);
                }
                let open = self.loans.get(loan).filter(|l| l.returned.is_none());
                let signed_out = open.map(|l| l.expected_return.is_some());
                let mut moved_on = false;
                if let (Some(k), Some(signed_out)) = (self.keys.get_mut(key), signed_out) {
                    if k.state.is_out() {
                        moved_on = true;
                    } else {
                        k.loan = Some(*loan);
                        k.state = if signed_out {
                            KeyState::SignedOut
                        } else {
                            KeyState::Issued
                        };
                    }
                }
                // Another device issued the key again meanwhile: the later loan cannot have
                // it, so it is closed too rather than left open on no key.
                if moved_on {
                    let note = format!("{note}; the key had been issued again since");
                    self.close_loan(*loan, event, &note);
                }
            }
            _ => {}
        }
    }

    /// Closes a loan that a decision ended; its key goes back to the store if it was on it.
    pub(super) fn close_loan(&mut self, loan: LoanId, event: &Event, note: &str) {
        let Some(l) = self.loans.get_mut(&loan) else {
            return;
        };
        if l.returned.is_none() {
            l.returned = Some(Return {
                brought_by: String::new(),
                received_by: event.actor.clone(),
                condition: Condition::Fine,
                notes: note.to_string(),
                at: event.at,
                handed_over_to: None,
            });
        }
        if let Some(k) = self.keys.get_mut(&l.key) {
            if k.loan == Some(loan) {
                k.loan = None;
                k.state = KeyState::InStore;
            }
        }
    }

    pub fn loan(&self, id: LoanId) -> Option<&Loan> {
        self.loans.get(&id)
    }
    /// The loan a key is out on now.
    pub fn current_loan(&self, key: KeyId) -> Option<&Loan> {
        let key = self.key(key)?;
        if !key.state.is_out() {
            return None;
        }
        self.loan(key.loan?)
    }
    /// Every loan to a person, newest first.
    pub fn loans_of(&self, person: PersonId) -> Vec<&Loan> {
        let holder = Holder::Person(person);
        let mut loans: Vec<&Loan> = self.loans.values().filter(|l| l.holder == holder).collect();
        loans.sort_by_key(|l| std::cmp::Reverse(l.issue_event));
        loans
    }
    /// The people most likely to take a key of `locker` now, for one tap: those who held a key
    /// of this locker before, then the people its site issued or handed keys to lately; each
    /// group newest first, each person once, at most `max`. People who hold a key of the
    /// locker now are left out (they may not take a second).
    pub fn likely_takers(&self, locker: LockerId, max: usize) -> Vec<&Person> {
        let Some(l) = self.locker(locker) else {
            return Vec::new();
        };
        let holding: Vec<PersonId> = self
            .keys_of_locker(locker)
            .into_iter()
            .filter_map(|k| self.current_loan(k.id))
            .filter_map(|loan| match loan.holder {
                Holder::Person(p) => Some(p),
                Holder::Department(_) => None,
            })
            .collect();
        // Each person's latest loan of this locker and of the site (event ids are in time order).
        let mut latest: BTreeMap<PersonId, (Option<EventId>, EventId)> = BTreeMap::new();
        for loan in self.loans.values() {
            let Holder::Person(p) = loan.holder else {
                continue;
            };
            let here = loan.locker == locker;
            if !here && self.locker(loan.locker).is_none_or(|o| o.site != l.site) {
                continue;
            }
            let entry = latest.entry(p).or_insert((None, loan.issue_event));
            entry.1 = entry.1.max(loan.issue_event);
            if here {
                entry.0 = entry.0.max(Some(loan.issue_event));
            }
        }
        let mut ranked: Vec<(bool, EventId, &Person)> = latest
            .into_iter()
            .filter(|(p, _)| !holding.contains(p))
            .filter_map(|(p, (here, site))| {
                let person = self.person(p).filter(|person| person.site == l.site)?;
                Some((here.is_some(), here.unwrap_or(site), person))
            })
            .collect();
        ranked.sort_by_key(|r| std::cmp::Reverse((r.0, r.1)));
        ranked.into_iter().take(max).map(|(_, _, p)| p).collect()
    }

    /// Keys a person holds now.
    pub fn keys_held_by(&self, person: PersonId) -> Vec<&Key> {
        self.loans_of(person)
            .into_iter()
            .filter(|l| l.is_open())
            .filter_map(|l| self.key(l.key).filter(|k| k.loan == Some(l.id)))
            .collect()
    }
    pub fn holder_name(&self, holder: &Holder) -> String {
        match holder {
            Holder::Person(p) => self
                .person(*p)
                .map(|p| p.details.name.clone())
                .unwrap_or_else(|| "an unknown person".into()),
            Holder::Department(d) => d.clone(),
        }
    }
    /// Who holds a key to the locker now, names joined.
    pub fn holders_of(&self, locker: LockerId) -> Vec<String> {
        self.keys_of_locker(locker)
            .into_iter()
            .filter_map(|k| self.current_loan(k.id))
            .map(|l| self.holder_name(&l.holder))
            .collect()
    }
}
