//! Master keys: commands into changes, or a refusal that says what to do.

use super::Suite;
use crate::command::Context;
use crate::error::CommandError;
use crate::event::Change;
use crate::format::{uk_date, uk_date_time};
use crate::ids::{EscalationId, KeyId, PersonId, SignOutId, SiteId, SuiteId, TagId};
use crate::model::{Key, KeyKind, KeyState};
use crate::normalise::tidy;
use crate::register::Register;
use chrono::{DateTime, Utc};

impl Register {
    pub(in crate::register) fn decide_define_suite(
        &self,
        site: SiteId,
        name: String,
        check_every_days: u32,
        witness_required: bool,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let site = self.site(site).ok_or(CommandError::UnknownSite)?;
        let name = tidy(&name);
        if name.is_empty() {
            return Err(CommandError::SuiteNameEmpty);
        }
        if let Some(taken) = self.suite_by_name(site.id, &name) {
            return Err(CommandError::SuiteNameTaken {
                site: site.name.clone(),
                name: taken.name.clone(),
            });
        }
        if !(1..=crate::checks::MAX_CHECK_DAYS).contains(&check_every_days) {
            return Err(CommandError::CheckIntervalOutOfRange {
                max: crate::checks::MAX_CHECK_DAYS,
            });
        }
        Ok(Change::SuiteDefined {
            suite: SuiteId::generate(ctx.now, ctx.entropy),
            site: site.id,
            name,
            check_every_days,
            witness_required,
        })
    }

    pub(in crate::register) fn decide_master_holder(
        &self,
        suite: SuiteId,
        person: PersonId,
        authorised: bool,
    ) -> Result<Change, CommandError> {
        let suite = self.suite(suite).ok_or(CommandError::UnknownSuite)?;
        let person = self
            .person(person)
            .filter(|p| p.site == suite.site)
            .ok_or(CommandError::UnknownPerson)?;
        if suite.holders.contains(&person.id) == authorised {
            return Err(CommandError::HolderUnchanged {
                name: person.details.name.clone(),
                suite: suite.name.clone(),
                authorised,
            });
        }
        Ok(Change::MasterHolderSet {
            suite: suite.id,
            person: person.id,
            authorised,
        })
    }

    /// The master key and its suite, or why it cannot be used.
    pub(super) fn master_key(&self, key: KeyId) -> Result<(&Key, &Suite), CommandError> {
        let key = self.key(key).ok_or(CommandError::UnknownKey)?;
        if key.kind != KeyKind::Master {
            return Err(CommandError::NotAMasterKey {
                tag: key.tag.to_string(),
            });
        }
        let suite =
            self.suite_of_key(key.id)
                .ok_or_else(|| CommandError::MasterKeyWithoutSuite {
                    tag: key.tag.to_string(),
                    suite: self
                        .lock(key.lock)
                        .and_then(|l| l.suite.clone())
                        .unwrap_or_default(),
                })?;
        Ok((key, suite))
    }

