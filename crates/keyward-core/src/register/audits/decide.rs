//! Audit commands → changes, or a refusal that says what to do.

use super::{AuditScope, Expected, ExpectedKey, FindingKind, Term, MAX_DUPLICATES, MAX_TERMS};
use crate::command::Context;
use crate::error::CommandError;
use crate::event::Change;
use crate::format::uk_date;
use crate::ids::{AreaId, AuditId, FindingId, KeyId, LockerId, PersonId, SiteId};
use crate::model::{KeyKind, KeyState, Locker};
use crate::normalise::{normalise_locker_number, tidy};
use crate::register::Register;
use crate::search::natural_cmp;
use chrono::NaiveDate;
use std::cmp::Ordering;
use std::collections::BTreeSet;

impl Register {
    pub(in crate::register) fn decide_start_audit(
        &self,
        site: SiteId,
        scope: AuditScope,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let site = self.site(site).ok_or(CommandError::UnknownSite)?;
        let scope = match scope {
            AuditScope::Site => AuditScope::Site,
            AuditScope::Area { area } => AuditScope::Area {
                area: self.area_of_site(site.id, area)?,
            },
            AuditScope::Range { area, from, to } => {
                let area = self.area_of_site(site.id, area)?;
                let (from, to) = (
                    normalise_locker_number(&from)?,
                    normalise_locker_number(&to)?,
                );
                if natural_cmp(&from, &to) == Ordering::Greater {
                    return Err(CommandError::RangeBackwards { from, to });
                }
                AuditScope::Range { area, from, to }
            }
        };
        let lockers = self.scope_lockers(site.id, &scope);
        if lockers.is_empty() {
            return Err(CommandError::AuditScopeEmpty);
        }
        for audit in self.open_audits(site.id) {
            if let Some(l) = lockers.iter().find(|l| self.in_scope(audit, l)) {
                return Err(CommandError::AuditOverlaps {
                    number: l.number.clone(),
                    by: audit.started_by.clone(),
                    on: uk_date(audit.started_at.date_naive()),
                });
            }
        }
        Ok(Change::AuditStarted {
            audit: AuditId::generate(ctx.now, ctx.entropy),
            site: site.id,
            scope,
        })
    }

    fn area_of_site(&self, site: SiteId, area: AreaId) -> Result<AreaId, CommandError> {
        match self.area(area) {
            Some(a) if a.site == site => Ok(a.id),
            _ => Err(CommandError::UnknownArea),
        }
    }

    pub(in crate::register) fn decide_finding(
        &self,
        audit: AuditId,
        locker: LockerId,
        kind: FindingKind,
        notes: String,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let a = self.open_audit(audit)?;
        let l = self.locker(locker).ok_or(CommandError::UnknownLocker)?;
        if !self.in_scope(a, l) {
            return Err(CommandError::LockerNotInAudit {
                number: l.number.clone(),
            });
        }
        let kind = match kind {
            FindingKind::DuplicateKeys { found } => {
                if !(2..=MAX_DUPLICATES).contains(&found) {
                    return Err(CommandError::DuplicatesOutOfRange {
                        max: MAX_DUPLICATES,
                    });
                }
                FindingKind::DuplicateKeys { found }
            }
            FindingKind::WrongLocker { key, .. } => self.wrong_locker(l, key)?,
            FindingKind::UnknownCode { code } => {
                let code = tidy(&code);
                if code.is_empty() {
                    return Err(CommandError::CodeMissing);
                }
                FindingKind::UnknownCode { code }
            }
            kind => kind,
        };
        let current = self.current_findings(audit, locker);
        if current.len() > 1 {
            return Err(CommandError::LockerFindingsDiffer {
                number: l.number.clone(),
            });
        }
        let replaces = current.first().map(|f| f.id);
        Ok(Change::AuditFindingRecorded {
            finding: FindingId::generate(ctx.now, ctx.entropy),
            audit,
            locker,
            kind,
            expected: self.expected_at(l),
            replaces,
            notes: notes.trim().to_string(),
        })
    }

    /// A key found at `at`: where it belongs, from the register (whatever the screen said).
    pub(super) fn wrong_locker(
        &self,
        at: &Locker,
        key: KeyId,
    ) -> Result<FindingKind, CommandError> {
        let k = self.key(key).ok_or(CommandError::UnknownKey)?;
        let home = self.locker_of_key(key).ok_or(CommandError::UnknownLocker)?;
        if home.id == at.id {
            return Err(CommandError::KeyBelongsHere {
                tag: k.tag.to_string(),
                number: home.number.clone(),
            });
        }
        Ok(FindingKind::WrongLocker {
            key,
            tag: k.tag.clone(),
            belongs: home.id,
            number: home.number.clone(),
        })
    }

