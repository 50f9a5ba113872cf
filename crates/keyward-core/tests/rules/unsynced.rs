//! Changes saved from a device that left before they synced, recorded again on another.

use crate::common::Harness;
use keyward_core::*;

/// A change another device made against this register, never applied here.
fn made_elsewhere(h: &Harness, command: Command) -> Event {
    let mut entropy = SplitMix(99);
    let mut ctx = Context {
        actor: "Jo Other".into(),
        device: DeviceId::generate(h.now, &mut entropy),
        now: h.now,
        entropy: &mut entropy,
    };
    h.register
        .execute(command, &mut ctx)
        .expect("it fitted there")
}

#[test]
fn a_saved_change_is_recorded_again_as_this_person_while_it_fits() {
    let mut h = Harness::new(41);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "C3");
    let keys = h.lock_with_keys(locker, 1);
    let sam = h.person(site, "Sam Jones", "P100");
    let saved = made_elsewhere(&h, h.issue(keys[0], locker, Holder::Person(sam)));

    let again = Command::RecordAgain {
        change: saved.change.clone(),
    };
    assert_eq!(again.action(), Action::IssueReturn);
    let event = h.ok(again.clone());
    assert_eq!(event.change, saved.change);
    assert_ne!(event.id, saved.id);
    assert_eq!(event.actor, "Pat Caretaker");
    assert_eq!(event.device, h.device);
    assert_eq!(h.register.key(keys[0]).unwrap().state, KeyState::Issued);

    // A second time it clashes with the first: refused, and nothing changes.
    let before = h.register.clone();
    let err = h.run(again).unwrap_err();
    assert!(matches!(err, CommandError::NoLongerFits { .. }), "{err}");
    assert!(err.to_string().contains("Record by hand"), "{err}");
    assert_eq!(h.register, before);
}

#[test]
fn a_saved_change_that_no_longer_fits_is_refused() {
    let mut h = Harness::new(42);
    let (site, _) = h.site("Northgate School");
    // A site of its own: created only on the device that set it up.
    let created = made_elsewhere(
        &h,
        Command::CreateSite {
            name: "Eastgate".into(),
        },
    );
    let err = h
        .run(Command::RecordAgain {
            change: created.change,
        })
        .unwrap_err();
    assert_eq!(err, CommandError::SiteCreatedElsewhere);

    // Something this register does not hold.
    let mut other = Harness::new(43);
    let (s2, a2) = other.site("Westgate");
    let locker = other.locker(s2, a2, "W1");
    let keys = other.lock_with_keys(locker, 1);
    let issue = made_elsewhere(
        &other,
        other.issue(keys[0], locker, Holder::Department("PE".into())),
    );
    let before = h.register.clone();
    let err = h
        .run(Command::RecordAgain {
            change: issue.change,
        })
        .unwrap_err();
    assert!(matches!(err, CommandError::NoLongerFits { .. }), "{err}");
    assert_eq!(h.register, before);
    let _ = site;
}

#[test]
fn a_saved_person_is_recorded_again_once() {
    let mut h = Harness::new(45);
    let (site, _) = h.site("Northgate School");
    let saved = made_elsewhere(
        &h,
        Command::AddPerson {
            site,
            details: PersonDetails {
                name: "Ali Khan".into(),
                kind: PersonKind::Pupil,
                reference: "P200".into(),
                department: String::new(),
            },
        },
    );
    let again = Command::RecordAgain {
        change: saved.change,
    };
    h.ok(again.clone());
    assert_eq!(h.register.people_of(site).len(), 1);
    let before = h.register.clone();
    assert_eq!(h.run(again).unwrap_err(), CommandError::AlreadyRecorded);
    assert_eq!(h.register, before);
}