    /// Refuses a key that is lost or (when `out_too`) signed out.
    pub(super) fn master_in_place(&self, key: &Key, out_too: bool) -> Result<(), CommandError> {
        if key.state == KeyState::Lost {
            return Err(CommandError::MasterKeyLost {
                tag: key.tag.to_string(),
            });
        }
        if let Some(out) = self.master_sign_out_of(key.id).filter(|_| out_too) {
            return Err(CommandError::MasterKeyOut {
                tag: key.tag.to_string(),
                name: self.person_name(out.person),
            });
        }
        if key.state != KeyState::InStore {
            return Err(CommandError::KeyNotInStore {
                tag: key.tag.to_string(),
                state: key.state.label().to_lowercase(),
            });
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(in crate::register) fn decide_master_sign_out(
        &self,
        key: KeyId,
        person: PersonId,
        reason: String,
        witness: Option<PersonId>,
        due_back: Option<DateTime<Utc>>,
        emergency: bool,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let (key, suite) = self.master_key(key)?;
        self.master_in_place(key, true)?;
        let person = self
            .person(person)
            .filter(|p| p.site == suite.site)
            .ok_or(CommandError::UnknownPerson)?;
        let authorised = suite.holders.contains(&person.id);
        if !authorised && !emergency {
            return Err(CommandError::NotAuthorisedHolder {
                name: person.details.name.clone(),
                tag: key.tag.to_string(),
                suite: suite.name.clone(),
            });
        }
        let reason = tidy(&reason);
        if reason.is_empty() {
            return Err(CommandError::MasterReasonMissing);
        }
        let witness = match witness {
            Some(w) => {
                let w = self
                    .person(w)
                    .filter(|p| p.site == suite.site)
                    .ok_or(CommandError::UnknownPerson)?;
                if w.id == person.id {
                    return Err(CommandError::WitnessIsHolder);
                }
                Some(w.id)
            }
            None if self.witness_required(suite.id) => {
                return Err(CommandError::WitnessRequired {
                    suite: suite.name.clone(),
                })
            }
            None => None,
        };
        if let Some(due) = due_back.filter(|due| *due < ctx.now) {
            return Err(CommandError::DueBackBeforeOut {
                due: uk_date_time(&due),
            });
        }
        Ok(Change::MasterSignedOut {
            sign_out: SignOutId::generate(ctx.now, ctx.entropy),
            key: key.id,
            person: person.id,
            reason,
            witness,
            due_back,
            // An authorised holder's use is never an emergency use.
            emergency: !authorised,
        })
    }

    pub(in crate::register) fn decide_master_return(
        &self,
        key: KeyId,
        received_by: String,
        notes: String,
    ) -> Result<Change, CommandError> {
        let (key, _) = self.master_key(key)?;
        let out = self
            .master_sign_out_of(key.id)
            .ok_or_else(|| CommandError::MasterKeyNotOut {
                tag: key.tag.to_string(),
            })?;
        let received_by = tidy(&received_by);
        if received_by.is_empty() {
            return Err(CommandError::ReceiverMissing);
        }
        Ok(Change::MasterReturned {
            sign_out: out.id,
            key: key.id,
            received_by,
            notes: notes.trim().to_string(),
        })
    }

    pub(in crate::register) fn decide_master_check(
        &self,
        tag: TagId,
        notes: String,
    ) -> Result<Change, CommandError> {
        let key = self
            .key_by_tag(&tag)
            .ok_or_else(|| CommandError::UnknownTag {
                tag: tag.to_string(),
            })?;
        let (key, _) = self.master_key(key.id)?;
        self.master_in_place(key, true)?;
        Ok(Change::MasterSeen {
            key: key.id,
            notes: notes.trim().to_string(),
        })
    }

    pub(in crate::register) fn decide_master_lost(
        &self,
        key: KeyId,
        notes: String,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let (key, _) = self.master_key(key)?;
        self.master_in_place(key, false)?;
        Ok(Change::MasterLostReported {
            escalation: EscalationId::generate(ctx.now, ctx.entropy),
            key: key.id,
            sign_out: self.master_out.get(&key.id).copied(),
            notes: notes.trim().to_string(),
        })
    }

    pub(in crate::register) fn decide_review(
        &self,
        sign_out: SignOutId,
        notes: String,
    ) -> Result<Change, CommandError> {
        let s = self
            .sign_out(sign_out)
            .ok_or(CommandError::UnknownSignOut)?;
        if let Some(r) = &s.review {
            return Err(CommandError::AlreadyReviewed {
                by: r.by.clone(),
                on: uk_date(r.at.date_naive()),
            });
        }
        if !s.flagged {
            return Err(CommandError::NotFlaggedForReview);
        }
        let notes = notes.trim().to_string();
        if notes.is_empty() {
            return Err(CommandError::ReviewNotesMissing);
        }
        Ok(Change::EmergencyUseReviewed { sign_out, notes })
    }

    pub(in crate::register) fn decide_resolve_escalation(
        &self,
        escalation: EscalationId,
        found: bool,
        notes: String,
    ) -> Result<Change, CommandError> {
        let e = self
            .escalation(escalation)
            .ok_or(CommandError::UnknownEscalation)?;
        if let Some(end) = &e.end {
            return Err(CommandError::EscalationAlreadyResolved {
                by: end.by.clone(),
                on: uk_date(end.at.date_naive()),
            });
        }
        let notes = notes.trim().to_string();
        if notes.is_empty() {
            return Err(CommandError::EscalationNotesMissing);
        }
        Ok(Change::EscalationResolved {
            escalation,
            found,
            notes,
        })
    }
}