    /// What the register holds for a locker now: its lock, and the lock's keys not retired,
    /// each with who has it.
    pub fn expected_at(&self, locker: &Locker) -> Expected {
        let keys = self
            .keys_of_locker(locker.id)
            .into_iter()
            .filter(|k| k.state != KeyState::Retired)
            .take(super::MAX_EXPECTED_KEYS)
            .map(|k| {
                let loan = self.current_loan(k.id);
                ExpectedKey {
                    key: k.id,
                    tag: k.tag.clone(),
                    kind: k.kind,
                    state: k.state,
                    holder: loan.map(|l| l.holder.clone()),
                    holder_name: loan
                        .map(|l| tidy(&self.holder_name(&l.holder)))
                        .unwrap_or_default(),
                }
            })
            .collect();
        Expected {
            number: locker.number.clone(),
            out_of_service: locker.out_of_service.is_some(),
            lock: locker.lock,
            keys,
        }
    }

    pub(in crate::register) fn decide_undo_finding(
        &self,
        finding: FindingId,
    ) -> Result<Change, CommandError> {
        let f = self
            .findings
            .get(&finding)
            .ok_or(CommandError::UnknownFinding)?;
        self.open_audit(f.audit)?;
        if !f.is_current() {
            return Err(CommandError::FindingEnded);
        }
        Ok(Change::AuditFindingUndone { finding })
    }

    pub(in crate::register) fn decide_audit_master(
        &self,
        audit: AuditId,
        key: KeyId,
        seen: bool,
        notes: String,
    ) -> Result<Change, CommandError> {
        let a = self.open_audit(audit)?;
        let k = self.key(key).ok_or(CommandError::UnknownKey)?;
        if k.kind != KeyKind::Master || !self.audit_master_keys(a).iter().any(|m| m.id == key) {
            return Err(CommandError::NotAuditMaster {
                tag: k.tag.to_string(),
            });
        }
        Ok(Change::AuditMasterChecked {
            audit,
            key,
            seen,
            notes: notes.trim().to_string(),
        })
    }

    pub(in crate::register) fn decide_complete_audit(
        &self,
        audit: AuditId,
    ) -> Result<Change, CommandError> {
        let a = self.open_audit(audit)?;
        let numbers: BTreeSet<String> = self
            .open_audit_conflicts(a.id)
            .into_iter()
            .map(|l| l.number.clone())
            .collect();
        if !numbers.is_empty() {
            return Err(CommandError::AuditConflictsOpen {
                numbers: numbers.into_iter().collect(),
            });
        }
        Ok(Change::AuditCompleted { audit })
    }

    pub(in crate::register) fn decide_route(
        &self,
        area: AreaId,
        lockers: Vec<LockerId>,
    ) -> Result<Change, CommandError> {
        let area = self.area(area).ok_or(CommandError::UnknownArea)?;
        let mut seen = BTreeSet::new();
        for id in &lockers {
            let l = self.locker(*id).ok_or(CommandError::UnknownLocker)?;
            if l.area != area.id {
                return Err(CommandError::RouteLockerElsewhere {
                    number: l.number.clone(),
                });
            }
            if !seen.insert(*id) {
                return Err(CommandError::RouteRepeats {
                    number: l.number.clone(),
                });
            }
        }
        if lockers.is_empty() {
            return Err(CommandError::CountOutOfRange {
                what: "lockers in the route",
                max: super::MAX_ROUTE,
            });
        }
        Ok(Change::AuditRouteSet {
            area: area.id,
            lockers,
        })
    }

    pub(in crate::register) fn decide_term_dates(
        &self,
        site: SiteId,
        terms: Vec<Term>,
    ) -> Result<Change, CommandError> {
        let site = self.site(site).ok_or(CommandError::UnknownSite)?;
        let mut terms: Vec<Term> = terms
            .into_iter()
            .map(|t| Term {
                name: tidy(&t.name),
                ..t
            })
            .collect();
        terms.sort_by_key(|t| (t.start, t.end));
        if terms.len() > MAX_TERMS {
            return Err(CommandError::CountOutOfRange {
                what: "terms",
                max: MAX_TERMS,
            });
        }
        check_terms(&terms)?;
        Ok(Change::TermDatesSet {
            site: site.id,
            terms,
        })
    }

    pub(in crate::register) fn decide_person_left(
        &self,
        person: PersonId,
        left: Option<NaiveDate>,
    ) -> Result<Change, CommandError> {
        let p = self.person(person).ok_or(CommandError::UnknownPerson)?;
        if p.left == left {
            return Err(CommandError::PersonLeftUnchanged {
                name: p.details.name.clone(),
            });
        }
        Ok(Change::PersonLeft { person, left })
    }
}

/// Terms in order, each named, none backwards, none overlapping (an empty list clears them).
pub(crate) fn check_terms(terms: &[Term]) -> Result<(), CommandError> {
    for t in terms {
        if t.name.is_empty() {
            return Err(CommandError::TermNameEmpty);
        }
        crate::checks::name_text("The term's name", &t.name)?;
        if t.end < t.start {
            return Err(CommandError::TermBackwards {
                name: t.name.clone(),
            });
        }
    }
    for w in terms.windows(2) {
        if w[1].start < w[0].start {
            return Err(CommandError::Malformed("the terms are not in date order"));
        }
        if w[1].start <= w[0].end {
            return Err(CommandError::TermsOverlap {
                first: w[0].name.clone(),
                second: w[1].name.clone(),
            });
        }
    }
    Ok(())
}
