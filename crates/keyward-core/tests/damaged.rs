//! A damaged log never panics: a stored event, a pack of them or a backup file truncated at
//! any byte or with any bit flipped either reads as something the checks accept, or is an
//! error the app shows (safe mode, a refused backup). Folding what does read never panics.

use keyward_core::backup::Backup;
use keyward_core::{Event, Register};
use proptest::prelude::*;

const LOG: &str = include_str!("fixtures/events-v1.jsonl");

fn events() -> Vec<Event> {
    LOG.lines()
        .map(|line| serde_json::from_str(line).expect("the fixture reads"))
        .collect()
}

/// `text` with bit `bit` of byte `at` flipped, read back as text where it still is UTF-8.
fn flipped(text: &str, at: usize, bit: u8) -> Option<String> {
    let mut bytes = text.as_bytes().to_vec();
    let at = at % bytes.len();
    bytes[at] ^= 1 << (bit % 8);
    String::from_utf8(bytes).ok()
}

/// Reads a damaged record as the app does; whatever reads is checked and folded.
fn read_and_fold(text: &str) {
    if let Ok(event) = serde_json::from_str::<Event>(text) {
        let _ = event.check();
        let mut register = Register::new();
        for good in events() {
            register.apply(&good);
        }
        register.apply(&event);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_truncated_or_flipped_event_is_an_error_or_a_readable_event(
        line in 0..25usize,
        cut in any::<usize>(),
        at in any::<usize>(),
        bit in any::<u8>(),
    ) {
        let lines: Vec<&str> = LOG.lines().collect();
        let text = lines[line % lines.len()];
        let cut = cut % (text.len() + 1);
        if text.is_char_boundary(cut) {
            read_and_fold(&text[..cut]);
        }
        if let Some(damaged) = flipped(text, at, bit) {
            read_and_fold(&damaged);
        }
    }

    #[test]
    fn a_truncated_or_flipped_backup_is_refused_in_words_or_restores(
        cut in any::<usize>(),
        at in any::<usize>(),
        bit in any::<u8>(),
    ) {
        let whole = serde_json::to_string(&Backup::new(events())).unwrap();
        let cut = cut % whole.len();
        if whole.is_char_boundary(cut) {
            let refused = Backup::parse(&whole[..cut]).expect_err("a cut backup is not whole");
            prop_assert!(refused.contains("Keyward backup") || refused.contains("damaged"), "{}", refused);
        }
        if let Some(damaged) = flipped(&whole, at, bit) {
            match Backup::parse(&damaged) {
                Ok(backup) => {
                    let mut register = Register::new();
                    for event in &backup.events {
                        let _ = event.check();
                        register.apply(event);
                    }
                }
                Err(why) => prop_assert!(!why.is_empty()),
            }
        }
    }
}
