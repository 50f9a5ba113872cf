//! What the audit screens ask: audits, walking order, progress, scans, master keys.

use super::{Audit, AuditScope, Finding, FindingKind, MasterCheck};
use crate::conflict::ConflictKind;
use crate::error::CommandError;
use crate::format::uk_date;
use crate::ids::{AreaId, AuditId, FindingId, KeyId, LockerId, SiteId, SuiteId};
use crate::label::Scanned;
use crate::model::{Key, Locker};
use crate::register::{Register, Resolved};
use crate::search::natural_cmp;
use std::collections::{BTreeMap, BTreeSet};

/// An audit's progress: how far the walk has got, and each locker in walking order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditProgress<'a> {
    /// Lockers with a current finding.
    pub done: usize,
    /// Lockers with none yet.
    pub to_do: usize,
    /// Lockers whose current finding is anything but "as expected" (a conflict counts).
    pub issues: usize,
    /// Lockers with two current findings that differ, waiting for a person to decide.
    pub conflicts: usize,
    pub lockers: Vec<LockerProgress<'a>>,
    pub masters: Vec<MasterProgress<'a>>,
}

impl AuditProgress<'_> {
    /// The next locker still to do after `after` in walking order (wrapping round), if any.
    pub fn next_after(&self, after: LockerId) -> Option<LockerId> {
        let at = self
            .lockers
            .iter()
            .position(|l| l.locker.id == after)
            .map_or(0, |i| i + 1);
        let n = self.lockers.len();
        (0..n)
            .map(|i| &self.lockers[(at + i) % n])
            .find(|l| l.findings.is_empty() && l.locker.id != after)
            .map(|l| l.locker.id)
    }
}

/// One locker of an audit, in walking order, with its current findings (none: to do; two or
/// more: a conflict).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockerProgress<'a> {
    pub locker: &'a Locker,
    pub findings: Vec<&'a Finding>,
}

impl LockerProgress<'_> {
    /// The finding that stands, when there is exactly one.
    pub fn current(&self) -> Option<&Finding> {
        match self.findings.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

/// A master key the audit covers, and its check in this audit so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterProgress<'a> {
    pub key: &'a Key,
    pub suite: SuiteId,
    pub suite_name: String,
    pub check: Option<&'a MasterCheck>,
}

/// What a scan at a locker during an audit means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditScan {
    /// A label of a locker of this audit: move on to it.
    Locker(LockerId),
    /// A label of a locker outside this audit.
    LockerElsewhere(LockerId),
    /// A tag of one of this locker's own keys: nothing wrong.
    OwnKey(KeyId),
    /// A master key of the audit's suites: record it seen.
    Master(KeyId),
    /// Something to record as a finding: a key that belongs elsewhere, or an unknown code.
    Finding(FindingKind),
}

impl Register {
    pub fn audit(&self, id: AuditId) -> Option<&Audit> {
        self.audits.get(&id)
    }
    pub fn finding(&self, id: FindingId) -> Option<&Finding> {
        self.findings.get(&id)
    }
    /// A site's audits, newest first.
    pub fn audits_of(&self, site: SiteId) -> Vec<&Audit> {
        self.audits
            .values()
            .rev()
            .filter(|a| a.site == site)
            .collect()
    }
    /// A site's audits not yet completed, oldest first.
    pub fn open_audits(&self, site: SiteId) -> Vec<&Audit> {
        self.audits
            .values()
            .filter(|a| a.site == site && a.is_open())
            .collect()
    }
    /// A site's completed audits, newest completion first.
    pub fn completed_audits(&self, site: SiteId) -> Vec<&Audit> {
        let mut done: Vec<&Audit> = self
            .audits
            .values()
            .filter(|a| a.site == site && !a.is_open())
            .collect();
        done.sort_by_key(|a| std::cmp::Reverse(a.completed.as_ref().map(|c| (c.at, a.id))));
        done
    }
    /// The open audit a locker belongs to (the earliest started, if two devices started
    /// overlapping ones offline).
    pub fn open_audit_of_locker(&self, locker: LockerId) -> Option<&Audit> {
        let l = self.locker(locker)?;
        self.open_audits(l.site)
            .into_iter()
            .find(|a| self.in_scope(a, l))
    }

