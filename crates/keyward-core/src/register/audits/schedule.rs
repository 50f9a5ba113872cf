//! When each area is due an audit: its interval from the area's policy, termly from the
//! site's term dates; and an audit suggested when many people leave an area.
//!
//! An area counts as audited by a completed audit of the whole site or of that area (a range
//! of lockers does not cover the area). "Due" means the due day is within [`DUE_SOON_DAYS`]
//! (or, termly, the current term has had no audit yet); "late" means the due day has passed
//! (termly: a term ended with no audit in it).

use super::{AuditScope, Term};
use crate::ids::{AreaId, AuditId, PersonId, SiteId};
use crate::model::Holder;
use crate::register::{AuditInterval, Register};
use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use std::collections::BTreeSet;

/// An audit is "due" this many days before its due day.
pub const DUE_SOON_DAYS: u64 = 14;
/// "Many" people leaving an area: this many or more …
pub const MANY_LEAVERS: usize = 3;
/// … who held a key there, leaving within this many days.
pub const LEAVERS_WINDOW_DAYS: u64 = 30;

/// Where an area stands for its next audit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DueState {
    /// Not due yet: next due on `next` (`None`: termly, and the next term's dates are not set).
    NotDue { next: Option<NaiveDate> },
    /// Due by this day.
    Due { by: NaiveDate },
    /// Late since this day.
    Late { since: NaiveDate },
    /// Never audited.
    Never,
    /// Termly, but the site has set no term dates for now: set them to know when it is due.
    NoTermDates,
}

impl DueState {
    /// In plain words, e.g. "Late since 01/12/2026".
    pub fn words(&self) -> String {
        use crate::format::uk_date;
        match self {
            DueState::NotDue { next: Some(d) } => format!("Next due by {}", uk_date(*d)),
            DueState::NotDue { next: None } => {
                "Done this term; set next term's dates to know when it is next due".into()
            }
            DueState::Due { by } => format!("Due by {}", uk_date(*by)),
            DueState::Late { since } => format!("Late since {}", uk_date(*since)),
            DueState::Never => "Never audited".into(),
            DueState::NoTermDates => {
                "Termly audits need the site's term dates: set them in Set-up".into()
            }
        }
    }
}

/// One area's audit schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditDue {
    pub area: AreaId,
    pub name: String,
    pub interval: AuditInterval,
    /// The last completed audit that covered the whole area, and when it finished.
    pub last: Option<(AuditId, DateTime<Utc>)>,
    pub state: DueState,
    /// People who held a key in the area and left within [`LEAVERS_WINDOW_DAYS`].
    pub leavers: Vec<PersonId>,
    /// An audit is suggested: [`MANY_LEAVERS`] or more of them.
    pub suggested: bool,
}

impl Register {
    /// The site's term dates, in order.
    pub fn term_dates(&self, site: SiteId) -> &[Term] {
        self.terms.get(&site).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every area of the site with its audit schedule as of `today`, by area name.
    pub fn audits_due(&self, site: SiteId, today: NaiveDate) -> Vec<AuditDue> {
        self.areas_of(site)
            .into_iter()
            .map(|area| {
                let interval = self.policy_for_area(area.id).audit;
                let last = self.last_area_audit(site, area.id);
                let done = last.map(|(_, at)| at.date_naive());
                let state = match (interval, done) {
                    (_, None) => DueState::Never,
                    (AuditInterval::Termly, Some(done)) => {
                        termly(self.term_dates(site), done, today)
                    }
                    (interval, Some(done)) => {
                        let due = match interval {
                            AuditInterval::Monthly => done.checked_add_months(Months::new(1)),
                            AuditInterval::Quarterly => done.checked_add_months(Months::new(3)),
                            AuditInterval::EveryDays(n) => {
                                done.checked_add_days(Days::new(u64::from(n)))
                            }
                            AuditInterval::Termly => None,
                        }
                        .unwrap_or(done);
                        by_day(due, today)
                    }
                };
                let leavers = self.leavers_of_area(area.id, today);
                AuditDue {
                    area: area.id,
                    name: area.name.clone(),
                    interval,
                    last,
                    state,
                    suggested: leavers.len() >= MANY_LEAVERS,
                    leavers,
                }
            })
            .collect()
    }

    /// The areas due, late or never audited, or with an audit suggested.
    pub fn audits_needed(&self, site: SiteId, today: NaiveDate) -> Vec<AuditDue> {
        self.audits_due(site, today)
            .into_iter()
            .filter(|d| d.suggested || !matches!(d.state, DueState::NotDue { .. }))
            .collect()
    }

    fn last_area_audit(&self, site: SiteId, area: AreaId) -> Option<(AuditId, DateTime<Utc>)> {
        self.completed_audits(site)
            .into_iter()
            .filter(|a| match a.scope {
                AuditScope::Site => true,
                AuditScope::Area { area: x } => x == area,
                AuditScope::Range { .. } => false,
            })
            .find_map(|a| a.completed.as_ref().map(|c| (a.id, c.at)))
    }

    /// People recorded as having left in the [`LEAVERS_WINDOW_DAYS`] up to `today` who held a
    /// key at a locker of the area on their last day or in the window before it.
    pub fn leavers_of_area(&self, area: AreaId, today: NaiveDate) -> Vec<PersonId> {
        let window = Days::new(LEAVERS_WINDOW_DAYS);
        let Some(a) = self.area(area) else {
            return Vec::new();
        };
        let since = today.checked_sub_days(window).unwrap_or(today);
        let mut people = BTreeSet::new();
        for p in self.people_of(a.site) {
            let Some(left) = p.left.filter(|d| *d > since && *d <= today) else {
                continue;
            };
            let from = left.checked_sub_days(window).unwrap_or(left);
            let held = self.loans.values().any(|l| {
                l.holder == Holder::Person(p.id)
                    && l.date <= left
                    && self.locker(l.locker).is_some_and(|x| x.area == area)
                    && l.returned
                        .as_ref()
                        .is_none_or(|r| r.at.date_naive() >= from)
            });
            if held {
                people.insert(p.id);
            }
        }
        people.into_iter().collect()
    }
}

fn by_day(due: NaiveDate, today: NaiveDate) -> DueState {
    if today > due {
        DueState::Late { since: due }
    } else if today + Days::new(DUE_SOON_DAYS) >= due {
        DueState::Due { by: due }
    } else {
        DueState::NotDue { next: Some(due) }
    }
}

/// Once a term: late when the last term that ended had no audit since it began; due while
/// the current term has had none; else done until the next term's end.
fn termly(terms: &[Term], done: NaiveDate, today: NaiveDate) -> DueState {
    if terms.is_empty() {
        return DueState::NoTermDates;
    }
    if let Some(ended) = terms.iter().rev().find(|t| t.end < today) {
        if done < ended.start {
            return DueState::Late { since: ended.end };
        }
    }
    match terms
        .iter()
        .position(|t| t.start <= today && today <= t.end)
    {
        Some(i) if done < terms[i].start => DueState::Due { by: terms[i].end },
        Some(i) => DueState::NotDue {
            next: terms.get(i + 1).map(|t| t.end),
        },
        // Between terms: the next term's audit is due by its end.
        None => match terms.iter().find(|t| t.start > today) {
            Some(next) => DueState::NotDue {
                next: Some(next.end),
            },
            None => DueState::NoTermDates,
        },
    }
}
