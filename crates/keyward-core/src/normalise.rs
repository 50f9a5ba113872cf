//! Turning what people type into canonical values, with messages that say what to fix.

use crate::error::CommandError;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The most lockers one range may add.
pub const MAX_RANGE: usize = 20_000;
const MAX_NUMBER_LEN: usize = 20;

/// "a12 " → "A12"; " a 12 " → "A12"; "b2 10" → "B2-10"; "gym  a1" → "GYM A1". Letters, digits,
/// spaces, '-', '/' and '.' only. A space between a letter and a digit, or beside '-', '/' or
/// '.', is dropped; one between two digits becomes '-'; one between two letters stays single.
pub fn normalise_locker_number(text: &str) -> Result<String, CommandError> {
    let collapsed = collapse_locker_number(text)?;
    let mut number = String::with_capacity(collapsed.len());
    let mut chars = collapsed.chars().peekable();
    while let Some(c) = chars.next() {
        if c != ' ' {
            number.push(c);
            continue;
        }
        let (Some(before), Some(&after)) = (number.chars().last(), chars.peek()) else {
            continue;
        };
        if before.is_ascii_digit() && after.is_ascii_digit() {
            number.push('-');
        } else if before.is_ascii_alphabetic() && after.is_ascii_alphabetic() {
            number.push(' ');
        }
    }
    Ok(number)
}

/// Upper case, spaces trimmed and collapsed, characters and length checked: the normal form
/// numbers were stored in before inner spaces were tidied ("B 7").
fn collapse_locker_number(text: &str) -> Result<String, CommandError> {
    let number = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase();
    if number.is_empty() {
        return Err(CommandError::LockerNumberEmpty);
    }
    if let Some(bad) = number
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '/' | '.')))
    {
        return Err(CommandError::LockerNumberCharacter { character: bad });
    }
    if number.chars().count() > MAX_NUMBER_LEN {
        return Err(CommandError::LockerNumberTooLong {
            max: MAX_NUMBER_LEN,
        });
    }
    Ok(number)
}

/// Whether a stored locker number is in a normal form: today's, or the one of older events
/// ("B 7", kept as stored for ever).
pub(crate) fn is_stored_locker_number(number: &str) -> Result<bool, CommandError> {
    Ok(collapse_locker_number(number)? == number || normalise_locker_number(number)? == number)
}

/// What a locker number is when case, spaces, hyphens and the leading zeros of each run of
/// digits are ignored: "S004", "s 4" and "S-4" are all "S4"; "A-012" is "A12". Two runs of
/// digits apart stay apart ("B2-10" is "B2~10", not "B210").
pub fn locker_number_key(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    let mut digits = String::new();
    let mut after_digits = false;
    let flush = |key: &mut String, digits: &mut String, after_digits: &mut bool| {
        if !digits.is_empty() {
            let trimmed = digits.trim_start_matches('0');
            key.push_str(if trimmed.is_empty() { "0" } else { trimmed });
            digits.clear();
            *after_digits = true;
        }
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            if digits.is_empty() && after_digits {
                key.push('~');
            }
            digits.push(c);
        } else if c.is_whitespace() || c == '-' {
            flush(&mut key, &mut digits, &mut after_digits);
        } else {
            flush(&mut key, &mut digits, &mut after_digits);
            key.extend(c.to_uppercase());
            after_digits = false;
        }
    }
    flush(&mut key, &mut digits, &mut after_digits);
    key
}

/// Text as a search compares it: lower case, accents dropped ("Zoë Ní Bhriain" → "zoe ni
/// bhriain"), apostrophes dropped ("O'Brien" → "obrien").
pub fn fold(text: &str) -> String {
    if text.is_ascii() {
        return text
            .chars()
            .filter(|c| *c != '\'')
            .map(|c| c.to_ascii_lowercase())
            .collect();
    }
    let mut folded = String::with_capacity(text.len());
    for c in text.to_lowercase().nfd() {
        match c {
            '\'' | '\u{2019}' | '\u{2018}' => {}
            'ø' => folded.push('o'),
            'ł' => folded.push('l'),
            'đ' | 'ð' => folded.push('d'),
            'ß' => folded.push_str("ss"),
            'æ' => folded.push_str("ae"),
            'œ' => folded.push_str("oe"),
            'ı' => folded.push('i'),
            c if is_combining_mark(c) => {}
            c => folded.push(c),
        }
    }
    folded
}

