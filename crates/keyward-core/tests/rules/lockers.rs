//! Lockers: numbers, ranges, service.

use crate::common::Harness;
use keyward_core::*;

#[test]
fn locker_numbers_are_normalised_and_unique_per_site() {
    let mut h = Harness::new(1);
    let (site, area) = h.site("Northgate School");
    let id = h.locker(site, area, " a12 ");
    assert_eq!(h.register.locker(id).unwrap().number, "A12");
    assert_eq!(h.register.locker_by_number(site, "a12").unwrap().id, id);

    let before = h.register.clone();
    let err = h
        .run(Command::AddLocker {
            site,
            area,
            number: "A12 ".into(),
            allow_similar: false,
        })
        .unwrap_err();
    assert_eq!(
        err,
        CommandError::LockerNumberTaken {
            site: "Northgate School".into(),
            number: "A12".into()
        }
    );
    assert!(err
        .to_string()
        .contains("Locker A12 already exists at Northgate School"));
    assert_eq!(h.register, before, "a refused command changes nothing");

    // Another site may use the same number.
    let (other, other_area) = h.site("Southgate Leisure");
    h.locker(other, other_area, "A12");
    assert_eq!(h.register.locker_count(site), 1);
    assert_eq!(h.register.locker_count(other), 1);
}

#[test]
fn a_range_adds_every_locker_in_one_event() {
    let mut h = Harness::new(2);
    let (site, area) = h.site("Northgate School");
    let event = h.ok(Command::AddLockerRange {
        site,
        area,
        from: "A-001".into(),
        to: "a-120".into(),
        allow_similar: false,
    });
    assert!(
        matches!(event.change, Change::LockersAdded { ref lockers, .. } if lockers.len() == 120)
    );
    assert_eq!(h.register.locker_count(site), 120);
    assert!(h.register.locker_by_number(site, "A-007").is_some());
    assert!(h.register.locker_by_number(site, "A-121").is_none());
}

#[test]
fn a_colliding_range_is_refused_whole_naming_the_collisions() {
    let mut h = Harness::new(3);
    let (site, area) = h.site("Northgate School");
    h.locker(site, area, "A-010");
    h.locker(site, area, "A-020");
    let before = h.register.clone();
    let err = h
        .run(Command::AddLockerRange {
            site,
            area,
            from: "A-001".into(),
            to: "A-030".into(),
            allow_similar: false,
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Nothing was added: 2 lockers already exist at Northgate School: A-010, A-020. \
         Choose a range that avoids them."
    );
    assert_eq!(h.register, before);
    assert_eq!(h.register.locker_count(site), 2);
}

#[test]
fn many_collisions_are_counted_not_all_listed() {
    let mut h = Harness::new(4);
    let (site, area) = h.site("Northgate School");
    h.ok(Command::AddLockerRange {
        site,
        area,
        from: "1".into(),
        to: "50".into(),
        allow_similar: false,
    });
    let err = h
        .run(Command::AddLockerRange {
            site,
            area,
            from: "41".into(),
            to: "80".into(),
            allow_similar: false,
        })
        .unwrap_err();
    assert!(
        err.to_string().contains("10 lockers already exist"),
        "{err}"
    );
    assert!(err.to_string().contains("41, 42"), "{err}");
    assert!(!err.to_string().contains("and"), "{err}");
    let err = h
        .run(Command::AddLockerRange {
            site,
            area,
            from: "1".into(),
            to: "80".into(),
            allow_similar: false,
        })
        .unwrap_err();
    assert!(err.to_string().contains("and 40 more"), "{err}");
}

#[test]
fn out_of_service_lockers_cannot_issue() {
    let mut h = Harness::new(12);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "G7");
    let keys = h.lock_with_keys(locker, 1);
    assert_eq!(
        h.run(Command::SetLockerService {
            locker,
            out_of_service: Some(" ".into())
        })
        .unwrap_err(),
        CommandError::ReasonMissing
    );
    h.ok(Command::SetLockerService {
        locker,
        out_of_service: Some("Hinge broken".into()),
    });
    let err = h
        .run(h.issue(keys[0], locker, Holder::Department("PE".into())))
        .unwrap_err();
    assert!(matches!(err, CommandError::LockerOutOfService { .. }));
    h.ok(Command::SetLockerService {
        locker,
        out_of_service: None,
    });
    h.ok(h.issue(keys[0], locker, Holder::Department("PE".into())));
}

#[test]
fn the_timeline_tells_the_lockers_story() {
    let mut h = Harness::new(10);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "F6");
    let keys = h.lock_with_keys(locker, 1);
    let sam = h.person(site, "Sam Jones", "P1");
    h.ok(h.issue(keys[0], locker, Holder::Person(sam)));
    h.ok(h.ret(keys[0]));
    let tag = h.register.key(keys[0]).unwrap().tag.clone();
    let lines: Vec<String> = h
        .register
        .timeline(locker)
        .iter()
        .map(|e| h.register.describe(e))
        .collect();
    assert_eq!(
        lines,
        [
            "Locker F6 added to the register".to_string(),
            "Keyed lock fitted".to_string(),
            format!("Key {tag} added"),
            format!("Key {tag} issued to Sam Jones on 26/11/2026 (name typed)"),
            format!("Key {tag} returned by Sam Jones, received by Pat Caretaker"),
        ]
    );
}