    pub(super) fn open_audit(&self, audit: AuditId) -> Result<&Audit, CommandError> {
        let a = self.audit(audit).ok_or(CommandError::UnknownAudit)?;
        match &a.completed {
            Some(c) => Err(CommandError::AuditComplete {
                on: uk_date(c.at.date_naive()),
            }),
            None => Ok(a),
        }
    }

    /// Whether a locker is in the audit's scope.
    pub fn in_scope(&self, audit: &Audit, locker: &Locker) -> bool {
        locker.site == audit.site && scope_has(&audit.scope, locker)
    }

    /// The site's lockers a scope covers, in walking order.
    pub(super) fn scope_lockers(&self, site: SiteId, scope: &AuditScope) -> Vec<&Locker> {
        let areas = match scope {
            AuditScope::Site => self.areas_of(site).into_iter().map(|a| a.id).collect(),
            AuditScope::Area { area } | AuditScope::Range { area, .. } => vec![*area],
        };
        let mut by_area: BTreeMap<_, Vec<&Locker>> = BTreeMap::new();
        for l in self.lockers() {
            if l.site == site && scope_has(scope, l) {
                by_area.entry(l.area).or_default().push(l);
            }
        }
        let mut walk = Vec::new();
        for area in areas {
            let Some(mut lockers) = by_area.remove(&area) else {
                continue;
            };
            let route: BTreeMap<LockerId, usize> = self
                .routes
                .get(&area)
                .map(|r| r.iter().enumerate().map(|(i, l)| (*l, i)).collect())
                .unwrap_or_default();
            lockers.sort_by(|a, b| {
                let (ra, rb) = (
                    route.get(&a.id).copied().unwrap_or(usize::MAX),
                    route.get(&b.id).copied().unwrap_or(usize::MAX),
                );
                ra.cmp(&rb)
                    .then_with(|| natural_cmp(&a.number, &b.number))
                    .then_with(|| a.id.cmp(&b.id))
            });
            walk.extend(lockers);
        }
        walk
    }

    /// An audit's lockers in walking order: area by area (by name), each area's saved route
    /// first, then the rest in number order.
    pub fn audit_lockers(&self, audit: &Audit) -> Vec<&Locker> {
        self.scope_lockers(audit.site, &audit.scope)
    }

    /// The area's saved route, if any.
    pub fn audit_route(&self, area: AreaId) -> &[LockerId] {
        self.routes.get(&area).map(Vec::as_slice).unwrap_or(&[])
    }

    /// A locker's current findings in an audit, oldest first: one normally, two or more while
    /// auditors disagree.
    pub fn current_findings(&self, audit: AuditId, locker: LockerId) -> Vec<&Finding> {
        self.findings_at
            .get(&(audit, locker))
            .into_iter()
            .flatten()
            .filter_map(|f| self.findings.get(f))
            .filter(|f| f.is_current() && !f.late)
            .collect()
    }

    /// The master keys an audit covers: those of every suite with a lock in its scope (a
    /// whole-site audit: every suite of the site), by suite name then tag.
    pub fn audit_master_keys(&self, audit: &Audit) -> Vec<&Key> {
        self.audit_suites(audit)
            .into_iter()
            .flat_map(|s| {
                let mut keys = self.master_keys_of(s);
                keys.sort_by(|a, b| a.tag.cmp(&b.tag));
                keys
            })
            .collect()
    }

    fn audit_suites(&self, audit: &Audit) -> Vec<SuiteId> {
        self.suites_of(audit.site)
            .into_iter()
            .filter(|s| {
                audit.scope == AuditScope::Site
                    || self.suite_locks(s.id).iter().any(|lock| {
                        lock.removed_at.is_none()
                            && self
                                .locker(lock.locker)
                                .is_some_and(|l| self.in_scope(audit, l))
                    })
            })
            .map(|s| s.id)
            .collect()
    }

    /// Where the audit stands: each locker in walking order with its current findings, the
    /// counts, and the master keys with their checks.
    pub fn audit_progress<'a>(&'a self, audit: &'a Audit) -> AuditProgress<'a> {
        self.progress(audit, None)
    }

    /// One area's part of an audit (auditors sharing a site's audit take an area each): its
    /// lockers and counts only; the master keys are the whole audit's.
    pub fn audit_progress_in<'a>(&'a self, audit: &'a Audit, area: AreaId) -> AuditProgress<'a> {
        self.progress(audit, Some(area))
    }

