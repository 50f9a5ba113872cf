//! Dates as a UK site reads them: 26/11/2026 and 24-hour times. Stored values stay ISO/UTC.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone};
use std::fmt::Display;

/// 26/11/2026
pub fn uk_date(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// 14:05
pub fn uk_time(time: NaiveTime) -> String {
    time.format("%H:%M").to_string()
}

/// 26/11/2026 14:05, in the zone of `at`.
pub fn uk_date_time<Tz: TimeZone>(at: &DateTime<Tz>) -> String
where
    Tz::Offset: Display,
{
    at.format("%d/%m/%Y %H:%M").to_string()
}

/// Whether a date a person typed is far enough from `today` to be worth asking about before
/// it is recorded (a year typed wrong: 2062 for 2026): "more than a year away" or "more than
/// a year ago", or `None` when it is within a year either way.
pub fn far_from_today(date: NaiveDate, today: NaiveDate) -> Option<&'static str> {
    let days = (date - today).num_days();
    if days > 366 {
        Some("more than a year away")
    } else if days < -366 {
        Some("more than a year ago")
    } else {
        None
    }
}

/// A date as typed in the UK: 26/11/2026, 26/11/26, 26-11-2026, 26.11.2026, or ISO 2026-11-26.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date);
    }
    let parts: Vec<&str> = text
        .split(['/', '-', '.', ' '])
        .filter(|p| !p.is_empty())
        .collect();
    let [day, month, year] = parts.as_slice() else {
        return None;
    };
    let (day, month) = (day.parse().ok()?, month.parse().ok()?);
    let year: i32 = match year.len() {
        2 => 2000 + year.parse::<i32>().ok()?,
        4 => year.parse().ok()?,
        _ => return None,
    };
    NaiveDate::from_ymd_opt(year, month, day)
}

/// 20000 → "20,000".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Pence as money: 1250 → "£12.50".
pub fn pounds(pence: u32) -> String {
    format!("£{}.{:02}", pence / 100, pence % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, Utc};

    #[test]
    fn dates_far_from_today_are_named() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let on = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(
            far_from_today(on(2062, 12, 2), today),
            Some("more than a year away")
        );
        assert_eq!(
            far_from_today(on(2016, 12, 2), today),
            Some("more than a year ago")
        );
        assert_eq!(far_from_today(on(2027, 7, 1), today), None);
        assert_eq!(far_from_today(today, today), None);
    }

    #[test]
    fn dates_are_uk_style() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 6).unwrap();
        assert_eq!(uk_date(d), "06/11/2026");
        let t = Utc.with_ymd_and_hms(2026, 7, 1, 13, 5, 0).unwrap();
        let bst = FixedOffset::east_opt(3600).unwrap();
        assert_eq!(uk_date_time(&t.with_timezone(&bst)), "01/07/2026 14:05");
        assert_eq!(
            parse_date("2026-11-26"),
            NaiveDate::from_ymd_opt(2026, 11, 26)
        );
        assert_eq!(
            parse_date(" 26/11/2026 "),
            NaiveDate::from_ymd_opt(2026, 11, 26)
        );
        assert_eq!(parse_date("11/26/2026"), None);
        assert_eq!(parse_date("1/2/27"), NaiveDate::from_ymd_opt(2027, 2, 1));
        assert_eq!(
            parse_date("01-02-2027"),
            NaiveDate::from_ymd_opt(2027, 2, 1)
        );
        assert_eq!(parse_date("31/02/2027"), None);
        assert_eq!(parse_date("tomorrow"), None);
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(20_000), "20,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
