//! Temporary loans past their due-back time, and spare keys that are out. The core has no
//! clock: every query takes the caller's `now`, in site time.

use super::Register;
use crate::format::{uk_date, uk_time};
use crate::ids::{AreaId, PersonId, SiteId};
use crate::model::{Holder, Key, KeyKind, Loan, Locker};
use chrono::{Duration, NaiveDateTime};

/// One overdue loan, as the overdue list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overdue<'a> {
    pub loan: &'a Loan,
    pub key: &'a Key,
    pub locker: &'a Locker,
    pub area_name: String,
    /// Who has it.
    pub holder: String,
    /// How late it is.
    pub late: Duration,
}

impl Overdue<'_> {
    /// "2 days late", "3 hours late", "25 minutes late".
    pub fn late_words(&self) -> String {
        late_words(self.late)
    }

    /// "28/11/2026" or "28/11/2026 17:00".
    pub fn due_words(&self) -> String {
        due_words(self.loan)
    }
}

/// How late, in the largest whole unit: "2 days late", "1 hour late", "5 minutes late".
pub fn late_words(late: Duration) -> String {
    let (n, unit) = if late.num_days() > 0 {
        (late.num_days(), "day")
    } else if late.num_hours() > 0 {
        (late.num_hours(), "hour")
    } else {
        (late.num_minutes().max(1), "minute")
    };
    format!("{n} {unit}{} late", if n == 1 { "" } else { "s" })
}

/// When a loan is due back: "28/11/2026", with its time when it has one; empty for a term issue.
pub fn due_words(loan: &Loan) -> String {
    match (loan.expected_return, loan.due_time) {
        (Some(day), Some(time)) => format!("{} {}", uk_date(day), uk_time(time)),
        (Some(day), None) => uk_date(day),
        (None, _) => String::new(),
    }
}

impl Register {
    /// Loans on a key now (the key is on them) that are overdue at `now`.
    fn overdue_loans(&self, now: NaiveDateTime) -> impl Iterator<Item = Overdue<'_>> {
        self.keys.values().filter_map(move |key| {
            let loan = self.current_loan(key.id)?;
            let late = loan.lateness(now)?;
            let locker = self.locker(loan.locker)?;
            Some(Overdue {
                loan,
                key,
                locker,
                area_name: self
                    .area(locker.area)
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
                holder: self.holder_name(&loan.holder),
                late,
            })
        })
    }

    /// The site's overdue list at `now` (site time): by area (name), then the longest overdue
    /// first; only `area`'s when given.
    pub fn overdue(
        &self,
        site: SiteId,
        area: Option<AreaId>,
        now: NaiveDateTime,
    ) -> Vec<Overdue<'_>> {
        let mut list: Vec<Overdue<'_>> = self
            .overdue_loans(now)
            .filter(|o| o.locker.site == site && area.is_none_or(|a| o.locker.area == a))
            .collect();
        list.sort_by(|a, b| {
            (
                a.area_name.to_lowercase(),
                std::cmp::Reverse(a.late),
                a.loan.id,
            )
                .cmp(&(
                    b.area_name.to_lowercase(),
                    std::cmp::Reverse(b.late),
                    b.loan.id,
                ))
        });
        list
    }

    /// How many of the site's loans are overdue at `now`.
    pub fn overdue_count(&self, site: SiteId, now: NaiveDateTime) -> usize {
        self.overdue_loans(now)
            .filter(|o| o.locker.site == site)
            .count()
    }

    /// A person's overdue keys at `now`, the longest overdue first.
    pub fn overdue_of(&self, person: PersonId, now: NaiveDateTime) -> Vec<Overdue<'_>> {
        let holder = Holder::Person(person);
        let mut list: Vec<Overdue<'_>> = self
            .overdue_loans(now)
            .filter(|o| o.loan.holder == holder)
            .collect();
        list.sort_by_key(|o| (std::cmp::Reverse(o.late), o.loan.id));
        list
    }

    /// The site's spare keys that are out now, each with its loan (who took it, since when;
    /// the key's `storage` says where it goes back), the longest out first.
    pub fn spares_out(&self, site: SiteId) -> Vec<(&Key, &Loan)> {
        let mut list: Vec<(&Key, &Loan)> = self
            .keys
            .values()
            .filter(|k| k.kind == KeyKind::Spare)
            .filter_map(|k| Some((k, self.current_loan(k.id)?)))
            .filter(|(_, l)| self.locker(l.locker).is_some_and(|l| l.site == site))
            .collect();
        list.sort_by_key(|(_, l)| (l.issued_at, l.id));
        list
    }
}
