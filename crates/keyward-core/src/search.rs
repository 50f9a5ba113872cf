//! The register list's search index: one row per locker with the text a person might type
//! (number, area, holder, reference, key tags), built once per change and scanned per keystroke.

use crate::ids::{AreaId, LockerId, SiteId, TagId};
use crate::label::{LabelRef, Scanned};
use crate::model::{Holder, LockerStatus};
use crate::normalise::{fold, locker_number_key, normalise_locker_number};
use crate::register::Register;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use memchr::memmem::Finder;
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
    /// The number with case, spaces, hyphens and leading zeros set aside ("S4" for S004).
    key: String,
    /// The number's letters and digits only, lower case ("a012" for A-012).
    compact: String,
    /// The lock's code, letters and digits only, lower case; searched only by the roles that
    /// may see key codes.
    code: String,
    label: Option<LabelRef>,
    tags: Vec<TagId>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Index {
    rows: Vec<Row>,
    /// Per row, folded (lower case, no accents): number, number without separators, area,
    /// key tags, holders and their references.
    text: Column,
    /// Per row, the number's letters and digits.
    compact: Column,
    /// Per row, the lock's code's letters and digits.
    code: Column,
}

/// One text per row, laid end to end (each ended by a newline, which nothing searched
/// holds), so that a keystroke's search scans one buffer rather than 20,000 strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Column {
    text: String,
    /// Where each row's text starts, and the end.
    starts: Vec<usize>,
}

impl Column {
    fn new<'a>(texts: impl Iterator<Item = &'a str>) -> Self {
        let mut column = Column {
            text: String::new(),
            starts: vec![0],
        };
        for text in texts {
            column.text.push_str(text);
            column.text.push('\n');
            column.starts.push(column.text.len());
        }
        column
    }

    /// Which rows contain what `finder` looks for.
    fn rows_with(&self, finder: &Finder<'_>) -> Vec<bool> {
        let mut found = vec![false; self.starts.len().saturating_sub(1)];
        let bytes = self.text.as_bytes();
        let mut at = 0;
        while let Some(i) = finder.find(&bytes[at..]) {
            let row = self.starts.partition_point(|&s| s <= at + i) - 1;
            found[row] = true;
            at = self.starts[row + 1];
        }
        found
    }
}

/// What the register screen asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pub text: String,
    pub status: Option<LockerStatus>,
    pub area: Option<AreaId>,
    /// Only lockers with a key overdue.
    pub overdue: bool,
    /// The person may see key codes (`Action::OrderKeys`): a lock's code finds its locker.
    pub codes: bool,
}

pub struct Hits<'a> {
    /// The first `limit` matches: the locker a pasted label URL or tag id names, then an
    /// exact number match, then the numbers alike in all but case, spaces, hyphens and
    /// leading zeros (and a lock code typed whole), then the rest in locker-number order.
    pub rows: Vec<&'a Row>,
    /// How many matched in all.
    pub total: usize,
}

/// How well a row matches; lower comes first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    Scanned,
    Exact,
    Alike,
    Contains,
}

impl Index {
    /// The index of `site`'s lockers as of the start of `today` (for what is overdue: loans
    /// due back on an earlier day). [`Self::build_at`] counts due times too.
    pub fn build(register: &Register, site: SiteId, today: NaiveDate) -> Self {
        Self::build_at(register, site, today.and_time(NaiveTime::MIN))
    }

