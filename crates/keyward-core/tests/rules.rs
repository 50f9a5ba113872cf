//! Each rule of the register, one test each.

mod common;

use common::Harness;
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
    });
    let err = h
        .run(Command::AddLockerRange {
            site,
            area,
            from: "41".into(),
            to: "80".into(),
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
        })
        .unwrap_err();
    assert!(err.to_string().contains("and 40 more"), "{err}");
}

#[test]
fn keys_get_unique_unambiguous_tags_and_copy_numbers() {
    let mut h = Harness::new(5);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "B1");
    let keys = h.lock_with_keys(locker, 3);
    let lock = h.register.locker(locker).unwrap().lock.unwrap();
    h.ok(Command::AddKeys {
        lock,
        kind: KeyKind::Spare,
        count: 2,
        storage: String::new(),
    });
    let all = h.register.keys_of_locker(locker);
    assert_eq!(all.len(), 5);
    let copies: Vec<u32> = all.iter().map(|k| k.copy).collect();
    assert_eq!(copies, [1, 2, 3, 4, 5]);
    for key in &all {
        assert_eq!(key.tag.as_str().len(), TagId::LEN);
        assert!(key
            .tag
            .as_str()
            .bytes()
            .all(|b| TagId::ALPHABET.contains(&b)));
        assert!(!key.tag.as_str().contains("B1"));
        assert_eq!(h.register.key_by_tag(&key.tag).unwrap().id, key.id);
    }
    assert_eq!(h.register.key(keys[0]).unwrap().state, KeyState::InStore);
    assert_eq!(h.register.lock(lock).unwrap().code, "K 101");
}

#[test]
fn a_key_is_issued_once_and_only_from_store() {
    let mut h = Harness::new(6);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "C3");
    let keys = h.lock_with_keys(locker, 2);
    let sam = h.person(site, "Sam Jones", "P100");
    let alex = h.person(site, "Alex Smith", "P101");

    h.ok(h.issue(keys[0], locker, Holder::Person(sam)));
    assert_eq!(h.register.key(keys[0]).unwrap().state, KeyState::Issued);
    assert_eq!(
        h.register.status(h.register.locker(locker).unwrap()),
        LockerStatus::InUse
    );
    assert_eq!(h.register.holders_of(locker), ["Sam Jones"]);

    let before = h.register.clone();
    let err = h
        .run(h.issue(keys[0], locker, Holder::Person(alex)))
        .unwrap_err();
    assert!(matches!(err, CommandError::KeyNotInStore { .. }));
    assert!(err.to_string().contains("is issued, not in store"), "{err}");
    assert_eq!(h.register, before);

    // Sam may not hold two keys to the same locker.
    let err = h
        .run(h.issue(keys[1], locker, Holder::Person(sam)))
        .unwrap_err();
    assert!(matches!(err, CommandError::AlreadyHoldsKey { .. }), "{err}");
    assert_eq!(h.register, before);

    // The spare copy can go to somebody else.
    h.ok(h.issue(keys[1], locker, Holder::Person(alex)));
    assert_eq!(h.register.keys_held_by(alex).len(), 1);
}

#[test]
fn a_key_for_another_locker_or_a_master_key_is_refused() {
    let mut h = Harness::new(7);
    let (site, area) = h.site("Northgate School");
    let c1 = h.locker(site, area, "C1");
    let c2 = h.locker(site, area, "C2");
    let keys = h.lock_with_keys(c1, 1);
    let sam = h.person(site, "Sam Jones", "");
    let err = h
        .run(h.issue(keys[0], c2, Holder::Person(sam)))
        .unwrap_err();
    assert!(matches!(err, CommandError::KeyNotForLocker { .. }));

    let lock = h.register.locker(c1).unwrap().lock.unwrap();
    let master = match h
        .ok(Command::AddKeys {
            lock,
            kind: KeyKind::Master,
            count: 1,
            storage: String::new(),
        })
        .change
    {
        Change::KeysAdded { keys, .. } => keys[0].id,
        _ => unreachable!(),
    };
    let err = h.run(h.issue(master, c1, Holder::Person(sam))).unwrap_err();
    assert_eq!(err, CommandError::MasterKeyNotIssued);
}

