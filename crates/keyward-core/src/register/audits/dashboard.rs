//! The manager's dashboard: plain series the app draws as charts (and as tables for screen
//! readers). Every query takes the caller's `today` or `now`; the core has no clock.

use super::schedule::DueState;
use crate::ids::{AreaId, SiteId};
use crate::register::Register;
use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveTime, Utc};
use std::collections::BTreeMap;

/// A count for one calendar month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthCount {
    /// Its first day.
    pub month: NaiveDate,
    /// "Nov 2026".
    pub label: String,
    pub count: usize,
}

/// A count for one area.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AreaCount {
    pub area: AreaId,
    pub name: String,
    pub count: usize,
}

/// A count at the end of one week.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeekCount {
    /// The week's last day (a Sunday); the count is as at its end.
    pub week_ending: NaiveDate,
    /// "w/e 29/11/2026".
    pub label: String,
    pub count: usize,
}

/// One area's audit completion: its last audit, and whether it is on time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditCompletion {
    pub area: AreaId,
    pub name: String,
    pub last: Option<DateTime<Utc>>,
    /// Not late and audited at least once (`false` for late, never, or no term dates).
    pub on_time: bool,
    pub state: DueState,
}

impl Register {
    /// Keys reported lost or stolen at the site per calendar month, the 12 months up to and
    /// including `today`'s, oldest first.
    pub fn lost_keys_per_month(&self, site: SiteId, today: NaiveDate) -> Vec<MonthCount> {
        let this = today.with_day(1).unwrap_or(today);
        let months: Vec<NaiveDate> = (0..12)
            .rev()
            .filter_map(|i| this.checked_sub_months(Months::new(i)))
            .collect();
        let mut counts: BTreeMap<NaiveDate, usize> = months.iter().map(|m| (*m, 0)).collect();
        for c in self.cases_of(site) {
            let day = c.reported_at.date_naive();
            if let Some(n) = day.with_day(1).and_then(|m| counts.get_mut(&m)) {
                *n += 1;
            }
        }
        months
            .into_iter()
            .map(|month| MonthCount {
                month,
                label: month.format("%b %Y").to_string(),
                count: counts[&month],
            })
            .collect()
    }

    /// Lock faults recorded since `since` per area of the site (locks fitted now or before),
    /// every area by name.
    pub fn faults_per_area(&self, site: SiteId, since: DateTime<Utc>) -> Vec<AreaCount> {
        let mut counts: BTreeMap<AreaId, usize> = BTreeMap::new();
        for lock in self.locks.values() {
            let Some(locker) = self.locker(lock.locker).filter(|l| l.site == site) else {
                continue;
            };
            *counts.entry(locker.area).or_default() +=
                lock.faults.iter().filter(|f| f.at >= since).count();
        }
        self.areas_of(site)
            .into_iter()
            .map(|a| AreaCount {
                area: a.id,
                name: a.name.clone(),
                count: counts.get(&a.id).copied().unwrap_or(0),
            })
            .collect()
    }

    /// How many of the site's loans were overdue at the end of each of the `weeks` weeks up to
    /// the one holding `today` (weeks end on Sunday), oldest first, rebuilt from the loans'
    /// history (returns, handovers and losses end a loan). Times are as stored (UTC).
    pub fn overdue_over_time(&self, site: SiteId, today: NaiveDate, weeks: u32) -> Vec<WeekCount> {
        let to_sunday = u64::from(6 - today.weekday().num_days_from_monday());
        let last = today + Days::new(to_sunday);
        let loans: Vec<_> = self
            .loans
            .values()
            .filter(|l| l.expected_return.is_some())
            .filter(|l| self.locker(l.locker).is_some_and(|x| x.site == site))
            .collect();
        (0..weeks)
            .rev()
            .filter_map(|i| last.checked_sub_days(Days::new(u64::from(i) * 7)))
            .map(|week_ending| {
                let at = week_ending
                    .succ_opt()
                    .unwrap_or(week_ending)
                    .and_time(NaiveTime::MIN);
                let count = loans
                    .iter()
                    .filter(|l| {
                        let started = l.issued_at.naive_utc() <= at;
                        let due_passed = l.due_at().is_some_and(|due| due < at);
                        let returned = l.returned.as_ref().is_some_and(|r| r.at.naive_utc() <= at);
                        let lost = l
                            .lost
                            .and_then(|c| self.case(c))
                            .is_some_and(|c| c.reported_at.naive_utc() <= at);
                        started && due_passed && !returned && !lost
                    })
                    .count();
                WeekCount {
                    week_ending,
                    label: format!("w/e {}", crate::format::uk_date(week_ending)),
                    count,
                }
            })
            .collect()
    }

    /// Each area's last audit and whether it is on time, by area name.
    pub fn audit_completion(&self, site: SiteId, today: NaiveDate) -> Vec<AuditCompletion> {
        self.audits_due(site, today)
            .into_iter()
            .map(|d| AuditCompletion {
                area: d.area,
                name: d.name,
                last: d.last.map(|(_, at)| at),
                on_time: matches!(d.state, DueState::NotDue { .. } | DueState::Due { .. }),
                state: d.state,
            })
            .collect()
    }
}
