//! How audit changes fit (`assess_*`), the fold (`apply_*`), and what deciding two auditors'
//! differing findings does.

use super::{Audit, AuditScope, Completed, Finding, FindingEnd, MasterCheck, Term};
use crate::conflict::{ConflictKind, Resolution};
use crate::event::{Change, Event};
use crate::ids::{AreaId, AuditId, FindingId, KeyId, LockerId, PersonId, SiteId};
use crate::model::KeyKind;
use crate::register::{Fit, Register};
use crate::timeline::What;
use chrono::NaiveDate;
use std::collections::BTreeMap;

impl Register {
    pub(in crate::register) fn assess_audit_started(
        &self,
        site: SiteId,
        scope: &AuditScope,
    ) -> Fit {
        let area_ok = match scope {
            AuditScope::Site => true,
            AuditScope::Area { area } | AuditScope::Range { area, .. } => {
                self.area(*area).is_some_and(|a| a.site == site)
            }
        };
        if self.site(site).is_some() && area_ok {
            Fit::Fits
        } else {
            Fit::Unknown("its site or area is not in the register")
        }
    }

    /// A finding of a different kind at a locker whose current finding the recording device
    /// had not seen (two auditors at one locker) conflicts with it.
    pub(in crate::register) fn assess_finding(
        &self,
        finding: FindingId,
        audit: AuditId,
        locker: LockerId,
        kind: &super::FindingKind,
        replaces: Option<FindingId>,
    ) -> Fit {
        let known = self
            .audits
            .get(&audit)
            .is_some_and(|a| self.locker(locker).is_some_and(|l| l.site == a.site));
        if !known {
            return Fit::Unknown("its audit or locker is not in the register");
        }
        if self.findings.contains_key(&finding) {
            return Fit::Unknown("a finding with its id is in the register already");
        }
        match self
            .current_findings(audit, locker)
            .into_iter()
            .find(|f| Some(f.id) != replaces && f.kind != *kind)
        {
            Some(standing) => Fit::Conflicts(ConflictKind::AuditFindingsDiffer {
                audit,
                locker,
                finding,
                standing: standing.id,
            }),
            None => Fit::Fits,
        }
    }

    pub(in crate::register) fn assess_finding_undone(&self, finding: FindingId) -> Fit {
        if self.findings.contains_key(&finding) {
            Fit::Fits
        } else {
            Fit::Unknown("its finding is not in the register")
        }
    }

    pub(in crate::register) fn assess_audit_master(&self, audit: AuditId, key: KeyId) -> Fit {
        let ok = self.audits.contains_key(&audit)
            && self.key(key).is_some_and(|k| k.kind == KeyKind::Master);
        if ok {
            Fit::Fits
        } else {
            Fit::Unknown("its audit or master key is not in the register")
        }
    }

    pub(in crate::register) fn assess_audit_known(&self, audit: AuditId) -> Fit {
        if self.audits.contains_key(&audit) {
            Fit::Fits
        } else {
            Fit::Unknown("its audit is not in the register")
        }
    }

    pub(in crate::register) fn apply_audit_started(&mut self, event: &Event) {
        let Change::AuditStarted { audit, site, scope } = &event.change else {
            return;
        };
        self.audits.entry(*audit).or_insert_with(|| Audit {
            id: *audit,
            site: *site,
            scope: scope.clone(),
            started_by: event.actor.clone(),
            started_at: event.at,
            event: event.id,
            findings: Vec::new(),
            masters: BTreeMap::new(),
            completed: None,
        });
    }