#[test]
fn issuing_needs_a_holder_a_confirmation_and_sane_dates() {
    let mut h = Harness::new(8);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "D4");
    let keys = h.lock_with_keys(locker, 1);
    let blank_department = h.issue(keys[0], locker, Holder::Department("  ".into()));
    assert_eq!(
        h.run(blank_department).unwrap_err(),
        CommandError::HolderMissing
    );

    let mut unconfirmed = h.issue(keys[0], locker, Holder::Department("PE".into()));
    if let Command::IssueKey { confirmation, .. } = &mut unconfirmed {
        *confirmation = Confirmation::TypedName(" ".into());
    }
    assert_eq!(
        h.run(unconfirmed).unwrap_err(),
        CommandError::ConfirmationMissing
    );

    let mut backwards = h.issue(keys[0], locker, Holder::Department("PE".into()));
    if let Command::IssueKey {
        expected_return, ..
    } = &mut backwards
    {
        *expected_return = Some(h.today().pred_opt().unwrap());
    }
    let err = h.run(backwards).unwrap_err();
    assert_eq!(
        err.to_string(),
        "The expected return (25/11/2026) is before the issue date (26/11/2026). Choose a later date."
    );

    // A temporary sign-out to a department, signed on screen.
    let mut loan = h.issue(keys[0], locker, Holder::Department(" PE  staff ".into()));
    if let Command::IssueKey {
        expected_return,
        confirmation,
        ..
    } = &mut loan
    {
        *expected_return = Some(h.today().succ_opt().unwrap());
        *confirmation = Confirmation::Signature("M10 10 L20 20".into());
    }
    h.ok(loan);
    assert_eq!(h.register.key(keys[0]).unwrap().state, KeyState::SignedOut);
    assert_eq!(
        h.register.status(h.register.locker(locker).unwrap()),
        LockerStatus::OnLoan
    );
    assert_eq!(h.register.holders_of(locker), ["PE staff"]);
}

#[test]
fn returning_puts_the_key_back_or_marks_it_damaged() {
    let mut h = Harness::new(9);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "E5");
    let keys = h.lock_with_keys(locker, 2);
    let sam = h.person(site, "Sam Jones", "P1");

    let err = h.run(h.ret(keys[0])).unwrap_err();
    assert!(err.to_string().contains("is in store, not out"), "{err}");

    h.ok(h.issue(keys[0], locker, Holder::Person(sam)));
    let mut missing_receiver = h.ret(keys[0]);
    if let Command::ReturnKey { received_by, .. } = &mut missing_receiver {
        *received_by = " ".into();
    }
    assert_eq!(
        h.run(missing_receiver).unwrap_err(),
        CommandError::ReceiverMissing
    );

    h.ok(h.ret(keys[0]));
    let key = h.register.key(keys[0]).unwrap();
    assert_eq!(key.state, KeyState::InStore);
    assert_eq!(key.loan, None);
    let loans = h.register.loans_of(sam);
    assert_eq!(loans.len(), 1);
    let returned = loans[0].returned.as_ref().unwrap();
    assert_eq!(
        returned.brought_by, "Sam Jones",
        "the holder brought it by default"
    );
    assert_eq!(
        h.register.status(h.register.locker(locker).unwrap()),
        LockerStatus::Free
    );

    // Returning twice is refused.
    assert!(matches!(
        h.run(h.ret(keys[0])).unwrap_err(),
        CommandError::KeyNotOut { .. }
    ));

    h.ok(h.issue(keys[1], locker, Holder::Person(sam)));
    let mut damaged = h.ret(keys[1]);
    if let Command::ReturnKey { condition, .. } = &mut damaged {
        *condition = Condition::Damaged;
    }
    h.ok(damaged);
    assert_eq!(h.register.key(keys[1]).unwrap().state, KeyState::Damaged);
    // A damaged key is not in store and cannot be issued.
    let err = h
        .run(h.issue(keys[1], locker, Holder::Person(sam)))
        .unwrap_err();
    assert!(err.to_string().contains("is damaged"), "{err}");
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
            "Keyed lock fitted, code K 101".to_string(),
            format!("Key {tag} added"),
            format!("Key {tag} issued to Sam Jones on 26/11/2026 (name typed)"),
            format!("Key {tag} returned by Sam Jones, received by Pat Caretaker"),
        ]
    );
}

