//! The audit report: made once, when the completion is folded, from the state at that point
//! of the log, and kept with the audit (so it reads the same later, on every device). It
//! holds words as they were then (numbers, tags, names), so later renaming changes nothing.

use super::{Audit, AuditScope, FindingKind};
use crate::event::Event;
use crate::format::{uk_date, uk_date_time};
use crate::ids::{AuditId, KeyId, LockId, LockerId, OrderId, PersonId};
use crate::model::{KeyKind, KeyState};
use crate::register::orders::csv_field;
use crate::register::{due_words, late_words, Register};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// Everything the office files after an audit. Lists are in walking order unless said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditReport {
    pub audit: Option<AuditId>,
    pub site_name: String,
    /// "Whole site", "Main corridor", "Main corridor, lockers A1 to A20".
    pub scope: String,
    pub started_by: String,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_by: String,
    pub completed_at: Option<DateTime<Utc>>,
    /// Everyone who recorded a finding or a master key, by name.
    pub auditors: Vec<String>,
    /// Lockers in scope, and how many have a finding.
    pub lockers: usize,
    pub checked: usize,
    /// Numbers of the lockers left without a finding.
    pub not_checked: Vec<String>,
    /// Every finding other than "as expected".
    pub findings: Vec<ReportFinding>,
    /// Keys out (issued or on loan) at lockers in scope.
    pub keys_issued: Vec<ReportKey>,
    /// Lockers found with a key missing, and the keys the register had in store for them.
    pub keys_missing: Vec<ReportMissing>,
    /// Numbers of lockers in scope, in service with a lock, with no key out to anyone.
    pub unassigned: Vec<String>,
    /// Every master key the audit covers, and when it was last seen.
    pub master_keys: Vec<ReportMaster>,
    /// Locks with repeated faults (the area's policy) or repeated losses.
    pub repeated_problems: Vec<ReportProblem>,
    /// Replacement keys that do not match the register.
    pub mismatches: Vec<ReportMismatch>,
    /// People recorded as having left who still hold keys at lockers in scope, by name.
    pub leavers: Vec<ReportLeaver>,
    /// Loans overdue at completion (its time as stored, UTC), oldest due first.
    pub overdue: Vec<ReportOverdue>,
    /// What changed since the previous completed audit of the same scope, if there was one.
    pub changes: Option<ReportChanges>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportFinding {
    pub locker: LockerId,
    pub number: String,
    pub kind: FindingKind,
    /// The finding in a sentence.
    pub words: String,
    pub notes: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportKey {
    pub key: KeyId,
    pub tag: String,
    pub number: String,
    pub holder: String,
    pub since: NaiveDate,
    /// When a temporary loan is due back; empty for the term.
    pub due: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportMissing {
    pub locker: LockerId,
    pub number: String,
    /// Tags of the keys the register had in store there when the finding was made.
    pub tags: Vec<String>,
    pub notes: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportMaster {
    pub key: KeyId,
    pub tag: String,
    pub suite: String,
    /// In this audit: seen, not seen, or not checked (`None`).
    pub seen_in_audit: Option<bool>,
    /// The last time it was seen in its place: in an audit or a presence check.
    pub last_seen: Option<DateTime<Utc>>,
    /// "Lost" when it is; else empty.
    pub state: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportProblem {
    pub lock: LockId,
    pub number: String,
    /// Faults within the area's fault window.
    pub recent_faults: usize,
    /// Lost-key cases at the locker, ever.
    pub losses: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportMismatch {
    /// The order it concerns; none for a copy added without one.
    pub order: Option<OrderId>,
    pub number: String,
    /// What does not match, in a sentence.
    pub words: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportLeaver {
    pub person: PersonId,
    pub name: String,
    pub left: NaiveDate,
    /// "K7M2P9Q (A12)" for each key they hold.
    pub keys: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportOverdue {
    pub key: KeyId,
    pub tag: String,
    pub number: String,
    pub holder: String,
    pub due: String,
    pub late: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportChanges {
    pub previous: AuditId,
    pub previous_completed: DateTime<Utc>,
    /// Issues found now that the previous audit did not find.
    pub new: Vec<ReportChange>,
    /// Issues the previous audit found that are no longer found.
    pub gone: Vec<ReportChange>,
    /// Issues found both times.
    pub still: Vec<ReportChange>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReportChange {
    pub number: String,
    /// The kind of issue, e.g. "Key missing".
    pub words: String,
}

impl Register {
    /// "Whole site", "Main corridor", "Main corridor, lockers A1 to A20".
    pub fn scope_words(&self, scope: &AuditScope) -> String {
        let area = |a| {
            self.area(a)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| "An area".into())
        };
        match scope {
            AuditScope::Site => "Whole site".into(),
            AuditScope::Area { area: a } => area(*a),
            AuditScope::Range { area: a, from, to } => {
                format!("{}, lockers {from} to {to}", area(*a))
            }
        }
    }

    pub(super) fn build_report(&self, audit: AuditId, event: &Event) -> AuditReport {
        let Some(a) = self.audit(audit) else {
            return AuditReport::default();
        };
        let now = event.at;
        let lockers = self.audit_lockers(a);
        let in_scope: BTreeSet<LockerId> = lockers.iter().map(|l| l.id).collect();
        let progress = self.audit_progress(a);
        let mut auditors: BTreeSet<String> = BTreeSet::new();
        let mut findings = Vec::new();
        let mut keys_missing = Vec::new();
        for lp in &progress.lockers {
            for f in &lp.findings {
                auditors.insert(f.by.clone());
                if f.kind.is_issue() {
                    findings.push(ReportFinding {
                        locker: lp.locker.id,
                        number: lp.locker.number.clone(),
                        kind: f.kind.clone(),
                        words: f.kind.words(),
                        notes: f.notes.clone(),
                        by: f.by.clone(),
                        at: f.at,
                    });
                }
                if f.kind == FindingKind::KeyMissing {
                    keys_missing.push(ReportMissing {
                        locker: lp.locker.id,
                        number: lp.locker.number.clone(),
                        tags: f
                            .expected
                            .keys
                            .iter()
                            .filter(|k| k.state == KeyState::InStore && k.kind != KeyKind::Master)
                            .map(|k| k.tag.to_string())
                            .collect(),
                        notes: f.notes.clone(),
                    });
                }
            }
        }
        auditors.extend(a.masters.values().map(|m| m.by.clone()));

        let mut keys_issued = Vec::new();
        let mut unassigned = Vec::new();
        for l in &lockers {
            let keys = self.keys_of_locker(l.id);
            let mut out = false;
            for k in keys.iter().filter(|k| k.state.is_out()) {
                if let Some(loan) = self.current_loan(k.id) {
                    out = true;
                    keys_issued.push(ReportKey {
                        key: k.id,
                        tag: k.tag.to_string(),
                        number: l.number.clone(),
                        holder: self.holder_name(&loan.holder),
                        since: loan.date,
                        due: due_words(loan),
                    });
                }
            }
            if !out && l.lock.is_some() && l.out_of_service.is_none() {
                unassigned.push(l.number.clone());
            }
        }

        let master_keys = self
            .audit_master_keys(a)
            .into_iter()
            .map(|k| {
                let check = a.masters.get(&k.id);
                let audit_seen = self
                    .audits
                    .values()
                    .filter_map(|x| x.masters.get(&k.id))
                    .filter(|m| m.seen && m.at <= now)
                    .map(|m| m.at)
                    .max();
                let checked = self.last_seen(k.id).map(|s| s.at);
                ReportMaster {
                    key: k.id,
                    tag: k.tag.to_string(),
                    suite: self
                        .suite_of_key(k.id)
                        .map(|s| s.name.clone())
                        .unwrap_or_default(),
                    seen_in_audit: check.map(|c| c.seen),
                    last_seen: audit_seen.max(checked),
                    state: match k.state {
                        KeyState::Lost | KeyState::Stolen => k.state.label().to_string(),
                        _ => String::new(),
                    },
                }
            })
            .collect();

        let losses: BTreeMap<LockerId, usize> =
            self.repeated_losses(a.site).lockers.into_iter().collect();
        let repeated_problems = lockers
            .iter()
            .filter_map(|l| {
                let lock = self.lock(l.lock?)?;
                let flagged = self.lock_flagged(lock.id, now);
                let lost = losses.get(&l.id).copied().unwrap_or(0);
                (flagged || lost > 0).then(|| ReportProblem {
                    lock: lock.id,
                    number: l.number.clone(),
                    recent_faults: self.recent_faults(
                        lock.id,
                        now,
                        i64::from(self.policy_for_locker(l.id).fault_flag.days),
                    ),
                    losses: lost,
                })
            })
            .collect();

        let mismatches = self.mismatches(a, &in_scope);

        let mut leavers: Vec<ReportLeaver> = self
            .people_of(a.site)
            .into_iter()
            .filter_map(|p| {
                let left = p.left.filter(|d| *d <= now.date_naive())?;
                let keys: Vec<String> = self
                    .loans_of(p.id)
                    .into_iter()
                    .filter(|l| l.is_open() && in_scope.contains(&l.locker))
                    .filter(|l| self.key(l.key).is_some_and(|k| k.loan == Some(l.id)))
                    .filter_map(|l| {
                        let k = self.key(l.key)?;
                        let n = self.locker(l.locker)?;
                        Some(format!("{} ({})", k.tag, n.number))
                    })
                    .collect();
                (!keys.is_empty()).then(|| ReportLeaver {
                    person: p.id,
                    name: p.details.name.clone(),
                    left,
                    keys,
                })
            })
            .collect();
        leavers.sort_by(|x, y| {
            (x.name.to_lowercase(), x.person).cmp(&(y.name.to_lowercase(), y.person))
        });

        let mut overdue: Vec<ReportOverdue> = self
            .overdue(a.site, None, now.naive_utc())
            .into_iter()
            .filter(|o| in_scope.contains(&o.locker.id))
            .map(|o| ReportOverdue {
                key: o.key.id,
                tag: o.key.tag.to_string(),
                number: o.locker.number.clone(),
                holder: o.holder.clone(),
                due: o.due_words(),
                late: late_words(o.late),
            })
            .collect();
        overdue.sort_by_key(|o| {
            self.current_loan(o.key)
                .and_then(|l| l.due_at())
                .map(|d| (d, o.key))
        });

        let changes = self.changes_since(a, &findings);

        AuditReport {
            audit: Some(a.id),
            site_name: self
                .site(a.site)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            scope: self.scope_words(&a.scope),
            started_by: a.started_by.clone(),
            started_at: Some(a.started_at),
            completed_by: event.actor.clone(),
            completed_at: Some(now),
            auditors: auditors.into_iter().collect(),
            lockers: lockers.len(),
            checked: progress.done,
            not_checked: progress
                .lockers
                .iter()
                .filter(|l| l.findings.is_empty())
                .map(|l| l.locker.number.clone())
                .collect(),
            findings,
            keys_issued,
            keys_missing,
            unassigned,
            master_keys,
            repeated_problems,
            mismatches,
            leavers,
            overdue,
            changes,
        }
    }

    /// Replacement keys that do not match the register, for orders of locks in scope: a
    /// receipt that counted more keys than it recorded, and keys received cut to a code no
    /// fitted lock of the site has (the lock was changed before they came).
    fn mismatches(&self, audit: &Audit, in_scope: &BTreeSet<LockerId>) -> Vec<ReportMismatch> {
        let codes: BTreeSet<&str> = self
            .lockers()
            .filter(|l| l.site == audit.site)
            .filter_map(|l| self.lock(l.lock?))
            .map(|l| l.code.as_str())
            .collect();
        let mut list = Vec::new();
        for o in self.orders_of(audit.site).into_iter().rev() {
            let mut per_lock: BTreeMap<LockId, u32> = BTreeMap::new();
            for k in o.keys.iter().filter_map(|k| self.key(*k)) {
                *per_lock.entry(k.lock).or_default() += 1;
            }
            let mut counted: BTreeMap<LockId, u32> = BTreeMap::new();
            for (line, received) in o.lines.iter().zip(&o.received) {
                *counted.entry(line.lock).or_default() += received;
            }
            for (i, line) in o.lines.iter().enumerate() {
                let Some(lock) = self.lock(line.lock) else {
                    continue;
                };
                let Some(locker) = self
                    .locker(lock.locker)
                    .filter(|l| in_scope.contains(&l.id))
                else {
                    continue;
                };
                let first_line = o.lines.iter().position(|l| l.lock == line.lock) == Some(i);
                let recorded = per_lock.get(&line.lock).copied().unwrap_or(0);
                let received = counted.get(&line.lock).copied().unwrap_or(0);
                if first_line && recorded < received {
                    list.push(ReportMismatch {
                        order: Some(o.id),
                        number: locker.number.clone(),
                        words: format!(
                            "Order of {}: {received} keys received but {recorded} recorded in the register",
                            uk_date(o.ordered)
                        ),
                    });
                }
                if o.received[i] > 0 && !codes.contains(line.code.as_str()) {
                    list.push(ReportMismatch {
                        order: Some(o.id),
                        number: locker.number.clone(),
                        words: format!(
                            "Order of {}: {} keys cut to a code no lock has now (the lock was changed)",
                            uk_date(o.ordered),
                            o.received[i]
                        ),
                    });
                }
            }
        }
        // Copies added without an order, at lockers whose area's policy asks for one.
        for locker in in_scope.iter().filter_map(|l| self.locker(*l)) {
            if !self.policy_for_locker(locker.id).copies_need_order {
                continue;
            }
            for key in self.keys_of_locker(locker.id) {
                let Some(at) = self.unordered_copy(key.id) else {
                    continue;
                };
                if key.state == crate::model::KeyState::Retired {
                    continue;
                }
                list.push(ReportMismatch {
                    order: None,
                    number: locker.number.clone(),
                    words: format!(
                        "Key {} added as a copy on {} with no replacement order; this area's policy asks for one",
                        key.tag,
                        uk_date(at.date_naive())
                    ),
                });
            }
        }
        list
    }

    /// The previous completed audit of the same scope, and how its issues compare.
    fn changes_since(&self, audit: &Audit, now: &[ReportFinding]) -> Option<ReportChanges> {
        let previous = self
            .completed_audits(audit.site)
            .into_iter()
            .find(|p| p.id != audit.id && p.scope == audit.scope)?;
        let done = previous.completed.as_ref()?;
        let set = |list: &[ReportFinding]| -> BTreeSet<ReportChange> {
            list.iter()
                .map(|f| ReportChange {
                    number: f.number.clone(),
                    words: f.kind.label().to_string(),
                })
                .collect()
        };
        let (before, after) = (set(&done.report.findings), set(now));
        Some(ReportChanges {
            previous: previous.id,
            previous_completed: done.at,
            new: after.difference(&before).cloned().collect(),
            gone: before.difference(&after).cloned().collect(),
            still: after.intersection(&before).cloned().collect(),
        })
    }
}

impl AuditReport {
    /// The report as CSV: a heading block, then one row per line of every list, with its
    /// section. UK dates, 24-hour times (UTC, as stored).
    pub fn csv(&self) -> String {
        let when = |at: &Option<DateTime<Utc>>| at.map(|a| uk_date_time(&a)).unwrap_or_default();
        let mut rows: Vec<[String; 6]> = vec![
            head("Site", &self.site_name),
            head("Scope", &self.scope),
            head(
                "Started",
                &format!("{} by {}", when(&self.started_at), self.started_by),
            ),
            head(
                "Completed",
                &format!("{} by {}", when(&self.completed_at), self.completed_by),
            ),
            head("Auditors", &self.auditors.join("; ")),
            head(
                "Lockers",
                &format!("{} checked of {}", self.checked, self.lockers),
            ),
        ];
        let row = |s: &str, locker: &str, key: &str, who: &str, date: &str, detail: &str| {
            [s, locker, key, who, date, detail].map(str::to_string)
        };
        for n in &self.not_checked {
            rows.push(row("Not checked", n, "", "", "", ""));
        }
        for f in &self.findings {
            let detail = match f.notes.as_str() {
                "" => f.words.clone(),
                notes => format!("{}. {notes}", f.words),
            };
            rows.push(row(
                "Finding",
                &f.number,
                "",
                &f.by,
                &uk_date_time(&f.at),
                &detail,
            ));
        }
        for k in &self.keys_issued {
            rows.push(row(
                "Key issued",
                &k.number,
                &k.tag,
                &k.holder,
                &uk_date(k.since),
                &due(&k.due),
            ));
        }
        for m in &self.keys_missing {
            rows.push(row(
                "Key missing",
                &m.number,
                &m.tags.join(" "),
                "",
                "",
                &m.notes,
            ));
        }
        for n in &self.unassigned {
            rows.push(row("No assigned user", n, "", "", "", ""));
        }
        for m in &self.master_keys {
            let seen = match m.seen_in_audit {
                Some(true) => "Seen in this audit",
                Some(false) => "Not seen in this audit",
                None => "Not checked in this audit",
            };
            let detail = [m.suite.as_str(), seen, m.state.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
            rows.push(row(
                "Master key",
                "",
                &m.tag,
                "",
                &when(&m.last_seen),
                &detail,
            ));
        }
        for p in &self.repeated_problems {
            rows.push(row(
                "Repeated problems",
                &p.number,
                "",
                "",
                "",
                &format!("{} recent faults; {} lost keys", p.recent_faults, p.losses),
            ));
        }
        for m in &self.mismatches {
            rows.push(row("Replacement mismatch", &m.number, "", "", "", &m.words));
        }
        for l in &self.leavers {
            rows.push(row(
                "Left but holds keys",
                "",
                &l.keys.join(" "),
                &l.name,
                &uk_date(l.left),
                "",
            ));
        }
        for o in &self.overdue {
            rows.push(row(
                "Overdue loan",
                &o.number,
                &o.tag,
                &o.holder,
                &o.due,
                &o.late,
            ));
        }
        if let Some(c) = &self.changes {
            for (section, list) in [
                ("New since last audit", &c.new),
                ("Gone since last audit", &c.gone),
                ("Still found", &c.still),
            ] {
                for ch in list {
                    rows.push(row(
                        section,
                        &ch.number,
                        "",
                        "",
                        &uk_date_time(&c.previous_completed),
                        &ch.words,
                    ));
                }
            }
        }
        let mut csv = String::from("Section,Locker,Key,Person,Date,Detail\r\n");
        for r in rows {
            let fields: Vec<String> = r.iter().map(|f| csv_field(f)).collect();
            csv.push_str(&fields.join(","));
            csv.push_str("\r\n");
        }
        csv
    }

    /// Every line the report lists (its size at a glance): findings, keys, lockers, people.
    pub fn total_lines(&self) -> usize {
        self.findings.len()
            + self.keys_issued.len()
            + self.keys_missing.len()
            + self.unassigned.len()
            + self.master_keys.len()
            + self.repeated_problems.len()
            + self.mismatches.len()
            + self.leavers.len()
            + self.overdue.len()
    }
}

fn head(what: &str, value: &str) -> [String; 6] {
    [
        what.to_string(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        value.to_string(),
    ]
}

fn due(words: &str) -> String {
    if words.is_empty() {
        "For the term".into()
    } else {
        format!("Due back {words}")
    }
}