    /// The index of `site`'s lockers as of `now` (site time).
    pub fn build_at(register: &Register, site: SiteId, now: NaiveDateTime) -> Self {
        let mut rows: Vec<(Row, String)> = register
            .lockers()
            .filter(|l| l.site == site)
            .map(|locker| {
                let area_name = register
                    .area(locker.area)
                    .map(|a| a.name.clone())
                    .unwrap_or_default();
                let mut holders = Vec::new();
                let mut overdue = false;
                let compact_number = compact(&locker.number);
                let mut haystack = format!("{} {} {}", locker.number, compact_number, area_name);
                let mut tags = Vec::new();
                for key in register.keys_of_locker(locker.id) {
                    haystack.push(' ');
                    haystack.push_str(key.tag.as_str());
                    tags.push(key.tag.clone());
                    if let Some(loan) = register.current_loan(key.id) {
                        overdue |= loan.is_overdue(now);
                        let name = register.holder_name(&loan.holder);
                        haystack.push(' ');
                        haystack.push_str(&name);
                        if let Holder::Person(p) = &loan.holder {
                            if let Some(p) = register.person(*p) {
                                haystack.push(' ');
                                haystack.push_str(&p.details.reference);
                                haystack.push(' ');
                                haystack.push_str(&compact(&p.details.reference));
                            }
                        }
                        holders.push(name);
                    }
                }
                let code = locker
                    .lock
                    .and_then(|l| register.lock(l))
                    .map(|l| compact(&l.code))
                    .unwrap_or_default();
                let row = Row {
                    locker: locker.id,
                    number: locker.number.clone(),
                    area: locker.area,
                    area_name,
                    holders: holders.join(", "),
                    status: register.status(locker),
                    overdue,
                    key: locker_number_key(&locker.number),
                    compact: compact_number,
                    code,
                    label: locker.label.clone(),
                    tags,
                };
                (row, fold_owned(haystack))
            })
            .collect();
        rows.sort_by(|a, b| natural_cmp(&a.0.number, &b.0.number));
        Self {
            text: Column::new(rows.iter().map(|(_, text)| text.as_str())),
            compact: Column::new(rows.iter().map(|(r, _)| r.compact.as_str())),
            code: Column::new(rows.iter().map(|(r, _)| r.code.as_str())),
            rows: rows.into_iter().map(|(row, _)| row).collect(),
        }
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

    /// Every word typed must appear somewhere in the row, case and accents aside; or the
    /// text is a locker number as people type it ("S4", "s-004" for S004; "A1" also finds
    /// A10 … A19 by its start); or, for the roles that may, part of the lock's code. A pasted
    /// label URL or tag id finds the locker it names, whatever the filters.
    pub fn search(&self, query: &Query, limit: usize) -> Hits<'_> {
        let folded = fold(&query.text);
        let words: Vec<&str> = folded.split_whitespace().collect();
        let exact = normalise_locker_number(&query.text).ok();
        let key = exact.as_deref().map(locker_number_key);
        // "A1" starts A10 and A100; "A-01" starts A-010, not A-100: a last run of digits
        // typed with a leading zero is matched as typed (by `compact`), not by its key.
        let typed = query.text.trim_end();
        let last_digits = &typed[typed.trim_end_matches(|c: char| c.is_ascii_digit()).len()..];
        let prefix = key.as_deref().filter(|_| !last_digits.starts_with('0'));
        let compacted = compact(&folded);
        let scanned = Scanned::parse(&query.text);
        // Searchers built once per keystroke, not once per row. The haystack holds the
        // compact number, so a single word that is its own compact form is found there.
        let part = (!compacted.is_empty() && words != [compacted.as_str()])
            .then(|| Finder::new(compacted.as_bytes()));
        let code =
            (query.codes && !compacted.is_empty()).then(|| Finder::new(compacted.as_bytes()));
        let mut contains: Option<Vec<bool>> = None;
        for word in &words {
            let with = self.text.rows_with(&Finder::new(word.as_bytes()));
            contains = Some(match contains {
                None => with,
                Some(all) => all.iter().zip(with).map(|(a, b)| *a && b).collect(),
            });
        }
        let part = part.map(|p| self.compact.rows_with(&p));
        let code = code.map(|c| self.code.rows_with(&c));
        let mut first: Vec<(Rank, &Row)> = Vec::new();
        let mut rows = Vec::new();
        let mut total = 0;
        for (i, row) in self.rows.iter().enumerate() {
            let named = match &scanned {
                Some(Scanned::Locker(label)) => row.label.as_ref() == Some(label),
                Some(Scanned::Key(tag)) => row.tags.contains(tag),
                None => false,
            };
            let rank = if named {
                Rank::Scanned
            } else if query.status.is_some_and(|s| s != row.status)
                || (query.overdue && !row.overdue)
                || query.area.is_some_and(|a| a != row.area)
            {
                continue;
            } else if exact.as_deref() == Some(row.number.as_str()) {
                Rank::Exact
            } else if key.as_deref() == Some(row.key.as_str())
                || (query.codes && !compacted.is_empty() && row.code == compacted)
            {
                Rank::Alike
            } else if contains.as_ref().is_none_or(|c| c[i])
                || prefix.is_some_and(|k| row.key.starts_with(k))
                || part.as_ref().is_some_and(|p| p[i])
                || code.as_ref().is_some_and(|c| c[i])
            {
                Rank::Contains
            } else {
                continue;
            };
            total += 1;
            if rank < Rank::Contains {
                first.push((rank, row));
            } else if rows.len() < limit {
                rows.push(row);
            }
        }
        first.sort_by_key(|(rank, _)| *rank);
        let mut hits: Vec<&Row> = first.into_iter().map(|(_, row)| row).collect();
        hits.extend(rows);
        hits.truncate(limit);
        Hits { rows: hits, total }
    }
}

/// "A-012" → "a012", so "a012" finds it as well as "a-012"; two runs of digits stay apart
/// ("B2-10" → "b2~10", which "b21-0" does not find).
fn compact(text: &str) -> String {
    let mut compact = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && c.is_ascii_digit() && compact.ends_with(|p: char| p.is_ascii_digit()) {
                compact.push('~');
            }
            compact.push(c.to_ascii_lowercase());
            gap = false;
        } else {
            gap = true;
        }
    }
    compact
}

/// [`fold`] without a copy when the text is plain ASCII, as most of the index is.
fn fold_owned(mut text: String) -> String {
    if !text.is_ascii() || text.contains('\'') {
        return fold(&text);
    }
    text.make_ascii_lowercase();
    text
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