#[test]
fn people_references_are_unique_per_site_and_editable() {
    let mut h = Harness::new(11);
    let (site, _) = h.site("Northgate School");
    let sam = h.person(site, "Sam Jones", "p100");
    assert_eq!(h.register.person(sam).unwrap().details.reference, "P100");
    let err = h
        .run(Command::AddPerson {
            site,
            details: PersonDetails {
                name: "Other".into(),
                kind: PersonKind::Staff,
                reference: " P100 ".into(),
                department: String::new(),
            },
        })
        .unwrap_err();
    assert!(
        err.to_string().contains("already belongs to Sam Jones"),
        "{err}"
    );
    h.ok(Command::EditPerson {
        person: sam,
        details: PersonDetails {
            name: "Sam  Jones-Smith".into(),
            kind: PersonKind::Pupil,
            reference: "P100".into(),
            department: "Year 10".into(),
        },
    });
    assert_eq!(
        h.register.person(sam).unwrap().details.name,
        "Sam Jones-Smith"
    );
    h.person(site, "Alex Smith", "S200");
    let names = |text: &str| -> Vec<String> {
        h.register
            .find_people(site, text)
            .iter()
            .map(|p| p.details.name.clone())
            .collect()
    };
    assert_eq!(names("smith"), ["Alex Smith", "Sam Jones-Smith"]);
    assert_eq!(names("SAM  smith"), ["Sam Jones-Smith"]);
    assert_eq!(names("p100"), ["Sam Jones-Smith"]);
    assert_eq!(names("year 10"), ["Sam Jones-Smith"]);
    assert!(names("nobody").is_empty());
    assert_eq!(
        h.run(Command::AddPerson {
            site,
            details: PersonDetails {
                name: " ".into(),
                kind: PersonKind::Staff,
                reference: String::new(),
                department: String::new(),
            },
        })
        .unwrap_err(),
        CommandError::PersonNameEmpty
    );
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
fn events_round_trip_through_json_and_fold_to_the_same_state() {
    let mut h = Harness::new(13);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "H8");
    let keys = h.lock_with_keys(locker, 1);
    let sam = h.person(site, "Sam Jones", "P1");
    h.ok(h.issue(keys[0], locker, Holder::Person(sam)));
    let json = serde_json::to_string(&h.log).unwrap();
    let back: Vec<Event> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, h.log);
    assert_eq!(Register::fold(&back), h.register);
    assert!(back.iter().all(|e| h.register.has_event(e.id)));
    // Applying an event again changes nothing.
    let mut again = h.register.clone();
    for e in &back {
        again.apply(e);
    }
    assert_eq!(again, h.register);
}

#[test]
fn search_finds_by_number_area_holder_and_tag() {
    let mut h = Harness::new(14);
    let (site, area) = h.site("Northgate School");
    h.ok(Command::AddLockerRange {
        site,
        area,
        from: "A-001".into(),
        to: "A-030".into(),
    });
    let locker = h.register.locker_by_number(site, "A-012").unwrap().id;
    let keys = h.lock_with_keys(locker, 1);
    let sam = h.person(site, "Sam Jones", "P77");
    h.ok(h.issue(keys[0], locker, Holder::Person(sam)));
    let tag = h.register.key(keys[0]).unwrap().tag.clone();
    let index = search::Index::build(&h.register, site, h.today());
    let find = |text: &str| -> Vec<String> {
        index
            .search(
                &search::Query {
                    text: text.into(),
                    ..Default::default()
                },
                100,
            )
            .rows
            .iter()
            .map(|r| r.number.clone())
            .collect()
    };
    assert_eq!(find("a-012"), ["A-012"]);
    assert_eq!(find("a012"), ["A-012"]);
    assert_eq!(find("sam"), ["A-012"]);
    assert_eq!(find("p77"), ["A-012"]);
    assert_eq!(find(&tag.to_string().to_lowercase()), ["A-012"]);
    assert_eq!(find("main corridor").len(), 30);
    assert_eq!(find("a-01").len(), 10);
    assert_eq!(find("A-01")[0], "A-010");
    let hits = index.search(
        &search::Query {
            status: Some(LockerStatus::InUse),
            ..Default::default()
        },
        100,
    );
    assert_eq!(hits.total, 1);
    assert_eq!(index.counts()[&LockerStatus::NoLock], 29);
}

#[test]
fn a_temporary_loan_past_its_return_date_is_overdue() {
    let mut h = Harness::new(15);
    let (site, area) = h.site("Southgate Leisure");
    let locker = h.locker(site, area, "D1");
    let keys = h.lock_with_keys(locker, 2);
    let today = h.today();
    let mut late = h.issue(keys[0], locker, Holder::Department("Swim club".into()));
    if let Command::IssueKey {
        date,
        expected_return,
        ..
    } = &mut late
    {
        *date = today - chrono::Days::new(3);
        *expected_return = Some(today - chrono::Days::new(1));
    }
    h.ok(late);
    let mut due_today = h.issue(keys[1], locker, Holder::Department("Gym".into()));
    if let Command::IssueKey {
        expected_return, ..
    } = &mut due_today
    {
        *expected_return = Some(today);
    }
    h.ok(due_today);
    let loan = |k| h.register.current_loan(k).unwrap().clone();
    assert!(loan(keys[0]).is_overdue(today));
    assert!(
        !loan(keys[1]).is_overdue(today),
        "due today is not overdue yet"
    );
    assert!(loan(keys[1]).is_overdue(today + chrono::Days::new(1)));
    let index = search::Index::build(&h.register, site, today);
    assert_eq!(index.overdue(), 1);
    let overdue_only = search::Query {
        overdue: true,
        ..Default::default()
    };
    assert_eq!(index.search(&overdue_only, 10).total, 1);
    h.ok(h.ret(keys[0]));
    let index = search::Index::build(&h.register, site, today);
    assert_eq!(index.overdue(), 0, "returned, no longer overdue");
}