    /// A finding that fits takes the place of the one it replaces and of any current one of
    /// the same kind; a conflicting one stands beside the other until a person decides.
    pub(in crate::register) fn apply_finding(&mut self, event: &Event, conflicted: bool) {
        let Change::AuditFindingRecorded {
            finding,
            audit,
            locker,
            kind,
            expected,
            replaces,
            notes,
        } = &event.change
        else {
            return;
        };
        let Some(a) = self.audits.get_mut(audit) else {
            return;
        };
        a.findings.push(*finding);
        let late = a.completed.is_some();
        if !late {
            let ended: Vec<FindingId> = self
                .current_findings(*audit, *locker)
                .into_iter()
                .filter(|f| Some(f.id) == *replaces || (!conflicted && f.kind == *kind))
                .map(|f| f.id)
                .collect();
            for id in ended {
                if let Some(f) = self.findings.get_mut(&id) {
                    f.ended = Some(FindingEnd::Replaced { by: *finding });
                }
            }
        }
        self.findings_at
            .entry((*audit, *locker))
            .or_default()
            .push(*finding);
        self.findings.insert(
            *finding,
            Finding {
                id: *finding,
                audit: *audit,
                locker: *locker,
                kind: kind.clone(),
                expected: expected.clone(),
                replaces: *replaces,
                notes: notes.clone(),
                by: event.actor.clone(),
                at: event.at,
                event: event.id,
                late,
                ended: None,
            },
        );
        self.log(*locker, event, What::Audited { finding: *finding });
    }

    pub(in crate::register) fn apply_finding_undone(&mut self, event: &Event, finding: FindingId) {
        let Some(f) = self.findings.get_mut(&finding) else {
            return;
        };
        if f.ended.is_none() {
            f.ended = Some(FindingEnd::Undone {
                by: event.actor.clone(),
                at: event.at,
            });
            let locker = f.locker;
            self.log(locker, event, What::FindingUndone { finding });
        }
    }

    pub(in crate::register) fn apply_audit_master(&mut self, event: &Event) {
        let Change::AuditMasterChecked {
            audit,
            key,
            seen,
            notes,
        } = &event.change
        else {
            return;
        };
        if let Some(a) = self.audits.get_mut(audit) {
            a.masters.insert(
                *key,
                MasterCheck {
                    seen: *seen,
                    notes: notes.clone(),
                    by: event.actor.clone(),
                    at: event.at,
                },
            );
        }
    }

    /// The first completion makes the report from the state as it stands here in the order;
    /// a second (from another device) changes nothing.
    pub(in crate::register) fn apply_audit_completed(&mut self, event: &Event, audit: AuditId) {
        if self
            .audits
            .get(&audit)
            .is_none_or(|a| a.completed.is_some())
        {
            return;
        }
        let report = self.build_report(audit, event);
        if let Some(a) = self.audits.get_mut(&audit) {
            a.completed = Some(Completed {
                by: event.actor.clone(),
                at: event.at,
                report,
            });
        }
    }

    pub(in crate::register) fn apply_route(&mut self, area: AreaId, lockers: &[LockerId]) {
        if self.areas.contains_key(&area) {
            self.routes.insert(area, lockers.to_vec());
        }
    }

    pub(in crate::register) fn apply_term_dates(&mut self, site: SiteId, terms: &[Term]) {
        if self.sites.contains_key(&site) {
            self.terms.insert(site, terms.to_vec());
        }
    }

    pub(in crate::register) fn apply_person_left(
        &mut self,
        person: PersonId,
        left: Option<NaiveDate>,
    ) {
        if let Some(p) = self.people.get_mut(&person) {
            p.left = left;
        }
    }

    /// The finding not chosen is set aside; a finding already undone stays undone.
    pub(in crate::register) fn apply_audit_decision(
        &mut self,
        event: &Event,
        kind: &ConflictKind,
        choice: Resolution,
    ) {
        let ConflictKind::AuditFindingsDiffer {
            finding, standing, ..
        } = kind
        else {
            return;
        };
        let aside = match choice {
            Resolution::KeepFirst => finding,
            Resolution::KeepLater => standing,
            Resolution::Noted => return,
        };
        if let Some(f) = self.findings.get_mut(aside) {
            if f.ended.is_none() {
                f.ended = Some(FindingEnd::SetAside { decision: event.id });
            }
        }
    }
}