    fn progress<'a>(&'a self, audit: &'a Audit, area: Option<AreaId>) -> AuditProgress<'a> {
        let mut current: BTreeMap<LockerId, Vec<&Finding>> = BTreeMap::new();
        for f in audit.findings.iter().filter_map(|f| self.findings.get(f)) {
            if f.is_current() && !f.late {
                current.entry(f.locker).or_default().push(f);
            }
        }
        let lockers: Vec<LockerProgress<'_>> = self
            .audit_lockers(audit)
            .into_iter()
            .filter(|l| area.is_none_or(|a| l.area == a))
            .map(|locker| LockerProgress {
                locker,
                findings: current.remove(&locker.id).unwrap_or_default(),
            })
            .collect();
        let done = lockers.iter().filter(|l| !l.findings.is_empty()).count();
        let conflicts = lockers.iter().filter(|l| l.findings.len() > 1).count();
        let issues = lockers
            .iter()
            .filter(|l| l.findings.len() > 1 || l.findings.iter().any(|f| f.kind.is_issue()))
            .count();
        let masters = self
            .audit_master_keys(audit)
            .into_iter()
            .filter_map(|key| {
                let suite = self.suite_of_key(key.id)?;
                Some(MasterProgress {
                    key,
                    suite: suite.id,
                    suite_name: suite.name.clone(),
                    check: audit.masters.get(&key.id),
                })
            })
            .collect();
        AuditProgress {
            done,
            to_do: lockers.len() - done,
            issues,
            conflicts,
            lockers,
            masters,
        }
    }

    /// The next locker still to do after `after` in walking order (wrapping round), if any.
    /// (A screen that has the progress already asks it: [`AuditProgress::next_after`].)
    pub fn next_to_do(&self, audit: &Audit, after: LockerId) -> Option<LockerId> {
        self.audit_progress(audit).next_after(after)
    }

    /// What a scanned or typed code means at `locker` during `audit`: a locker label moves
    /// on, the locker's own key is fine, a master key is seen, a key of another locker or an
    /// unknown code is a finding to record.
    pub fn audit_scan(&self, audit: &Audit, locker: LockerId, text: &str) -> AuditScan {
        let unknown = || {
            AuditScan::Finding(FindingKind::UnknownCode {
                code: crate::normalise::tidy(text)
                    .chars()
                    .take(crate::checks::MAX_NAME)
                    .collect(),
            })
        };
        let Some(scanned) = Scanned::parse(text) else {
            return unknown();
        };
        match self.resolve(&scanned) {
            Resolved::Locker(site, id) if site == audit.site => {
                match self.locker(id).is_some_and(|l| self.in_scope(audit, l)) {
                    true => AuditScan::Locker(id),
                    false => AuditScan::LockerElsewhere(id),
                }
            }
            Resolved::Key(site, key) if site == audit.site => {
                if self.audit_master_keys(audit).iter().any(|m| m.id == key) {
                    return AuditScan::Master(key);
                }
                match self.locker(locker).map(|l| self.wrong_locker(l, key)) {
                    Some(Ok(kind)) => AuditScan::Finding(kind),
                    _ => AuditScan::OwnKey(key),
                }
            }
            _ => unknown(),
        }
    }

    /// The lockers of an audit with two auditors' findings not yet decided.
    pub(super) fn open_audit_conflicts(&self, audit: AuditId) -> Vec<&Locker> {
        let lockers: BTreeSet<LockerId> = self
            .conflicts
            .values()
            .filter(|c| c.decision.is_none())
            .filter_map(|c| match &c.kind {
                ConflictKind::AuditFindingsDiffer {
                    audit: a, locker, ..
                } if *a == audit => Some(*locker),
                _ => None,
            })
            .filter(|l| self.current_findings(audit, *l).len() > 1)
            .collect();
        lockers.iter().filter_map(|l| self.locker(*l)).collect()
    }
}

fn scope_has(scope: &AuditScope, locker: &Locker) -> bool {
    match scope {
        AuditScope::Site => true,
        AuditScope::Area { area } => locker.area == *area,
        AuditScope::Range { area, from, to } => {
            locker.area == *area
                && natural_cmp(&locker.number, from).is_ge()
                && natural_cmp(&locker.number, to).is_le()
        }
    }
}
