//! Content checks that need no state: the app refuses what the server would, and the server
//! refuses a crafted event the app could never have made.

use crate::common::Harness;
use keyward_core::sync::judge;
use keyward_core::*;

/// A register with a site, a locker with one key and a person, and the events that made it.
fn setup() -> (Harness, SiteId, LockerId, KeyId, PersonId) {
    let mut h = Harness::new(41);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "A12");
    let keys = h.lock_with_keys(locker, 1);
    let sam = h.person(site, "Sam Jones", "P1");
    (h, site, locker, keys[0], sam)
}

#[test]
fn a_note_too_long_is_refused_with_what_to_do_and_nothing_is_recorded() {
    let (mut h, _, locker, key, sam) = setup();
    let before = h.register.clone();
    let mut issue = h.issue(key, locker, Holder::Person(sam));
    if let Command::IssueKey { notes, .. } = &mut issue {
        *notes = "x".repeat(checks::MAX_NOTES + 1);
    }
    let err = h.run(issue).unwrap_err();
    assert_eq!(
        err.to_string(),
        "The notes can be at most 1000 characters long. Shorten it, then try again."
    );
    assert_eq!(h.register, before);
    let mut person = PersonDetails {
        name: "N".repeat(checks::MAX_NAME + 1),
        kind: PersonKind::Staff,
        reference: String::new(),
        department: String::new(),
    };
    let site = h.register.sites().next().unwrap().id;
    let err = h
        .run(Command::AddPerson {
            site,
            details: person.clone(),
        })
        .unwrap_err();
    assert!(matches!(err, CommandError::TextTooLong { max: 120, .. }));
    person.name = "Zoë Ní Bhriain".into();
    h.ok(Command::AddPerson {
        site,
        details: person,
    });
}

#[test]
fn a_name_needs_a_letter() {
    let mut h = Harness::new(44);
    let (site, area) = h.site("Northgate School");
    let before = h.register.clone();
    for name in ["🙂", "🔑🔑", "--", "42"] {
        let err = h
            .run(Command::AddPerson {
                site,
                details: PersonDetails {
                    name: name.into(),
                    kind: PersonKind::Pupil,
                    reference: String::new(),
                    department: String::new(),
                },
            })
            .unwrap_err();
        assert_eq!(
            err,
            CommandError::NameNeedsLetter {
                field: "The person's name"
            },
            "{name}"
        );
        assert!(err.to_string().contains("at least one letter"), "{err}");
        let err = h
            .run(Command::AddArea {
                site,
                name: name.into(),
            })
            .unwrap_err();
        assert!(
            matches!(err, CommandError::NameNeedsLetter { .. }),
            "{name}"
        );
    }
    assert_eq!(h.register, before);
    // Any alphabet is a name; a digit beside a letter too.
    for name in ["Zoë Ní Bhriain", "Ωμέγα", "李华", "Block 2 🔑"] {
        h.ok(Command::AddArea {
            site,
            name: name.into(),
        });
    }
    let _ = area;
}

#[test]
fn a_lock_code_too_long_is_refused() {
    let mut h = Harness::new(42);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "B1");
    let err = h
        .run(Command::FitLock {
            locker,
            kind: LockKind::Keyed,
            code: "9".repeat(10_000),
            suite: String::new(),
        })
        .unwrap_err();
    assert!(matches!(err, CommandError::TextTooLong { max: 40, .. }));
}

/// Takes a real event and bends its change as a crafted client could.
fn crafted(h: &Harness, change: Change) -> Event {
    Event {
        id: EventId::generate(h.now, &mut SplitMix(99)),
        actor: "Pat Caretaker".into(),
        device: h.device,
        at: h.now,
        change,
    }
}

#[test]
fn crafted_events_are_refused_by_the_servers_judge() {
    let (h, site, locker, key, sam) = setup();
    let area = h.register.locker(locker).unwrap().area;
    let lock = h.register.locker(locker).unwrap().lock.unwrap();
    let judged = |change: Change| {
        let event = crafted(&h, change);
        assert!(event.change.check().is_err(), "{:?}", event.change);
        judge(&h.register, site, h.device, Role::Admin, &event).unwrap_err()
    };
    let locker_numbered = |number: &str| Change::LockersAdded {
        site,
        area,
        lockers: vec![NewLocker {
            id: LockerId::generate(h.now, &mut SplitMix(5)),
            number: number.into(),
        }],
    };
    judged(locker_numbered(""));
    judged(locker_numbered("A\u{0}1"));
    judged(locker_numbered("<b>A1</b>"));
    judged(locker_numbered("a1"));
    let many = (0..200_000)
        .map(|i| NewLocker {
            id: LockerId::generate(h.now, &mut SplitMix(i)),
            number: format!("Z{i}"),
        })
        .collect();
    let reason = judged(Change::LockersAdded {
        site,
        area,
        lockers: many,
    });
    assert_eq!(reason, "One change can hold from 1 to 20000 lockers.");
    judged(Change::LockFitted {
        lock: LockId::generate(h.now, &mut SplitMix(6)),
        locker,
        kind: LockKind::Keyed,
        code: "9".repeat(10_000),
        suite: None,
    });
    let key_with = |copy: u32, tag: &str| Change::KeysAdded {
        lock,
        kind: KeyKind::User,
        storage: None,
        keys: vec![NewKey {
            id: KeyId::generate(h.now, &mut SplitMix(7)),
            copy,
            tag: TagId(tag.into()),
        }],
    };
    judged(key_with(u32::MAX, "ABCDEFG"));
    judged(key_with(2, &"A".repeat(2_400)));
    judged(key_with(2, "abcdefg"));
    judged(Change::PersonEdited {
        person: sam,
        details: PersonDetails {
            name: " Sam  Jones".into(),
            kind: PersonKind::Pupil,
            reference: String::new(),
            department: String::new(),
        },
    });
    judged(Change::KeyIssued {
        loan: LoanId::generate(h.now, &mut SplitMix(8)),
        key,
        locker,
        holder: Holder::Person(sam),
        date: h.today(),
        expected_return: None,
        confirmation: Confirmation::Signature("<script>".into()),
        notes: String::new(),
        due_time: None,
    });
    // And the event's own fields: a 100,000-character actor.
    let mut event = crafted(&h, locker_numbered("A13"));
    assert!(judge(&h.register, site, h.device, Role::Admin, &event).is_ok());
    event.actor = "x".repeat(100_000);
    assert!(judge(&h.register, site, h.device, Role::Admin, &event).is_err());
}

#[test]
fn every_event_the_app_makes_passes_the_checks() {
    let (h, ..) = setup();
    for event in &h.log {
        event.check().unwrap();
    }
}
