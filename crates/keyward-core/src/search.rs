//! The register list's search index: one row per locker with the text a person might type
//! (number, area, holder, reference, key tags), built once per change and scanned per keystroke.

use crate::ids::{AreaId, LockerId, SiteId};
use crate::model::{Holder, LockerStatus};
use crate::register::Register;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use std::cmp::Ordering;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Row {
    pub locker: LockerId,
    pub number: String,
    pub area: AreaId,
    pub area_name: String,
    /// Who holds a key now, names joined.
    pub holders: String,
    pub status: LockerStatus,
    /// A key of this locker is on a temporary loan past its due-back time.
    pub overdue: bool,
    haystack: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Index {
    rows: Vec<Row>,
}

/// What the register screen asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pub text: String,
    pub status: Option<LockerStatus>,
    pub area: Option<AreaId>,
    /// Only lockers with a key overdue.
    pub overdue: bool,
}

pub struct Hits<'a> {
    /// The first `limit` matches, in locker-number order (an exact number match first).
    pub rows: Vec<&'a Row>,
    /// How many matched in all.
    pub total: usize,
}

impl Index {
    /// The index of `site`'s lockers as of the start of `today` (for what is overdue: loans
    /// due back on an earlier day). [`Self::build_at`] counts due times too.
    pub fn build(register: &Register, site: SiteId, today: NaiveDate) -> Self {
        Self::build_at(register, site, today.and_time(NaiveTime::MIN))
    }

    /// The index of `site`'s lockers as of `now` (site time).
    pub fn build_at(register: &Register, site: SiteId, now: NaiveDateTime) -> Self {
        let mut rows: Vec<Row> = register
            .lockers()
            .filter(|l| l.site == site)
            .map(|locker| {
                let area_name = register
                    .area(locker.area)
                    .map(|a| a.name.clone())
                    .unwrap_or_default();
                let mut holders = Vec::new();
                let mut overdue = false;
                let mut haystack = format!(
                    "{} {} {}",
                    locker.number,
                    compact(&locker.number),
                    area_name
                );
                for key in register.keys_of_locker(locker.id) {
                    haystack.push(' ');
                    haystack.push_str(key.tag.as_str());
                    if let Some(loan) = register.current_loan(key.id) {
                        overdue |= loan.is_overdue(now);
                        let name = register.holder_name(&loan.holder);
                        haystack.push(' ');
                        haystack.push_str(&name);
                        if let Holder::Person(p) = &loan.holder {
                            if let Some(p) = register.person(*p) {
                                haystack.push(' ');
                                haystack.push_str(&p.details.reference);
                            }
                        }
                        holders.push(name);
                    }
                }
                Row {
                    locker: locker.id,
                    number: locker.number.clone(),
                    area: locker.area,
                    area_name,
                    holders: holders.join(", "),
                    status: register.status(locker),
                    overdue,
                    haystack: haystack.to_lowercase(),
                }
            })
            .collect();
        rows.sort_by(|a, b| natural_cmp(&a.number, &b.number));
        Self { rows }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Lockers with a key overdue.
    pub fn overdue(&self) -> usize {
        self.rows.iter().filter(|r| r.overdue).count()
    }

    /// Lockers per status, for the filter chips.
    pub fn counts(&self) -> BTreeMap<LockerStatus, usize> {
        let mut counts = BTreeMap::new();
        for row in &self.rows {
            *counts.entry(row.status).or_insert(0) += 1;
        }
        counts
    }

    /// Every word typed must appear somewhere in the row; case and spacing do not matter.
    pub fn search(&self, query: &Query, limit: usize) -> Hits<'_> {
        let lowered = query.text.to_lowercase();
        let words: Vec<&str> = lowered.split_whitespace().collect();
        let exact = query
            .text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_uppercase();
        let mut first = None;
        let mut rows = Vec::new();
        let mut total = 0;
        for row in &self.rows {
            if query.status.is_some_and(|s| s != row.status)
                || (query.overdue && !row.overdue)
                || query.area.is_some_and(|a| a != row.area)
                || !words.iter().all(|w| row.haystack.contains(w))
            {
                continue;
            }
            total += 1;
            if row.number == exact {
                first = Some(row);
            } else if rows.len() < limit {
                rows.push(row);
            }
        }
        if let Some(row) = first {
            rows.insert(0, row);
            rows.truncate(limit);
        }
        Hits { rows, total }
    }
}

/// "A-012" → "a012", so "a012" finds it as well as "a-012".
fn compact(number: &str) -> String {
    number.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// Orders "A2" before "A10": runs of digits compare as numbers.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, nb) = (trim_zeros(&a[..da]), trim_zeros(&b[..db]));
                let ord = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|d| **d == b'0').count();
    &digits[zeros..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut v = vec!["A10", "A2", "B1", "A1", "A-003", "10", "9"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["9", "10", "A-003", "A1", "A2", "A10", "B1"]);
    }
}