/// Splits "A-007" into ("A-", "007").
fn split_number(number: &str) -> Option<(&str, &str)> {
    let digits = number.len() - number.bytes().rev().take_while(u8::is_ascii_digit).count();
    (digits < number.len()).then(|| number.split_at(digits))
}

/// "A-001" to "A-120" → … A-120. The width of the first number's digits is kept
/// when it starts with a zero ("001"), so "A-001".."A-120" pads and "A1".."A120" does not.
pub fn parse_locker_range(from: &str, to: &str) -> Result<Vec<String>, CommandError> {
    let from = normalise_locker_number(from)?;
    let to = normalise_locker_number(to)?;
    let (Some((prefix, first)), Some((to_prefix, last))) = (split_number(&from), split_number(&to))
    else {
        return Err(CommandError::RangeNeedsNumbers);
    };
    if prefix != to_prefix {
        return Err(CommandError::RangePrefixesDiffer {
            from: from.clone(),
            to: to.clone(),
        });
    }
    let (Ok(start), Ok(end)) = (first.parse::<u64>(), last.parse::<u64>()) else {
        return Err(CommandError::RangeNeedsNumbers);
    };
    if end < start {
        return Err(CommandError::RangeBackwards { from, to });
    }
    let count = end - start + 1;
    if count > MAX_RANGE as u64 {
        return Err(CommandError::RangeTooLarge {
            count,
            max: MAX_RANGE,
        });
    }
    let width = if first.starts_with('0') {
        first.len()
    } else {
        0
    };
    let numbers: Vec<String> = (start..=end)
        .map(|n| format!("{prefix}{n:0width$}"))
        .collect();
    for n in [numbers.first(), numbers.last()].into_iter().flatten() {
        normalise_locker_number(n)?;
    }
    Ok(numbers)
}

/// Trims and collapses spaces in a name; empty stays empty.
pub(crate) fn tidy(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locker_numbers_are_trimmed_and_upper_cased() {
        assert_eq!(normalise_locker_number("a12 ").unwrap(), "A12");
        assert_eq!(normalise_locker_number("  b   7 ").unwrap(), "B7");
        assert_eq!(normalise_locker_number(" a 12 ").unwrap(), "A12");
        assert_eq!(normalise_locker_number("b2 10").unwrap(), "B2-10");
        assert_eq!(normalise_locker_number("a - 1").unwrap(), "A-1");
        assert_eq!(normalise_locker_number("gym  a1").unwrap(), "GYM A1");
        assert_eq!(normalise_locker_number("c-1/2.3").unwrap(), "C-1/2.3");
    }

    #[test]
    fn bad_locker_numbers_say_what_to_fix() {
        assert_eq!(
            normalise_locker_number("   "),
            Err(CommandError::LockerNumberEmpty)
        );
        let err = normalise_locker_number("A#1").unwrap_err();
        assert!(err.to_string().contains('#'), "{err}");
        assert!(normalise_locker_number(&"A".repeat(21)).is_err());
    }

    #[test]
    fn ranges_keep_prefix_and_padding() {
        let r = parse_locker_range("a-001", "A-120").unwrap();
        assert_eq!(r.len(), 120);
        assert_eq!(r[0], "A-001");
        assert_eq!(r[9], "A-010");
        assert_eq!(r[119], "A-120");
        assert_eq!(parse_locker_range("B1", "B3").unwrap(), ["B1", "B2", "B3"]);
        assert_eq!(parse_locker_range("7", "9").unwrap(), ["7", "8", "9"]);
    }

    #[test]
    fn bad_ranges_are_refused() {
        assert!(matches!(
            parse_locker_range("A-1", "B-3"),
            Err(CommandError::RangePrefixesDiffer { .. })
        ));
        assert!(matches!(
            parse_locker_range("A-9", "A-1"),
            Err(CommandError::RangeBackwards { .. })
        ));
        assert!(matches!(
            parse_locker_range("A", "B"),
            Err(CommandError::RangeNeedsNumbers)
        ));
        assert!(matches!(
            parse_locker_range("1", "30000"),
            Err(CommandError::RangeTooLarge { .. })
        ));
    }
}
