//! Dates as a UK site reads them: 26/11/2026 and 24-hour times. Stored values stay ISO/UTC.

use chrono::{DateTime, NaiveDate, TimeZone};
use std::fmt::Display;

/// 26/11/2026
pub fn uk_date(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// 26/11/2026 14:05, in the zone of `at`.
pub fn uk_date_time<Tz: TimeZone>(at: &DateTime<Tz>) -> String
where
    Tz::Offset: Display,
{
    at.format("%d/%m/%Y %H:%M").to_string()
}

/// The value of an `<input type="date">` ("2026-11-26"), or a UK date typed by hand.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .ok()
}

/// The value an `<input type="date">` takes.
pub fn iso_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, Utc};

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
        assert_eq!(iso_date(d), "2026-11-06");
    }
}
